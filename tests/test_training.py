"""bigmodel_lab.training 的规格：调度、批次、评估、检查点、断点续训与出错信息。"""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from bigmodel_lab import training
from bigmodel_lab.gpt import GPT, GPTConfig, model_flops_per_token
from bigmodel_lab.optimizers import warmup_cosine_lr
from bigmodel_lab.tokenizer import CharTokenizer
from bigmodel_lab.training import (
    History,
    TrainConfig,
    Trainer,
    encode_text,
    evaluate,
    get_batch,
    load_checkpoint,
    load_pretrained,
    make_optimizer,
    measure_matmul_peak,
    model_flops_utilization,
    preset_configs,
    save_checkpoint,
)

VOCAB = 40


def tiny_model_config(**overrides) -> GPTConfig:
    values = dict(vocab_size=VOCAB, context_length=16, n_layer=2, n_head=2, d_model=32)
    values.update(overrides)
    return GPTConfig(**values)


def tiny_train_config(**overrides) -> TrainConfig:
    values = dict(
        max_steps=12, batch_size=4, learning_rate=1e-2, min_lr=1e-3, warmup_steps=3,
        eval_interval=4, eval_windows=6, seed=3,
    )  # fmt: skip
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def corpus():
    generator = torch.Generator().manual_seed(0)
    return torch.randint(2, VOCAB, (4000,), generator=generator), torch.randint(2, VOCAB, (800,), generator=generator)


def make_trainer(corpus, model_seed: int = 0, **overrides) -> Trainer:
    train_data, val_data = corpus
    torch.manual_seed(model_seed)
    tokenizer = CharTokenizer([chr(0x4E00 + i) for i in range(VOCAB - 2)])
    return Trainer(GPT(tiny_model_config()), tiny_train_config(**overrides), train_data, val_data, tokenizer=tokenizer)


def test_scheduler_sets_learning_rate_per_step(corpus):
    trainer = make_trainer(corpus)
    history = trainer.fit(progress=False)
    config = trainer.config
    expected = [
        warmup_cosine_lr(
            step, max_lr=config.learning_rate, warmup_steps=config.warmup_steps,
            total_steps=config.max_steps, min_lr=config.min_lr,
        )
        for step in range(config.max_steps)
    ]
    assert history.lr == pytest.approx(expected)
    assert history.lr[config.warmup_steps - 1] == pytest.approx(config.learning_rate)
    assert history.lr[0] == pytest.approx(config.learning_rate / config.warmup_steps)


def test_get_batch_targets_are_inputs_shifted_by_one():
    data = torch.arange(100)
    x, y = get_batch(data, 5, 8, torch.Generator().manual_seed(0))
    assert x.shape == (5, 8)
    assert y.shape == (5, 8)
    assert torch.equal(y, x + 1)


def test_get_batch_rejects_too_short_data():
    with pytest.raises(ValueError, match="context_length=8"):
        get_batch(torch.arange(8), 2, 8, torch.Generator())


def test_encode_text_round_trips():
    tokenizer = CharTokenizer.from_text("人民日报")
    ids = encode_text("日报人民", tokenizer)
    assert ids.dtype == torch.long
    assert tokenizer.decode(ids.tolist()) == "日报人民"


def test_evaluate_averages_all_window_positions():
    torch.manual_seed(0)
    model = GPT(tiny_model_config()).eval()
    data = torch.randint(2, VOCAB, (16 * 5 + 3,))
    losses = []
    for start in range(0, 16 * 5, 16):
        chunk = data[start : start + 17]
        logits, _ = model(chunk[None, :-1])
        losses.append(F.cross_entropy(logits[0], chunk[1:]))
    got = evaluate(model, data, context_length=16, batch_size=2)
    assert got == pytest.approx(torch.stack(losses).mean().item(), rel=1e-5)


def test_evaluate_subset_uses_requested_window_count():
    torch.manual_seed(0)
    model = GPT(tiny_model_config()).eval()
    data = torch.randint(2, VOCAB, (16 * 10 + 1,))
    full = evaluate(model, data, context_length=16)
    first_and_last = evaluate(model, data, context_length=16, max_windows=2)
    assert first_and_last != pytest.approx(full)
    assert first_and_last == pytest.approx(evaluate(model, data[:17], context_length=16) / 2
                                           + evaluate(model, data[-17:], context_length=16) / 2, rel=1e-5)  # fmt: skip


def test_weight_decay_skips_biases_and_norms():
    model = GPT(tiny_model_config())
    optimizer = make_optimizer(model, tiny_train_config(weight_decay=0.3), torch.device("cpu"))
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.3
    assert plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"])
    assert all(p.dim() == 1 for p in plain["params"])
    assert sum(p.numel() for group in optimizer.param_groups for p in group["params"]) == model.num_parameters()


def test_training_lowers_loss_on_repeated_text():
    pattern = torch.arange(2, 12).repeat(300)
    torch.manual_seed(0)
    trainer = Trainer(GPT(tiny_model_config()), tiny_train_config(max_steps=40, learning_rate=2e-2, min_lr=2e-3), pattern, pattern)
    history = trainer.fit(progress=False)
    assert history.val_loss[-1] < 0.5
    assert history.val_loss[-1] < history.val_loss[0]
    assert history.tokens_seen == 40 * 4 * 16
    assert history.tokens_per_second > 0


def test_gradient_accumulation_matches_large_batch(corpus, monkeypatch):
    x, y = get_batch(corpus[0], 8, 16, torch.Generator().manual_seed(1))
    halves = iter([(x[:4], y[:4]), (x[4:], y[4:])])
    monkeypatch.setattr(training, "get_batch", lambda *args: next(halves))
    accumulated = make_trainer(corpus, batch_size=4, grad_accum_steps=2)
    accumulated._train_step()

    monkeypatch.setattr(training, "get_batch", lambda *args: (x, y))
    large = make_trainer(corpus, batch_size=8)
    large._train_step()

    for (name, a), b in zip(accumulated.model.named_parameters(), large.model.parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)


def test_gradient_clipping_bounds_update(corpus, monkeypatch):
    norms = []
    original = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, max_norm: norms.append(max_norm) or original(params, max_norm))
    make_trainer(corpus, grad_clip=0.5)._train_step()
    make_trainer(corpus, grad_clip=0.0)._train_step()
    assert norms == [0.5]


def test_resume_continues_loss_trajectory(corpus, tmp_path):
    uninterrupted = make_trainer(corpus).fit(progress=False)

    first = make_trainer(corpus)
    first.fit(until_step=5, checkpoint_path=tmp_path / "run.pt", checkpoint_interval=100, progress=False)
    del first
    torch.manual_seed(999)  # 续训不应依赖此时的全局随机状态
    resumed = Trainer.from_checkpoint(tmp_path / "run.pt", *corpus)
    assert resumed.step == 5
    history = resumed.fit(progress=False)

    assert history.train_loss == uninterrupted.train_loss
    assert history.lr == uninterrupted.lr
    assert history.val_loss == uninterrupted.val_loss
    assert history.eval_step == uninterrupted.eval_step


def test_resume_restores_global_random_state(corpus, tmp_path):
    trainer = make_trainer(corpus)
    torch.manual_seed(5)
    trainer.save_checkpoint(tmp_path / "run.pt")
    expected = torch.rand(3)
    torch.manual_seed(6)
    Trainer.from_checkpoint(tmp_path / "run.pt", *corpus)
    assert torch.equal(torch.rand(3), expected)


def test_checkpoint_holds_training_state(corpus, tmp_path):
    trainer = make_trainer(corpus)
    trainer.fit(until_step=2, progress=False)
    checkpoint = load_checkpoint(trainer.save_checkpoint(tmp_path / "run.pt"))
    for key in ("model", "optimizer", "scheduler", "step", "rng", "batch_rng", "config", "tokenizer", "train_config"):
        assert key in checkpoint, key
    assert checkpoint["step"] == 2
    assert GPTConfig.from_dict(checkpoint["config"]) == trainer.model.config
    assert CharTokenizer.from_dict(checkpoint["tokenizer"]).itos == trainer.tokenizer.itos


def test_model_only_checkpoint_cannot_resume(corpus, tmp_path):
    trainer = make_trainer(corpus)
    path = trainer.save_checkpoint(tmp_path / "model.pt", include_optimizer=False)
    assert "optimizer" not in load_checkpoint(path)
    with pytest.raises(ValueError, match="load_pretrained"):
        Trainer.from_checkpoint(path, *corpus)


def test_save_checkpoint_replaces_temporary_file_in_same_folder(tmp_path, monkeypatch):
    moves = []
    original = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: moves.append((src, dst)) or original(src, dst))
    save_checkpoint(tmp_path / "a.pt", {"config": {}, "tokenizer": {}, "model": {}})
    (source, target), = moves
    assert os.path.dirname(source) == str(tmp_path)
    assert str(target) == str(tmp_path / "a.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_failed_save_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "a.pt", {"config": {}, "tokenizer": {}, "model": {}, "step": 1})

    def broken_save(obj, file):
        file.write(b"half")
        raise OSError("磁盘已满")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"config": {}, "tokenizer": {}, "model": {}, "step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_load_checkpoint_rejects_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "tokenizer": {}, "model": {}, "payload": History()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)


def test_load_checkpoint_missing_file_raises_chinese_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="笔记本 07"):
        load_checkpoint(tmp_path / "none.pt")


def test_load_checkpoint_rejects_foreign_file(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="缺少"):
        load_checkpoint(tmp_path / "other.pt")


def test_load_pretrained_reproduces_logits(corpus, tmp_path):
    trainer = make_trainer(corpus)
    trainer.fit(until_step=3, progress=False)
    path = trainer.save_checkpoint(tmp_path / "model.pt", include_optimizer=False)
    model, tokenizer = load_pretrained(path)
    idx = corpus[1][:16][None]
    torch.testing.assert_close(model(idx)[0], trainer.model.eval()(idx)[0])
    assert model.lm_head.weight is model.tok_emb.weight
    assert tokenizer.vocab_size == VOCAB


def test_keyboard_interrupt_writes_checkpoint(corpus, tmp_path, monkeypatch):
    trainer = make_trainer(corpus)
    original = trainer._train_step
    calls = iter(range(100))

    def interrupted_step():
        if next(calls) == 3:
            raise KeyboardInterrupt
        return original()

    monkeypatch.setattr(trainer, "_train_step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(checkpoint_path=tmp_path / "run.pt", progress=False)
    assert load_checkpoint(tmp_path / "run.pt")["step"] == 3


def test_out_of_memory_raises_chinese_advice(corpus, monkeypatch):
    trainer = make_trainer(corpus, batch_size=4)

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer, "_forward", out_of_memory)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="显存不足") as caught:
        trainer.fit(progress=False)
    message = str(caught.value)
    assert "batch_size=2" in message
    assert 'preset="cpu"' in message
    assert isinstance(caught.value.__cause__, torch.cuda.OutOfMemoryError)


def test_non_finite_loss_raises_chinese_error(corpus, monkeypatch):
    trainer = make_trainer(corpus)
    monkeypatch.setattr(trainer, "_train_step", lambda: float("nan"))
    with pytest.raises(FloatingPointError, match="learning_rate"):
        trainer.fit(progress=False)


def test_fit_rejects_step_beyond_max(corpus):
    trainer = make_trainer(corpus)
    with pytest.raises(ValueError, match="max_steps=12"):
        trainer.fit(until_step=13, progress=False)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(max_steps=0), "max_steps"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(warmup_steps=-1), "warmup_steps"),
        (dict(warmup_steps=12), "warmup_steps"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(min_lr=1.0), "min_lr"),
        (dict(grad_clip=-1.0), "grad_clip"),
        (dict(precision="fp16"), "precision"),
    ],
)
def test_invalid_train_config_raises_chinese_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_train_config(**overrides)


def test_train_config_round_trips_through_dict():
    config = tiny_train_config(betas=(0.8, 0.9))
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("preset", ["cpu", "gpu"])
def test_presets_build_valid_configs(preset):
    model_config, train_config = preset_configs(preset, vocab_size=4606)
    assert model_config.vocab_size == 4606
    assert train_config.max_steps > train_config.warmup_steps


def test_cpu_preset_model_is_small():
    model_config, _ = preset_configs("cpu", vocab_size=4606)
    assert 1_000_000 <= GPT(model_config).num_parameters() <= 3_000_000


def test_unknown_preset_raises_chinese_error():
    with pytest.raises(ValueError, match="未知预设"):
        preset_configs("tpu", vocab_size=10)


def test_trainer_rejects_wrong_types(corpus):
    with pytest.raises(TypeError, match="GPT"):
        Trainer(torch.nn.Linear(2, 2), tiny_train_config(), *corpus)
    with pytest.raises(TypeError, match="TrainConfig"):
        Trainer(GPT(tiny_model_config()), {"max_steps": 3}, *corpus)


def test_measure_matmul_peak_is_positive():
    assert measure_matmul_peak(size=64, repeats=2) > 0


def test_model_flops_utilization_formula():
    config = tiny_model_config()
    peak = 1e9
    assert model_flops_utilization(1000.0, config, peak) == pytest.approx(1000.0 * model_flops_per_token(config) / peak)


def test_saved_checkpoint_is_readable_by_others(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", {"config": {}, "tokenizer": {}, "model": {}})
    assert path.stat().st_mode & 0o777 == 0o644


def test_optimizer_is_fused_on_cpu():
    optimizer = make_optimizer(GPT(tiny_model_config()), tiny_train_config(), torch.device("cpu"))
    assert optimizer.defaults["fused"] is True


# ---------------------------------------------------------------- 损坏与不合规的输入


def small_checkpoint() -> dict:
    return {"config": {"a": 1}, "tokenizer": {}, "model": {"w": torch.ones(64)}}


def flip_first_weight_bit(path) -> None:
    """翻转 zip 里第一个张量数据条目的一个比特（模拟磁盘或传输出错）。"""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/data/0"))
    raw = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    raw[info.header_offset + 30 + name_length + extra_length] ^= 1
    path.write_bytes(raw)


def test_load_checkpoint_truncated_file_is_damaged(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", small_checkpoint())
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ValueError, match="文件损坏") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_load_checkpoint_flipped_bit_is_damaged(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", small_checkpoint())
    flip_first_weight_bit(path)
    with pytest.raises(ValueError, match="文件损坏"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", "这不是检查点".encode()])
def test_load_checkpoint_rejects_non_zip_file(tmp_path, content):
    path = tmp_path / "a.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="不是 save_checkpoint 写出的检查点") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_load_checkpoint_rejects_bare_tensor(tmp_path):
    torch.save(torch.ones(3), tmp_path / "t.pt")
    with pytest.raises(ValueError, match="Tensor，不是检查点字典"):
        load_checkpoint(tmp_path / "t.pt")


def test_load_checkpoint_payload_gives_no_unsafe_advice(tmp_path):
    marker = tmp_path / "payload_ran.txt"

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').write('ran')",))

    path = tmp_path / "evil.pt"
    torch.save({"config": {}, "tokenizer": {}, "model": Payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match="拒绝加载检查点") as error:
        load_checkpoint(path)
    assert "exec" in str(error.value)
    assert str(path) in str(error.value)
    assert "weights_only=False" not in str(error.value)
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__  # torch 原来的提示（改用 weights_only=False）不显示
    assert not marker.exists()


def test_load_checkpoint_rejects_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="是一个目录"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("value", [Path("x"), np.float64(0.5)])
def test_save_checkpoint_rejects_unloadable_values(tmp_path, value):
    with pytest.raises(TypeError, match=r"checkpoint\['config'\]") as error:
        save_checkpoint(tmp_path / "a.pt", {"config": value, "tokenizer": {}, "model": {}})
    assert type(value).__name__ in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_save_checkpoint_rejects_directory_path(tmp_path):
    with pytest.raises(IsADirectoryError, match="是一个目录") as error:
        save_checkpoint(tmp_path, small_checkpoint())
    assert str(tmp_path) in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_full_checkpoint_passes_type_check(corpus, tmp_path):
    trainer = make_trainer(corpus)
    trainer.fit(until_step=1, progress=False)
    path = trainer.save_checkpoint(tmp_path / "a.pt")
    assert load_checkpoint(path)["step"] == 1


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(betas=(0.9, 1.5)), r"\[0, 1\)"),
        (dict(betas=0.9), "两个数"),
        (dict(betas=(0.9, "0.95")), "betas 应为数字"),
        (dict(learning_rate="3e-3"), "learning_rate 应为数字"),
        (dict(grad_clip=float("nan")), "grad_clip 应为有限的数"),
        (dict(weight_decay=-1), "weight_decay 应为非负数"),
        (dict(min_lr=float("inf")), "min_lr 应为有限的数"),
        (dict(seed=1.5), "seed 应为整数"),
    ],
)
def test_train_config_rejects_bad_numbers(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_train_config(**overrides)


def test_train_config_accepts_numpy_scalars(tmp_path):
    config = tiny_train_config(
        max_steps=np.int64(12), learning_rate=np.float32(1e-2), min_lr=np.float64(1e-3), betas=np.array([0.9, 0.95]),
        grad_clip=np.float32(1.0), seed=np.int64(3),
    )  # fmt: skip
    assert type(config.max_steps) is int
    assert type(config.seed) is int
    assert all(type(value) is float for value in (config.learning_rate, config.min_lr, config.grad_clip, *config.betas))
    save_checkpoint(tmp_path / "a.pt", {"config": {}, "tokenizer": {}, "model": {}, "train": config.to_dict()})


def test_train_config_keeps_python_values():
    config = tiny_train_config(learning_rate=1, min_lr=0, betas=[0.8, 0.9])
    assert config.learning_rate == 1
    assert type(config.learning_rate) is int
    assert config.betas == (0.8, 0.9)


def test_from_dict_rejects_unknown_key():
    with pytest.raises(ValueError, match=r"未知的键 \['max_step'\]"):
        TrainConfig.from_dict({"max_step": 3})


def test_evaluate_rejects_zero_max_windows():
    model = GPT(tiny_model_config()).eval()
    data = torch.randint(2, VOCAB, (100,))
    with pytest.raises(ValueError, match="max_windows 应为正整数"):
        evaluate(model, data, context_length=16, max_windows=0)
    with pytest.raises(ValueError, match="batch_size 应为正整数"):
        evaluate(model, data, context_length=16, batch_size=0)
    assert evaluate(model, data, context_length=16, max_windows=np.int64(2)) > 0


@pytest.mark.parametrize("peak", [0, -1.0, float("nan"), "1e9"])
def test_mfu_rejects_bad_peak(peak):
    with pytest.raises(ValueError, match="peak_flops"):
        model_flops_utilization(1000.0, tiny_model_config(), peak)
