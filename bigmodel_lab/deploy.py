"""模型部署（deployment）：文件包的保存与安全加载、批量预测、导出、动态 int8 量化与幅值剪枝。

文件包（bundle）是一个 torch.save 写出的字典，把权重、配置与词表放在一起：
{"config": GPTConfig 的字典, "num_classes": int, "tokenizer": CharTokenizer.to_dict(), "max_length": int,
 "model": state_dict, ...其他元数据}。微调笔记本保存的 classifier_cpu.pt 就是这种格式。

加载时只用 torch.load(weights_only=True)：它的反序列化器只接受张量、数字、字符串、列表、字典等
白名单类型，遇到其他对象就报错，不会执行文件里夹带的代码。没有选 safetensors，是因为它不在本项目的依赖里；
weights_only 随 PyTorch 自带，足以做到“加载不执行代码”，而且能把配置与词表直接存进同一个文件。
"""

from __future__ import annotations

import copy
import gzip
import numbers
import os
import pickle
import statistics
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .classify import encode_texts
from .data import LABEL_NAMES
from .gpt import GPTClassifier, GPTConfig
from .tokenizer import CharTokenizer
from .training import ZIP_MAGIC, rejected_object, zip_damage

BUNDLE_KEYS = ("config", "num_classes", "tokenizer", "max_length", "model")
DYNAMIC_INT8 = "dynamic_int8"
_PICKLE_PROTOCOL_MARK = 0x80  # 协议 2 及以上的 pickle 流以这个字节开头

# torch 2.13 的 torch.ao.quantization 在调用时发出这两条弃用警告（功能照常可用）；只在调用处忽略这两条。
_QUANTIZATION_WARNINGS = (
    (DeprecationWarning, r"torch\.ao\.quantization is deprecated"),
    (UserWarning, r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized tensor creation"),
)
# 加载含 qint8 张量的文件时，torch 内部仍调用旧的 TypedStorage 接口并发出这条警告。
_QUANTIZED_LOAD_WARNINGS = ((UserWarning, r"TypedStorage is deprecated"),)


class UnsafeFileError(pickle.UnpicklingError):
    """文件里有 weights_only 加载不允许的 pickle 对象（可能夹带代码），加载被拒绝。"""


@dataclass
class Bundle:
    """加载好的文件包：已切到 eval 模式的模型、分词器、截断长度、类别数，以及其余元数据。"""

    model: nn.Module
    tokenizer: CharTokenizer
    max_length: int
    num_classes: int
    config: GPTConfig
    metadata: dict = field(default_factory=dict)


# ---------------------------------------------------------------- 保存与安全加载


def _check_vocabulary(tokenizer: CharTokenizer, config: GPTConfig) -> None:
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(
            f"词表不匹配：分词器有 {tokenizer.vocab_size} 个词元，模型的 vocab_size 为 {config.vocab_size}；"
            "请使用训练这个模型时的那个分词器（检查点里的 tokenizer）。"
        )


def _check_max_length(max_length, config: GPTConfig) -> int:
    if isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length < 1:
        raise ValueError(f"max_length 应为正整数，实际为 {max_length!r}；请传入例如 max_length={config.context_length}。")
    if max_length > config.context_length:
        raise ValueError(
            f"max_length={max_length} 超过了模型的 context_length={config.context_length}；"
            f"请改为不大于 {config.context_length} 的值。"
        )
    return int(max_length)


def _plain_value(name: str, value):
    """把元数据转成 weights_only 能加载的类型：NumPy 标量转 Python 数，不支持的类型抛出 TypeError。"""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_value(f"{name}[{i}]", item) for i, item in enumerate(value))
    if isinstance(value, dict):
        return {key: _plain_value(f"{name}[{key!r}]", item) for key, item in value.items()}
    raise TypeError(
        f"metadata 中的 {name} 是 {type(value).__name__}，weights_only 加载时会被拒绝；"
        "请只存数字、字符串、列表、字典或张量，例如把结果转成 float(...)。"
    )


def save_bundle(path, model: nn.Module, tokenizer: CharTokenizer, max_length: int, **metadata) -> Path:
    """把模型权重、配置、词表与截断长度存为一个文件包，返回写出的路径。

    model 是 GPTClassifier（也可以是 quantize_dynamic_int8 或 prune_linear_weights 的结果）。
    metadata 中的其他值（如 test_accuracy）一并写入：NumPy 标量先转成 Python 数，
    数字、字符串、列表、字典与张量以外的类型抛出 TypeError，因为 weights_only 加载时会拒绝它们。
    先写临时文件再改名，写到一半中断也不会留下损坏的文件包。
    """
    config = getattr(model, "config", None)
    if not isinstance(model, GPTClassifier) or not isinstance(config, GPTConfig):
        raise TypeError(
            f"model 应为 GPTClassifier（微调后的分类器），实际为 {type(model).__name__}；文件包只存分类器。"
            "预训练的 GPT 语言模型请用 bigmodel_lab.training.save_checkpoint 保存。"
        )
    if not isinstance(tokenizer, CharTokenizer):
        raise TypeError(f"tokenizer 应为 CharTokenizer，实际为 {type(tokenizer).__name__}。")
    _check_vocabulary(tokenizer, config)
    _check_max_length(max_length, config)
    clashing = sorted(set(metadata) & {*BUNDLE_KEYS, "quantization"})
    if clashing:
        raise ValueError(f"metadata 不能使用保留的键 {clashing}；请换一个名字。")

    bundle = {
        "config": config.to_dict(),
        "num_classes": int(model.num_classes),
        "tokenizer": tokenizer.to_dict(),
        "max_length": int(max_length),
        "model": model.state_dict(),
        **{key: _plain_value(key, value) for key, value in metadata.items()},
    }
    if is_quantized(model):
        bundle["quantization"] = DYNAMIC_INT8

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} 是一个目录，不能写成文件包；请传入文件路径，例如 {path / 'classifier.pt'}。")
    path.parent.mkdir(parents=True, exist_ok=True)
    # 先写到同目录的临时文件夹里、用最终的文件名（torch.save 把文件名写进 zip 的目录名），再原子地改名。
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".saving-") as folder:
        temporary = Path(folder) / path.name
        torch.save(bundle, temporary)
        os.replace(temporary, path)
    return path


def _check_file(path: Path) -> None:
    """确认 path 是一个 torch.save 写出的 zip 文件；不是时抛出说明原因的中文错误。"""
    if not path.exists():
        raise FileNotFoundError(f"找不到模型文件包 {path}；请检查路径，或先用 save_bundle(...) 保存模型。")
    if path.is_dir():
        raise IsADirectoryError(f"{path} 是一个目录，不是文件；请传入文件包的路径，例如 artifacts/classifier_cpu.pt。")
    with path.open("rb") as stream:
        head = stream.read(4)
    if head == ZIP_MAGIC:
        return
    if head[:1] == bytes([_PICKLE_PROTOCOL_MARK]):
        raise UnsafeFileError(
            f"拒绝加载 {path}：这是一个原始 pickle 文件，不是 torch.save 写出的 zip 文件包。"
            "原始 pickle 在加载时可以执行任意代码；请让对方用 save_bundle 重新保存模型。"
        )
    if zipfile.is_zipfile(path):  # 结尾有完整的 zip 目录，只是开头的几个字节变了
        raise ValueError(_damaged_message(path, f"开头的字节为 {head.hex()}，应为 {ZIP_MAGIC.hex()}"))
    raise ValueError(
        f"文件类型不对：{path} 开头的字节为 {head.hex() or '（空文件）'}，不是 torch.save 写出的 zip 文件包；"
        "请传入 save_bundle 保存的 .pt 文件。"
    )


def load_weights_only(path) -> object:
    """用 torch.load(weights_only=True) 读取文件，返回其中的对象；文件里有不允许的 pickle 对象时拒绝加载。

    加载前先核对 zip 里每个条目的 CRC-32 校验和（torch.load 自己不核对），损坏的文件不会被当成好文件加载。

    Raises:
        FileNotFoundError / IsADirectoryError：路径不存在或是目录。
        UnsafeFileError：文件夹带了白名单以外的对象（例如一个会执行代码的函数调用）。
        ValueError：文件不是 torch.save 写出的 zip 文件，或文件损坏（被截断、校验和对不上）。
    """
    path = Path(path)
    _check_file(path)
    damage = zip_damage(path)
    if damage is not None:
        raise ValueError(_damaged_message(path, damage))
    try:
        with warnings.catch_warnings():
            for category, message in _QUANTIZED_LOAD_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=category)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        detail = rejected_object(error)
        raise UnsafeFileError(
            f"拒绝加载 {path}：文件里夹带了 pickle 对象（{detail}），按 weights_only 规则不能加载，"
            "因为解开它就可能执行任意代码。只加载你信任的来源的文件；"
            "如果它来自你自己，请用 save_bundle 重新保存（只存张量、数字、字符串、列表与字典）。"
        ) from None
    except RuntimeError as error:
        if "failed reading zip archive" in str(error):  # zip 的目录结构坏了（zipfile 能读，torch 用的 miniz 不能）
            raise ValueError(_damaged_message(path, str(error)[:80])) from None
        raise ValueError(
            f"文件类型不对：{path} 是 zip 文件，但不是 torch.save 写出的文件包（{str(error)[:80]}）；"
            "请传入 save_bundle 保存的 .pt 文件。"
        ) from None
    except (OSError, EOFError, KeyError, IndexError, ValueError) as error:
        raise ValueError(_damaged_message(path, f"{type(error).__name__}: {str(error)[:80]}")) from None


def _damaged_message(path: Path, reason: str) -> str:
    return (
        f"文件损坏：{path} 读不出来（{reason}），可能没有下载完、被截断或在复制时出错；"
        "请换用一份完好的副本，或用 save_bundle 重新保存模型。"
    )


def _build_classifier(config: GPTConfig, num_classes: int, quantization: str | None) -> nn.Module:
    model = GPTClassifier(config, num_classes=num_classes)
    if quantization is None:
        return model
    if quantization != DYNAMIC_INT8:
        raise ValueError(f"未知的量化方式 {quantization!r}；本模块只支持 {DYNAMIC_INT8!r}。")
    return quantize_dynamic_int8(model)


def load_bundle(path) -> Bundle:
    """安全地加载 save_bundle 保存的文件包（或微调笔记本保存的 classifier_cpu.pt），返回 Bundle。

    模型放在 CPU 上并切到 eval 模式。文件缺键、词表与配置不一致、权重形状不对时抛出 ValueError。
    """
    path = Path(path)
    content = load_weights_only(path)
    if not isinstance(content, dict):
        raise ValueError(f"{path} 里存的是 {type(content).__name__}，不是文件包字典；请用 save_bundle 保存。")
    missing = [key for key in BUNDLE_KEYS if key not in content]
    if missing:
        raise ValueError(
            f"{path} 不是完整的文件包，缺少 {missing}；只存了 state_dict 的文件不含配置与词表，"
            "请用 save_bundle(path, model, tokenizer, max_length) 重新保存。"
        )

    config = GPTConfig.from_dict(content["config"])
    tokenizer = CharTokenizer.from_dict(content["tokenizer"])
    _check_vocabulary(tokenizer, config)
    max_length = _check_max_length(content["max_length"], config)
    model = _build_classifier(config, int(content["num_classes"]), content.get("quantization"))
    try:
        model.load_state_dict(content["model"])
    except RuntimeError as error:
        first = str(error).splitlines()[1:2] or [str(error)[:120]]
        raise ValueError(
            f"{path} 中的权重与其中的配置不匹配（{first[0].strip()}）；文件可能被改动过，请重新保存。"
        ) from None
    model.eval()

    metadata = {key: value for key, value in content.items() if key not in (*BUNDLE_KEYS, "quantization")}
    return Bundle(model, tokenizer, max_length, int(content["num_classes"]), config, metadata)


def file_size(path) -> int:
    """返回文件在磁盘上的字节数。"""
    return Path(path).stat().st_size


def gzip_size(path) -> int:
    """返回文件用 gzip 压缩后的字节数：剪枝产生的大量 0 只有压缩后才省空间。"""
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=6))


# ---------------------------------------------------------------- 批量预测


def _check_text_list(texts) -> list[str]:
    """确认 texts 是字符串列表（逐项的内容由 classify.encode_texts 检查）。"""
    if isinstance(texts, str):
        raise TypeError(f"texts 应为字符串列表，实际是一个字符串 {texts!r:.30}；单条评论请写成 [text]。")
    if not isinstance(texts, Sequence):
        raise TypeError(f"texts 应为字符串列表，实际为 {type(texts).__name__}；请传入例如 ['质量很好']。")
    return list(texts)


class Predictor:
    """加载一次、反复使用的分类器：把文本列表按批编码、前向，返回概率或标签。

    model 可以是任何“输入 (B, T) 编号、输出 (B, num_classes) logits”的可调用对象：
    eager 模型、导出的程序（exported.module()）、int8 量化或剪枝后的模型。
    批内按长度排序后再分批，每批只填充到本批最长的文本，结果仍按输入顺序返回。
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        tokenizer: CharTokenizer,
        max_length: int,
        *,
        batch_size: int = 32,
        label_names: dict[int, str] | None = None,
    ):
        if not callable(model):
            raise TypeError(f"model 应可调用（输入编号张量、输出 logits），实际为 {type(model).__name__}。")
        if not isinstance(tokenizer, CharTokenizer):
            raise TypeError(f"tokenizer 应为 CharTokenizer，实际为 {type(tokenizer).__name__}。")
        config = getattr(model, "config", None)
        if isinstance(config, GPTConfig):
            _check_vocabulary(tokenizer, config)
            max_length = _check_max_length(max_length, config)
        elif isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length < 1:
            raise ValueError(f"max_length 应为正整数，实际为 {max_length!r}；例如 max_length=128。")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size 应为正整数，实际为 {batch_size!r}；例如 batch_size=32。")
        if isinstance(config, GPTConfig):
            model.eval()  # 导出的程序不支持 eval()，它在导出时已处于 eval 模式
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.label_names = dict(LABEL_NAMES if label_names is None else label_names)

    @classmethod
    def from_bundle(cls, path, **kwargs) -> Predictor:
        """从文件包创建 Predictor：只在这里读一次文件。"""
        bundle = load_bundle(path)
        return cls(bundle.model, bundle.tokenizer, bundle.max_length, **kwargs)

    @torch.inference_mode()
    def probabilities(self, idx: torch.Tensor) -> np.ndarray:
        """对已编码、向右填充的编号张量 (B, T) 前向，返回概率 (B, num_classes)。"""
        return torch.softmax(self.model(idx).float(), dim=-1).numpy()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """返回每条文本属于各类别的概率，形状 (N, num_classes)，每行和为 1。

        文本先按长度排序再分批，每批只保留到本批最长文本的列，结果按输入顺序返回。
        """
        ids = encode_texts(_check_text_list(texts), self.tokenizer, self.max_length)  # (N, T)
        lengths = (ids != self.tokenizer.pad_id).sum(dim=1)  # (N,)
        order = torch.argsort(lengths, stable=True)
        probabilities = np.empty((len(ids), 0))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = ids[rows, : int(lengths[rows].max())]  # (B, 本批最长)
            probs = self.probabilities(batch)  # (B, C)
            if probabilities.shape[1] == 0:
                probabilities = np.empty((len(ids), probs.shape[1]))
            probabilities[rows.numpy()] = probs
        return probabilities

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """返回每条文本概率最大的类别编号，形状 (N,)。"""
        return self.predict_proba(texts).argmax(axis=1)

    def accuracy(self, texts: Sequence[str], labels) -> float:
        """返回在 (texts, labels) 上的准确率：预测正确的条数占全部条数的比例。"""
        labels = np.asarray(labels)
        if labels.shape != (len(texts),):
            raise ValueError(f"labels 的形状应为 ({len(texts)},)，与 texts 一一对应，实际为 {labels.shape}。")
        if labels.dtype != bool and not np.issubdtype(labels.dtype, np.number):
            raise TypeError(
                f"labels 应为类别编号（如 0 表示负面、1 表示正面），实际的数据类型为 {labels.dtype}；"
                "文字标签请先换成编号，例如 (labels == '正面').astype(int)。"
            )
        return float((self.predict(texts) == labels).mean())


def median_latencies(functions: dict[str, Callable[[], object]], repeats: int = 7, warmup: int = 1) -> dict[str, float]:
    """返回每个函数调用耗时的中位数（秒），{名称: 秒}。

    先把每个函数各预热 warmup 次，再做 repeats 轮计时，每轮把所有函数各调用一次。
    轮流计时让机器负载的起伏同样落在每个函数上；中位数不受偶尔一次被打断的影响。
    """
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or repeats < 1:
        raise ValueError(f"repeats 应为正整数，实际为 {repeats!r}；例如 repeats=7。")
    if not functions:
        raise ValueError("functions 是空字典；请传入 {名称: 无参数函数}，例如 {'eager': lambda: predictor.predict_proba(texts)}。")
    for function in functions.values():
        for _ in range(warmup):
            function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(int(repeats)):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# ---------------------------------------------------------------- 导出


def export_classifier(model: nn.Module, max_length: int, *, atol: float = 1e-5):
    """用 torch.export 把分类器导出为计算图，批大小与序列长度（1 到 max_length）都可变。

    导出后立即在一批随机编号（含填充）上与 eager 模型比较 logits，最大差超过 atol 时抛出 RuntimeError。
    返回 (ExportedProgram, 最大差)。
    """
    if not isinstance(model, GPTClassifier):
        raise TypeError(f"model 应为 GPTClassifier，实际为 {type(model).__name__}。")
    max_length = _check_max_length(max_length, model.config)
    if max_length < 2:
        raise ValueError(
            f"max_length={max_length} 太短：导出的计算图支持 1 到 max_length 的可变长度，至少要有两种长度；"
            "请传入不小于 2 的值，例如 max_length=64。"
        )
    from torch.export import Dim, export

    model.eval()
    generator = torch.Generator().manual_seed(0)
    example = torch.randint(2, model.config.vocab_size, (4, max_length), generator=generator)  # (4, T)
    example[1, max_length // 2 :] = 1  # 第二行右侧是填充，检查填充掩码也被正确导出
    dynamic = ({0: Dim("batch", min=1, max=4096), 1: Dim("length", min=1, max=max_length)},)
    exported = export(model, (example,), dynamic_shapes=dynamic)

    with torch.inference_mode():
        difference = float((exported.module()(example) - model(example)).abs().max())
    if difference > atol:
        raise RuntimeError(f"导出的模型与 eager 模型的 logits 最大差为 {difference:.2e}，超过了 atol={atol:g}。")
    return exported, difference


# ---------------------------------------------------------------- 量化与剪枝


def compressible_linears(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """列出可以量化或剪枝的 Linear 层（名称, 模块）。

    与嵌入共享权重的输出层（lm_head）不算：分类时用不到它，改动它还会连带改动词元嵌入。
    """
    embedding_weights = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and id(module.weight) not in embedding_weights
    ]


def quantize_dynamic_int8(model: nn.Module) -> nn.Module:
    """返回模型的动态 int8 量化（dynamic quantization）副本，原模型不变。

    Linear 的权重按张量存为 int8（外加一个 float 缩放系数与零点）；激活值在每次前向时
    按当批的范围临时量化，所以不需要校准数据。嵌入与层归一化保持 float32。
    torch 2.13 把 torch.ao.quantization 标为弃用（迁移目标 torchao 不在本项目依赖中），
    这里只忽略调用时的那两条弃用警告，其他警告照常显示。
    """
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    spec = {name: default_dynamic_qconfig for name, _ in compressible_linears(model)}
    with warnings.catch_warnings():
        for category, message in _QUANTIZATION_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        quantized = quantize_dynamic(copy.deepcopy(model).eval(), qconfig_spec=spec, dtype=torch.qint8)
    return quantized


def _is_dynamic_int8_linear(module: nn.Module) -> bool:
    return type(module).__name__ == "Linear" and type(module).__module__.startswith("torch.ao.nn.quantized.dynamic")


def is_quantized(model: nn.Module) -> bool:
    """判断模型里是否有动态 int8 量化的 Linear 层。"""
    return any(_is_dynamic_int8_linear(module) for module in model.modules())


def linear_weight_bytes(model: nn.Module) -> int:
    """返回可压缩 Linear 层权重矩阵占用的字节数（float32 每个 4 字节，int8 每个 1 字节，不含偏置）。"""
    compressible = {id(module) for _, module in compressible_linears(model)}
    total = 0
    for module in model.modules():
        if id(module) in compressible:
            weight = module.weight
        elif _is_dynamic_int8_linear(module):
            weight = module.weight()  # 量化层的 weight() 返回 qint8 张量
        else:
            continue
        total += weight.numel() * weight.element_size()
    return total


def prune_linear_weights(model: nn.Module, amount: float) -> nn.Module:
    """返回按幅值剪枝（magnitude pruning）的副本：每个可压缩 Linear 层里绝对值最小的 amount 比例权重置 0。

    先用 torch.nn.utils.prune.l1_unstructured 加上掩码，再用 prune.remove 把掩码乘进权重并去掉重参数化，
    剪枝因此是永久的：state_dict 只有普通的 weight 键，可以载入一个未剪枝的同结构模型。
    """
    from torch.nn.utils import prune

    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise ValueError(f"amount 应为数字，表示剪掉的权重比例，实际为 {amount!r}（{type(amount).__name__}）；例如 amount=0.5。")
    if not 0 <= amount < 1:
        raise ValueError(f"amount 应在 [0, 1) 内，表示剪掉的权重比例，实际为 {amount!r}；例如 amount=0.5。")
    if is_quantized(model):
        raise ValueError(
            "model 已经做过 int8 量化，量化层的权重不能再剪枝；请先剪枝再量化，"
            "例如 quantize_dynamic_int8(prune_linear_weights(model, 0.5))。"
        )
    if not compressible_linears(model):
        raise ValueError(f"model（{type(model).__name__}）里没有可以剪枝的 Linear 层；请传入 GPTClassifier。")
    pruned = copy.deepcopy(model).eval()
    for _, module in compressible_linears(pruned):
        prune.l1_unstructured(module, name="weight", amount=float(amount))
        prune.remove(module, "weight")
    return pruned


def weight_sparsity(model: nn.Module) -> float:
    """返回可压缩 Linear 层权重中等于 0 的比例；int8 量化层按还原（dequantize）后的权重统计。"""
    compressible = {id(module) for _, module in compressible_linears(model)}
    zeros = total = 0
    for module in model.modules():
        if id(module) in compressible:
            weight = module.weight
        elif _is_dynamic_int8_linear(module):
            weight = module.weight().dequantize()
        else:
            continue
        zeros += int((weight == 0).sum())
        total += weight.numel()
    if total == 0:
        raise ValueError(f"model（{type(model).__name__}）里没有可以统计的 Linear 层；请传入 GPTClassifier 或它的量化、剪枝版本。")
    return zeros / total


# ---------------------------------------------------------------- 哪些字符重要


def occlusion_importance(predictor: Predictor, text: str, label: int | None = None) -> tuple[int, float, np.ndarray]:
    """用遮挡法（occlusion）估计每个字符对预测的贡献，返回（类别，概率，每个字符的分数）。

    第 i 个字符的分数 = 原文属于 label 的概率 − 删去第 i 个字符后的概率：正数表示这个字符
    把预测推向 label，负数表示把预测推离 label。label 为 None 时取原文的预测类别。
    只给前 max_length 个字符打分（模型只读这些），其余字符的分数为 0。
    删去唯一的字符后整行都是填充，这时模型只剩分类头的偏置，相当于“什么都没读到”的基线。
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"text 应为非空字符串，实际为 {text!r:.30}；请传入一条评论，例如 '质量很好'。")
    ids = encode_texts([text], predictor.tokenizer, predictor.max_length)[0].tolist()
    pad = predictor.tokenizer.pad_id

    width = max(len(ids) - 1, 1)
    variants = torch.full((len(ids), width), pad, dtype=torch.long)  # (n, n-1)：第 i 行删去第 i 个字符
    for i in range(len(ids)):
        kept = ids[:i] + ids[i + 1 :]
        variants[i, : len(kept)] = torch.tensor(kept, dtype=torch.long)

    original = predictor.probabilities(torch.tensor([ids]))[0]  # (C,)
    if label is None:
        label = int(original.argmax())
    occluded = np.concatenate(
        [predictor.probabilities(variants[start : start + predictor.batch_size]) for start in range(0, len(ids), predictor.batch_size)]
    )[:, label]  # (n,)
    scores = np.zeros(len(text))
    scores[: len(ids)] = original[label] - occluded
    return label, float(original[label]), scores


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """把表头与若干行排成 Markdown 表格文本，交给 IPython.display.Markdown 显示。"""
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise ValueError(f"第 {number} 行有 {len(row)} 列，表头有 {len(header)} 列；请让每行的列数与表头一致。")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)
