"""激活函数（activation function）、softmax 一族与损失函数（loss function）的 NumPy 实现。

笔记本 01 与 02 逐个推导这些公式；这里是经过测试的版本，后面的笔记本直接导入。
所有函数接受 float32 或 float64 的任意形状数组（整数与布尔值按 float64 计算），
结果保持输入的精度。输入在 ±1e4 以内时不会上溢，也不产生 NaN 或 RuntimeWarning；
激活函数及其导数在 x = ±∞ 处返回数学上的极限值（例如 gelu(+∞) = +∞、gelu(-∞) = 0），同样不告警。
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc  # scipy 随 scikit-learn 一起安装

REDUCTIONS = ("mean", "sum", "none")

# 用 Python 浮点数而不是 np.float64：后者会把 float32 的数组提升为 float64。
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_COEF = 0.044715  # GELU 的 tanh 近似中三次项的系数，与 torch.nn.functional.gelu 相同
_LOG_CLAMP = -100.0  # 与 torch.nn.functional.binary_cross_entropy 相同：log 的结果不低于 -100


# ---------------------------------------------------------------------------
# 输入检查
# ---------------------------------------------------------------------------


def _as_float_array(value, name: str) -> np.ndarray:
    """把 value 转成浮点数组：float32 与 float64 保持原样，整数与布尔值转成 float64。"""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"{name} 无法转换为数值数组（{error}）；请传入 NumPy 数组、Python 数字，"
            "或每行长度相同的数字列表。torch 张量请先调用 .detach().cpu().numpy()。"
        ) from error

    kind = array.dtype.kind
    if kind == "f":
        if array.dtype in (np.float32, np.float64):
            return array
        return array.astype(np.float32 if array.dtype.itemsize < 4 else np.float64)
    if kind in "biu":
        return array.astype(np.float64)
    if kind == "O":
        raise TypeError(
            f"{name} 应为数值数组，实际的元素类型是 object（例如 {_first_item(array)!r}）；"
            f"若元素都是数字，请先用 np.asarray({name}, dtype=float) 转换，"
            "否则请检查其中是否混入了 None、字符串或其他对象。"
        )
    raise TypeError(
        f"{name} 应为数值数组，实际的元素类型是 {array.dtype}（例如 {_first_item(array)!r}）；"
        "请传入数字，字符串要先用 float() 或 np.asarray(..., dtype=float) 转换。"
    )


def _first_item(array: np.ndarray):
    return array.flat[0] if array.size else None


def _scalar_if_0d(array: np.ndarray):
    """0 维数组返回 NumPy 标量，其余原样返回：sigmoid(3) 得到一个数而不是数组。"""
    return array[()] if array.ndim == 0 else array


def _check_axis(axis, ndim: int, name: str = "x") -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis 应为整数，实际为 {axis!r}；例如 axis=-1 表示最后一维。")
    if ndim == 0:
        raise ValueError(f"{name} 至少要有一维，实际是标量；请传入例如 np.array([1.0, 2.0])。")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"axis={axis} 超出范围：{name} 有 {ndim} 维，axis 应在 {-ndim} 到 {ndim - 1} 之间。"
        )
    return int(axis)


def _fill_limits(result: np.ndarray, x: np.ndarray, positive, negative) -> np.ndarray:
    """把公式里 ∞·0 产生的 NaN 换成 x → ±∞ 时的极限：x > 0 处取 positive，x < 0 处取 negative。

    只替换输入本身不是 NaN 的位置；NaN 输入仍得到 NaN。
    """
    spurious = np.isnan(result) & ~np.isnan(x)
    if not spurious.any():
        return result
    return np.where(spurious, np.where(x > 0, positive, negative), result)


def _check_same_shape(input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"input 与 target 的形状应相同，实际 input 为 {input.shape}，target 为 {target.shape}；"
            "请先把两者 reshape 成同一形状（例如都用 .reshape(-1)），不要依赖广播：(N, 1) 与 (N,) "
            "相减会广播成 (N, N)，损失会悄悄算错。"
        )


def _check_not_empty(array: np.ndarray, name: str) -> None:
    if array.size == 0:
        raise ValueError(f"{name} 为空（形状 {array.shape}）；请至少传入一个样本。")


def _check_range(array: np.ndarray, name: str, low: float, high: float, fix: str) -> None:
    inside = (array >= low) & (array <= high)  # NaN 也算不在范围内
    if not np.all(inside):
        bad = array[~inside]
        raise ValueError(
            f"{name} 的取值应在 [{low:g}, {high:g}] 之间，实际有 {bad.size} 个值不在范围内"
            f"（例如 {bad.flat[0]!r}）；{fix}"
        )


def _check_reduction(reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if reduction not in allowed:
        choices = "、".join(repr(r) for r in allowed)
        raise ValueError(f"reduction 应为 {choices} 之一，实际为 {reduction!r}。")


def _reduce(loss: np.ndarray, reduction: str):
    if reduction == "mean":
        return loss.mean()[()]
    if reduction == "sum":
        return loss.sum()[()]
    return _scalar_if_0d(loss)


def _element_weight(weight, shape: tuple[int, ...], dtype) -> np.ndarray:
    """把逐元素权重广播到损失的形状；广播不了时报错。"""
    weight = _as_float_array(weight, "weight").astype(dtype, copy=False)
    try:
        return np.broadcast_to(weight, shape)
    except ValueError as error:
        raise ValueError(
            f"weight 的形状 {weight.shape} 无法广播到 input 的形状 {shape}；"
            "请传入与 input 同形或可以广播的权重，例如形状 (N,) 或标量。"
        ) from error


# ---------------------------------------------------------------------------
# 激活函数与导数
# ---------------------------------------------------------------------------


def sigmoid(x):
    """计算 sigmoid σ(x) = 1 / (1 + e^{-x})，用不会上溢的分段写法。

    x ≥ 0 时算 1 / (1 + e^{-x})，x < 0 时算 e^{x} / (1 + e^{x})：指数部分总是 e^{-|x|} ≤ 1，
    所以 x = -1000 也不会溢出或告警。
    """
    x = _as_float_array(x, "x")
    z = np.exp(-np.abs(x))  # 0 < z ≤ 1

    result = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return _scalar_if_0d(result)


def sigmoid_derivative(x):
    """计算 sigmoid 的导数 σ'(x) = σ(x)(1 - σ(x))；最大值为 σ'(0) = 0.25。"""
    s = np.asarray(sigmoid(x))
    return _scalar_if_0d(s * (1 - s))


def tanh(x):
    """计算双曲正切 tanh(x) = (e^{x} - e^{-x}) / (e^{x} + e^{-x})，取值在 (-1, 1)。"""
    x = _as_float_array(x, "x")
    return _scalar_if_0d(np.tanh(x))


def tanh_derivative(x):
    """计算 tanh 的导数 1 - tanh(x)^2；最大值为 1（在 x = 0 处）。"""
    t = np.asarray(tanh(x))
    return _scalar_if_0d(1 - t * t)


def relu(x):
    """计算 ReLU(x) = max(0, x)。"""
    x = _as_float_array(x, "x")
    return _scalar_if_0d(np.maximum(x, 0))


def relu_derivative(x):
    """计算 ReLU 的导数：x > 0 时为 1，否则为 0（x = 0 处取 0，与 PyTorch 的 autograd 相同）。"""
    x = _as_float_array(x, "x")
    return _scalar_if_0d((x > 0).astype(x.dtype))


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(
            f"approximate 应为 'none'（精确 GELU，用误差函数）或 'tanh'（tanh 近似），"
            f"实际为 {approximate!r}。"
        )


def gelu(x, approximate: str = "none"):
    """计算 GELU（Gaussian error linear unit）：x·Φ(x)，Φ 是标准正态分布的累积分布函数。

    approximate="none" 为精确公式 Φ(x) = erfc(-x/√2) / 2；approximate="tanh" 为 GPT-2 使用的
    tanh 近似 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))。参数名与取值同 torch.nn.functional.gelu。
    """
    _check_approximate(approximate)
    x = _as_float_array(x, "x")

    # x = ±∞（或 float32 的 x³ 上溢）时公式中出现 ∞·0，随后由 _fill_limits 换成极限值。
    with np.errstate(over="ignore", invalid="ignore"):
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_TANH_COEF * x**3)
            result = 0.5 * x * (1 + np.tanh(inner))
        else:
            # 用 erfc 而不是 1 + erf：x 很负时 1 + erf(x/√2) 会相减抵消，丢失精度。
            result = 0.5 * x * erfc(-x / _SQRT_2)
    result = _fill_limits(result, x, x, 0.0)  # gelu(+∞) = +∞，gelu(-∞) = 0
    return _scalar_if_0d(result.astype(x.dtype, copy=False))


def gelu_derivative(x, approximate: str = "none"):
    """计算 GELU 的导数：精确版为 Φ(x) + x·φ(x)，φ 是标准正态分布的密度；tanh 近似版按链式法则求导。"""
    _check_approximate(approximate)
    x = _as_float_array(x, "x")

    with np.errstate(over="ignore", invalid="ignore"):  # 同 gelu：∞·0 随后换成极限值
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_TANH_COEF * x**3)
            t = np.tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_COEF * x**2)
            result = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
        else:
            cdf = 0.5 * erfc(-x / _SQRT_2)
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)  # x 很大时下溢为 0，不告警
            result = cdf + x * pdf
    result = _fill_limits(result, x, 1.0, 0.0)  # 导数在 +∞ 处趋于 1，在 -∞ 处趋于 0
    return _scalar_if_0d(result.astype(x.dtype, copy=False))


def silu(x):
    """计算 SiLU（sigmoid linear unit，又名 Swish）：x·σ(x)。"""
    x = _as_float_array(x, "x")
    with np.errstate(invalid="ignore"):  # x = -∞ 时是 -∞·0，换成极限 0
        result = x * np.asarray(sigmoid(x))
    return _scalar_if_0d(_fill_limits(result, x, x, 0.0).astype(x.dtype, copy=False))


def silu_derivative(x):
    """计算 SiLU 的导数 σ(x)·(1 + x·(1 - σ(x)))。"""
    x = _as_float_array(x, "x")
    s = np.asarray(sigmoid(x))
    with np.errstate(invalid="ignore"):  # x = ±∞ 时出现 ∞·0，换成极限 1 与 0
        result = s * (1 + x * (1 - s))
    return _scalar_if_0d(_fill_limits(result, x, 1.0, 0.0).astype(x.dtype, copy=False))


# 名称 → (函数, 导数, 中文说明)，供笔记本与控件按名字查找。
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative, "sigmoid"),
    "tanh": (tanh, tanh_derivative, "tanh"),
    "relu": (relu, relu_derivative, "ReLU"),
    "gelu": (gelu, gelu_derivative, "GELU（精确，erf）"),
    "gelu_tanh": (
        lambda x: gelu(x, approximate="tanh"),
        lambda x: gelu_derivative(x, approximate="tanh"),
        "GELU（tanh 近似）",
    ),
    "silu": (silu, silu_derivative, "SiLU"),
}


# ---------------------------------------------------------------------------
# softmax 一族
# ---------------------------------------------------------------------------


def _stable_shift(x: np.ndarray, axis: int) -> np.ndarray:
    """返回沿 axis 的最大值（保持维度）；整行为 ±∞ 时改用 0，避免 ∞ - ∞。"""
    if x.shape[axis] == 0:
        raise ValueError(f"x 在 axis={axis} 上的长度为 0；softmax 至少需要一个元素。")
    shift = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(shift), shift, 0)


def logsumexp(x, axis: int = -1, keepdims: bool = False):
    """计算 log Σ_j exp(x_j)：先减去最大值 m，再算 m + log Σ_j exp(x_j - m)，不会上溢。

    某一行全是 -∞（例如被掩码全部遮住）时结果为 -∞，与 torch.logsumexp 相同。
    """
    x = _as_float_array(x, "x")
    axis = _check_axis(axis, x.ndim)
    shift = _stable_shift(x, axis)

    total = np.sum(np.exp(x - shift), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # 整行为 -∞ 时 log(0) = -∞，是期望的结果
        result = np.log(total) + shift
    if not keepdims:
        result = np.squeeze(result, axis=axis)
    return _scalar_if_0d(result)


def softmax(x, axis: int = -1):
    """沿 axis 计算 softmax：exp(x_i - m) / Σ_j exp(x_j - m)，m 为该行最大值。

    减去 m 不改变结果，却让最大的指数恰好是 e^0 = 1，因此不会上溢。
    非有限输入的处理与 torch.softmax 相同：-∞ 的概率为 0（用于掩码）；某一行全是 -∞，
    或含有 +∞ 或 NaN 时，这一整行都是 NaN。
    """
    x = _as_float_array(x, "x")
    axis = _check_axis(axis, x.ndim)
    shift = _stable_shift(x, axis)

    exps = np.exp(x - shift)
    with np.errstate(invalid="ignore"):  # 全 -∞ 的行是 0/0
        result = exps / np.sum(exps, axis=axis, keepdims=True)
    return _nan_rows_with_pos_inf(result, x, axis)


def _nan_rows_with_pos_inf(result: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """含 +∞ 的行整行记为 NaN（∞ - ∞ 没有定义），与 torch.softmax / torch.log_softmax 相同。"""
    pos_inf = np.any(np.isposinf(x), axis=axis, keepdims=True)
    if not pos_inf.any():
        return result
    return np.where(pos_inf, np.nan, result).astype(x.dtype, copy=False)


def log_softmax(x, axis: int = -1):
    """沿 axis 计算 log softmax：x_i - logsumexp(x)；即使某个概率下溢为 0，结果仍是有限值。

    非有限输入的处理同 softmax：全是 -∞ 或含有 +∞、NaN 的行整行为 NaN，与 torch.log_softmax 相同。
    """
    x = _as_float_array(x, "x")
    axis = _check_axis(axis, x.ndim)
    with np.errstate(invalid="ignore"):  # 全 -∞ 的行是 -∞ - (-∞) = NaN，与 torch 相同
        result = x - logsumexp(x, axis=axis, keepdims=True)
    return _nan_rows_with_pos_inf(result, x, axis)


# ---------------------------------------------------------------------------
# 损失函数
# ---------------------------------------------------------------------------


def mse_loss(input, target, reduction: str = "mean"):
    """计算均方误差（mean squared error，MSE）：(input - target)^2 的平均（或总和）。

    input 与 target 形状必须相同；reduction 为 "mean"、"sum" 或 "none"（逐元素）。
    参数名与顺序同 torch.nn.functional.mse_loss。差值或其平方超出浮点范围（例如 float32 中
    相差 1e20）时结果为 inf，不发出警告，与 torch 相同。
    """
    _check_reduction(reduction)
    input = _as_float_array(input, "input")
    target = _as_float_array(target, "target")
    _check_same_shape(input, target)
    _check_not_empty(input, "input")
    with np.errstate(over="ignore"):  # 上溢得到 inf，这正是要返回的结果
        return _reduce((input - target) ** 2, reduction)


def mse_loss_grad(input, target, reduction: str = "mean"):
    """返回 mse_loss 对 input 的梯度 2(input - target)/N（reduction="sum" 时不除以 N）。

    与 mse_loss 相同，上溢的元素为 ±inf，不发出警告。
    """
    _check_reduction(reduction, ("mean", "sum"))
    input = _as_float_array(input, "input")
    target = _as_float_array(target, "target")
    _check_same_shape(input, target)
    _check_not_empty(input, "input")

    with np.errstate(over="ignore"):
        grad = 2 * (input - target)
    return grad / input.size if reduction == "mean" else grad


def _check_binary_target(target: np.ndarray) -> None:
    _check_range(
        target, "target", 0.0, 1.0,
        "二元交叉熵的标签应为 0 或 1（或 0 到 1 之间的软标签）；多分类标签请改用 cross_entropy。",
    )


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """由预测概率计算二元交叉熵 -[y·log(p) + (1 - y)·log(1 - p)]。

    input 是 0 到 1 之间的概率，target 是同形的 0/1 标签。与 PyTorch 相同，log 的结果截断在 -100，
    因此 p 恰好为 0 或 1 时损失最大为 100 而不是无穷大。weight 逐元素缩放损失，
    "mean" 除以元素个数（不是权重之和，与 PyTorch 相同）。
    已有 logits 时请用 binary_cross_entropy_with_logits：它不经过概率，也就不会遇到 log(0)。
    """
    _check_reduction(reduction)
    input = _as_float_array(input, "input")
    target = _as_float_array(target, "target")
    _check_same_shape(input, target)
    _check_not_empty(input, "input")
    _check_range(
        input, "input", 0.0, 1.0,
        "input 应是 sigmoid 之后的概率；如果手里是 logits（未经 sigmoid 的分数），"
        "请改用 binary_cross_entropy_with_logits。",
    )
    _check_binary_target(target)

    with np.errstate(divide="ignore"):  # log(0) = -∞，随即截断为 -100
        log_p = np.maximum(np.log(input), _LOG_CLAMP)
        log_not_p = np.maximum(np.log1p(-input), _LOG_CLAMP)
    loss = -(target * log_p + (1 - target) * log_not_p)

    if weight is not None:
        loss = loss * _element_weight(weight, loss.shape, loss.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean"):
    """由 logits z 计算二元交叉熵，等于 binary_cross_entropy(sigmoid(z), y)，但数值稳定。

    用恒等式 loss = max(z, 0) - z·y + log(1 + e^{-|z|})：指数部分不超过 1，也从不计算 log(0)。
    weight 与 reduction 的含义同 binary_cross_entropy。z = ±∞ 时取极限：预测与标签一致
    （z = +∞ 且 y = 1，或 z = -∞ 且 y = 0）时损失为 0，否则为 +∞。
    """
    _check_reduction(reduction)
    input = _as_float_array(input, "input")
    target = _as_float_array(target, "target")
    _check_same_shape(input, target)
    _check_not_empty(input, "input")
    _check_binary_target(target)

    with np.errstate(invalid="ignore"):  # z = ±∞ 时公式里出现 ∞ - ∞，下面换成极限值
        loss = np.maximum(input, 0) - input * target + np.log1p(np.exp(-np.abs(input)))
    infinite = np.isinf(input)
    if infinite.any():
        agrees = target == (input > 0)
        loss = np.where(infinite, np.where(agrees, 0.0, np.inf), loss).astype(loss.dtype, copy=False)

    if weight is not None:
        loss = loss * _element_weight(weight, loss.shape, loss.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits_grad(input, target, weight=None, reduction: str = "mean"):
    """返回 binary_cross_entropy_with_logits 对 logits 的梯度 (σ(z) - y)·w / N。"""
    _check_reduction(reduction, ("mean", "sum"))
    input = _as_float_array(input, "input")
    target = _as_float_array(target, "target")
    _check_same_shape(input, target)
    _check_not_empty(input, "input")
    _check_binary_target(target)

    grad = np.asarray(sigmoid(input)) - target
    if weight is not None:
        grad = grad * _element_weight(weight, grad.shape, grad.dtype)
    return grad / input.size if reduction == "mean" else grad


def _class_indices(input: np.ndarray, target) -> np.ndarray:
    """把 target（整数类别下标，或与 input 同形的 one-hot）统一转换为整数下标数组。"""
    n_classes = input.shape[-1]
    try:
        target = np.asarray(target)
    except (TypeError, ValueError) as error:
        raise TypeError(f"target 无法转换为数组（{error}）；请传入整数类别下标或 one-hot 数组。") from error

    if target.shape == input.shape:
        return _one_hot_to_indices(target)

    if target.shape != input.shape[:-1]:
        raise ValueError(
            f"target 的形状应为 {input.shape[:-1]}（整数类别下标）或 {input.shape}（one-hot），"
            f"实际为 {target.shape}；input 的最后一维应是类别数 C，当前 C={n_classes}。"
        )
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"target（类别下标）应为整数数组，实际的元素类型是 {target.dtype}；"
            "请用 target.astype(int) 转换，或传入与 input 同形的 one-hot 数组。"
        )
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        raise ValueError(
            f"target 中的类别下标应在 0 到 {n_classes - 1} 之间（input 的最后一维有 C={n_classes} 类），"
            f"实际最小为 {target.min()}、最大为 {target.max()}；请检查标签编码是否从 0 开始，"
            "或 input 的最后一维是否是类别数。"
        )
    return target.astype(np.intp)


def _one_hot_to_indices(target: np.ndarray) -> np.ndarray:
    if target.dtype.kind not in "biuf":
        raise TypeError(f"target（one-hot）应为数值数组，实际的元素类型是 {target.dtype}。")
    is_binary = np.all((target == 0) | (target == 1))
    if not is_binary or not np.all(target.sum(axis=-1) == 1):
        raise ValueError(
            "与 input 同形的 target 被当作 one-hot 标签，但它的每一行应恰好有一个 1、其余为 0；"
            "若是整数类别下标，请传入形状为 input.shape[:-1] 的整数数组。本函数不支持软标签。"
        )
    return np.argmax(target, axis=-1)


def _class_weight(weight, n_classes: int, dtype) -> np.ndarray:
    weight = _as_float_array(weight, "weight").astype(dtype, copy=False)
    if weight.shape != (n_classes,):
        raise ValueError(
            f"weight 应是每个类别一个权重，形状为 ({n_classes},)，实际为 {weight.shape}；"
            "请按类别编号的顺序给出 C 个非负数。"
        )
    _check_range(weight, "weight", 0.0, np.inf, "类别权重应为非负数。")
    return weight


def _sample_weights(input: np.ndarray, target, weight):
    """返回（类别下标，每个样本的权重，均值的分母）。"""
    _check_not_empty(input, "input")
    indices = _class_indices(input, target)
    if weight is None:
        sample_weight = np.ones(indices.shape, dtype=input.dtype)
    else:
        sample_weight = _class_weight(weight, input.shape[-1], input.dtype)[indices]

    total = sample_weight.sum()
    if total == 0:
        raise ValueError("target 中出现的类别的权重之和为 0，无法求加权平均；请检查 weight。")
    return indices, sample_weight, total


def cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """由 logits 计算分类交叉熵 -log softmax(z)_y = logsumexp(z) - z_y。

    input 形状为 (..., C)，最后一维是 C 个类别的 logits；target 是形状 (...) 的整数类别下标，
    或与 input 同形的 one-hot 数组。weight 是形状 (C,) 的类别权重：样本 i 的损失乘以 w[y_i]，
    "mean" 除以 Σ w[y_i]（与 PyTorch 对整数标签的做法相同），"sum" 不除。
    计算经过 log_softmax，从不取 log(0)。

    NOTE: PyTorch 把类别放在第 1 维（(N, C, d1, ...)），这里放在最后一维，与 softmax(axis=-1)
    和语言模型输出的 (B, T, V) 一致；二维输入 (N, C) 时两者相同。另外，PyTorch 收到浮点的
    概率标签时，加权平均除以样本数而不是权重之和；这里把 one-hot 先转成下标，两种标签结果一致。
    """
    _check_reduction(reduction)
    input = _as_float_array(input, "input")
    _check_axis(-1, input.ndim, "input")
    indices, sample_weight, total = _sample_weights(input, target, weight)

    log_probs = np.asarray(log_softmax(input, axis=-1))
    nll = -np.take_along_axis(log_probs, indices[..., None], axis=-1)[..., 0]
    loss = sample_weight * nll

    if reduction == "mean":
        return (loss.sum() / total)[()]
    return _reduce(loss, reduction)


def cross_entropy_grad(input, target, weight=None, reduction: str = "mean"):
    """返回 cross_entropy 对 logits 的梯度 w_i·(softmax(z_i) - onehot(y_i)) / Σ w，形状同 input。

    这就是 softmax 加交叉熵的梯度 p - y；reduction="sum" 时不除以 Σ w。
    """
    _check_reduction(reduction, ("mean", "sum"))
    input = _as_float_array(input, "input")
    _check_axis(-1, input.ndim, "input")
    indices, sample_weight, total = _sample_weights(input, target, weight)

    one_hot = np.eye(input.shape[-1], dtype=input.dtype)[indices]
    grad = (softmax(input, axis=-1) - one_hot) * sample_weight[..., None]
    return grad / total if reduction == "mean" else grad
