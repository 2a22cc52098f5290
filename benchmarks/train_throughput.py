"""训练吞吐量基准：bigmodel_lab 的 GPT 与同样大小的 nn.TransformerEncoderLayer 参照模型对比。

每一步 = 前向 + 损失 + 反向 + AdamW 更新。先预热若干步，再重复测量，取每秒词元数的中位数；
两个模型与矩阵乘法峰值在同一次运行里交替测量，机器上的其他负载对双方的影响相近，
因此同一次运行里的比值比单独的绝对数更可信。

用法（在仓库根目录）：
    python benchmarks/train_throughput.py                      # small 与 medium，两个模型
    python benchmarks/train_throughput.py --config gpt2-small  # GPU 上的 GPT-2 small 大小
    python benchmarks/train_throughput.py --json runs/throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bigmodel_lab.gpt import GPT, GPTConfig, gpt_num_parameters, model_flops_per_token  # noqa: E402
from bigmodel_lab.training import TrainConfig, make_optimizer, measure_matmul_peak  # noqa: E402

NEWS_VOCAB_SIZE = 4606  # 新闻训练集的字符词表大小（含 <unk> 与 <pad>），与笔记本 07 相同

# 名称 → (n_layer, n_head, d_model, context_length, batch_size)
# NOTE: gpt2-small 是给 GPU 准备的配置，还没有在 GPU 上运行过，它的数字尚未记录。
CONFIGS = {
    "small": (4, 4, 128, 64, 12),
    "medium": (6, 6, 384, 256, 16),
    "gpt2-small": (12, 12, 768, 1024, 16),
}


class ReferenceGPT(nn.Module):
    """用 nn.TransformerEncoderLayer（前置层归一化 + 因果掩码）搭的同样大小的参照模型。"""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.context_length, config.d_model)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                config.d_model,
                config.n_head,
                dim_feedforward=4 * config.d_model,
                dropout=config.dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
                bias=config.bias,
            )
            for _ in range(config.n_layer)
        )
        self.ln_f = nn.LayerNorm(config.d_model, bias=config.bias)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight
        self.register_buffer(
            "mask", nn.Transformer.generate_square_subsequent_mask(config.context_length), persistent=False
        )

    def forward(self, idx: torch.Tensor, targets: torch.Tensor):
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device))  # (B, T, C)
        for block in self.blocks:
            x = block(x, src_mask=self.mask[:T, :T], is_causal=True)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten())


@dataclass
class Measurement:
    """一个模型在一个配置下的结果。"""

    model: str
    config: str
    parameters: int
    tokens_per_second: float
    repeats: list[float]
    mfu: float


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class StepTimer:
    """为一个模型准备数据、优化器与训练步，并测量若干步的每秒词元数。"""

    def __init__(self, model: nn.Module, batch_size: int, device: torch.device, precision: str, compile_model: bool):
        config = model.config
        self.model = model.to(device)
        self.device = device
        self.tokens_per_step = batch_size * config.context_length
        self.optimizer = make_optimizer(self.model, TrainConfig(), device)
        self.forward = torch.compile(self.model) if compile_model else self.model
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randint(config.vocab_size, (batch_size, config.context_length), generator=generator).to(device)
        self.y = torch.randint(config.vocab_size, (batch_size, config.context_length), generator=generator).to(device)

    def step(self) -> None:
        with self.autocast:
            _, loss = self.forward(self.x, self.y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def tokens_per_second(self, steps: int) -> float:
        _synchronize(self.device)
        started = time.perf_counter()
        for _ in range(steps):
            self.step()
        _synchronize(self.device)
        return steps * self.tokens_per_step / (time.perf_counter() - started)


def benchmark_config(
    name: str,
    *,
    device: torch.device,
    precision: str,
    bias: bool,
    warmup: int,
    steps: int,
    repeats: int,
    compile_model: bool,
    models: list[str],
) -> tuple[list[Measurement], float]:
    """测量一个配置下各模型的吞吐量；返回（结果列表，矩阵乘法峰值 FLOP/s 的中位数）。"""
    n_layer, n_head, d_model, context_length, batch_size = CONFIGS[name]
    config = GPTConfig(
        vocab_size=NEWS_VOCAB_SIZE, context_length=context_length, n_layer=n_layer, n_head=n_head,
        d_model=d_model, bias=bias,
    )  # fmt: skip
    builders = {"ours": GPT, "reference": ReferenceGPT}
    timers = {}
    for model_name in models:
        torch.manual_seed(0)
        model = builders[model_name](config)
        counted = sum(p.numel() for p in model.parameters())
        if counted != gpt_num_parameters(config):
            raise RuntimeError(f"{model_name} 的参数量 {counted} 与公式 {gpt_num_parameters(config)} 不一致。")
        timers[model_name] = StepTimer(model, batch_size, device, precision, compile_model)
        for _ in range(warmup):
            timers[model_name].step()

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    peaks: list[float] = []
    results: dict[str, list[float]] = {model_name: [] for model_name in timers}
    for _ in range(repeats):  # 交替测量：峰值、各模型，轮流进行
        peaks.append(measure_matmul_peak(device, dtype=dtype, repeats=3))
        for model_name, timer in timers.items():
            results[model_name].append(timer.tokens_per_second(steps))
    peak = statistics.median(peaks)

    measurements = []
    for model_name, values in results.items():
        tokens_per_second = statistics.median(values)
        measurements.append(
            Measurement(
                model=model_name,
                config=name,
                parameters=gpt_num_parameters(config),
                tokens_per_second=tokens_per_second,
                repeats=values,
                mfu=tokens_per_second * model_flops_per_token(config) / peak,
            )
        )
    return measurements, peak


def load_average() -> float:
    """返回 1 分钟平均负载；Windows 没有这个数，返回 nan。"""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine_description(device: torch.device) -> str:
    """返回设备的简短描述：GPU 名称，或 CPU 型号与 PyTorch 使用的线程数。"""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}，PyTorch 线程数 {torch.get_num_threads()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="测量 GPT 训练步的吞吐量（词元/秒）与算力利用率（MFU）。")
    parser.add_argument("--config", nargs="+", default=["small", "medium"], choices=sorted(CONFIGS),
                        help="要测的配置，可写多个（默认 small medium）")  # fmt: skip
    parser.add_argument("--device", default="auto", help="auto、cpu、cuda 或 mps（默认 auto：有 CUDA 用 CUDA）")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                        help="auto：CUDA 上 bf16 自动混合精度，其他设备 fp32")  # fmt: skip
    parser.add_argument("--bias", action="store_true", help="Linear 与 LayerNorm 带偏置（默认不带，两个模型相同）")
    parser.add_argument("--models", nargs="+", default=["ours", "reference"], choices=["ours", "reference"])
    parser.add_argument("--warmup", type=int, default=5, help="每个模型测量前的预热步数")
    parser.add_argument("--steps", type=int, default=10, help="每次重复测量的训练步数")
    parser.add_argument("--repeats", type=int, default=5, help="重复次数，结果取中位数")
    parser.add_argument("--compile", action="store_true", help="用 torch.compile 编译两个模型")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch 的 CPU 线程数（默认不改）")
    parser.add_argument("--json", type=Path, default=None, help="把结果另存为 JSON 文件")
    args = parser.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    precision = args.precision
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    load_before = load_average()
    print(f"设备：{machine_description(device)}；精度 {precision}；偏置 {'有' if args.bias else '无'}；"
          f"{'torch.compile；' if args.compile else ''}每次 {args.steps} 步 × {args.repeats} 次，预热 {args.warmup} 步；"
          f"开始时 1 分钟平均负载 {load_before:.2f}")  # fmt: skip
    rows = []
    for name in args.config:
        measurements, peak = benchmark_config(
            name, device=device, precision=precision, bias=args.bias, warmup=args.warmup, steps=args.steps,
            repeats=args.repeats, compile_model=args.compile, models=args.models,
        )  # fmt: skip
        by_model = {m.model: m for m in measurements}
        print(f"\n配置 {name} {CONFIGS[name]}（n_layer, n_head, d_model, context_length, batch_size）；"
              f"矩阵乘法实测峰值 {peak / 1e9:.1f} GFLOP/s")  # fmt: skip
        for m in measurements:
            spread = f"{min(m.repeats):.0f}–{max(m.repeats):.0f}"
            print(f"  {m.model:<10} {m.parameters / 1e6:6.2f} M 参数  {m.tokens_per_second:10.0f} 词元/秒"
                  f"（各次 {spread}）  MFU {m.mfu:6.1%}")  # fmt: skip
        if "ours" in by_model and "reference" in by_model:
            ratio = by_model["ours"].tokens_per_second / by_model["reference"].tokens_per_second
            print(f"  ours / reference = {ratio:.2f}×")
        rows.append({"config": name, "shape": CONFIGS[name], "peak_flops": peak,
                     "results": [m.__dict__ for m in measurements]})  # fmt: skip

    load_after = load_average()
    print(f"\n结束时 1 分钟平均负载 {load_after:.2f}（负载高于 CPU 核数时，别的进程在抢 CPU，绝对数偏低）")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"device": machine_description(device), "precision": precision, "bias": args.bias,
                  "compile": args.compile, "configs": rows, "torch": torch.__version__,
                  "time": time.strftime("%Y-%m-%d %H:%M:%S"), "load": [load_before, load_after]}  # fmt: skip
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
