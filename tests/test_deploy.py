"""部署：文件包保存与安全加载、Predictor、导出、int8 量化与剪枝。"""

import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
import torch

from bigmodel_lab.deploy import (
    Bundle,
    Predictor,
    UnsafeFileError,
    compressible_linears,
    export_classifier,
    file_size,
    gzip_size,
    is_quantized,
    linear_weight_bytes,
    load_bundle,
    load_weights_only,
    median_latencies,
    occlusion_importance,
    prune_linear_weights,
    quantize_dynamic_int8,
    save_bundle,
    weight_sparsity,
)
from bigmodel_lab.gpt import GPTClassifier, GPTConfig
from bigmodel_lab.tokenizer import CharTokenizer

TEXTS = ["质量很好，物流也快", "太差了", "一般般吧，还可以", "好", "包装破损，客服不理人，再也不买了"]


@pytest.fixture(scope="module")
def tokenizer():
    return CharTokenizer.from_text("".join(TEXTS))


@pytest.fixture(scope="module")
def model(tokenizer):
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, context_length=24, n_layer=2, n_head=2, d_model=32)
    return GPTClassifier(config).eval()


@pytest.fixture
def bundle_path(tmp_path, model, tokenizer):
    return save_bundle(tmp_path / "classifier.pt", model, tokenizer, max_length=16, test_accuracy=0.5)


class MarkerPayload:
    """反序列化时会执行代码的对象：解开它就会写出 marker 文件。"""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        code = f"import pathlib; pathlib.Path({self.marker!r}).write_text('payload ran')"
        return (exec, (code,))


# ---------------------------------------------------------------- 文件包


def test_bundle_round_trip_keeps_logits(bundle_path, model, tokenizer):
    bundle = load_bundle(bundle_path)
    idx = torch.tensor([tokenizer.encode("质量很好")])
    with torch.no_grad():
        assert torch.equal(bundle.model(idx), model(idx))


def test_bundle_keeps_tokenizer_and_metadata(bundle_path, tokenizer):
    bundle = load_bundle(bundle_path)
    assert isinstance(bundle, Bundle)
    assert bundle.tokenizer.itos == tokenizer.itos
    assert bundle.max_length == 16
    assert bundle.num_classes == 2
    assert bundle.metadata == {"test_accuracy": 0.5}
    assert not bundle.model.training


def test_load_bundle_reads_finetuning_format(tmp_path, model, tokenizer):
    path = tmp_path / "classifier_cpu.pt"
    content = {
        "config": model.config.to_dict(),
        "num_classes": 2,
        "tokenizer": tokenizer.to_dict(),
        "max_length": 20,
        "model": model.state_dict(),
        "test_accuracy": 0.9,
    }
    torch.save(content, path)
    bundle = load_bundle(path)
    assert bundle.max_length == 20
    assert bundle.metadata["test_accuracy"] == 0.9


def test_save_bundle_writes_no_temporary_files(bundle_path):
    assert [p.name for p in bundle_path.parent.iterdir()] == ["classifier.pt"]


def test_bundle_archive_is_named_after_file(bundle_path):
    with zipfile.ZipFile(bundle_path) as archive:
        assert "classifier/data.pkl" in archive.namelist()


def test_save_bundle_rejects_reserved_metadata(tmp_path, model, tokenizer):
    with pytest.raises(ValueError, match="保留的键"):
        save_bundle(tmp_path / "x.pt", model, tokenizer, 16, num_classes=3)


def test_save_bundle_converts_numpy_scalars(tmp_path, model, tokenizer):
    path = save_bundle(tmp_path / "x.pt", model, tokenizer, 16, test_accuracy=np.float64(0.75), scores=[np.int64(3)])
    metadata = load_bundle(path).metadata
    assert metadata["test_accuracy"] == 0.75
    assert metadata["scores"] == [3]


def test_save_bundle_rejects_unloadable_metadata(tmp_path, model, tokenizer):
    with pytest.raises(TypeError, match="history"):
        save_bundle(tmp_path / "x.pt", model, tokenizer, 16, history=object())


def test_save_bundle_rejects_mismatched_vocabulary(tmp_path, model):
    other = CharTokenizer.from_text("完全不同的词表")
    with pytest.raises(ValueError, match="词表不匹配"):
        save_bundle(tmp_path / "x.pt", model, other, 16)


def test_save_bundle_rejects_max_length_beyond_context(tmp_path, model, tokenizer):
    with pytest.raises(ValueError, match="context_length=24"):
        save_bundle(tmp_path / "x.pt", model, tokenizer, 100)


# ---------------------------------------------------------------- 安全：拒绝夹带代码的文件


def test_pickle_payload_in_torch_file_is_refused(tmp_path):
    marker = tmp_path / "payload_ran.txt"
    path = tmp_path / "untrusted.pt"
    torch.save({"model": MarkerPayload(marker)}, path)
    with pytest.raises(UnsafeFileError, match="拒绝加载") as error:
        load_bundle(path)
    assert "exec" in str(error.value)
    assert not marker.exists()


def test_payload_would_run_under_plain_pickle(tmp_path):
    # 对照：同样的文件交给不设防的 pickle，代码真的会执行，说明上面的测试确实能失败。
    marker = tmp_path / "payload_ran.txt"
    path = tmp_path / "untrusted.pt"
    torch.save({"model": MarkerPayload(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_raw_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "payload_ran.txt"
    path = tmp_path / "untrusted.pkl"
    path.write_bytes(pickle.dumps({"model": MarkerPayload(marker)}, protocol=4))
    with pytest.raises(UnsafeFileError, match="原始 pickle"):
        load_bundle(path)
    assert not marker.exists()


def test_unsafe_file_error_is_an_unpickling_error():
    assert issubclass(UnsafeFileError, pickle.UnpicklingError)


# ---------------------------------------------------------------- 错误的输入


def test_missing_bundle_names_path_and_fix(tmp_path):
    path = tmp_path / "nowhere.pt"
    with pytest.raises(FileNotFoundError, match="save_bundle") as error:
        load_bundle(path)
    assert "nowhere.pt" in str(error.value)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="是一个目录"):
        load_bundle(tmp_path)


def test_text_file_is_wrong_type(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("这不是模型", encoding="utf-8")
    with pytest.raises(ValueError, match="文件类型不对"):
        load_bundle(path)


def test_empty_file_is_wrong_type(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="空文件"):
        load_bundle(path)


def test_zip_that_is_not_a_torch_file(tmp_path):
    path = tmp_path / "archive.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="不是 torch.save 写出的文件包"):
        load_bundle(path)


def test_state_dict_only_file_lists_missing_keys(tmp_path, model):
    path = tmp_path / "weights.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(ValueError, match="缺少") as error:
        load_bundle(path)
    assert "tokenizer" in str(error.value)


def test_tensor_file_is_not_a_bundle(tmp_path):
    path = tmp_path / "tensor.pt"
    torch.save(torch.ones(3), path)
    with pytest.raises(ValueError, match="不是文件包字典"):
        load_bundle(path)


def test_bundle_with_mismatched_vocabulary(tmp_path, model, tokenizer):
    path = tmp_path / "bad_vocab.pt"
    content = {
        "config": model.config.to_dict(),
        "num_classes": 2,
        "tokenizer": CharTokenizer.from_text("别的词表").to_dict(),
        "max_length": 16,
        "model": model.state_dict(),
    }
    torch.save(content, path)
    with pytest.raises(ValueError, match="词表不匹配"):
        load_bundle(path)


def test_bundle_with_wrong_weight_shapes(tmp_path, model, tokenizer):
    path = tmp_path / "bad_weights.pt"
    config = model.config.to_dict() | {"d_model": 16}
    content = {
        "config": config,
        "num_classes": 2,
        "tokenizer": tokenizer.to_dict(),
        "max_length": 16,
        "model": model.state_dict(),
    }
    torch.save(content, path)
    with pytest.raises(ValueError, match="权重与其中的配置不匹配"):
        load_bundle(path)


# ---------------------------------------------------------------- Predictor


def test_predictor_loads_once_from_bundle(bundle_path):
    predictor = Predictor.from_bundle(bundle_path)
    probabilities = predictor.predict_proba(TEXTS)
    assert probabilities.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_batching_keeps_order_and_values(model, tokenizer):
    one_by_one = np.concatenate([Predictor(model, tokenizer, 16).predict_proba([t]) for t in TEXTS])
    batched = Predictor(model, tokenizer, 16, batch_size=2).predict_proba(TEXTS)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_predict_returns_argmax(model, tokenizer):
    predictor = Predictor(model, tokenizer, 16)
    assert np.array_equal(predictor.predict(TEXTS), predictor.predict_proba(TEXTS).argmax(axis=1))


def test_accuracy_rejects_text_labels(model, tokenizer):
    predictor = Predictor(model, tokenizer, 16)
    with pytest.raises(TypeError, match="类别编号"):
        predictor.accuracy(TEXTS, ["正面"] * len(TEXTS))


def test_accuracy_checks_label_shape(model, tokenizer):
    predictor = Predictor(model, tokenizer, 16)
    with pytest.raises(ValueError, match="labels 的形状"):
        predictor.accuracy(TEXTS, [0, 1])


def test_predictor_rejects_empty_text_list(model, tokenizer):
    with pytest.raises(ValueError, match="texts 为空"):
        Predictor(model, tokenizer, 16).predict_proba([])


def test_predictor_rejects_non_string_text(model, tokenizer):
    with pytest.raises(TypeError, match=r"texts\[1\] 应为字符串"):
        Predictor(model, tokenizer, 16).predict_proba(["好", 3])


def test_predictor_rejects_single_string(model, tokenizer):
    with pytest.raises(TypeError, match=r"\[text\]"):
        Predictor(model, tokenizer, 16).predict_proba("质量很好")


def test_predictor_rejects_non_sequence(model, tokenizer):
    with pytest.raises(TypeError, match="字符串列表"):
        Predictor(model, tokenizer, 16).predict_proba(42)


def test_predictor_rejects_empty_string(model, tokenizer):
    with pytest.raises(ValueError, match="空字符串"):
        Predictor(model, tokenizer, 16).predict_proba(["好", ""])


def test_predictor_rejects_mismatched_vocabulary(model):
    with pytest.raises(ValueError, match="词表不匹配"):
        Predictor(model, CharTokenizer.from_text("别的词表"), 16)


def test_predictor_rejects_bad_batch_size(model, tokenizer):
    with pytest.raises(ValueError, match="batch_size"):
        Predictor(model, tokenizer, 16, batch_size=0)


def test_median_latencies_rejects_bad_repeats():
    with pytest.raises(ValueError, match="repeats"):
        median_latencies({"noop": lambda: None}, repeats=0)


def test_median_latencies_rejects_empty_dict():
    with pytest.raises(ValueError, match="空字典"):
        median_latencies({})


def test_median_latencies_calls_each_function_in_turn():
    calls = []
    result = median_latencies({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert set(result) == {"a", "b"}
    assert all(seconds >= 0 for seconds in result.values())


# ---------------------------------------------------------------- 导出


def test_export_matches_eager_on_new_shapes(model, tokenizer):
    exported, difference = export_classifier(model, 16)
    assert difference <= 1e-5
    module = exported.module()
    for shape in [(1, 1), (3, 16), (5, 7)]:
        idx = torch.randint(0, tokenizer.vocab_size, shape, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            torch.testing.assert_close(module(idx), model(idx))


def test_exported_program_in_predictor(model, tokenizer):
    exported, _ = export_classifier(model, 16)
    expected = Predictor(model, tokenizer, 16).predict_proba(TEXTS)
    got = Predictor(exported.module(), tokenizer, 16).predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-6)


# ---------------------------------------------------------------- 量化


def test_quantize_emits_no_warning(model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantize_dynamic_int8(model)
    assert [str(w.message)[:60] for w in caught] == []


def test_quantize_leaves_warning_filters_unchanged(model):
    before = list(warnings.filters)
    quantize_dynamic_int8(model)
    assert list(warnings.filters) == before


def test_quantize_keeps_original_model(model):
    quantized = quantize_dynamic_int8(model)
    assert is_quantized(quantized)
    assert not is_quantized(model)


def test_int8_shrinks_linear_weights_four_times(model):
    ratio = linear_weight_bytes(model) / linear_weight_bytes(quantize_dynamic_int8(model))
    assert ratio == pytest.approx(4.0)


def test_int8_stays_close_to_float(model, tokenizer):
    quantized = quantize_dynamic_int8(model)
    expected = Predictor(model, tokenizer, 16).predict_proba(TEXTS)
    got = Predictor(quantized, tokenizer, 16).predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_int8_bundle_round_trip(tmp_path, model, tokenizer):
    quantized = quantize_dynamic_int8(model)
    path = save_bundle(tmp_path / "int8.pt", quantized, tokenizer, 16)
    bundle = load_bundle(path)
    assert is_quantized(bundle.model)
    expected = Predictor(quantized, tokenizer, 16).predict_proba(TEXTS)
    np.testing.assert_allclose(Predictor(bundle.model, bundle.tokenizer, 16).predict_proba(TEXTS), expected)


def test_tied_output_layer_is_not_compressed(model):
    names = [name for name, _ in compressible_linears(model)]
    assert "backbone.lm_head" not in names
    assert "head" in names


# ---------------------------------------------------------------- 剪枝


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.7])
def test_pruning_reaches_requested_sparsity(model, amount):
    assert weight_sparsity(prune_linear_weights(model, amount)) == pytest.approx(amount, abs=0.01)


def test_pruned_state_dict_loads_into_plain_model(tmp_path, model, tokenizer):
    pruned = prune_linear_weights(model, 0.5)
    state = pruned.state_dict()
    assert not [key for key in state if key.endswith(("_orig", "_mask"))]

    plain = GPTClassifier(model.config)
    plain.load_state_dict(state)
    assert weight_sparsity(plain) == pytest.approx(0.5, abs=0.01)

    path = save_bundle(tmp_path / "pruned.pt", pruned, tokenizer, 16)
    assert weight_sparsity(load_bundle(path).model) == pytest.approx(0.5, abs=0.01)


def test_pruning_keeps_original_model(model):
    prune_linear_weights(model, 0.5)
    assert weight_sparsity(model) < 0.01


def test_pruned_file_compresses_better(tmp_path, model, tokenizer):
    dense = save_bundle(tmp_path / "dense.pt", model, tokenizer, 16)
    sparse = save_bundle(tmp_path / "sparse.pt", prune_linear_weights(model, 0.7), tokenizer, 16)
    assert file_size(sparse) == pytest.approx(file_size(dense), rel=0.01)
    assert gzip_size(sparse) < gzip_size(dense)


@pytest.mark.parametrize("amount", [-0.1, 1.0, "half", True])
def test_prune_rejects_bad_amount(model, amount):
    with pytest.raises(ValueError, match="amount"):
        prune_linear_weights(model, amount)


# ---------------------------------------------------------------- 遮挡法


def test_occlusion_scores_one_per_character(model, tokenizer):
    predictor = Predictor(model, tokenizer, 16)
    label, probability, scores = occlusion_importance(predictor, "质量很好，物流也快")
    assert scores.shape == (9,)
    assert probability == pytest.approx(predictor.predict_proba(["质量很好，物流也快"])[0, label])


def test_occlusion_matches_deleting_a_character(model, tokenizer):
    predictor = Predictor(model, tokenizer, 16)
    text = "太差了"
    label, probability, scores = occlusion_importance(predictor, text, label=0)
    without_second = predictor.predict_proba([text[0] + text[2]])[0, 0]
    assert scores[1] == pytest.approx(probability - without_second, abs=1e-6)


def test_occlusion_ignores_characters_beyond_max_length(model, tokenizer):
    predictor = Predictor(model, tokenizer, 4)
    _, _, scores = occlusion_importance(predictor, "质量很好，物流也快")
    assert np.all(scores[4:] == 0)


def test_occlusion_handles_single_character(model, tokenizer):
    _, _, scores = occlusion_importance(Predictor(model, tokenizer, 16), "好")
    assert scores.shape == (1,)


def test_occlusion_rejects_empty_text(model, tokenizer):
    with pytest.raises(ValueError, match="text 应为非空字符串"):
        occlusion_importance(Predictor(model, tokenizer, 16), "")


def test_load_weights_only_reads_plain_tensors(tmp_path):
    path = tmp_path / "tensor.pt"
    torch.save({"w": torch.arange(3)}, path)
    assert torch.equal(load_weights_only(path)["w"], torch.arange(3))


# ---------------------------------------------------------------- 演示控件


def test_char_importance_plot_has_no_missing_glyphs(model, tokenizer):
    import matplotlib.pyplot as plt

    from bigmodel_lab.plotting import use_chinese_font
    from bigmodel_lab.widgets.deploy import explain

    use_chinese_font()
    _, _, figure = explain(Predictor(model, tokenizer, 16), "质量很好😀，物流也快")
    figure.canvas.draw()  # 缺字时 matplotlib 在绘制时发出警告，pytest 把它当作错误
    plt.close(figure)


def test_displayable_replaces_uncovered_characters():
    from bigmodel_lab.plotting import use_chinese_font
    from bigmodel_lab.widgets.deploy import displayable

    use_chinese_font()
    assert displayable("好😀") == "好?"


def test_char_importance_plot_checks_score_length():
    from bigmodel_lab.widgets.deploy import plot_char_importance

    with pytest.raises(ValueError, match="scores 的形状"):
        plot_char_importance("好评", [0.1], "正面", 0.9)


def test_review_demo_builds_widget(model, tokenizer):
    import ipywidgets

    from bigmodel_lab.widgets.deploy import review_demo

    widget = review_demo(Predictor(model, tokenizer, 16), "还不错")
    assert isinstance(widget, ipywidgets.VBox)


# ---------------------------------------------------------------- 损坏的文件包与不合适的模型


def flip_bit(path, offset: int, mask: int = 1) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= mask
    path.write_bytes(raw)


def first_weight_offset(path) -> int:
    """返回 zip 里第一个张量数据条目的数据起点。"""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/data/0"))
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length


def test_truncated_bundle_is_damaged(bundle_path):
    bundle_path.write_bytes(bundle_path.read_bytes()[:-300])
    with pytest.raises(ValueError, match="文件损坏") as error:
        load_bundle(bundle_path)
    assert str(bundle_path) in str(error.value)


def test_flipped_weight_bit_is_damaged(bundle_path):
    flip_bit(bundle_path, first_weight_offset(bundle_path))
    with pytest.raises(ValueError, match="文件损坏"):
        load_bundle(bundle_path)


def test_flipped_first_byte_is_damaged(bundle_path):
    flip_bit(bundle_path, 0, 0x20)
    with pytest.raises(ValueError, match="文件损坏"):
        load_bundle(bundle_path)


def test_flipped_central_directory_is_damaged(bundle_path):
    # 目录项第 38 字节的 0x10 位是“目录”标记。data.pkl 被标成目录时 torch 读到空数据，不先核对就会误报为夹带代码。
    with zipfile.ZipFile(bundle_path) as archive:
        start = archive.start_dir
    flip_bit(bundle_path, start + 38, 0x10)
    with pytest.raises(ValueError, match="文件损坏"):
        load_bundle(bundle_path)


def test_save_bundle_rejects_directory_path(tmp_path, model, tokenizer):
    with pytest.raises(IsADirectoryError, match="是一个目录") as error:
        save_bundle(tmp_path, model, tokenizer, 16)
    assert str(tmp_path) in str(error.value)


def test_save_bundle_rejects_language_model(tmp_path, model, tokenizer):
    with pytest.raises(TypeError, match="save_checkpoint"):
        save_bundle(tmp_path / "gpt.pt", model.backbone, tokenizer, 16)


def test_weight_sparsity_reads_quantized_layers(model):
    pruned = prune_linear_weights(model, 0.5)
    assert weight_sparsity(quantize_dynamic_int8(pruned)) == pytest.approx(weight_sparsity(pruned), abs=0.02)


def test_weight_sparsity_needs_linear_layers():
    with pytest.raises(ValueError, match="没有可以统计的 Linear 层"):
        weight_sparsity(torch.nn.Sequential(torch.nn.ReLU()))


def test_prune_rejects_quantized_model(model):
    with pytest.raises(ValueError, match="先剪枝再量化"):
        prune_linear_weights(quantize_dynamic_int8(model), 0.5)


def test_prune_accepts_numpy_amount(model):
    assert weight_sparsity(prune_linear_weights(model, np.float32(0.5))) == pytest.approx(0.5, abs=0.01)


def test_export_rejects_max_length_one(model):
    with pytest.raises(ValueError, match="max_length=1 太短"):
        export_classifier(model, 1)


def test_numpy_integers_accepted_as_lengths(model, tokenizer):
    predictor = Predictor(model, tokenizer, np.int64(16), batch_size=np.int64(2))
    assert predictor.max_length == 16
    assert type(predictor.max_length) is int
    assert median_latencies({"a": lambda: None}, repeats=np.int64(2)).keys() == {"a"}
