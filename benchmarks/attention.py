"""比较 NumPy 注意力与 PyTorch 的 scaled_dot_product_attention 在 CPU 上的前向耗时。

用法：python benchmarks/attention.py [--rounds 7] [--repeats 20] [--threads N]

形状固定为批大小 8、8 个头、序列长度 256、d_k = d_v = 64，float32，只算前向、不带掩码。
每一轮交替测两边，各取 repeats 次调用的中位数，算出比值；最后报告各轮比值的中位数。
机器上有别的任务在跑时数字会波动，所以同时打印运行前后的系统负载。
--threads N 让 OpenBLAS（NumPy 的矩阵乘法）与 PyTorch 都只用 N 个线程；不给时两边都用默认值（全部核）。
CPU 被别的进程占用时，OpenBLAS 的多线程矩阵乘法慢得格外厉害，这时 --threads 1 的比值更能反映实现本身。
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

SHAPE = (8, 8, 256, 64)  # (批大小, 头数, 序列长度, d_k)


def cpu_model_name() -> str:
    """读取 /proc/cpuinfo 中的 CPU 型号；读不到时退回 platform.processor()。"""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "未知"


def median_seconds(function, repeats: int) -> float:
    """先预热一次，再调用 function repeats 次，返回单次耗时的中位数（秒）。"""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="测量轮数（默认 7）")
    parser.add_argument("--repeats", type=int, default=20, help="每轮每边调用的次数（默认 20）")
    parser.add_argument("--threads", type=int, default=None, help="两边使用的线程数（默认：全部核）")
    args = parser.parse_args()
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads 应为正整数，实际为 {args.threads}；例如 --threads 1。")
    if args.threads is not None:
        # OpenBLAS 在载入时读取线程数，所以必须在 import numpy 之前设置。
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import torch
    import torch.nn.functional as F

    from bigmodel_lab.attention import scaled_dot_product_attention

    if args.threads is not None:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(SHAPE, dtype=np.float32) for _ in range(3))
    tq, tk, tv = (torch.from_numpy(array) for array in (q, k, v))

    with torch.inference_mode():
        difference = np.abs(scaled_dot_product_attention(q, k, v) - F.scaled_dot_product_attention(tq, tk, tv).numpy()).max()
        print(f"CPU：{cpu_model_name()}，逻辑核数 {os.cpu_count()}，torch 线程数 {torch.get_num_threads()}，"
              f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '未设置（全部核）')}")
        print(f"NumPy {np.__version__}，PyTorch {torch.__version__}，形状 {SHAPE}，float32")
        print(f"两者输出的最大差：{difference:.2e}")
        print(f"运行前 1 分钟平均负载：{os.getloadavg()[0]:.2f}")

        ratios = []
        for number in range(1, args.rounds + 1):
            numpy_s = median_seconds(lambda: scaled_dot_product_attention(q, k, v), args.repeats)
            torch_s = median_seconds(lambda: F.scaled_dot_product_attention(tq, tk, tv), args.repeats)
            ratios.append(numpy_s / torch_s)
            print(f"第 {number} 轮：NumPy {numpy_s * 1e3:.2f} ms，torch {torch_s * 1e3:.2f} ms，比值 {ratios[-1]:.2f}")

    print(f"运行后 1 分钟平均负载：{os.getloadavg()[0]:.2f}")
    print(f"NumPy / torch 耗时比（各轮中位数）：{statistics.median(ratios):.2f}（目标 ≤ 1.5）")


if __name__ == "__main__":
    main()
