"""文本分类：把评论编码成右填充的批次，微调 GPTClassifier，并输出各类的概率。

填充约定与 GPTClassifier 相同：词元编号向右补齐到同一长度，填充编号是 CharTokenizer.pad_id（1），
模型对非填充位置的隐藏状态取平均，所以填充多少都不改变结果。
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .compute import _check_positive_int
from .optimizers import warmup_cosine_lr
from .tokenizer import CharTokenizer


def encode_texts(texts: Sequence[str], tokenizer: CharTokenizer, max_length: int) -> torch.Tensor:
    """把文本编码为形状 (N, T) 的 torch.long 张量：超过 max_length 的截断，较短的在右侧补 pad_id。

    T 是本批中最长文本（截断后）的长度，不超过 max_length。
    NOTE: 截断只保留开头 max_length 个字符；长评论结尾的态度（“但是……”）会被丢掉。
    """
    if isinstance(texts, str):
        raise TypeError("texts 应为字符串列表，实际是单个字符串；单条文本请写成 [text]。")
    if not isinstance(tokenizer, CharTokenizer):
        raise TypeError(f"tokenizer 应为 CharTokenizer，实际为 {type(tokenizer).__name__}。")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length <= 0:
        raise ValueError(f"max_length 应为正整数，实际为 {max_length!r}；它不能超过模型的 context_length。")
    texts = list(texts)
    if not texts:
        raise ValueError("texts 为空；至少需要一条文本。")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] 应为字符串，实际为 {type(text).__name__}：{text!r:.40}")
        if not text:
            raise ValueError(f"texts[{index}] 是空字符串，无法分类；请先删去空文本。")

    width = min(max_length, max(len(text) for text in texts))
    ids = torch.full((len(texts), width), tokenizer.pad_id, dtype=torch.long)
    for row, text in enumerate(texts):
        encoded = tokenizer.encode(text[:width])
        ids[row, : len(encoded)] = torch.tensor(encoded, dtype=torch.long)
    return ids


def _trim(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """去掉整列都是填充的尾部列：右填充时这不改变平均池化的结果，只省计算。"""
    length = int((ids != pad_id).sum(dim=1).max())
    return ids[:, : max(length, 1)]


def _check_ids(ids, name: str = "ids") -> torch.Tensor:
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype != torch.long:
        described = f"{tuple(ids.shape)} {ids.dtype}" if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise TypeError(
            f"{name} 应为形状 (N, T) 的 torch.long 张量，实际为 {described}；请先用 encode_texts 编码文本。"
        )
    if len(ids) == 0:
        raise ValueError(f"{name} 中没有文本（形状 {tuple(ids.shape)}）；至少需要一条文本，请检查切片或筛选条件。")
    return ids


def _check_labels(labels, count: int, num_classes: int | None, name: str = "labels", ids_name: str = "ids") -> np.ndarray:
    """检查类别标签：一维、长度为 count、取 0..num_classes-1 的整数值，返回 int64 数组。

    布尔标签与取整数值的浮点标签（如 1.0）按对应的整数处理。
    """
    try:
        array = np.asarray(labels)
    except ValueError:
        raise ValueError(f"{name} 无法转换为数组（各元素的长度不一致？）；请传入一维的整数列表或数组。") from None
    if array.dtype.kind in "USa":
        raise TypeError(
            f"{name} 应为整数类别编号，实际是字符串（例如 {array.ravel()[:2].tolist()!r}）；"
            "请先把类别映射为整数，例如 (labels == '正面').astype(int)。"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} 应为整数类别编号，实际元素类型为 {array.dtype}；请先转换为整数数组。")
    if array.shape != (count,):
        hint = "请用 .ravel() 展平成一维；" if array.ndim == 2 and array.shape[1] == 1 else ""
        raise ValueError(
            f"{name} 的形状应为 ({count},)，与 {ids_name} 的行数相同，实际为 {tuple(array.shape)}；{hint}每条文本对应一个标签。"
        )
    if array.dtype.kind == "f":
        bad = array[~np.isfinite(array) | (array != np.round(array))]
        if bad.size:
            raise ValueError(
                f"{name} 应为整数类别编号，实际含有 {bad[0].item()!r}；"
                "若这是正类概率，请先用阈值转成标签，例如 (y >= 0.5).astype(int)。"
            )
    array = array.astype(np.int64)
    high = num_classes if num_classes is not None else np.inf
    bad = array[(array < 0) | (array >= high)]
    if bad.size:
        if num_classes is None:
            raise ValueError(f"{name} 应为非负整数，实际含有 {bad[0]}；类别编号从 0 开始。")
        raise ValueError(
            f"{name} 应为 0 到 {num_classes - 1} 之间的整数（模型有 {num_classes} 类），实际含有 {bad[0]}；"
            "请检查标签编码，或用更大的 num_classes 创建模型。"
        )
    return array


def _check_length(model, ids: torch.Tensor) -> None:
    context = model.config.context_length
    if ids.shape[1] > context:
        raise ValueError(
            f"序列长度 {ids.shape[1]} 超过模型的 context_length={context}；"
            f"请用 encode_texts(..., max_length={context}) 截断。"
        )


def pooled_features(model, ids: torch.Tensor, pad_id: int = 1) -> torch.Tensor:
    """计算 GPTClassifier 分类头的输入：主干隐藏状态在非填充位置上的平均，形状 (B, C)。

    与 GPTClassifier.forward 的池化相同，因此 model.head(pooled_features(model, ids)) == model(ids)。
    """
    hidden = model.backbone.features(ids)  # (B, T, C)
    mask = (ids != pad_id).unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)  # (B, C)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _map_batches(function, ids: torch.Tensor, batch_size: int, device: torch.device, pad_id: int):
    """按长度排序后分批调用 function(批次) 并按原顺序拼回结果：长度相近的放一批，填充最少。"""
    lengths = (ids != pad_id).sum(dim=1)
    order = torch.argsort(lengths, descending=True, stable=True)
    outputs = []
    for start in range(0, len(order), batch_size):
        batch = _trim(ids[order[start : start + batch_size]], pad_id).to(device)
        outputs.append(function(batch).float().cpu())
    result = torch.cat(outputs)
    restored = torch.empty_like(result)
    restored[order] = result
    return restored


def extract_features(model, ids: torch.Tensor, batch_size: int = 256, pad_id: int = 1) -> torch.Tensor:
    """用冻结的主干为每条文本算一次池化特征，返回 CPU 上的 (N, C) 张量；线性探测只需算一次。"""
    ids = _check_ids(ids)
    _check_length(model, ids)
    batch_size = _check_positive_int("batch_size", batch_size, "batch_size=256")
    was_training = model.training
    model.eval()
    features = _map_batches(lambda batch: pooled_features(model, batch, pad_id), ids, batch_size, _device_of(model), pad_id)
    model.train(was_training)
    return features


def predict_proba(model, ids: torch.Tensor, batch_size: int = 256, pad_id: int = 1) -> np.ndarray:
    """返回每条文本属于各类的概率，形状 (N, num_classes) 的 NumPy 数组，每行和为 1。

    ids 是 encode_texts 的结果，至少一行；没有文本时抛出 ValueError，而不是返回空数组。
    模型临时切到评估模式（关闭 dropout），结束后恢复。
    """
    ids = _check_ids(ids)
    _check_length(model, ids)
    batch_size = _check_positive_int("batch_size", batch_size, "batch_size=256")
    was_training = model.training
    model.eval()
    logits = _map_batches(lambda batch: model(batch, pad_id=pad_id), ids, batch_size, _device_of(model), pad_id)
    model.train(was_training)
    return torch.softmax(logits, dim=-1).numpy()


def length_bucketed_batches(
    lengths: torch.Tensor, batch_size: int, generator: torch.Generator, bucket_batches: int = 50
) -> list[torch.Tensor]:
    """把一轮（epoch）的下标切成批：先打乱，再在每 bucket_batches 个批次的范围内按长度排序后切批，最后打乱批次顺序。

    同一批里的文本长度相近，右填充浪费的计算就少；每批仍来自随机抽取的一段数据。
    凑不满 batch_size 的零头批次被丢弃。
    """
    order = torch.randperm(len(lengths), generator=generator)
    chunk = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[torch.argsort(lengths[part], stable=True)]
        batches += [part[i : i + batch_size] for i in range(0, len(part) - batch_size + 1, batch_size)]
    shuffled = torch.randperm(len(batches), generator=generator)
    return [batches[i] for i in shuffled]


@dataclass
class FinetuneHistory:
    """微调过程的记录：每 log_every 步的平均训练损失，以及验证集准确率（给了验证集时）。"""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    valid_steps: list[int] = field(default_factory=list)
    valid_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0  # 训练循环的墙钟时间，不含验证


def finetune(
    model: nn.Module,
    ids: torch.Tensor,
    labels,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    warmup_steps: int = 20,
    class_weight=None,
    valid: tuple[torch.Tensor, np.ndarray] | None = None,
    eval_every: int | None = None,
    log_every: int = 10,
    seed: int = 0,
    pad_id: int = 1,
    progress: bool = True,
) -> FinetuneHistory:
    """用 AdamW 与预热 + 余弦学习率（降到峰值的 1/10）训练分类模型的可训练参数（requires_grad=True 的），返回 FinetuneHistory。

    ids (N, T) 是 encode_texts 的结果，labels (N,) 是 0..num_classes-1 的整数。批次由
    length_bucketed_batches 按 seed 生成，同一台机器上同一 seed 的结果相同。class_weight 给出每类的损失权重。
    valid=(ids, labels) 时每 eval_every 步（默认只在最后）算一次验证集准确率。
    模型留在训练结束时的状态，并切回评估模式。
    """
    from tqdm.auto import tqdm

    ids = _check_ids(ids)
    _check_length(model, ids)
    num_classes = getattr(model, "num_classes", None)
    labels = torch.as_tensor(_check_labels(labels, len(ids), num_classes))
    steps = _check_positive_int("steps", steps, "steps=200")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or not 0 < batch_size <= len(ids):
        raise ValueError(f"batch_size 应为 1 到样本数 {len(ids)} 之间的整数，实际为 {batch_size!r}。")
    batch_size = int(batch_size)
    log_every = _check_positive_int("log_every", log_every, "log_every=10")
    if eval_every is not None:
        eval_every = _check_positive_int("eval_every", eval_every, "eval_every=50（默认 None 只在最后验证一次）")
    if valid is not None:
        # 训练前就检查验证集，免得训练完才发现它有问题。
        if not isinstance(valid, (tuple, list)) or len(valid) != 2:
            raise TypeError(
                f"valid 应为 (ids, labels) 二元组，实际为 {type(valid).__name__}；例如 valid=(valid_ids, y_valid)。"
            )
        valid_ids = _check_ids(valid[0], "valid[0]")
        _check_length(model, valid_ids)
        valid_labels = _check_labels(valid[1], len(valid_ids), num_classes, "valid[1]", "valid[0]")
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("模型中没有可训练的参数（requires_grad 全为 False）；请检查冻结设置。")

    device = _device_of(model)
    weight = None
    if class_weight is not None:
        try:
            weight = torch.as_tensor(class_weight, dtype=torch.float32, device=device)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"class_weight 应为每类一个数的列表，实际为 {class_weight!r:.60}；例如 class_weight=[1.0, 2.0]。"
            ) from None
        expected = (num_classes,) if num_classes is not None else (weight.numel(),)
        if weight.shape != expected or not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()):
            raise ValueError(
                f"class_weight 应为 {expected[0]} 个有限的非负数（每类一个），实际为 {class_weight!r:.60}；"
                "例如二分类 class_weight=[1.0, 2.0]。"
            )
    # 一维参数（偏置、层归一化）不做权重衰减，这是训练 Transformer 的常见做法。
    decay = [p for p in parameters if p.dim() >= 2]
    no_decay = [p for p in parameters if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )
    # 学习率倍数：峰值 1，预热后按余弦降到 0.1；步数比预热还少时缩短预热。
    warmup = min(warmup_steps, steps - 1)
    factor = partial(warmup_cosine_lr, max_lr=1.0, warmup_steps=warmup, total_steps=steps, min_lr=0.1)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    generator = torch.Generator().manual_seed(seed)
    lengths = (ids != pad_id).sum(dim=1)
    history = FinetuneHistory()
    batches, running = [], []
    model.train()
    started = time.perf_counter()
    for step in tqdm(range(steps), desc="微调", unit="步", disable=not progress):
        if not batches:
            batches = length_bucketed_batches(lengths, batch_size, generator)
        rows = batches.pop()

        batch = _trim(ids[rows], pad_id).to(device)  # (B, T)
        logits = model(batch, pad_id=pad_id)  # (B, num_classes)
        loss = F.cross_entropy(logits, labels[rows].to(device), weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()

        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            history.steps.append(step + 1)
            history.train_loss.append(float(np.mean(running)))
            running = []
        last = step + 1 == steps
        if valid is not None and (last or (eval_every and (step + 1) % eval_every == 0)):
            history.seconds += time.perf_counter() - started
            probabilities = predict_proba(model, valid_ids, pad_id=pad_id)
            history.valid_steps.append(step + 1)
            history.valid_accuracy.append(float(np.mean(probabilities.argmax(1) == valid_labels)))
            model.train()
            started = time.perf_counter()
    history.seconds += time.perf_counter() - started
    model.eval()
    return history
