"""算力与成本的估算公式：参数量、训练 FLOPs、训练显存、GPU 时与费用，以及公开模型的规模表（附出处）。

这里的数都是估算（estimate）：公式只数矩阵乘法，忽略层归一化、softmax 等小项；
GPU 峰值取厂商数据表中不含稀疏加速的 BF16 张量核心数值，实际能达到的比例由“算力利用率”表示。
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .gpt import GPTConfig, gpt_num_parameters

# 混合精度（mixed precision）+ Adam 训练时每个参数占用的字节数。出处：Rajbhandari et al., 2020,
# "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models"（SC20）第 3.1 节：
# fp16 权重 2 + fp16 梯度 2 + fp32 主权重、一阶矩、二阶矩各 4，合计 16 字节。激活值另算。
MIXED_PRECISION_ADAM_BYTES = {
    "权重（bf16/fp16）": 2,
    "梯度（bf16/fp16）": 2,
    "主权重副本（fp32）": 4,
    "Adam 一阶矩 m（fp32）": 4,
    "Adam 二阶矩 v（fp32）": 4,
}
# 全 fp32 训练作对照：权重 4 + 梯度 4 + m 4 + v 4，同样是 16 字节。
FP32_ADAM_BYTES = {
    "权重（fp32）": 4,
    "梯度（fp32）": 4,
    "Adam 一阶矩 m（fp32）": 4,
    "Adam 二阶矩 v（fp32）": 4,
}


@dataclass(frozen=True)
class PublishedModel:
    """一个公开模型的规模：论文报告的参数量与训练词元数，以及能代入公式的结构超参数。"""

    name: str
    reported_parameters: float  # 论文报告的参数量
    n_layer: int
    d_model: int
    vocab_size: int
    context_length: int
    tokens: float | None  # 训练词元数；论文未给出时为 None
    source: str  # 出处：论文与表格
    note: str = ""
    learned_positions: bool = True  # 是否有可学习的位置嵌入（LLaMA 用旋转位置编码，没有这项参数）
    tied_output: bool = True  # 输出层是否与词元嵌入共享权重


# NOTE: 只有 GPT-2 与我们的模型结构完全相同（可学习位置嵌入、前置层归一化、共享输出层），
# 其余模型的精确参数量与 gpt_parameter_breakdown 不同，只适合与 approx_parameters 的近似比较。
PUBLISHED_MODELS = (
    PublishedModel(
        "GPT-2 small", 117e6, 12, 768, 50257, 1024, None,
        "Radford et al., 2019, Language Models are Unsupervised Multitask Learners，表 2",
        "论文表 2 写作 117M；按公开权重实际计数为 124M，与本模块公式一致",
    ),
    PublishedModel(
        "GPT-2 medium", 345e6, 24, 1024, 50257, 1024, None,
        "Radford et al., 2019, Language Models are Unsupervised Multitask Learners，表 2",
        "论文表 2 写作 345M；按公开权重实际计数为 355M",
    ),
    PublishedModel(
        "GPT-2 XL", 1542e6, 48, 1600, 50257, 1024, None,
        "Radford et al., 2019, Language Models are Unsupervised Multitask Learners，表 2",
        "论文表 2 写作 1542M；按公开权重实际计数为 1558M",
    ),
    PublishedModel(
        "BERT-base", 110e6, 12, 768, 30522, 512, None,
        "Devlin et al., 2019, BERT: Pre-training of Deep Bidirectional Transformers，第 3 节",
        "编码器（encoder），不是因果语言模型；块的结构与参数量公式相同",
    ),
    PublishedModel(
        "GPT-3 175B", 175e9, 96, 12288, 50257, 2048, 300e9,
        "Brown et al., 2020, Language Models are Few-Shot Learners，表 2.1 与第 2.2 节",
    ),
    PublishedModel(
        "LLaMA-7B", 6.7e9, 32, 4096, 32000, 2048, 1.0e12,
        "Touvron et al., 2023, LLaMA: Open and Efficient Foundation Language Models，表 2",
        "前馈网络用 SwiGLU（三个矩阵，宽约 8d/3），矩阵参数仍约 8d²；输出层不共享权重",
        learned_positions=False,
        tied_output=False,
    ),
    PublishedModel(
        "LLaMA-65B", 65.2e9, 80, 8192, 32000, 2048, 1.4e12,
        "Touvron et al., 2023, LLaMA: Open and Efficient Foundation Language Models，表 2",
        "同上",
        learned_positions=False,
        tied_output=False,
    ),
)


@dataclass(frozen=True)
class GPUSpec:
    """一种 GPU 的假设参数：BF16 峰值算力（不含稀疏加速）、显存，以及可修改的示例单价。"""

    name: str
    peak_bf16_tflops: float  # 每秒万亿次浮点运算（TFLOP/s），稠密矩阵乘法
    memory_gb: float
    example_price_per_hour: float  # 元/（GPU·小时）
    source: str


# 峰值取自 NVIDIA 各产品数据表；数据表里带星号的数值是 2:4 稀疏加速后的，这里取其一半（稠密）。
# NOTE: 示例单价只是让估算器有个起点的假设，不是任何云厂商的报价；请换成你实际拿到的价格。
GPU_SPECS = {
    "NVIDIA A100 SXM 80GB": GPUSpec("NVIDIA A100 SXM 80GB", 312.0, 80, 12.0, "NVIDIA A100 Tensor Core GPU 数据表"),
    "NVIDIA H100 SXM": GPUSpec("NVIDIA H100 SXM", 989.0, 80, 20.0, "NVIDIA H100 Tensor Core GPU 数据表"),
    "NVIDIA H200 SXM": GPUSpec("NVIDIA H200 SXM", 989.0, 141, 25.0, "NVIDIA H200 Tensor Core GPU 数据表"),
    "NVIDIA L4": GPUSpec("NVIDIA L4", 121.0, 24, 5.0, "NVIDIA L4 Tensor Core GPU 数据表"),
    "NVIDIA GeForce RTX 4090": GPUSpec(
        "NVIDIA GeForce RTX 4090", 165.2, 24, 3.0, "NVIDIA Ada GPU Architecture 白皮书（FP32 累加的 BF16 张量峰值）"
    ),
}


def _check_positive(name: str, value, example: str) -> float:
    """检查 value 是有限的正实数（Python 或 NumPy 的整数、浮点数均可，bool 除外），返回 float。"""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} 应为有限的正数，实际为 {value!r}；请传入例如 {example}。")
    return float(value)


def _check_positive_int(name: str, value, example: str) -> int:
    """检查 value 是正整数（Python 或 NumPy 的整数均可，bool 与 1.5 这样的小数除外），返回 int。"""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} 应为正整数，实际为 {value!r}；请传入例如 {example}。")
    return int(value)


def gpt_parameter_breakdown(
    vocab_size: int, context_length: int, n_layer: int, d_model: int, bias: bool = True
) -> dict[str, int]:
    """按组件计算 GPT 的参数量，返回 {组件名: 参数个数}；输出层与词元嵌入共享权重，计为 0。

    每个块：注意力 W_qkv (d×3d) 与 W_o (d×d) 共 4d²，前馈网络 d×4d 与 4d×d 共 8d²；
    带偏置时注意力再加 3d + d，前馈网络再加 4d + d。各项之和等于 gpt.gpt_num_parameters。
    """
    config = GPTConfig(
        vocab_size=vocab_size, context_length=context_length, n_layer=n_layer, n_head=1, d_model=d_model, bias=bias
    )
    d, L = config.d_model, config.n_layer
    norm = 2 * d if bias else d  # 每个层归一化：缩放 d 个，带偏置时再加平移 d 个
    return {
        "词元嵌入": vocab_size * d,
        "位置嵌入": context_length * d,
        "注意力": L * (4 * d * d + (4 * d if bias else 0)),
        "前馈网络": L * (8 * d * d + (5 * d if bias else 0)),
        "层归一化": (2 * L + 1) * norm,
        "输出层（与词元嵌入共享）": 0,
    }


def formula_parameters(model: PublishedModel) -> int:
    """把公开模型的 L、d、V、T 代入我们 GPT 的参数量公式（即 GPT-2 的结构），返回参数个数。"""
    config = GPTConfig(
        vocab_size=model.vocab_size,
        context_length=model.context_length,
        n_layer=model.n_layer,
        n_head=1,  # 头数不影响参数量
        d_model=model.d_model,
    )
    return gpt_num_parameters(config)


def approx_parameters(model: PublishedModel) -> int:
    """返回 12·L·d² 加上嵌入矩阵（词元嵌入、可学习的位置嵌入、不共享时的输出层）的近似参数量。"""
    d = model.d_model
    embeddings = model.vocab_size * d
    if model.learned_positions:
        embeddings += model.context_length * d
    if not model.tied_output:
        embeddings += model.vocab_size * d
    return approx_block_parameters(model.n_layer, d) + embeddings


def approx_block_parameters(n_layer: int, d_model: int) -> int:
    """返回 Transformer 块堆叠的近似参数量 12·L·d²（忽略偏置、层归一化与嵌入）。"""
    n_layer = _check_positive_int("n_layer", n_layer, "n_layer=12")
    d_model = _check_positive_int("d_model", d_model, "d_model=768")
    return 12 * n_layer * d_model**2


def training_flops(n_parameters: float, n_tokens: float) -> float:
    """估算训练总浮点运算次数 C ≈ 6·N·D。

    前向每个词元每个参数一次乘加（2 FLOPs），反向约是前向的两倍（4 FLOPs），合计 6。
    出处：Kaplan et al., 2020, Scaling Laws for Neural Language Models，第 2.1 节。忽略注意力分数那一项。
    """
    n_parameters = _check_positive("n_parameters", n_parameters, "n_parameters=124e6")
    n_tokens = _check_positive("n_tokens", n_tokens, "n_tokens=300e9")
    return 6.0 * n_parameters * n_tokens


def training_memory_bytes(n_parameters: float, mixed_precision: bool = True) -> dict[str, float]:
    """估算用 Adam 训练时权重、梯度与优化器状态占用的字节数，返回 {项目: 字节数}。

    不含激活值（activations）与临时缓冲：它们随批大小和序列长度变化，另需估算。
    """
    n_parameters = _check_positive("n_parameters", n_parameters, "n_parameters=1.5e9")
    table = MIXED_PRECISION_ADAM_BYTES if mixed_precision else FP32_ADAM_BYTES
    return {item: n_parameters * size for item, size in table.items()}


@dataclass(frozen=True)
class CostEstimate:
    """一次训练的估算结果，连同用到的假设。"""

    n_parameters: float
    n_tokens: float
    gpu: str
    n_gpus: int
    peak_tflops: float
    utilization: float
    price_per_gpu_hour: float
    flops: float  # 6·N·D
    gpu_hours: float
    wall_hours: float
    cost: float  # 元

    def lines(self) -> list[str]:
        """返回逐行的中文说明：先列假设，再列结果。"""
        return [
            f"假设：模型 {self.n_parameters:.3g} 个参数，训练 {self.n_tokens:.3g} 个词元",
            f"假设：{self.n_gpus} 块 {self.gpu}，BF16 峰值 {self.peak_tflops:g} TFLOP/s（数据表，稠密）",
            f"假设：算力利用率 {self.utilization:.0%}，单价 {self.price_per_gpu_hour:g} 元/（GPU·小时）",
            f"训练 FLOPs ≈ 6·N·D = {self.flops:.3g}",
            f"GPU 时 ≈ {self.gpu_hours:,.1f} GPU·小时（墙钟约 {self.wall_hours:,.1f} 小时 ≈ {self.wall_hours / 24:,.1f} 天）",
            f"费用 ≈ {self.cost:,.0f} 元",
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def estimate_training_cost(
    n_parameters: float,
    n_tokens: float,
    gpu: str = "NVIDIA A100 SXM 80GB",
    utilization: float = 0.4,
    price_per_gpu_hour: float | None = None,
    n_gpus: int = 1,
) -> CostEstimate:
    """估算训练所需的 GPU 时与费用：GPU 时 = 6·N·D / (峰值 × 利用率) / 3600。

    gpu 取 GPU_SPECS 的键；price_per_gpu_hour 为 None 时用该 GPU 的示例单价（假设）。
    n_gpus 只改变墙钟时间，不改变 GPU 时与费用（假设多卡时利用率不变）。
    """
    flops = training_flops(n_parameters, n_tokens)
    if gpu not in GPU_SPECS:
        raise ValueError(f"未知的 GPU {gpu!r}；可选值为 {', '.join(GPU_SPECS)}。")
    spec = GPU_SPECS[gpu]
    if isinstance(utilization, bool) or not isinstance(utilization, numbers.Real) or not 0 < utilization <= 1:
        raise ValueError(f"utilization 应在 (0, 1] 内，实际为 {utilization!r}；大模型训练常见 0.3 到 0.6，例如 0.4。")
    utilization = float(utilization)
    if price_per_gpu_hour is None:
        price_per_gpu_hour = spec.example_price_per_hour
    if (
        isinstance(price_per_gpu_hour, bool)
        or not isinstance(price_per_gpu_hour, numbers.Real)
        or not 0 <= price_per_gpu_hour < math.inf  # NaN 也不满足
    ):
        raise ValueError(
            f"price_per_gpu_hour 应为有限的非负数（元/GPU·小时），实际为 {price_per_gpu_hour!r}；例如 12.0。"
        )
    price_per_gpu_hour = float(price_per_gpu_hour)
    n_gpus = _check_positive_int("n_gpus", n_gpus, "n_gpus=8")

    achieved = spec.peak_bf16_tflops * 1e12 * utilization  # 每块 GPU 实际每秒完成的 FLOPs
    gpu_hours = flops / achieved / 3600
    return CostEstimate(
        n_parameters=float(n_parameters),
        n_tokens=float(n_tokens),
        gpu=spec.name,
        n_gpus=n_gpus,
        peak_tflops=spec.peak_bf16_tflops,
        utilization=utilization,
        price_per_gpu_hour=price_per_gpu_hour,
        flops=flops,
        gpu_hours=gpu_hours,
        wall_hours=gpu_hours / n_gpus,
        cost=gpu_hours * price_per_gpu_hour,
    )
