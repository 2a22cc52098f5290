import numpy as np
import pytest
import torch

from bigmodel_lab.tokenizer import CharTokenizer


def test_round_trip_of_known_text():
    text = "人民日报，1998年1月。"
    tokenizer = CharTokenizer.from_text(text)
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_unknown_character_maps_to_unk():
    tokenizer = CharTokenizer.from_text("你好")
    assert tokenizer.encode("你们") == [tokenizer.stoi["你"], tokenizer.unk_id]
    assert tokenizer.decode(tokenizer.encode("你们")) == "你<unk>"


def test_special_ids_and_order():
    tokenizer = CharTokenizer.from_text("bba")
    assert tokenizer.itos[:4] == ["<unk>", "<pad>", "b", "a"]
    assert tokenizer.vocab_size == 4


def test_pad_is_skipped_when_decoding():
    tokenizer = CharTokenizer.from_text("好")
    assert tokenizer.decode([tokenizer.stoi["好"], tokenizer.pad_id, tokenizer.pad_id]) == "好"


def test_min_count_drops_rare_characters():
    tokenizer = CharTokenizer.from_text(["aab", "a"], min_count=2)
    assert "b" not in tokenizer.stoi


def test_encode_array_matches_encode():
    tokenizer = CharTokenizer.from_text("深度学习")
    assert np.array_equal(tokenizer.encode_array("学习深度?"), tokenizer.encode("学习深度?"))


def test_state_round_trip():
    tokenizer = CharTokenizer.from_text("模型部署")
    again = CharTokenizer.from_dict(tokenizer.to_dict())
    assert again.itos == tokenizer.itos


def test_encode_rejects_non_string():
    with pytest.raises(TypeError, match="encode 需要字符串"):
        CharTokenizer.from_text("a").encode(["a"])


def test_decode_rejects_out_of_range_id():
    with pytest.raises(ValueError, match="超出词表范围"):
        CharTokenizer.from_text("a").decode([99])


def test_constructor_rejects_multi_character_entries():
    with pytest.raises(ValueError, match="单个字符"):
        CharTokenizer(["ab"])


def test_from_dict_rejects_bad_state():
    with pytest.raises(ValueError, match="chars"):
        CharTokenizer.from_dict({"vocab": []})


def test_unknown_rate():
    tokenizer = CharTokenizer.from_text("ab")
    assert tokenizer.unknown_rate("abcd") == 0.5
    assert tokenizer.unknown_rate("") == 0.0


def test_decode_batch_tensor_hints_row():
    tokenizer = CharTokenizer.from_text("春眠不觉晓")
    out = torch.tensor([[2, 3], [4, 5]])
    with pytest.raises(ValueError, match=r"tok\.decode\(out\[0\]\)"):
        tokenizer.decode(out)
    expected = tokenizer.itos[2] + tokenizer.itos[3]
    assert tokenizer.decode(out[0]) == tokenizer.decode(out[0].numpy()) == expected


@pytest.mark.parametrize("ids", ["23", [2.7], [2.0], torch.tensor([2.0]), [True], None])
def test_decode_rejects_non_integer_ids(ids):
    with pytest.raises(TypeError, match="decode"):
        CharTokenizer.from_text("春眠不觉晓").decode(ids)


def test_decode_accepts_numpy_integers():
    tokenizer = CharTokenizer.from_text("春眠")
    assert tokenizer.decode([np.int64(2), np.int32(3)]) == "春眠"


@pytest.mark.parametrize("text,message", [(None, "from_text"), (b"ab", "decode"), (["a", 3], "字符串")])
def test_from_text_rejects_non_strings(text, message):
    with pytest.raises(TypeError, match=message):
        CharTokenizer.from_text(text)


def test_encode_array_rejects_none():
    with pytest.raises(TypeError, match="encode_array 需要字符串"):
        CharTokenizer.from_text("a").encode_array(None)


def test_unknown_rate_rejects_none():
    with pytest.raises(TypeError, match="unknown_rate 需要字符串"):
        CharTokenizer.from_text("a").unknown_rate(None)
