import random

import numpy as np
import pytest
import torch

from bigmodel_lab.device import pick_device, seed_everything


def test_seed_everything_repeats_all_generators():
    seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(123)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second


@pytest.mark.parametrize("bad", ["42", 1.5, None, True])
def test_seed_everything_rejects_non_integer(bad):
    with pytest.raises(TypeError, match="seed 应为整数"):
        seed_everything(bad)


def test_seed_everything_rejects_negative():
    with pytest.raises(ValueError, match="非负整数"):
        seed_everything(-1)


def test_pick_device_auto_explains_choice(capsys, monkeypatch):
    monkeypatch.delenv("BIGMODEL_LAB_DEVICE", raising=False)
    device = pick_device()
    output = capsys.readouterr().out
    assert device.type in ("cuda", "cpu")
    assert output.startswith("使用设备：")
    assert "（" in output


def test_pick_device_cuda_falls_back_with_reason(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    device = pick_device("cuda")
    assert device.type == "cpu"
    assert "退回 CPU" in capsys.readouterr().out


def test_pick_device_mps_unavailable_falls_back(capsys, monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("mps").type == "cpu"
    assert "不支持 MPS" in capsys.readouterr().out


def test_pick_device_mps_mismatch_falls_back(capsys, monkeypatch):
    import bigmodel_lab.device as device_module

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(device_module, "_mps_matches_cpu", lambda torch: (False, "损失差 1.0"))
    assert pick_device("mps").type == "cpu"
    assert "不一致" in capsys.readouterr().out


def test_pick_device_mps_match_selects_mps(monkeypatch):
    import bigmodel_lab.device as device_module

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(device_module, "_mps_matches_cpu", lambda torch: (True, "一致"))
    assert pick_device("mps", verbose=False).type == "mps"


def test_pick_device_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="未知设备 'tpu'.*cuda"):
        pick_device("tpu")


def test_pick_device_reads_environment(monkeypatch):
    monkeypatch.setenv("BIGMODEL_LAB_DEVICE", "cpu")
    assert pick_device(verbose=False).type == "cpu"


def test_pick_device_rejects_non_string():
    with pytest.raises(TypeError, match="preferred 应为字符串"):
        pick_device(0)
