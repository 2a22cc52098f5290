"""LoRA（low-rank adaptation，低秩适配）：冻结预训练权重，只训练旁路上的两个小矩阵。

对一个线性层 y = W x + b（W 形状 (d_out, d_in)），LoRA 加上一条低秩支路：

    y = W x + b + (alpha / r) · B A x,    A: (r, d_in),  B: (d_out, r),  r ≪ min(d_in, d_out)

W 与 b 冻结，只训练 A 和 B，可训练参数从 d_out·d_in 降到 r·(d_in + d_out)。B 初始化为 0，
所以训练开始时模型与预训练模型完全相同。训练完可以把 (alpha / r)·B A 加回 W（merge_lora），
推理时不多花任何计算。
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

DEFAULT_TARGETS = ("attn.qkv", "attn.proj")


class LoRALinear(nn.Module):
    """包住一个冻结的 nn.Linear，并在旁边加上可训练的低秩支路 (alpha / r) · B A。"""

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float = 8.0, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base 应为 nn.Linear，实际为 {type(base).__name__}；LoRA 只替换线性层。")
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank <= 0:
            raise ValueError(f"rank 应为正整数，实际为 {rank!r}；常用 rank=4 或 8。")
        if rank > min(base.in_features, base.out_features):
            raise ValueError(
                f"rank={rank} 大于该层的 min(d_in, d_out)={min(base.in_features, base.out_features)}，"
                "已不是低秩；请把 rank 调小。"
            )
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < math.inf:
            raise ValueError(f"alpha 应为正数（不能是 NaN 或无穷大），实际为 {alpha!r}；常用 alpha = 2 × rank。")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout 应在 [0, 1) 内，实际为 {dropout!r}；不用 dropout 时写 dropout=0.0。")
        rank = int(rank)

        self.base = base
        for parameter in self.base.parameters():
            parameter.requires_grad_(False)
        self.rank = rank
        self.alpha = float(alpha)
        self.scaling = self.alpha / rank
        weight = base.weight
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, device=weight.device, dtype=weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, device=weight.device, dtype=weight.dtype))
        # A 与 nn.Linear 的默认初始化相同；B 为 0，使支路一开始输出 0。
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(float(dropout))

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """返回支路等效的权重增量 (alpha / r) · B A，形状 (d_out, d_in)。"""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low_rank = self.dropout(x) @ self.lora_A.T  # (..., r)
        return self.base(x) + self.scaling * (low_rank @ self.lora_B.T)  # (..., d_out)

    def merged(self) -> nn.Linear:
        """返回把支路加回 W 后的普通 nn.Linear（新对象，权重可训练）。"""
        linear = nn.Linear(
            self.in_features,
            self.out_features,
            bias=self.base.bias is not None,
            device=self.base.weight.device,
            dtype=self.base.weight.dtype,
        )
        with torch.no_grad():
            linear.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                linear.bias.copy_(self.base.bias)
        return linear

    def extra_repr(self) -> str:
        return f"rank={self.rank}, alpha={self.alpha:g}"


def _replace_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child_name, module)


def apply_lora(
    model: nn.Module,
    *,
    rank: int = 4,
    alpha: float = 8.0,
    dropout: float = 0.0,
    targets: tuple[str, ...] = DEFAULT_TARGETS,
    trainable: tuple[str, ...] = ("head",),
) -> list[str]:
    """把 model 中名字以 targets 之一结尾的 nn.Linear 就地换成 LoRALinear，返回被替换的层名。

    替换后整个模型冻结，只有 LoRA 的 A、B 以及名字以 trainable 之一开头的子模块（默认分类头 head）
    可训练。默认只改注意力的 qkv 与输出投影，这是 LoRA 原论文（Hu 等，2021）的做法。
    targets 与 trainable 也可以是单个字符串。找不到任何目标层、或模型已经加过 LoRA 时抛出 ValueError。
    """
    if isinstance(targets, str):
        targets = (targets,)
    if isinstance(trainable, str):
        trainable = (trainable,)
    applied = [name for name, module in model.named_modules() if isinstance(module, LoRALinear)]
    if applied:
        raise ValueError(
            f"模型已经加过 LoRA（例如 {applied[0]}），apply_lora 对同一个模型只能调用一次；"
            "要改多种层请一次传入全部 targets，要重来请重新创建模型（或先用 merge_lora 合并）。"
        )
    chosen = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and any(name == t or name.endswith("." + t) for t in targets)
    ]
    if not chosen:
        linear_names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
        raise ValueError(
            f"模型中没有名字以 {list(targets)} 结尾的 nn.Linear；可选的线性层有 {linear_names[:6]} 等，"
            "请相应修改 targets。"
        )

    # 先建好全部 LoRALinear 再冻结、替换，这样参数有误时在替换任何一层之前就报错。
    wrapped = {name: LoRALinear(model.get_submodule(name), rank, alpha, dropout) for name in chosen}
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for name, module in wrapped.items():
        _replace_module(model, name, module)
    for name, parameter in model.named_parameters():
        if any(name == t or name.startswith(t + ".") for t in trainable):
            parameter.requires_grad_(True)
    return chosen


def merge_lora(model: nn.Module) -> nn.Module:
    """把模型中所有 LoRALinear 就地换回合并了增量的 nn.Linear，返回 model。

    合并后的 state_dict 与没加 LoRA 的模型键名相同，可以直接被原模型类载入。
    """
    names = [name for name, module in model.named_modules() if isinstance(module, LoRALinear)]
    for name in names:
        _replace_module(model, name, model.get_submodule(name).merged())
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """返回模型的参数个数；trainable_only=True 时只数 requires_grad 的参数。共享的权重只计一次。"""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def lora_parameter_count(in_features: int, out_features: int, rank: int) -> int:
    """按公式返回一层 LoRA 的可训练参数个数 r·(d_in + d_out)。"""
    return rank * (in_features + out_features)
