"""设备选择与随机种子。"""

from __future__ import annotations

import os
import random

import numpy as np

_KNOWN_DEVICES = ("auto", "cuda", "mps", "cpu")


def seed_everything(seed: int = 42) -> int:
    """为 Python、NumPy 与 PyTorch（含所有 GPU）设置同一个随机种子，并返回该种子。

    同一台机器、同一个种子，笔记本每次运行得到相同的输出。
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed 应为整数，实际收到 {seed!r}（类型 {type(seed).__name__}）；请传入例如 seed=42。")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed 应在 0 到 2**32-1 之间，实际为 {seed}；请换一个非负整数。")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)

    import torch

    torch.manual_seed(seed)  # 同时为所有 CUDA 设备设种子
    return seed


def _mps_matches_cpu(torch) -> tuple[bool, str]:
    """在 MPS 与 CPU 上算同一个小模型的交叉熵损失与梯度，返回（是否一致，说明）。"""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(64, 32, generator=generator)
    inputs = torch.randn(16, 64, generator=generator)
    targets = torch.randint(0, 32, (16,), generator=generator)

    results = []
    for name in ("cpu", "mps"):
        w = weight.to(name).requires_grad_(True)
        logits = inputs.to(name) @ w
        loss = torch.nn.functional.cross_entropy(logits, targets.to(name))
        loss.backward()
        results.append((loss.detach().cpu(), w.grad.detach().cpu()))

    loss_diff = float((results[0][0] - results[1][0]).abs())
    grad_diff = float((results[0][1] - results[1][1]).abs().max())
    ok = loss_diff < 1e-4 and grad_diff < 1e-4
    return ok, f"损失差 {loss_diff:.2e}，梯度最大差 {grad_diff:.2e}"


def pick_device(preferred: str = "auto", *, verbose: bool = True):
    """选择计算设备并用中文说明原因，返回 torch.device。

    preferred="auto" 时依次尝试 CUDA、CPU。MPS（Apple 芯片）需显式传入 "mps"：
    它在部分 PyTorch 版本上会悄悄算错损失，因此选用前先与 CPU 对比一个小模型的损失和梯度，
    不一致就退回 CPU。也可以用环境变量 BIGMODEL_LAB_DEVICE 指定。
    """
    import torch

    if not isinstance(preferred, str):
        raise TypeError(
            f"preferred 应为字符串，实际收到 {preferred!r}；可选值为 {', '.join(_KNOWN_DEVICES)}。"
        )
    choice = os.environ.get("BIGMODEL_LAB_DEVICE", preferred) if preferred == "auto" else preferred
    choice = choice.strip().lower()
    if choice not in _KNOWN_DEVICES:
        raise ValueError(
            f"未知设备 {choice!r}；可选值为 {', '.join(_KNOWN_DEVICES)}，例如 pick_device('auto')。"
        )

    def report(device, reason: str):
        if verbose:
            print(f"使用设备：{device}（{reason}）")
        return torch.device(device)

    if choice in ("auto", "cuda"):
        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(0)
            return report("cuda", f"检测到 NVIDIA GPU：{name}")
        if choice == "cuda":
            return report("cpu", "请求了 CUDA，但本机没有可用的 NVIDIA GPU 或 PyTorch 是 CPU 版本，退回 CPU")
        return report("cpu", "未检测到 CUDA GPU；Apple 芯片可传入 'mps' 显式启用 MPS")

    if choice == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            return report("cpu", "请求了 MPS，但本机不支持 MPS（需要 Apple 芯片与 macOS 12.3 以上），退回 CPU")
        ok, detail = _mps_matches_cpu(torch)
        if not ok:
            return report("cpu", f"MPS 与 CPU 的结果不一致（{detail}），为避免悄悄算错，退回 CPU")
        return report("mps", f"MPS 与 CPU 的小模型对比一致：{detail}")

    return report("cpu", "按要求使用 CPU")
