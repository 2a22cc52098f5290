"""分类批次的编码、池化特征、概率输出与可复现的微调循环。"""

import numpy as np
import pytest
import torch

from bigmodel_lab.classify import (
    encode_texts,
    extract_features,
    finetune,
    length_bucketed_batches,
    pooled_features,
    predict_proba,
)
from bigmodel_lab.gpt import GPTClassifier, GPTConfig
from bigmodel_lab.tokenizer import CharTokenizer

TEXTS = ["好用", "质量很差", "不错不错不错", "差", "物流快，好评", "退货了，太差"]
LABELS = np.array([1, 0, 1, 0, 1, 0])


def tokenizer():
    return CharTokenizer.from_text(TEXTS)


def tiny_classifier(seed=0, context_length=8):
    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=tokenizer().vocab_size, context_length=context_length, n_layer=1, n_head=2, d_model=16)
    return GPTClassifier(config)


def test_encode_pads_right_with_pad_id():
    tok = tokenizer()
    ids = encode_texts(["好用", "质量很差"], tok, max_length=8)
    assert ids.dtype == torch.long
    assert ids.shape == (2, 4)
    assert ids[0].tolist() == tok.encode("好用") + [tok.pad_id, tok.pad_id]
    assert ids[1].tolist() == tok.encode("质量很差")


def test_encode_truncates_to_max_length():
    tok = tokenizer()
    ids = encode_texts(["不错不错不错", "差"], tok, max_length=3)
    assert ids.shape == (2, 3)
    assert tok.decode(ids[0]) == "不错不"
    assert tok.decode(ids[1]) == "差"


def test_encode_maps_unknown_characters_to_unk():
    tok = tokenizer()
    ids = encode_texts(["好龘"], tok, max_length=8)
    assert ids[0].tolist() == [tok.stoi["好"], tok.unk_id]


def test_encode_rejects_single_string():
    with pytest.raises(TypeError, match="单条文本请写成 \\[text\\]"):
        encode_texts("好用", tokenizer(), max_length=8)


def test_encode_rejects_empty_text():
    with pytest.raises(ValueError, match="texts\\[1\\] 是空字符串"):
        encode_texts(["好用", ""], tokenizer(), max_length=8)


def test_encode_rejects_non_string_item():
    with pytest.raises(TypeError, match="texts\\[0\\] 应为字符串"):
        encode_texts([3], tokenizer(), max_length=8)


@pytest.mark.parametrize("max_length", [0, -3, 2.0])
def test_encode_rejects_bad_max_length(max_length):
    with pytest.raises(ValueError, match="max_length 应为正整数"):
        encode_texts(["好用"], tokenizer(), max_length=max_length)


def test_encode_rejects_other_tokenizer():
    with pytest.raises(TypeError, match="tokenizer 应为 CharTokenizer"):
        encode_texts(["好用"], {"chars": []}, max_length=8)


def test_pooled_features_feed_the_head():
    model = tiny_classifier().eval()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with torch.no_grad():
        torch.testing.assert_close(model.head(pooled_features(model, ids)), model(ids))


def test_padding_does_not_change_probabilities():
    model = tiny_classifier()
    tok = tokenizer()
    alone = predict_proba(model, encode_texts(["好用"], tok, max_length=8))
    padded = predict_proba(model, encode_texts(["好用", "不错不错不错"], tok, max_length=8))
    np.testing.assert_allclose(alone[0], padded[0], rtol=0, atol=1e-6)


def test_predict_proba_matches_softmax():
    model = tiny_classifier()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    probabilities = predict_proba(model, ids, batch_size=4)
    assert probabilities.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    with torch.no_grad():
        want = torch.softmax(model(ids), dim=-1).numpy()
    np.testing.assert_allclose(probabilities, want, rtol=0, atol=1e-6)


def test_extract_features_keeps_input_order():
    model = tiny_classifier()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    features = extract_features(model, ids, batch_size=4)
    with torch.no_grad():
        want = pooled_features(model.eval(), ids)
    torch.testing.assert_close(features, want)


def test_predict_proba_rejects_too_long_sequence():
    model = tiny_classifier(context_length=4)
    ids = encode_texts(TEXTS, tokenizer(), max_length=6)
    with pytest.raises(ValueError, match="超过模型的 context_length=4"):
        predict_proba(model, ids)


def test_predict_proba_rejects_raw_texts():
    with pytest.raises(TypeError, match="请先用 encode_texts 编码文本"):
        predict_proba(tiny_classifier(), TEXTS)


def test_bucketed_batches_cover_each_index_once():
    lengths = torch.tensor([5, 1, 3, 8, 2, 7, 4, 6, 9, 10])
    batches = length_bucketed_batches(lengths, 3, torch.Generator().manual_seed(0), bucket_batches=2)
    seen = torch.cat(batches).tolist()
    assert all(len(batch) == 3 for batch in batches)
    assert len(seen) == len(set(seen)) == 9


def test_finetune_lowers_training_loss():
    model = tiny_classifier()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    history = finetune(model, ids, LABELS, steps=60, batch_size=6, lr=1e-2, warmup_steps=5, progress=False)
    assert history.train_loss[-1] < history.train_loss[0]
    assert np.mean(predict_proba(model, ids).argmax(1) == LABELS) == 1.0


def test_finetune_is_deterministic():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    runs = []
    for _ in range(2):
        model = tiny_classifier()
        history = finetune(model, ids, LABELS, steps=15, batch_size=2, progress=False, seed=3)
        runs.append((history.train_loss, predict_proba(model, ids)))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_finetune_reports_validation_accuracy():
    model = tiny_classifier()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    history = finetune(
        model, ids, LABELS, steps=10, batch_size=3, valid=(ids, LABELS), eval_every=5, progress=False
    )
    assert history.valid_steps == [5, 10]
    assert all(0.0 <= accuracy <= 1.0 for accuracy in history.valid_accuracy)


def test_finetune_trains_only_unfrozen_parameters():
    model = tiny_classifier()
    for parameter in model.backbone.parameters():
        parameter.requires_grad_(False)
    before = model.backbone.tok_emb.weight.clone()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    finetune(model, ids, LABELS, steps=5, batch_size=3, progress=False)
    torch.testing.assert_close(model.backbone.tok_emb.weight, before)


def test_finetune_rejects_label_count_mismatch():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="labels 的形状应为 \\(6,\\)"):
        finetune(tiny_classifier(), ids, LABELS[:4], steps=1, batch_size=2, progress=False)


def test_finetune_rejects_fully_frozen_model():
    model = tiny_classifier()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="没有可训练的参数"):
        finetune(model, ids, LABELS, steps=1, batch_size=2, progress=False)


def test_finetune_rejects_batch_larger_than_data():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="batch_size 应为 1 到样本数 6"):
        finetune(tiny_classifier(), ids, LABELS, steps=1, batch_size=7, progress=False)


def test_finetune_checks_valid_labels_before_training():
    model = tiny_classifier()
    before = model.head.weight.clone()
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="valid\\[1\\] 的形状应为 \\(6,\\).*\\.ravel\\(\\)"):
        finetune(model, ids, LABELS, steps=3, batch_size=2, valid=(ids, LABELS[:, None]), progress=False)
    torch.testing.assert_close(model.head.weight, before)


def test_finetune_rejects_valid_not_pair():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(TypeError, match="valid 应为 \\(ids, labels\\) 二元组"):
        finetune(tiny_classifier(), ids, LABELS, steps=1, batch_size=2, valid=ids, progress=False)


def test_finetune_rejects_fractional_labels():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="labels 应为整数类别编号，实际含有 0.9"):
        finetune(tiny_classifier(), ids, LABELS * 0.9, steps=1, batch_size=2, progress=False)


def test_finetune_accepts_whole_float_labels():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    runs = [
        finetune(tiny_classifier(), ids, labels, steps=3, batch_size=2, progress=False).train_loss
        for labels in (LABELS, LABELS.astype(float), LABELS.astype(bool))
    ]
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]


@pytest.mark.parametrize("bad", [2, -1])
def test_finetune_rejects_out_of_range_labels(bad):
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    labels = LABELS.copy()
    labels[0] = bad
    with pytest.raises(ValueError, match=f"labels 应为 0 到 1 之间的整数（模型有 2 类），实际含有 {bad}"):
        finetune(tiny_classifier(), ids, labels, steps=1, batch_size=2, progress=False)


def test_finetune_rejects_string_labels():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(TypeError, match="labels 应为整数类别编号，实际是字符串"):
        finetune(tiny_classifier(), ids, np.where(LABELS, "正面", "负面"), steps=1, batch_size=2, progress=False)


@pytest.mark.parametrize("name", ["log_every", "eval_every"])
def test_finetune_rejects_zero_intervals(name):
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match=f"{name} 应为正整数，实际为 0"):
        finetune(tiny_classifier(), ids, LABELS, steps=1, batch_size=2, progress=False, **{name: 0})


@pytest.mark.parametrize("class_weight", [[1.0, 2.0, 3.0], [1.0, float("nan")], [1.0, -1.0]])
def test_finetune_rejects_bad_class_weight(class_weight):
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="class_weight 应为 2 个有限的非负数"):
        finetune(tiny_classifier(), ids, LABELS, steps=1, batch_size=2, class_weight=class_weight, progress=False)


def test_finetune_accepts_numpy_integers():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    plain = finetune(tiny_classifier(), ids, LABELS, steps=3, batch_size=2, progress=False)
    with_numpy = finetune(tiny_classifier(), ids, LABELS, steps=np.int64(3), batch_size=np.int64(2), progress=False)
    assert plain.train_loss == with_numpy.train_loss


@pytest.mark.parametrize("function", [predict_proba, extract_features])
def test_batched_inference_rejects_zero_batch_size(function):
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="batch_size 应为正整数，实际为 0"):
        function(tiny_classifier(), ids, batch_size=0)


def test_predict_proba_rejects_empty_ids():
    ids = encode_texts(TEXTS, tokenizer(), max_length=8)
    with pytest.raises(ValueError, match="ids 中没有文本（形状 \\(0, 6\\)）"):
        predict_proba(tiny_classifier(), ids[:0])
