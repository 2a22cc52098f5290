"""GPT 的训练循环、预设、评估、吞吐量测量与检查点（checkpoint）。

训练一步：取一批数据 → 前向 → 损失 → 反向 → 梯度裁剪 → AdamW 更新 → 学习率调度。
Trainer 把这些状态（模型、优化器、调度器、采样数据用的随机数生成器、步数与历史）放在一起，
因此可以原子地写入检查点，并从检查点继续训练，得到与不中断时相同的损失轨迹。
"""

from __future__ import annotations

import math
import numbers
import os
import pickle
import random
import re
import statistics
import tempfile
import time
import zipfile
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .gpt import GPT, GPTConfig, model_flops_per_token
from .optimizers import warmup_cosine_lr
from .tokenizer import CharTokenizer

CHECKPOINT_FORMAT = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save 默认写出 zip 格式，文件以这四个字节开头
_REJECTED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
_DOS_DIRECTORY = 0x10  # zip 目录项外部属性里的“目录”标记位


@dataclass
class TrainConfig:
    """训练的超参数；max_steps 固定，同一个种子在同一台机器上得到同样的结果。"""

    max_steps: int = 1000  # 优化器更新的总步数，学习率调度按它计算
    batch_size: int = 32  # 每个微批（micro-batch）的序列数
    grad_accum_steps: int = 1  # 梯度累积：每次更新累积几个微批，等效批大小 = 两者相乘
    learning_rate: float = 3e-3  # 预热结束时的峰值学习率
    min_lr: float = 3e-4  # 余弦衰减的终点
    warmup_steps: int = 100  # 线性预热（warm-up）的步数
    weight_decay: float = 0.1  # 只作用于矩阵与嵌入，不作用于偏置和层归一化
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW 的一阶、二阶矩衰减率
    grad_clip: float = 1.0  # 梯度范数的上限；0 表示不裁剪
    eval_interval: int = 100  # 每隔多少步在验证集上评估一次
    eval_windows: int = 128  # 每次中途评估用多少个验证窗口；最终评估用全部窗口
    seed: int = 1337  # 采样训练批次的随机种子
    precision: str = "auto"  # "auto"：CUDA 上 bf16 自动混合精度，其他设备 fp32；也可写 "bf16" 或 "fp32"
    compile: bool = False  # 是否用 torch.compile 编译模型（首次编译要几十秒）

    def __post_init__(self) -> None:
        positive = ("max_steps", "batch_size", "grad_accum_steps", "eval_interval", "eval_windows")
        for name in (*positive, "warmup_steps", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"TrainConfig.{name} 应为整数，实际为 {value!r}；请传入例如 {name}=100。")
            setattr(self, name, int(value))  # NumPy 整数转成 Python int，检查点里只存普通整数
        for name in positive:
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"TrainConfig.{name} 应为正整数，实际为 {value!r}；请传入例如 {name}=100。")
        if self.warmup_steps < 0:
            raise ValueError(f"TrainConfig.warmup_steps 应为非负整数，实际为 {self.warmup_steps!r}；例如 warmup_steps=100。")
        if self.warmup_steps >= self.max_steps:
            raise ValueError(
                f"TrainConfig.warmup_steps={self.warmup_steps} 应小于 max_steps={self.max_steps}；预热通常只占总步数的百分之几。"
            )
        examples = {"learning_rate": "3e-3", "min_lr": "3e-4", "weight_decay": "0.1", "grad_clip": "1.0"}
        for name, example in examples.items():
            setattr(self, name, _finite_number(f"TrainConfig.{name}", getattr(self, name), f"{name}={example}"))
        if not self.learning_rate > 0:
            raise ValueError(f"TrainConfig.learning_rate 应为正数，实际为 {self.learning_rate!r}；例如 learning_rate=3e-3。")
        if not 0 <= self.min_lr <= self.learning_rate:
            raise ValueError(
                f"TrainConfig.min_lr 应在 0 与 learning_rate={self.learning_rate} 之间，实际为 {self.min_lr!r}；"
                "常取峰值的十分之一。"
            )
        if self.weight_decay < 0:
            raise ValueError(f"TrainConfig.weight_decay 应为非负数，实际为 {self.weight_decay!r}；0 表示不衰减，常用 0.1。")
        if self.grad_clip < 0:
            raise ValueError(f"TrainConfig.grad_clip 应为非负数，实际为 {self.grad_clip!r}；0 表示不裁剪，常用 1.0。")
        betas = self.betas
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"TrainConfig.betas 应为两个数，实际为 {betas!r}；请传入例如 betas=(0.9, 0.95)。")
        self.betas = tuple(_finite_number("TrainConfig.betas", beta, "betas=(0.9, 0.95)") for beta in betas)
        if not all(0 <= beta < 1 for beta in self.betas):
            raise ValueError(
                f"TrainConfig.betas 的两个数都应在 [0, 1) 内，实际为 {betas!r}；请传入例如 betas=(0.9, 0.95)。"
            )
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"TrainConfig.precision 应为 'auto'、'bf16' 或 'fp32'，实际为 {self.precision!r}。")

    def to_dict(self) -> dict:
        """返回可写入检查点的普通字典（betas 转为列表）。"""
        data = asdict(self)
        data["betas"] = list(self.betas)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """从 to_dict() 的结果重建配置；有未知的键时抛出 ValueError。"""
        if not isinstance(data, dict):
            raise TypeError(f"data 应为字典，实际为 {type(data).__name__}；请传入 TrainConfig.to_dict() 的返回值。")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known, key=str)
        if unknown:
            raise ValueError(f"训练配置字典含有未知的键 {unknown}；可用的键为 {sorted(known)}。")
        return cls(**data)


def _finite_number(name: str, value, example: str):
    """确认 value 是有限的实数（不是布尔值）。Python 的 int 与 float 原样返回，NumPy 数等转成 float。"""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} 应为数字，实际为 {value!r}（{type(value).__name__}）；请传入例如 {example}。")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} 应为有限的数，实际为 {value!r}；请传入例如 {example}。")
    return value if type(value) is float else float(value)  # np.float64 也是 float 的子类，一并转成 float


# 两个预设：cpu 在 2 核 CPU 上约 3 分钟；gpu 是一张 GPU 上的更大模型。
# NOTE: cpu 预设的步数按安静的 2 核 CPU 定出；机器更慢或更忙时照样跑完这些步，只是更久。
PRESETS: dict[str, dict[str, dict]] = {
    "cpu": {
        "model": dict(context_length=64, n_layer=4, n_head=4, d_model=128, dropout=0.0, bias=False),
        "train": dict(
            max_steps=2000, batch_size=16, learning_rate=3e-3, min_lr=3e-4, warmup_steps=100,
            eval_interval=250, eval_windows=128,
        ),
    },
    "gpu": {
        "model": dict(context_length=256, n_layer=6, n_head=6, d_model=384, dropout=0.0, bias=False),
        "train": dict(
            max_steps=3000, batch_size=64, learning_rate=2e-3, min_lr=2e-4, warmup_steps=200,
            eval_interval=250, eval_windows=256,
        ),
    },
}  # fmt: skip


def preset_configs(preset: str, vocab_size: int) -> tuple[GPTConfig, TrainConfig]:
    """返回预设 preset（"cpu" 或 "gpu"）的模型配置与训练配置。"""
    if preset not in PRESETS:
        raise ValueError(f"未知预设 {preset!r}；可选值为 {', '.join(PRESETS)}，例如 preset='cpu'。")
    spec = PRESETS[preset]
    return GPTConfig(vocab_size=vocab_size, **spec["model"]), TrainConfig(**spec["train"])


class _WarmupCosine:
    """LambdaLR 用的可调用对象；写成类而不是 lambda，它的参数会随调度器一起存进检查点。"""

    def __init__(self, warmup_steps: int, total_steps: int, min_ratio: float):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_ratio = min_ratio

    def __call__(self, step: int) -> float:
        # 峰值取 1，返回的是学习率倍数；LambdaLR 把它乘以 learning_rate
        return warmup_cosine_lr(
            step, max_lr=1.0, warmup_steps=self.warmup_steps, total_steps=self.total_steps, min_lr=self.min_ratio
        )


def make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """构造 AdamW：矩阵和嵌入做权重衰减（weight decay），偏置与层归一化不做；CUDA 与 CPU 上用融合（fused）实现。"""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    # fused=True 把所有参数的更新合成一个内核：CUDA 上是少数几次内核启动，CPU 上省去逐个参数的 Python 循环
    fused = torch.device(device).type in ("cuda", "cpu")
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.betas, fused=fused or None)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """构造预热 + 余弦衰减的学习率调度器；每次优化器更新之后调用一次 step()。"""
    factor = _WarmupCosine(config.warmup_steps, config.max_steps, config.min_lr / config.learning_rate)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def encode_text(text: str, tokenizer: CharTokenizer) -> torch.Tensor:
    """把一整段文本编码为一维 torch.long 张量。"""
    return torch.from_numpy(tokenizer.encode_array(text))


def get_batch(
    data: torch.Tensor, batch_size: int, context_length: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """从一维词元序列里随机取 batch_size 段，返回输入 x 与错开一位的目标 y，形状都是 (B, T)。"""
    if data.dim() != 1 or data.numel() <= context_length:
        raise ValueError(
            f"data 应为长度大于 context_length={context_length} 的一维张量，实际形状为 {tuple(data.shape)}；"
            "请传入 encode_text(文本, tokenizer) 的结果。"
        )
    windows = data.unfold(0, context_length + 1, 1)  # (N - T, T + 1)，只是视图，不复制
    starts = torch.randint(windows.shape[0], (batch_size,), generator=generator)  # (B,)
    chunk = windows[starts]  # (B, T + 1)
    return chunk[:, :-1], chunk[:, 1:]


@torch.no_grad()
def evaluate(
    model: GPT,
    data: torch.Tensor,
    *,
    context_length: int,
    batch_size: int = 64,
    max_windows: int | None = None,
    device: torch.device | str = "cpu",
    autocast=None,
) -> float:
    """返回模型在 data 上的平均交叉熵（nats/字符）。

    data 被切成互不重叠的窗口，每个窗口的每个位置都参与平均；max_windows 给定时只取均匀分布的那么多个窗口，
    每次评估用的窗口相同，因此曲线上的点可以互相比较。
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
        raise ValueError(f"batch_size 应为正整数，实际为 {batch_size!r}；例如 batch_size=64。")
    if max_windows is not None and (
        isinstance(max_windows, bool) or not isinstance(max_windows, numbers.Integral) or max_windows <= 0
    ):
        raise ValueError(f"max_windows 应为正整数或 None（用全部窗口），实际为 {max_windows!r}；例如 max_windows=128。")
    windows = data[: (data.numel() - 1) // context_length * context_length + 1]
    n_windows = (windows.numel() - 1) // context_length
    if n_windows == 0:
        raise ValueError(f"data 的长度 {data.numel()} 不足一个窗口（context_length + 1 = {context_length + 1}）。")
    chosen = torch.arange(n_windows)
    if max_windows is not None and max_windows < n_windows:
        chosen = torch.linspace(0, n_windows - 1, int(max_windows)).round().long()
    offsets = torch.arange(context_length + 1)  # (T + 1,)

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for begin in range(0, len(chosen), int(batch_size)):
        starts = chosen[begin : begin + batch_size] * context_length  # (b,)
        chunk = windows[starts[:, None] + offsets].to(device)  # (b, T + 1)
        with autocast or nullcontext():
            logits, _ = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), chunk[:, 1:].flatten(), reduction="sum")
        total += loss.item()
        count += chunk[:, 1:].numel()
    model.train(was_training)
    return total / count


def _rng_state() -> dict:
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(_to_tuple(state["python"]))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(position), int(has_gauss), cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_tuple(value):
    """把检查点里的列表还原为 random.setstate 需要的嵌套元组。"""
    if isinstance(value, (list, tuple)):
        return tuple(_to_tuple(item) for item in value)
    return value


# torch.load(weights_only=True) 能还原的类型；容器（dict、OrderedDict、list、tuple、set）另外逐项检查。
_LOADABLE_TYPES = (
    type(None), bool, int, float, complex, str, bytes, bytearray,
    torch.Tensor, torch.nn.Parameter, torch.dtype, torch.device, torch.Size,
)  # fmt: skip


def _check_loadable(name: str, value) -> None:
    """确认 value 只由 weights_only 加载允许的类型组成，否则抛出 TypeError，指出是哪一项。"""
    kind = type(value)
    if kind in (dict, OrderedDict):
        for key, item in value.items():
            _check_loadable(f"{name} 的键 {key!r}", key)
            _check_loadable(f"{name}[{key!r}]", item)
    elif kind in (list, tuple, set):
        for index, item in enumerate(value):
            _check_loadable(f"{name}[{index}]", item)
    elif kind not in _LOADABLE_TYPES:
        raise TypeError(
            f"检查点中的 {name} 是 {kind.__name__}，写进文件后 load_checkpoint（weights_only=True）会拒绝读取它；"
            "请只存张量、数字、字符串、列表与字典，例如把路径写成 str(path)、把 NumPy 数写成 float(x)。"
        )


def save_checkpoint(path: str | Path, checkpoint: dict) -> Path:
    """把检查点字典原子地写到 path：先写同一目录下的临时文件，再用 os.replace 换名。

    写到一半被中断时，path 上要么是旧文件，要么是新文件，不会是半个文件。
    写之前检查字典里只有 weights_only 加载允许的类型（张量、数字、字符串、列表、字典等），
    其他类型（如 Path、NumPy 数）抛出 TypeError，免得写出一个读不回来的文件。
    """
    if not isinstance(checkpoint, dict):
        raise TypeError(f"checkpoint 应为字典，实际为 {type(checkpoint).__name__}；请传入 Trainer.checkpoint_state() 的结果。")
    _check_loadable("checkpoint", checkpoint)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} 是一个目录，不能写成检查点文件；请传入文件路径，例如 {path / 'checkpoint.pt'}。")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp 建的文件只有属主可读；检查点要能被别人读取
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def zip_damage(path: str | Path) -> str | None:
    """核对 torch.save 写出的 zip 文件是否完好：逐个条目重算 CRC-32 校验和，与写入时记下的值比较。

    返回损坏的原因（多为 zipfile 给出的英文原文），文件完好时返回 None。torch.load 自己不核对校验和，
    数据区里翻转的一个比特会悄悄变成另一个权重，所以加载前先核对一遍。
    用 torch.utils.serialization.config.save.compute_crc32 = False 写出的条目记的校验和是 0，无法核对，跳过。
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.external_attr & _DOS_DIRECTORY:
                    return f"条目 {info.filename} 被标成了目录"  # torch.save 不写目录，torch.load 却会把这样的条目读成空数据
                if info.CRC == 0 and info.file_size > 0:
                    continue
                with archive.open(info) as member:
                    while member.read(1 << 20):  # 读到条目末尾时 zipfile 比较 CRC-32，不一致就抛出 BadZipFile
                        pass
    except Exception as error:  # 损坏的目录或文件头可能让 zipfile 抛出各种异常，都说明文件坏了
        return f"{type(error).__name__}: {str(error)[:100]}"
    return None


def rejected_object(error: pickle.UnpicklingError) -> str:
    """从 torch.load(weights_only=True) 的拒绝信息里取出被拒绝的对象，写成一句中文说明。"""
    found = _REJECTED_GLOBAL.search(str(error))
    return f"其中引用了 {found.group(1)}" if found else "其中有白名单以外的对象"


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """读取 save_checkpoint 写的检查点；weights_only=True 只还原张量与基本类型，不执行文件里的代码。

    文件损坏（被截断、校验和对不上）或不是本项目写出的检查点时抛出 ValueError；
    文件里夹带了 weights_only 不允许的对象（可能是代码）时拒绝加载，抛出 pickle.UnpicklingError。
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} 是一个目录，不是检查点文件；请传入文件路径，例如 artifacts/gpt_cpu.pt。")
    if not path.is_file():
        raise FileNotFoundError(f"找不到检查点 {path}；请先运行笔记本 07 预训练模型，它会写出这个文件。")
    with path.open("rb") as stream:
        head = stream.read(4)
    if head != ZIP_MAGIC and zipfile.is_zipfile(path):  # 结尾有完整的 zip 目录，只是开头的几个字节变了
        raise ValueError(
            f"检查点 {path} 文件损坏（开头的字节为 {head.hex()}，应为 {ZIP_MAGIC.hex()}）："
            "请换用一份完好的副本，或重新运行笔记本 07 生成它。"
        )
    if head != ZIP_MAGIC:
        found = "它是空文件" if not head else f"它开头的字节为 {head.hex()}"
        raise ValueError(
            f"{path} 不是 save_checkpoint 写出的检查点：{found}，而检查点是 torch.save 写出的 zip 文件；"
            "请传入笔记本 07 写出的 .pt 文件，例如 artifacts/gpt_cpu.pt。"
        )
    damage = zip_damage(path)
    if damage is not None:
        raise ValueError(
            f"检查点 {path} 文件损坏（{damage}）：它可能没有写完、被截断或在复制时出错；"
            "请换用一份完好的副本，或重新运行笔记本 07 生成它。"
        )
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        detail = rejected_object(error)
        # 不附上 torch 的原始信息：它建议改用 weights_only=False 重新加载，那样会执行文件里夹带的代码。
        raise pickle.UnpicklingError(
            f"拒绝加载检查点 {path}：文件里有 weights_only 规则不允许的对象（{detail}），"
            "解开它就可能执行任意代码，所以没有加载。save_checkpoint 只写张量、数字、字符串、列表与字典，"
            "这不是本项目写出的检查点；只加载你信任的来源的文件，自己的检查点请重新运行笔记本 07 生成。"
        ) from None
    except (OSError, EOFError, KeyError, IndexError, ValueError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and "PytorchStreamReader" not in str(error):
            raise  # 例如 map_location 指向不存在的设备：与文件内容无关，保留原来的错误
        raise ValueError(
            f"无法读取检查点 {path}（{type(error).__name__}: {str(error)[:80]}）："
            "它已损坏，或不是 save_checkpoint 写出的检查点；请传入笔记本 07 写出的 .pt 文件。"
        ) from error
    if not isinstance(checkpoint, dict):
        raise ValueError(
            f"{path} 里存的是 {type(checkpoint).__name__}，不是检查点字典；它不是 bigmodel_lab.training 写出的文件。"
        )
    missing = [key for key in ("config", "tokenizer", "model") if key not in checkpoint]
    if missing:
        raise ValueError(f"检查点 {path.name} 缺少 {missing}；它不是 bigmodel_lab.training 写出的文件。")
    return checkpoint


def load_pretrained(path: str | Path, device: str | torch.device = "cpu") -> tuple[GPT, CharTokenizer]:
    """从检查点还原 GPT 模型与分词器，模型在 device 上并处于 eval 模式。"""
    checkpoint = load_checkpoint(path)
    model = GPT(GPTConfig.from_dict(checkpoint["config"]))
    model.load_state_dict(checkpoint["model"])
    return model.to(device).eval(), CharTokenizer.from_dict(checkpoint["tokenizer"])


def autocast_context(device: torch.device, precision: str):
    """返回前向计算用的自动混合精度（mixed precision）上下文；fp32 时返回空上下文。"""
    device = torch.device(device)
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    if not use_bf16:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _out_of_memory_message(config: TrainConfig, model_config: GPTConfig) -> str:
    half = max(1, config.batch_size // 2)
    return (
        f"GPU 显存不足（out of memory）：batch_size={config.batch_size}，context_length={model_config.context_length}，"
        f"d_model={model_config.d_model}，n_layer={model_config.n_layer}。"
        f"请减小批大小，例如 batch_size={half} 并把 grad_accum_steps 加倍以保持等效批大小；"
        "或换用更小的预设 preset=\"cpu\"。"
    )


@dataclass
class History:
    """训练过程的记录：每步的训练损失与学习率、每次评估的验证损失，以及纯训练耗时。"""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    tokens_seen: int = 0

    @property
    def tokens_per_second(self) -> float:
        """返回训练（不含评估）每秒处理的词元数。"""
        return self.tokens_seen / self.train_seconds if self.train_seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


class Trainer:
    """把模型、AdamW、学习率调度、批次随机数生成器与训练历史放在一起的训练器。

    在 CUDA 上打开 TF32 矩阵乘法并用 bf16 自动混合精度；其他设备默认用 fp32。
    """

    def __init__(
        self,
        model: GPT,
        config: TrainConfig,
        train_data: torch.Tensor,
        val_data: torch.Tensor,
        *,
        tokenizer: CharTokenizer | None = None,
        device: str | torch.device = "cpu",
    ):
        if not isinstance(model, GPT):
            raise TypeError(f"model 应为 bigmodel_lab.gpt.GPT，实际为 {type(model).__name__}。")
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config 应为 TrainConfig，实际为 {type(config).__name__}；请用 preset_configs 得到它。")
        self.device = torch.device(device)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True  # fp32 矩阵乘法改用 TF32 张量核心
            torch.backends.cudnn.allow_tf32 = True
        self.model = model.to(self.device)
        self.config = config
        self.train_data = train_data
        self.val_data = val_data
        self.tokenizer = tokenizer
        self.optimizer = make_optimizer(self.model, config, self.device)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        self.history = History()
        self.autocast = autocast_context(self.device, config.precision)
        self._forward = torch.compile(self.model) if config.compile else self.model

    @property
    def tokens_per_step(self) -> int:
        return self.config.batch_size * self.config.grad_accum_steps * self.model.config.context_length

    def _train_step(self) -> float:
        """执行一次优化器更新（含梯度累积），返回这一步的平均训练损失。"""
        cfg = self.config
        total = 0.0
        for _ in range(cfg.grad_accum_steps):
            x, y = get_batch(self.train_data, cfg.batch_size, self.model.config.context_length, self.generator)
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            with self.autocast:
                _, loss = self._forward(x, y)  # 前向 + 损失
            (loss / cfg.grad_accum_steps).backward()  # 反向：梯度在 .grad 里累加
            total += loss.detach()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()  # 更新参数
        self.scheduler.step()  # 下一步的学习率
        self.optimizer.zero_grad(set_to_none=True)
        return float(total) / cfg.grad_accum_steps

    def evaluate(self, data: torch.Tensor | None = None, max_windows: int | None = None) -> float:
        """返回验证集（或给定 data）上的平均交叉熵，单位 nats/字符。"""
        return evaluate(
            self.model,
            self.val_data if data is None else data,
            context_length=self.model.config.context_length,
            batch_size=max(self.config.batch_size, 32),
            max_windows=max_windows,
            device=self.device,
            autocast=self.autocast,
        )

    def fit(
        self,
        until_step: int | None = None,
        *,
        checkpoint_path: str | Path | None = None,
        checkpoint_interval: int | None = None,
        progress: bool = True,
    ) -> History:
        """训练到第 until_step 步（默认 max_steps），返回 History。

        checkpoint_path 给定时，每 checkpoint_interval 步、训练结束时以及按 Ctrl-C 中断时各写一次检查点。
        CUDA 显存不足时抛出带中文建议的 torch.cuda.OutOfMemoryError。
        """
        from tqdm.auto import tqdm

        cfg = self.config
        until_step = cfg.max_steps if until_step is None else until_step
        if not self.step <= until_step <= cfg.max_steps:
            raise ValueError(
                f"until_step 应在当前步数 {self.step} 与 max_steps={cfg.max_steps} 之间，实际为 {until_step}。"
            )
        bar = tqdm(total=until_step, initial=self.step, desc="训练", unit="步", disable=not progress)
        try:
            while self.step < until_step:
                started = time.perf_counter()
                lr = self.optimizer.param_groups[0]["lr"]
                loss = self._train_step()
                if not math.isfinite(loss):
                    raise FloatingPointError(
                        f"第 {self.step + 1} 步的训练损失为 {loss}；学习率 {lr:.2g} 可能过大，请调小 learning_rate 后重新训练。"
                    )
                self.history.train_seconds += time.perf_counter() - started
                self.history.tokens_seen += self.tokens_per_step
                self.step += 1
                self.history.step.append(self.step)
                self.history.train_loss.append(loss)
                self.history.lr.append(lr)
                postfix = {"loss": f"{loss:.3f}"}

                if self.step % cfg.eval_interval == 0 or self.step == cfg.max_steps:
                    windows = None if self.step == cfg.max_steps else cfg.eval_windows
                    self.history.eval_step.append(self.step)
                    self.history.val_loss.append(self.evaluate(max_windows=windows))
                    postfix["val"] = f"{self.history.val_loss[-1]:.3f}"
                if checkpoint_path is not None and checkpoint_interval and self.step % checkpoint_interval == 0:
                    self.save_checkpoint(checkpoint_path)
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
        except torch.cuda.OutOfMemoryError as error:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise torch.cuda.OutOfMemoryError(_out_of_memory_message(cfg, self.model.config)) from error
        except KeyboardInterrupt:
            if checkpoint_path is not None:
                self.save_checkpoint(checkpoint_path)
                bar.write(f"训练在第 {self.step} 步被中断，已写入检查点；用 Trainer.from_checkpoint 可从这里继续。")
            raise
        finally:
            bar.close()
        if checkpoint_path is not None:
            self.save_checkpoint(checkpoint_path)
        return self.history

    def checkpoint_state(self, *, include_optimizer: bool = True) -> dict:
        """返回检查点字典：模型、配置、词表、步数与历史；include_optimizer 时再加优化器、调度器与随机数状态。"""
        state = {
            "format": CHECKPOINT_FORMAT,
            "config": self.model.config.to_dict(),
            "train_config": self.config.to_dict(),
            "tokenizer": self.tokenizer.to_dict() if self.tokenizer is not None else None,
            "model": self.model.state_dict(),
            "step": self.step,
            "history": self.history.to_dict(),
        }
        if include_optimizer:
            state["optimizer"] = self.optimizer.state_dict()
            state["scheduler"] = self.scheduler.state_dict()
            state["batch_rng"] = self.generator.get_state()
            state["rng"] = _rng_state()
        return state

    def save_checkpoint(self, path: str | Path, *, include_optimizer: bool = True) -> Path:
        """把当前训练状态原子地写到 path（见 save_checkpoint）。"""
        return save_checkpoint(path, self.checkpoint_state(include_optimizer=include_optimizer))

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        train_data: torch.Tensor,
        val_data: torch.Tensor,
        *,
        device: str | torch.device = "cpu",
    ) -> Trainer:
        """从检查点重建训练器，继续训练时的损失轨迹与从未中断时相同（同一设备上）。"""
        checkpoint = load_checkpoint(path)
        if "optimizer" not in checkpoint:
            raise ValueError(
                f"检查点 {Path(path).name} 只含模型权重，没有优化器状态，不能继续训练；"
                "请用 load_pretrained 读取它，或从 include_optimizer=True 写出的检查点继续。"
            )
        model = GPT(GPTConfig.from_dict(checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
        tokenizer = CharTokenizer.from_dict(checkpoint["tokenizer"]) if checkpoint["tokenizer"] else None
        config = TrainConfig.from_dict(checkpoint["train_config"])
        trainer = cls(model, config, train_data, val_data, tokenizer=tokenizer, device=device)
        trainer.optimizer.load_state_dict(checkpoint["optimizer"])
        trainer.scheduler.load_state_dict(checkpoint["scheduler"])
        trainer.generator.set_state(checkpoint["batch_rng"])
        trainer.step = checkpoint["step"]
        trainer.history = History(**checkpoint["history"])
        _set_rng_state(checkpoint["rng"])
        return trainer


def measure_matmul_peak(
    device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32, size: int | None = None, repeats: int = 5
) -> float:
    """测 device 上 dtype 方阵乘法每秒完成的浮点运算次数（取 repeats 次的中位数），作为算力利用率的分母。

    CPU 默认用 1024 阶方阵，GPU 用 8192 阶；GPU 上计时前后同步，避免只测到内核的发射时间。
    """
    device = torch.device(device)
    size = size or (8192 if device.type == "cuda" else 1024)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()
        elif device.type == "mps":
            torch.mps.synchronize()

    for _ in range(2):
        a @ b  # 预热：线程池启动与内核选择
    synchronize()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        synchronize()
        times.append(time.perf_counter() - started)
    return 2 * size**3 / statistics.median(times)


def model_flops_utilization(tokens_per_second: float, config: GPTConfig, peak_flops: float) -> float:
    """返回算力利用率（MFU）：每秒词元数 × 每词元训练 FLOPs（6·N + 12·L·T·d）/ 峰值 FLOP/s。"""
    if isinstance(peak_flops, bool) or not isinstance(peak_flops, numbers.Real) or not 0 < peak_flops < math.inf:
        raise ValueError(
            f"peak_flops 应为正的有限数（设备每秒能做的浮点运算次数），实际为 {peak_flops!r}；"
            "请传入 measure_matmul_peak(device) 的结果。"
        )
    return tokens_per_second * model_flops_per_token(config) / peak_flops
