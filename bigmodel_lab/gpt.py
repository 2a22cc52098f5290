"""字符级 GPT：一个文件读完的 PyTorch 模型。

结构：词元嵌入 + 可学习的位置嵌入 → n_layer 个前置层归一化（pre-LN）的 Transformer 块
→ 最后的层归一化 → 与词元嵌入共享权重（tied embeddings）的输出层。
形状记号：B 批大小，T 序列长度，C = d_model，nh 头数，hs = C // nh 每头宽度，V 词表大小。
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import MISSING, asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    """GPT 的超参数（hyperparameters）；默认值是一个 4 层、128 宽的小模型。"""

    vocab_size: int  # 词表大小 V，取自 CharTokenizer
    context_length: int = 64  # 上下文长度：模型一次最多看多少个词元
    n_layer: int = 4  # Transformer 块的个数 L
    n_head: int = 4  # 多头注意力（multi-head attention）的头数
    d_model: int = 128  # 隐藏宽度 d，须能被 n_head 整除
    dropout: float = 0.0  # 预训练小模型不需要 dropout；微调时可调大
    bias: bool = True  # Linear 与 LayerNorm 是否带偏置；False 更快、参数更少

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "n_layer", "n_head", "d_model"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"GPTConfig.{name} 应为正整数，实际为 {value!r}；请传入例如 {name}=4。")
            setattr(self, name, int(value))  # NumPy 整数转成 Python int，检查点与 JSON 里都是普通整数
        if self.d_model % self.n_head != 0:
            raise ValueError(
                f"GPTConfig.d_model={self.d_model} 应能被 n_head={self.n_head} 整除；"
                f"请把 d_model 改为 n_head 的倍数，例如 {self.n_head * max(1, self.d_model // self.n_head)}。"
            )
        dropout = self.dropout
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"GPTConfig.dropout 应为 [0, 1) 内的数，实际为 {dropout!r}；请传入例如 dropout=0.1。")
        if not isinstance(dropout, (int, float)):
            self.dropout = float(dropout)  # NumPy 浮点数转成 Python float

    def to_dict(self) -> dict:
        """返回可写入检查点（checkpoint）的普通字典。"""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GPTConfig:
        """从 to_dict() 的结果重建配置；有未知的键或缺少必需的键时抛出 ValueError。"""
        if not isinstance(data, dict):
            raise TypeError(f"data 应为字典，实际为 {type(data).__name__}；请传入 GPTConfig.to_dict() 的返回值。")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"配置字典含有未知的键 {unknown}；可用的键为 {sorted(known)}。")
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise ValueError(f"配置字典缺少必需的键 {missing}；请传入 GPTConfig.to_dict() 的返回值，例如 {{'vocab_size': 100}}。")
        return cls(**data)


def gpt_num_parameters(config: GPTConfig) -> int:
    """按公式计算 GPT 的参数量（输出层与词元嵌入共享权重，只计一次）。

    每个块：注意力 4d² 与前馈网络 8d²，共 12·d² 个矩阵参数；带偏置时再加 9d 个偏置，
    两个层归一化各 d 个权重（带偏置时各 2d）。嵌入：V·d + T·d。最后的层归一化：d 或 2d。
    """
    d = config.d_model
    norm = 2 * d if config.bias else d
    block = 12 * d * d + 2 * norm + (9 * d if config.bias else 0)
    embeddings = config.vocab_size * d + config.context_length * d
    return config.n_layer * block + embeddings + norm


def model_flops_per_token(config: GPTConfig) -> int:
    """估算训练时每个词元的浮点运算次数（前向 + 反向）：6·N + 12·L·T·d。

    N 是除位置嵌入以外的全部参数：位置嵌入只是查表，不做乘法；层归一化的少量参数也计入，影响可以忽略。
    12·L·T·d 是注意力分数与加权求和，按完整的 T×T 计算，不扣除因果掩码省下的一半，这是常用的模型 FLOPs 约定。
    算力利用率（MFU）= 每秒词元数 × 本函数 / 设备峰值 FLOP/s。
    """
    matmul_parameters = gpt_num_parameters(config) - config.context_length * config.d_model
    attention = 12 * config.n_layer * config.context_length * config.d_model
    return 6 * matmul_parameters + attention


class _SoftmaxCrossEntropy(torch.autograd.Function):
    """softmax 与交叉熵合在一起的前向与反向：梯度就是 (p − y) / N。

    F.cross_entropy 先求 log-softmax，反向时再从它重新求一遍 exp。这里前向只调用一次 softmax 并存下概率 p，
    反向原地减去独热向量 y 再除以 N，少读写几遍 (N, V) 的张量；词表有几千个字符时，这在 CPU 上是可测的差别。
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if logits.dtype != torch.float64:
            logits = logits.float()  # bf16 自动混合精度下也用 fp32 求 softmax，float64 则保持原精度
        probs = torch.softmax(logits, dim=-1)  # (N, V)
        nll = -probs.gather(-1, targets[:, None]).log()  # (N, 1)，-log p_y
        if not torch.isfinite(nll).all():
            # 正确字符的概率 p_y 在 fp32 里下溢为 0 时，-log p_y 是 inf。这时改用
            # -log p_y = logsumexp(z) − z_y，得到有限的精确值。这一支很少走到，平时省下一遍 (N, V) 的读写。
            nll = torch.logsumexp(logits, dim=-1, keepdim=True) - logits.gather(-1, targets[:, None])
        ctx.save_for_backward(probs, targets)
        ctx.backward_done = False
        return nll.mean()

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor):
        # NOTE: 为了省内存和时间，反向原地改写存下的概率，所以同一张计算图只能反向一次。
        if ctx.backward_done:
            raise RuntimeError("这个损失已经反向传播过一次；GPT 的损失不支持 retain_graph=True，请重新前向计算。")
        ctx.backward_done = True
        probs, targets = ctx.saved_tensors
        grad = probs  # (N, V)，原地变成 p − y
        grad[torch.arange(targets.numel(), device=targets.device), targets] -= 1.0
        grad.mul_(grad_loss / targets.numel())
        return grad, None


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """返回平均交叉熵（nats/字符），与 F.cross_entropy(logits, targets) 相等。

    logits 形状 (N, V)，targets 形状 (N,)，取值在 [0, V) 内。反向只能做一次（见 _SoftmaxCrossEntropy）。
    fp16/bf16 的 logits 用 fp32 计算，损失为 fp32；float64 的 logits 得到 float64 的损失。
    """
    _check_targets_dtype(targets)
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise ValueError(
            f"logits 应为 (N, V)、targets 应为 (N,)，实际为 {tuple(logits.shape)} 与 {tuple(targets.shape)}；"
            "请先用 flatten(0, 1) 把批维与序列维合并。"
        )
    _check_in_vocab(logits.shape[1], targets=targets)
    return _SoftmaxCrossEntropy.apply(logits, targets)


def _check_targets_dtype(targets: torch.Tensor) -> None:
    if not isinstance(targets, torch.Tensor) or targets.dtype not in (torch.long, torch.int32):
        kind = targets.dtype if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise TypeError(f"targets 应为 torch.long 张量，实际为 {kind}；请用 targets.long() 转换。")


def _check_in_vocab(vocab_size: int, **tensors: torch.Tensor) -> None:
    """检查各张量的编号都在 [0, vocab_size) 内。

    每个张量只做一次 min/max 归约，几个张量的结果合在一次设备同步里取回。CPU 上每次约十几微秒。
    NOTE: 在 GPU 上，这次同步让 CPU 先等前面排队的计算做完，梯度累积时会少一点 CPU 与 GPU 的重叠。
    """
    tensors = {name: t for name, t in tensors.items() if t.numel() > 0}
    if not tensors:
        return
    bounds = torch.stack([b.long() for t in tensors.values() for b in torch.aminmax(t)]).tolist()
    for i, name in enumerate(tensors):
        low, high = bounds[2 * i], bounds[2 * i + 1]
        if low < 0 or high >= vocab_size:
            if name == "targets" and low < 0:
                hint = "GPT 的损失不支持 -100 这类表示忽略的负数标签，请去掉这些位置"
            else:
                hint = "请检查编号是否来自与模型词表一致的 CharTokenizer"
            raise ValueError(
                f"{name} 的编号应在 [0, vocab_size={vocab_size}) 内，实际最小为 {low}、最大为 {high}；{hint}。"
            )


class CausalSelfAttention(nn.Module):
    """带因果掩码（causal mask）的多头自注意力（self-attention）。"""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)  # 一次算出 Q、K、V
        self.proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hs = C // self.n_head

        q, k, v = self.qkv(x).split(C, dim=2)  # 各 (B, T, C)
        # view 把 C 拆成 (nh, hs)，transpose 把头放到批维旁边，让每个头独立做注意力
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)

        dropout_p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)  # 各头拼回 (B, T, C)
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    """逐位置的前馈网络（feed-forward network）：d → 4d → GELU → d。"""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(config.d_model, 4 * config.d_model, bias=config.bias)
        self.gelu = nn.GELU(approximate="none")
        self.proj = nn.Linear(4 * config.d_model, config.d_model, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.gelu(self.fc(x))))  # (B, T, C)


class Block(nn.Module):
    """前置层归一化的 Transformer 块：x + attn(ln1(x))，再 x + mlp(ln2(x))。"""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model, eps=1e-5, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model, eps=1e-5, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))  # 残差连接（residual connection）
        x = x + self.mlp(self.ln2(x))
        return x


class GPT(nn.Module):
    """字符级 GPT 语言模型：给定前面的字符，预测下一个字符。"""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config 应为 GPTConfig，实际为 {type(config).__name__}；请传入 GPTConfig(vocab_size=...)。")
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Embedding(config.context_length, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.d_model, eps=1e-5, bias=config.bias)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # 共享权重：输入嵌入与输出层是同一个矩阵

        self.apply(self._init_weights)
        # 残差支路的输出层按 1/sqrt(2L) 缩小，使残差流的方差不随层数增长
        for name, param in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        """返回参数个数；共享的嵌入权重只计一次，与 gpt_num_parameters(config) 相等。"""
        return sum(p.numel() for p in self.parameters())

    def _check_idx(self, idx: torch.Tensor) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2:
            shape = tuple(idx.shape) if isinstance(idx, torch.Tensor) else type(idx).__name__
            raise ValueError(f"idx 应为形状 (B, T) 的整数张量，实际为 {shape}；单条序列请用 idx[None, :] 加上批维。")
        if idx.dtype not in (torch.long, torch.int32):
            raise TypeError(f"idx 的 dtype 应为 torch.long，实际为 {idx.dtype}；请用 idx.long() 转换。")
        if idx.shape[1] > self.config.context_length:
            raise ValueError(
                f"idx 的长度 T={idx.shape[1]} 超过了 context_length={self.config.context_length}；"
                f"请只保留最后 {self.config.context_length} 个词元：idx[:, -{self.config.context_length}:]。"
            )

    def features(self, idx: torch.Tensor) -> torch.Tensor:
        """计算最后的层归一化之后的隐藏状态，形状 (B, T, C)。"""
        self._check_idx(idx)
        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)  # (B, T, C)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """返回 (logits, loss)：logits 形状 (B, T, V)；给了 targets (B, T) 时 loss 是平均交叉熵（nats/字符），否则为 None。

        给了 targets 时先检查 idx 与 targets 的编号都在词表范围内（一次 min/max 归约）。
        """
        if targets is None:
            return self.lm_head(self.features(idx)), None  # (B, T, V)
        self._check_idx(idx)
        _check_targets_dtype(targets)
        if targets.shape != idx.shape:
            raise ValueError(
                f"targets 的形状应与 idx 相同 {tuple(idx.shape)}，实际为 {tuple(targets.shape)}；"
                "targets 应是 idx 向后错一位的序列。"
            )
        _check_in_vocab(self.config.vocab_size, idx=idx, targets=targets)
        logits = self.lm_head(self.features(idx))  # (B, T, V)
        loss = _SoftmaxCrossEntropy.apply(logits.flatten(0, 1), targets.flatten())  # 形状与范围已在上面检查
        return logits, loss

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """在 idx (B, T) 之后逐个采样 max_new_tokens 个词元，返回 (B, T + max_new_tokens)。

        temperature 越小越保守，temperature=0 表示每步取概率最大的词元（贪心解码）；
        top_k 只在概率最高的 k 个词元里采样。提示会先被移到模型所在的设备。
        generator 是 CPU 上的 torch.Generator 时，采样在 CPU 上进行，同一种子得到同一段文本。
        """
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens 应为非负整数，实际为 {max_new_tokens!r}；请传入例如 max_new_tokens=100。")
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, numbers.Real)
            or not math.isfinite(temperature)
            or temperature < 0
        ):
            raise ValueError(f"temperature 应为有限的非负数，实际为 {temperature!r}；常用 0.8 到 1.2，0 表示贪心解码。")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k <= 0):
            raise ValueError(f"top_k 应为正整数或 None，实际为 {top_k!r}；请传入例如 top_k=20，或 None 表示不截断。")
        # NumPy 标量转成 Python 数，Python 的 int 与 float 原样保留
        max_new_tokens = int(max_new_tokens)
        if not isinstance(temperature, (int, float)):
            temperature = float(temperature)
        if top_k is not None:
            top_k = int(top_k)

        if not isinstance(idx, torch.Tensor):
            raise TypeError(f"idx 应为形状 (B, T) 的 torch.long 张量，实际为 {type(idx).__name__}；请用 torch.tensor([ids]) 构造。")
        device = self.lm_head.weight.device
        idx = idx.to(device)
        self._check_idx(idx[..., -self.config.context_length :])
        if idx.shape[1] == 0:
            raise ValueError(
                f"提示 idx 不能为空，实际形状为 {tuple(idx.shape)}；请至少给一个词元，例如 torch.tensor([tok.encode('春')])。"
            )
        _check_in_vocab(self.config.vocab_size, idx=idx)
        was_training = self.training
        self.eval()
        try:
            return self._sample(idx, max_new_tokens, temperature, top_k, generator)
        finally:
            self.train(was_training)  # 出错时也恢复原来的训练/评估模式

    def _sample(self, idx, max_new_tokens, temperature, top_k, generator) -> torch.Tensor:
        device = idx.device
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.context_length :]  # 超出上下文长度时只看最后一段
            logits, _ = self(context)
            logits = logits[:, -1, :].float()  # (B, V)，只要最后一个位置的预测
            if temperature == 0:
                next_id = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, [-1]]  # (B, 1)
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = F.softmax(logits, dim=-1)  # (B, V)
                if generator is not None and generator.device != probs.device:
                    probs = probs.to(generator.device)
                next_id = torch.multinomial(probs, 1, generator=generator).to(device)  # (B, 1)
            idx = torch.cat([idx, next_id], dim=1)
        return idx


class GPTClassifier(nn.Module):
    """在 GPT 主干（backbone）上加一个分类头：对非填充位置的隐藏状态取平均，再线性分类。"""

    def __init__(self, config: GPTConfig, num_classes: int = 2):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 2:
            raise ValueError(f"num_classes 应为不小于 2 的整数，实际为 {num_classes!r}；二分类请用 num_classes=2。")
        num_classes = int(num_classes)
        self.config = config
        self.num_classes = num_classes
        self.backbone = GPT(config)
        self.head = nn.Linear(config.d_model, num_classes)
        nn.init.normal_(self.head.weight, mean=0.0, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, idx: torch.Tensor, pad_id: int = 1) -> torch.Tensor:
        """返回类别 logits (B, num_classes)；idx (B, T) 向右填充，pad_id 处不参与平均。"""
        hidden = self.backbone.features(idx)  # (B, T, C)
        mask = (idx != pad_id).unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        counts = mask.sum(dim=1).clamp(min=1.0)  # (B, 1)；整行都是填充时不会除以 0
        pooled = (hidden * mask).sum(dim=1) / counts  # (B, C)
        return self.head(pooled)  # (B, num_classes)

    @classmethod
    def from_pretrained(cls, gpt: GPT, num_classes: int = 2) -> GPTClassifier:
        """以预训练 GPT 的权重作为主干构造分类器；权重是复制的，微调不改动原模型。"""
        if not isinstance(gpt, GPT):
            raise TypeError(f"gpt 应为 GPT 模型，实际为 {type(gpt).__name__}；请先用 load_checkpoint 载入预训练模型。")
        model = cls(copy.deepcopy(gpt.config), num_classes=num_classes)
        model.backbone.load_state_dict(gpt.state_dict())
        return model.to(gpt.lm_head.weight.device)
