"""分类评估指标的 NumPy 实现，函数名与参数顺序与 sklearn.metrics 相同，结果与之相等。

- 标签类指标（y_true, y_pred）：accuracy_score、precision_score、recall_score、f1_score、
  precision_recall_fscore_support、confusion_matrix。
- 分数类指标（y_true, y_score）：roc_curve、roc_auc_score、precision_recall_curve、
  average_precision_score。分数可以是概率，也可以是 logit 等任意实数，只有大小顺序起作用。

指标在某组数据上没有定义时（例如模型从未预测出正类，精确率的分母为 0），结果取 sklearn 的值，
并在每次调用中至多发出一条中文的 UndefinedMetricWarning。
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

AVERAGES = ("binary", "macro", "micro", None)
_METRIC_NAMES = {"precision": "精确率（precision）", "recall": "召回率（recall）", "f-score": "F1 值（F1 score）"}


class UndefinedMetricWarning(UserWarning):
    """指标在这组数据上没有定义、按 sklearn 的约定取值时发出的警告。"""


# ---------------------------------------------------------------- 输入检查


def _as_1d_numeric(name: str, values) -> np.ndarray:
    """把输入转成一维数值数组；不是数值或不是一维时抛出说明原因与改法的中文错误。"""
    try:
        array = np.asarray(values)
    except ValueError:
        raise ValueError(f"{name} 无法转换为数组（各元素的长度不一致？）；请传入一维的列表或数组。") from None
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} 应为数值数组，实际含有无法转成数字的元素（例如 {array.ravel()[:3].tolist()!r}）；"
                "请先把它们转换为数字。"
            ) from None
    if array.dtype.kind in "USa":
        raise TypeError(
            f"{name} 应为数值数组，实际是字符串（例如 {array.ravel()[:3].tolist()!r}）；"
            "请先把类别映射为整数，例如 (labels == '正面').astype(int)。"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} 应为整数、布尔或浮点数组，实际类型为 {array.dtype}；请先转换为实数。")
    if array.ndim != 1:
        hint = ""
        if array.ndim == 2 and array.shape[1] == 2:
            hint = "若这是 predict_proba 的 (n, 2) 输出，请取正类一列 [:, 1]；"
        elif array.ndim == 2 and array.shape[1] == 1:
            hint = "请用 .ravel() 展平；"
        raise ValueError(f"{name} 应为一维数组，实际形状为 {array.shape}；{hint}每个样本对应一个值。")
    if array.size == 0:
        raise ValueError(f"{name} 为空；至少需要一个样本才能计算指标。")
    return array


_INT64_LIMIT = 2.0**63  # int64 能表示 [-2⁶³, 2⁶³)；超出的标签转换时会溢出，相等比较随之出错


def _check_labels(name: str, values) -> np.ndarray:
    """检查类别标签：一维、数值、有限、取整数值且在 int64 范围内，返回 int64 数组。"""
    array = _as_1d_numeric(name, values)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} 中含有 NaN 或无穷大；类别标签应为整数，请先删去或补全这些样本。")
        fractional = array[array != np.round(array)]
        if fractional.size:
            raise ValueError(
                f"{name} 应为类别标签（整数），实际含有小数 {fractional[0]!r}；"
                "若这是正类概率，请先用阈值转成标签，例如 (y_score >= 0.5).astype(int)。"
            )
    if array.dtype.kind in "fu":
        too_big = array[(array < -_INT64_LIMIT) | (array >= _INT64_LIMIT)]
        if too_big.size:
            raise ValueError(
                f"{name} 中的标签 {too_big[0].item()!r} 超出 int64 的范围（绝对值约 9.2e18），无法准确比较；"
                f"类别标签应为较小的整数，请先重新编码，例如 np.unique({name}, return_inverse=True)[1]。"
            )
    return array.astype(np.int64)


def _check_label_list(labels) -> np.ndarray:
    """检查用户传入的 labels（要计算哪些类别）：非空，且每个都是合法的类别标签。"""
    if hasattr(labels, "__len__") and len(labels) == 0:
        raise ValueError(
            "labels 为空，即没有列出任何类别；请至少列出一个类别，例如 labels=[0, 1]，"
            "或传 labels=None 使用 y_true 与 y_pred 中出现过的全部标签。"
        )
    return _check_labels("labels", labels)


def _check_scores(name: str, values) -> np.ndarray:
    """检查分数：一维、数值、有限，返回 float64 数组。"""
    array = _as_1d_numeric(name, values).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(
            f"{name} 中第 {bad[0]} 个值为 {array[bad[0]]}，分数必须是有限实数（NaN 与无穷大无法排序）；"
            "请检查模型输出，例如概率是否由 log(0) 或除以 0 得到。"
        )
    return array


def _check_same_length(first: str, a: np.ndarray, second: str, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"{first} 与 {second} 的长度应相同，实际分别为 {len(a)} 和 {len(b)}；"
            "请确认两者来自同一批样本且顺序一致。"
        )


def _check_label_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = _check_labels("y_true", y_true)
    y_pred = _check_labels("y_pred", y_pred)
    _check_same_length("y_true", y_true, "y_pred", y_pred)
    return y_true, y_pred


def _check_zero_division(zero_division):
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return "warn"
        raise ValueError(
            f"zero_division 应为 'warn'、0、1 或 np.nan，实际为 {zero_division!r}；默认 'warn' 取 0 并发出警告。"
        )
    if isinstance(zero_division, numbers.Real) and not isinstance(zero_division, bool):
        if zero_division in (0, 1) or np.isnan(zero_division):
            return float(zero_division)
    raise ValueError(
        f"zero_division 应为 'warn'、0、1 或 np.nan，实际为 {zero_division!r}；默认 'warn' 取 0 并发出警告。"
    )


def _warn_undefined(parts: list[str], stacklevel: int) -> None:
    """把本次调用中所有“没有定义”的说明合成一条警告发出；stacklevel 从调用本函数的函数算起。"""
    if parts:
        message = "；".join(parts) + "。可用 zero_division 参数指定这种情况下的取值。"
        warnings.warn(message, UndefinedMetricWarning, stacklevel=stacklevel + 1)


# ---------------------------------------------------------------- 标签类指标


def accuracy_score(y_true, y_pred, *, normalize: bool = True) -> float:
    """计算准确率（accuracy）：预测正确的样本占全部样本的比例。

    normalize=False 时返回预测正确的样本数。y_true、y_pred 为一维整数（或布尔）标签，长度相同。
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    correct = int(np.sum(y_true == y_pred))
    return float(correct / len(y_true)) if normalize else float(correct)


def confusion_matrix(y_true, y_pred, *, labels=None, normalize: str | None = None) -> np.ndarray:
    """计算混淆矩阵（confusion matrix）：第 i 行第 j 列是真实为 labels[i]、预测为 labels[j] 的样本数。

    行是真实类别，列是预测类别，与 sklearn 相同。labels 默认是 y_true 与 y_pred 中出现过的标签（升序）；
    不在 labels 中的样本不计入。normalize 为 "true" / "pred" / "all" 时分别按行、按列、按总数归一化。
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize 应为 None、'true'、'pred' 或 'all'，实际为 {normalize!r}。")

    if labels is None:
        labels = np.union1d(y_true, y_pred)
        if len(labels) == 1:
            warnings.warn(
                f"y_true 与 y_pred 中只出现了一个标签 {labels[0]}，混淆矩阵只有 1×1；"
                "若想得到完整的 2×2 矩阵，请用 labels=[0, 1] 传入全部类别。",
                UndefinedMetricWarning,
                stacklevel=2,
            )
    else:
        labels = _check_label_list(labels)
        if len(np.unique(labels)) != len(labels):
            raise ValueError(f"labels 中有重复标签：{labels.tolist()}；请去重。")

    # 把标签换成它在 labels 中的位置；不在 labels 中的样本丢弃。
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    n = len(labels)

    def positions(values: np.ndarray) -> np.ndarray:
        where = np.clip(np.searchsorted(sorted_labels, values), 0, n - 1)
        found = sorted_labels[where] == values
        return np.where(found, order[where], -1)

    rows, cols = positions(y_true), positions(y_pred)
    keep = (rows >= 0) & (cols >= 0)
    matrix = np.bincount(rows[keep] * n + cols[keep], minlength=n * n).reshape(n, n)

    if normalize is None:
        return matrix
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            scaled = matrix / matrix.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            scaled = matrix / matrix.sum(axis=0, keepdims=True)
        else:
            scaled = matrix / matrix.sum()
    return np.nan_to_num(scaled)


def _counts_per_label(y_true, y_pred, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """返回每个标签的 (TP, 预测为该类的数目 TP+FP, 真实为该类的数目 TP+FN)。"""
    tp = np.array([np.sum((y_true == label) & (y_pred == label)) for label in labels], dtype=np.float64)
    predicted = np.array([np.sum(y_pred == label) for label in labels], dtype=np.float64)
    actual = np.array([np.sum(y_true == label) for label in labels], dtype=np.float64)
    return tp, predicted, actual


def _safe_divide(numerator, denominator, fill: float) -> np.ndarray:
    result = np.full(numerator.shape, fill, dtype=np.float64)
    nonzero = denominator > 0
    result[nonzero] = numerator[nonzero] / denominator[nonzero]
    return result


def _select_labels(y_true, y_pred, labels, pos_label, average) -> np.ndarray:
    """按 average 决定对哪些标签计算指标；二分类时检查标签与 pos_label。"""
    present = np.union1d(y_true, y_pred)
    if average == "binary":
        if isinstance(pos_label, bool) or not isinstance(pos_label, (int, np.integer)):
            raise ValueError(f"pos_label 应为整数标签，实际为 {pos_label!r}；正类通常是 pos_label=1。")
        if len(present) > 2:
            raise ValueError(
                f"average='binary' 要求二分类标签，实际 y_true 与 y_pred 中共有 {len(present)} 类 "
                f"{present.tolist()}；多分类请改用 average='macro' 或 'micro'。"
            )
        if len(present) == 2 and pos_label not in present:
            raise ValueError(
                f"pos_label={pos_label!r} 不是数据中的标签，标签只有 {present.tolist()}；"
                "请把 pos_label 设为其中代表正类的一个。"
            )
        return np.array([pos_label], dtype=np.int64)
    if labels is None:
        return present
    return _check_label_list(labels)


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta: float = 1.0,
    labels=None,
    pos_label: int = 1,
    average: str | None = None,
    warn_for: tuple[str, ...] = ("precision", "recall", "f-score"),
    zero_division="warn",
):
    """计算精确率、召回率、F-beta 值和每类样本数（support）。

    精确率（precision）= TP / (TP + FP)：预测为正的样本中真为正的比例；
    召回率（recall）= TP / (TP + FN)：真为正的样本中被找出来的比例；
    F-beta = (1+β²)·TP / ((1+β²)·TP + β²·FN + FP)，β=1 时是精确率与召回率的调和平均（F1）。

    average："binary" 只报告 pos_label 一类；"macro" 对每类分别计算再取平均；"micro" 先把各类的
    TP、FP、FN 加总再计算；None 返回每类一个值（数组）。分母为 0 时按 zero_division 取值，
    默认 "warn" 取 0 并发出一条中文警告，与 sklearn 相同。average 不为 None 时 support 为 None。
    """
    return _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, zero_division, stacklevel=3)


def _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, zero_division, stacklevel):
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if average not in AVERAGES:
        raise ValueError(f"average 应为 'binary'、'macro'、'micro' 或 None，实际为 {average!r}。")
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < np.inf:
        raise ValueError(f"beta 应为非负的有限实数，实际为 {beta!r}；F1 值对应 beta=1。")
    beta = float(beta)
    zero_division = _check_zero_division(zero_division)
    fill = 0.0 if zero_division == "warn" else zero_division

    chosen = _select_labels(y_true, y_pred, labels, pos_label, average)
    tp, predicted, actual = _counts_per_label(y_true, y_pred, chosen)
    if average == "micro":
        tp, predicted, actual = tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True)

    beta2 = beta**2
    fp, fn = predicted - tp, actual - tp
    precision = _safe_divide(tp, predicted, fill)
    recall = _safe_divide(tp, actual, fill)
    f_score = _safe_divide((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp, fill)

    if zero_division == "warn":
        where = {"binary": f"（正类 pos_label={pos_label}）", "micro": "（micro 平均）"}.get(average, "在标签 {} 上")
        reasons = {
            "precision": (predicted == 0, "模型从未预测出该类（TP+FP=0）"),
            "recall": (actual == 0, "y_true 中没有该类的样本（TP+FN=0）"),
            "f-score": ((1 + beta2) * tp + beta2 * fn + fp == 0, "该类既没有真实样本也没有被预测（TP+FP+FN=0）"),
        }
        parts = []
        for metric in warn_for:
            undefined, reason = reasons[metric]
            if undefined.any():
                place = where.format(chosen[undefined].tolist())
                parts.append(f"{_METRIC_NAMES[metric]}{place}没有定义：{reason}，按 sklearn 的约定记为 0.0")
        _warn_undefined(parts, stacklevel)

    if average is None:
        return precision, recall, f_score, actual.astype(np.int64)
    if average == "macro":
        return _nan_mean(precision), _nan_mean(recall), _nan_mean(f_score), None
    return float(precision[0]), float(recall[0]), float(f_score[0]), None


def _nan_mean(values: np.ndarray) -> float:
    """求平均并忽略 NaN（zero_division=np.nan 时的约定）；全是 NaN 时返回 NaN。"""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _one_metric(metric: str, y_true, y_pred, labels, pos_label, average, zero_division):
    index = {"precision": 0, "recall": 1, "f-score": 2}[metric]
    # 调用链：用户 → precision_score 等 → _one_metric → _prfs，警告指向用户那一行。
    result = _prfs(y_true, y_pred, 1.0, labels, pos_label, average, (metric,), zero_division, stacklevel=4)
    return result[index]


def precision_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average="binary", zero_division="warn"):
    """计算精确率（precision）TP / (TP + FP)；参数含义见 precision_recall_fscore_support。"""
    return _one_metric("precision", y_true, y_pred, labels, pos_label, average, zero_division)


def recall_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average="binary", zero_division="warn"):
    """计算召回率（recall）TP / (TP + FN)；参数含义见 precision_recall_fscore_support。"""
    return _one_metric("recall", y_true, y_pred, labels, pos_label, average, zero_division)


def f1_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average="binary", zero_division="warn"):
    """计算 F1 值 2·TP / (2·TP + FP + FN)，即精确率与召回率的调和平均；参数含义见 precision_recall_fscore_support。"""
    return _one_metric("f-score", y_true, y_pred, labels, pos_label, average, zero_division)


# ---------------------------------------------------------------- 分数类指标


def _binary_target(y_true, pos_label) -> np.ndarray:
    """把二分类的 y_true 变成布尔数组（True 为正类），规则与 sklearn 的 roc_curve 相同。

    pos_label 为 None 时，标签须取自 {0, 1} 或 {-1, 1}，正类为 1。
    """
    labels = np.unique(y_true)
    if pos_label is None:
        if len(labels) > 2:
            raise ValueError(
                f"y_true 应为二分类标签，实际有 {len(labels)} 类 {labels.tolist()}；"
                "请传入 pos_label 指定哪一类算正类，其余都算负类。"
            )
        if not (set(labels.tolist()) <= {0, 1} or set(labels.tolist()) <= {-1, 1}):
            raise ValueError(
                f"y_true 的标签为 {labels.tolist()}，无法判断哪一类是正类；"
                "请把标签改为 {0, 1} 或 {-1, 1}，或显式传入 pos_label。"
            )
        pos_label = 1
    return y_true == pos_label


def _check_curve_inputs(y_true, y_score, pos_label) -> tuple[np.ndarray, np.ndarray]:
    y_true = _check_labels("y_true", y_true)
    y_score = _check_scores("y_score", y_score)
    _check_same_length("y_true", y_true, "y_score", y_score)
    return _binary_target(y_true, pos_label), y_score


def _counts_at_thresholds(positive: np.ndarray, y_score: np.ndarray):
    """把分数从高到低排序，以每个不同的分数为阈值，返回 (FP 数, TP 数, 阈值)。

    分数并列的样本同时越过阈值，所以每个不同的分数只对应曲线上的一个点。
    """
    order = np.argsort(-y_score, kind="stable")
    scores = y_score[order]
    hits = positive[order].astype(np.float64)

    # 每段并列分数的最后一个位置：阈值取到这里时，这一段全部被判为正类。
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(hits)[last]
    fps = (last + 1) - tps
    return fps, tps, scores[last]


def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate: bool = True):
    """计算 ROC 曲线，返回 (fpr, tpr, thresholds)，三者等长，阈值从大到小。

    分数 ≥ thresholds[i] 的样本判为正类时，假正率 FPR = FP / (FP + TN) 为 fpr[i]，
    真正率 TPR = TP / (TP + FN)（即召回率）为 tpr[i]。thresholds[0] 为 inf，对应曲线起点 (0, 0)。
    drop_intermediate=True 时删去落在相邻两点连线上的中间点（不改变曲线形状与面积）。
    y_true 中缺少负类（或正类）时 fpr（或 tpr）全为 NaN，并发出警告，与 sklearn 相同。
    """
    positive, y_score = _check_curve_inputs(y_true, y_score, pos_label)
    fps, tps, thresholds = _counts_at_thresholds(positive, y_score)

    if drop_intermediate and len(fps) > 2:
        # 二阶差分为 0 说明该点与前后两点共线，是折线中间的点。
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.r_[True, corner, True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]

    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]

    parts = []
    if fps[-1] <= 0:
        parts.append("y_true 中没有负类样本，假正率（FPR）没有定义，记为 NaN")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        parts.append("y_true 中没有正类样本，真正率（TPR）没有定义，记为 NaN")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    if parts:
        warnings.warn("；".join(parts) + "。ROC 曲线需要两类样本都有。", UndefinedMetricWarning, stacklevel=2)
    return fpr, tpr, thresholds


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """返回每个值在升序中的名次（从 1 开始）；并列的值取这些名次的平均。"""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_values)) + 1]
    ends = np.r_[starts[1:], len(values)]
    # 第 starts..ends-1 位（从 0 数）的名次是 starts+1..ends，平均为 (starts + 1 + ends) / 2。
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + 1 + ends) / 2, ends - starts)
    return ranks


def roc_auc_score(y_true, y_score) -> float:
    """计算 ROC 曲线下面积（ROC AUC）：随机取一个正样本和一个负样本，正样本分数更高的概率。

    分数并列时记 1/2（用平均名次计算，即 Mann-Whitney U 统计量），与 ROC 曲线的梯形面积相等。
    y_true 须为两类标签，较大的一类为正类；只有一类时返回 NaN 并发出警告，与 sklearn 相同。
    """
    y_true = _check_labels("y_true", y_true)
    y_score = _check_scores("y_score", y_score)
    _check_same_length("y_true", y_true, "y_score", y_score)
    labels = np.unique(y_true)
    if len(labels) > 2:
        raise ValueError(
            f"roc_auc_score 只支持二分类，y_true 中却有 {len(labels)} 类 {labels.tolist()}；"
            "多分类请对每一类分别计算“该类 vs 其余”的 AUC。"
        )
    if len(labels) < 2:
        warnings.warn(
            f"y_true 中只有一类（{labels[0]}），ROC AUC 没有定义，返回 NaN；评估集需要同时含有正负两类样本。",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")

    positive = y_true == labels[1]
    n_pos, n_neg = positive.sum(), (~positive).sum()
    rank_sum = _average_ranks(y_score)[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _pr_points(positive: np.ndarray, y_score: np.ndarray, drop_intermediate: bool, stacklevel: int):
    fps, tps, thresholds = _counts_at_thresholds(positive, y_score)

    if drop_intermediate and len(fps) > 2:
        changes = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
        keep = np.flatnonzero(np.r_[True, changes, True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]

    precision = _safe_divide(tps, tps + fps, 0.0)
    if tps[-1] == 0:
        warnings.warn(
            "y_true 中没有正类样本，召回率没有定义，按 sklearn 的约定在所有阈值上记为 1。",
            UndefinedMetricWarning,
            stacklevel=stacklevel + 1,
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]

    # 反转为阈值从小到大、召回率从大到小，再补上终点。
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate: bool = False):
    """计算精确率-召回率曲线（PR 曲线），返回 (precision, recall, thresholds)。

    分数 ≥ thresholds[i] 的样本判为正类时，精确率为 precision[i]、召回率为 recall[i]；阈值从小到大，
    precision 与 recall 比 thresholds 多一个末尾点 (precision=1, recall=0)，与 sklearn 相同。
    drop_intermediate=True 时，召回率相同的一串点只保留首尾两个。
    y_true 中没有正类时召回率全记为 1 并发出警告，与 sklearn 相同。
    """
    positive, y_score = _check_curve_inputs(y_true, y_score, pos_label)
    return _pr_points(positive, y_score, drop_intermediate, stacklevel=2)


def average_precision_score(y_true, y_score, *, pos_label: int = 1) -> float:
    """计算平均精确率（average precision, AP）：Σₙ (Rₙ − Rₙ₋₁)·Pₙ，即 PR 曲线下的阶梯面积。

    与 sklearn 相同，不做插值（梯形插值会高估面积）。y_true 须为二分类标签；
    没有正类时返回 0.0 并发出警告。
    """
    y_true = _check_labels("y_true", y_true)
    labels = np.unique(y_true)
    if len(labels) > 2:
        raise ValueError(
            f"average_precision_score 只支持二分类，y_true 中却有 {len(labels)} 类 {labels.tolist()}；"
            "请先把要评估的一类记为 1、其余记为 0。"
        )
    if len(labels) == 2 and pos_label not in labels:
        raise ValueError(
            f"pos_label={pos_label!r} 不是 y_true 中的标签，标签只有 {labels.tolist()}；"
            "请把 pos_label 设为其中代表正类的一个。"
        )
    positive, y_score = _check_curve_inputs(y_true, y_score, pos_label)
    precision, recall, _ = _pr_points(positive, y_score, drop_intermediate=False, stacklevel=2)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
