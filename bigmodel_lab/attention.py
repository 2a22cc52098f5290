"""用 NumPy 实现注意力：缩放点积注意力、多头的拆分与合并、多头注意力，以及 pre-LN 解码器块。

笔记本 04–06 逐步推导这里的每个函数；之后的笔记本直接导入，不再重复。
权重按数学写法 ``Y = X @ W + b`` 存放，W 的形状是（输入维度, 输出维度）。
torch.nn.Linear 的 weight 形状是（输出维度, 输入维度），从 PyTorch 取来的权重要先转置，
block_params_from_state_dict 与 gpt_params_from_state_dict 会替你转置。
"""

from __future__ import annotations

import math

import numpy as np

from .functions import gelu

LAYER_NORM_EPS = 1e-5  # 与 torch.nn.LayerNorm 的默认值相同

# ---------------------------------------------------------------- 掩码


def causal_mask(length_q: int, length_k: int | None = None) -> np.ndarray:
    """返回形状 (L, S) 的因果掩码（causal mask）：True 表示可以关注，第 i 个查询只看位置 0..i。

    与 torch.nn.functional.scaled_dot_product_attention(is_causal=True) 一样按左上角对齐，
    即 L != S 时仍是 np.tril(np.ones((L, S)))。
    """
    length_k = length_q if length_k is None else length_k
    for name, value in (("length_q", length_q), ("length_k", length_k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} 应为正整数（序列长度），实际为 {value!r}；例如 causal_mask(5)。")
    return np.tril(np.ones((int(length_q), int(length_k)), dtype=bool))


def padding_mask(lengths, max_length: int) -> np.ndarray:
    """由每条序列的真实长度返回填充掩码（padding mask），形状 (B, 1, max_length)。

    True 表示该位置是真实词元、可以被关注，False 表示填充位置。中间那一维是 1，
    因此它能广播到注意力分数 (B, L, S)：每个查询都看不到填充出来的键。
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths 应为一维整数数组（每条序列的长度），实际为 {lengths!r}；例如 [5, 3]。")
    if np.any(lengths < 1) or np.any(lengths > max_length):
        raise ValueError(
            f"lengths 中的每个长度应在 1 到 max_length={max_length} 之间，实际为 {lengths.tolist()}；"
            "长度为 0 的序列没有可关注的位置，请先把它从批次中去掉。"
        )
    positions = np.arange(max_length)
    return (positions[None, :] < lengths[:, None])[:, None, :]


# ---------------------------------------------------------------- 缩放点积注意力


def _as_float_array(name: str, value) -> np.ndarray:
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.floating):
        return array
    if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
        return array.astype(np.float64)
    raise TypeError(f"{name} 应为浮点数组，实际的数据类型为 {array.dtype}；请传入 np.ndarray。")


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray | None) -> None:
    arrays = {"q": q, "k": k} if v is None else {"q": q, "k": k, "v": v}
    for name, array in arrays.items():
        if array.ndim < 2:
            raise ValueError(
                f"{name} 至少应有两维 (..., 序列长度, 特征维度)，实际形状为 {array.shape}；"
                f"单条序列也要写成二维，例如 {name}[None, :]。"
            )
    if k.shape[-2] == 0:
        raise ValueError(
            f"k 的序列长度 S 为 0（k 的形状 {k.shape}）：没有可关注的位置，softmax 的分母为 0。"
            "请至少给出一个键值对。"
        )
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(
            f"k 的最后一维应等于 q 的最后一维 d_k={q.shape[-1]}，实际为 {k.shape[-1]}"
            f"（q 的形状 {q.shape}，k 的形状 {k.shape}）；请检查 W_Q 与 W_K 是否投影到同一维度 d_k。"
        )
    if v is not None and v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"v 的倒数第二维（键值对的个数 S）应等于 k 的 S={k.shape[-2]}，实际为 {v.shape[-2]}"
            f"（k 的形状 {k.shape}，v 的形状 {v.shape}）；K 与 V 必须来自同一组位置。"
        )
    batch_shapes = [array.shape[:-2] for array in arrays.values()]
    try:
        np.broadcast_shapes(*batch_shapes)
    except ValueError:
        shapes = "、".join(str(shape) for shape in batch_shapes)
        raise ValueError(
            f"{'、'.join(arrays)} 的批次维度 {shapes} 无法广播；请让它们相同，或在要共享的维度上写 1。"
        ) from None


def _prepare_mask(mask, scores_shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.issubdtype(mask.dtype, np.floating):
        raise TypeError(
            f"mask 的数据类型应为 bool（True 表示可以关注）或浮点（直接加到分数上），实际为 {mask.dtype}；"
            "若 1 表示可以关注，请传入 mask.astype(bool)。"
        )
    try:
        broadcast = np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(scores_shape):
        length_q, length_k = scores_shape[-2:]
        raise ValueError(
            f"mask 的形状 {mask.shape} 无法广播到注意力分数的形状 {tuple(scores_shape)}（..., L, S）；"
            f"mask 的最后两维应为 (L, S)=({length_q}, {length_k})，或在要共享的维度上写 1，"
            "例如填充掩码写成 (批大小, 1, S)。"
        )
    return mask


def _raise_if_row_fully_masked(row_max: np.ndarray) -> None:
    fully_masked = np.isneginf(row_max[..., 0])
    if fully_masked.any():
        where = tuple(int(i) for i in np.argwhere(fully_masked)[0])
        raise ValueError(
            f"掩码屏蔽了一整行：下标 {where} 处的查询看不到任何位置（共 {int(fully_masked.sum())} 行如此），"
            "softmax 的分母为 0，结果会是 NaN。请让每个查询至少能关注一个位置，"
            "例如填充掩码只屏蔽键（形状 (批大小, 1, S)），不要屏蔽整行查询。"
        )


def _masked_scores(q, k, mask, is_causal: bool, scale) -> np.ndarray:
    """返回加上掩码后的分数 (q * scale) @ k^T，形状 (..., L, S)；屏蔽的位置为 -inf。"""
    d_k = q.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(d_k)
    elif isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating)) or not scale > 0:
        raise ValueError(f"scale 应为正数（默认 1/√d_k），实际为 {scale!r}；例如 scale=1/8。")

    # 先缩放 q（L×d_k 个元素）而不是分数（L×S 个元素）：结果相同，运算更少。
    # 点积超出数据类型的范围时得到 inf，不在这里警告，由 _exp_scores_stable 报出中文错误。
    with np.errstate(over="ignore", invalid="ignore"):
        scores = np.matmul(q * q.dtype.type(scale), k.swapaxes(-1, -2))  # (..., L, S)

    if is_causal:
        length_q, length_k = scores.shape[-2:]
        np.copyto(scores, -np.inf, where=~causal_mask(length_q, length_k))
    if mask is not None:
        mask = _prepare_mask(mask, scores.shape)
        if mask.dtype == bool:
            np.copyto(scores, -np.inf, where=~mask)
        else:
            scores += mask
    return scores


def _row_sums(numerator: np.ndarray) -> np.ndarray:
    """按行求和，返回 (..., L, 1)。

    np.einsum 的这种求和在 2 核 CPU 上比 numerator.sum(axis=-1) 快约一倍，结果只差舍入误差。
    """
    return np.einsum("...ls->...l", numerator)[..., None]


def _row_sums_are_safe(row_sum: np.ndarray) -> bool:
    """检查不减行最大值直接取 exp 之后，每行的和能否直接使用。

    和为 inf 或 NaN：有分数太大或输入含 NaN。和小于 eps：整行分数都很负，
    exp 的值很小，再乘以 V 可能落进次正规数而丢精度（整行被屏蔽时和正好是 0）。
    这些情况都要退回先减最大值的写法。
    """
    info = np.finfo(row_sum.dtype)
    return bool(np.all((row_sum >= info.eps) & (row_sum <= info.max)))


def _exp_scores_fast(q, k, mask, is_causal: bool, scale) -> tuple[np.ndarray, np.ndarray] | None:
    """不减行最大值，直接返回 softmax 的分子 exp(分数)（形状 (..., L, S)）与行和（(..., L, 1)）。

    softmax 对每行减去同一个数，结果不变。减去行最大值只是为了让 exp 不上溢。
    注意力分数通常不大，所以先不减，省下求最大值与相减这两遍对整个分数矩阵的读写。
    行和超出安全范围时返回 None，调用者改用 _exp_scores_stable。
    """
    scores = _masked_scores(q, k, mask, is_causal, scale)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        np.exp(scores, out=scores)  # 就地计算，不再分配 (..., L, S) 的新数组
        row_sum = _row_sums(scores)
    return (scores, row_sum) if _row_sums_are_safe(row_sum) else None


def _raise_if_scores_not_finite(scores: np.ndarray) -> None:
    bad = np.isnan(scores) | np.isposinf(scores)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"注意力分数在下标 {where} 处是 {scores[where]}（共 {int(bad.sum())} 个 NaN 或 +inf）："
            f"q 或 k 含 NaN/inf，或者它们的点积超出了 {scores.dtype} 的范围。"
            "请检查输入；数值很大时可先缩小输入，或改用 float64。"
        )


def _exp_scores_stable(q, k, mask, is_causal: bool, scale) -> tuple[np.ndarray, np.ndarray]:
    """返回 softmax 的分子与行和，先减去行最大值再取 exp。分数有 NaN、+inf 或整行被屏蔽时抛出 ValueError。"""
    scores = _masked_scores(q, k, mask, is_causal, scale)
    _raise_if_scores_not_finite(scores)
    row_max = scores.max(axis=-1, keepdims=True)
    _raise_if_row_fully_masked(row_max)
    scores -= row_max  # 减去每行最大值：最大的一项变成 exp(0) = 1，不会上溢
    np.exp(scores, out=scores)
    return scores, _row_sums(scores)


def _exp_scores(q, k, mask, is_causal: bool, scale) -> tuple[np.ndarray, np.ndarray]:
    """返回 softmax 的分子与行和：先试不减行最大值的快速写法，不安全时改用稳妥写法。"""
    fast = _exp_scores_fast(q, k, mask, is_causal, scale)
    return fast if fast is not None else _exp_scores_stable(q, k, mask, is_causal, scale)


def attention_weights(q, k, mask=None, is_causal: bool = False, scale: float | None = None) -> np.ndarray:
    """计算注意力权重 softmax(Q Kᵀ · scale)，形状 (..., L, S)，每行之和为 1。

    参数与 scaled_dot_product_attention 相同（没有 v）。整行都被屏蔽时抛出 ValueError。
    """
    q = _as_float_array("q", q)
    k = _as_float_array("k", k)
    _check_qkv(q, k, None)
    numerator, row_sum = _exp_scores(q, k, mask, is_causal, scale)
    numerator /= row_sum
    return numerator


def scaled_dot_product_attention(
    q,
    k,
    v,
    mask=None,
    is_causal: bool = False,
    scale: float | None = None,
    return_weights: bool = False,
):
    """计算缩放点积注意力（scaled dot-product attention）softmax(Q Kᵀ / √d_k + 掩码) V。

    q 的形状 (..., L, d_k)，k 的形状 (..., S, d_k)，v 的形状 (..., S, d_v)；前面的批次维度
    （批大小、头数……）可以任意多，按广播规则对齐。返回 (..., L, d_v)；return_weights=True 时
    返回（输出, 权重 (..., L, S)）。

    mask 与 torch.nn.functional.scaled_dot_product_attention 的 attn_mask 约定相同：
    布尔掩码中 True 表示可以关注、False 表示屏蔽（在 softmax 之前把分数设为 -inf）；
    浮点掩码直接加到分数上（-inf 即屏蔽）。mask 要能广播到 (..., L, S)。
    注意 torch.nn.MultiheadAttention 的布尔 attn_mask 约定相反（True 表示屏蔽）。
    is_causal=True 时再叠加左上角对齐的因果掩码；与 PyTorch 不同，这里允许同时给出 mask。
    scale 默认为 1/√d_k。

    形状不匹配时抛出 ValueError，说明哪个参数、期望与实际形状；某个查询的整行都被屏蔽时
    抛出 ValueError（否则 softmax 会得到 NaN）。
    """
    q = _as_float_array("q", q)
    k = _as_float_array("k", k)
    v = _as_float_array("v", v)
    _check_qkv(q, k, v)
    if not return_weights:
        fast = _exp_scores_fast(q, k, mask, is_causal, scale)
        if fast is not None:
            numerator, row_sum = fast
            # 先乘 V 再除以行和：除法作用在 (L, d_v) 而不是 (L, S) 上，结果相同。
            # 没有归一化的分子可能很大，乘以 V 后会上溢，所以要检查，上溢了就改用稳妥写法。
            with np.errstate(over="ignore", invalid="ignore"):
                output = np.matmul(numerator, v)  # (..., L, d_v)
            if np.isfinite(output).all():
                output /= row_sum
                return output

    numerator, row_sum = _exp_scores(q, k, mask, is_causal, scale)
    numerator /= row_sum  # 归一化后的权重都不大于 1，再乘 V 不会因为分子太大而上溢
    output = np.matmul(numerator, v)
    return (output, numerator) if return_weights else output


# ---------------------------------------------------------------- 多头注意力


def _check_num_heads(d_model: int, num_heads) -> int:
    if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) or num_heads < 1:
        raise ValueError(f"num_heads 应为正整数，实际为 {num_heads!r}；例如 num_heads=2。")
    if d_model % num_heads:
        divisors = [n for n in range(1, d_model + 1) if d_model % n == 0]
        raise ValueError(
            f"d_model={d_model} 不能被 num_heads={num_heads} 整除，每个头的维度 d_k = d_model / num_heads "
            f"必须是整数；请把 num_heads 改为 d_model 的约数之一：{divisors}。"
        )
    return int(num_heads)


def split_heads(x, num_heads: int) -> np.ndarray:
    """把 (..., T, d_model) 拆成 num_heads 个头，返回 (..., h, T, d_k)，d_k = d_model / h。

    先 reshape 成 (..., T, h, d_k)：最后一维按顺序切成 h 段，每段是一个头。
    再交换 T 与 h 两维，让每个头的 (T, d_k) 矩阵排在一起，供批量矩阵乘法使用。返回的是视图，不复制数据。
    """
    x = _as_float_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x 至少应有两维 (..., T, d_model)，实际形状为 {x.shape}。")
    *batch, length, d_model = x.shape
    num_heads = _check_num_heads(d_model, num_heads)
    return x.reshape(*batch, length, num_heads, d_model // num_heads).swapaxes(-3, -2)


def merge_heads(x) -> np.ndarray:
    """把 (..., h, T, d_k) 的各头拼回 (..., T, h·d_k)，是 split_heads 的逆运算。

    必须先把 h 与 T 换回来再 reshape：直接 reshape 会把不同位置的向量拼在一起。
    换轴后的数组在内存中不连续，np.reshape 会自动复制一份；PyTorch 的 view 则要求先调用 contiguous()。
    """
    x = _as_float_array("x", x)
    if x.ndim < 3:
        raise ValueError(f"x 至少应有三维 (..., h, T, d_k)，实际形状为 {x.shape}；它应是 split_heads 的输出。")
    x = x.swapaxes(-3, -2)  # (..., T, h, d_k)
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


def _check_weight(name: str, weight: np.ndarray, rows: int, cols: int | None, rows_meaning: str) -> None:
    if weight.ndim != 2 or weight.shape[0] != rows or (cols is not None and weight.shape[1] != cols):
        expected = f"({rows_meaning}={rows}, {'任意' if cols is None else cols})"
        raise ValueError(
            f"{name} 的形状应为 {expected}，实际为 {weight.shape}；这里按 Y = X @ W 的约定，"
            "W 的第一维等于输入维度。若权重取自 torch.nn.Linear，请先转置（weight.T）。"
        )


def _check_bias(name: str, bias, size: int) -> np.ndarray | None:
    if bias is None:
        return None
    bias = _as_float_array(name, bias)
    if bias.shape != (size,):
        raise ValueError(f"{name} 的形状应为 ({size},)，实际为 {bias.shape}；偏置的长度等于对应权重的输出维度。")
    return bias


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    y = x @ weight
    if bias is not None:
        y += bias
    return y


def multi_head_attention(
    query,
    key,
    value,
    num_heads: int,
    w_q,
    w_k,
    w_v,
    w_o,
    b_q=None,
    b_k=None,
    b_v=None,
    b_o=None,
    mask=None,
    is_causal: bool = False,
    return_weights: bool = False,
):
    """计算多头注意力（multi-head attention）MultiHead(Q, K, V) = Concat(head_1, …, head_h) W^O。

    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)。权重按 Y = X @ W 存放：w_q、w_k、w_v 的形状
    为（输入维度, d_model），第 i 个头用第 i 段 d_k = d_model / h 列；w_o 的形状为 (d_model, 输出维度)。
    偏置可省略。query 的形状 (..., L, 输入维度)，key 与 value 的形状 (..., S, 输入维度)。

    mask 与 is_causal 的含义见 scaled_dot_product_attention（布尔 True 表示可以关注）。
    至少三维、与 query 的维数相同的 mask（如 (B, L, S) 或填充掩码 (B, 1, S)）会在批次维度之后插入
    头的维度，对所有头共用；二维的 (L, S) 直接广播。要给每个头不同的掩码，请写全 (B, h, L, S)。
    返回 (..., L, 输出维度)；return_weights=True 时返回（输出, 各头权重 (..., h, L, S)）。
    """
    query = _as_float_array("query", query)
    key = _as_float_array("key", key)
    value = _as_float_array("value", value)
    w_q, w_k, w_v, w_o = (_as_float_array(n, w) for n, w in zip(("w_q", "w_k", "w_v", "w_o"), (w_q, w_k, w_v, w_o)))

    _check_weight("w_q", w_q, query.shape[-1], None, "query 的最后一维")
    _check_weight("w_k", w_k, key.shape[-1], None, "key 的最后一维")
    _check_weight("w_v", w_v, value.shape[-1], None, "value 的最后一维")
    widths = [w.shape[1] for w in (w_q, w_k, w_v)]
    if len(set(widths)) > 1:
        raise ValueError(
            f"w_q、w_k、w_v 的第二维（投影后的宽度 d_model）应相同，实际为 {widths[0]}、{widths[1]}、{widths[2]}"
            f"（形状 {w_q.shape}、{w_k.shape}、{w_v.shape}）；请检查哪个权重的形状写错了。"
            "若权重取自 torch.nn.Linear，请先转置（weight.T）。"
        )
    d_model = widths[0]
    _check_weight("w_o", w_o, d_model, None, "d_model")
    _check_num_heads(d_model, num_heads)
    b_q, b_k, b_v = (_check_bias(n, b, d_model) for n, b in zip(("b_q", "b_k", "b_v"), (b_q, b_k, b_v)))
    b_o = _check_bias("b_o", b_o, w_o.shape[1])

    q = split_heads(_linear(query, w_q, b_q), num_heads)  # (..., h, L, d_k)
    k = split_heads(_linear(key, w_k, b_k), num_heads)  # (..., h, S, d_k)
    v = split_heads(_linear(value, w_v, b_v), num_heads)  # (..., h, S, d_k)

    if mask is not None:
        mask = np.asarray(mask)
        if mask.ndim >= 3 and mask.ndim == q.ndim - 1:
            mask = mask[..., None, :, :]  # (..., L, S) -> (..., 1, L, S)，所有头共用

    heads, weights = scaled_dot_product_attention(q, k, v, mask, is_causal, return_weights=True)
    output = _linear(merge_heads(heads), w_o, b_o)  # (..., L, 输出维度)
    return (output, weights) if return_weights else output


# ---------------------------------------------------------------- 解码器块


def layer_norm(x, weight=None, bias=None, eps: float = LAYER_NORM_EPS) -> np.ndarray:
    """对最后一维做层归一化（layer normalization）：(x - 均值) / √(方差 + eps) · weight + bias。

    方差用有偏估计（除以 n），与 torch.nn.LayerNorm 相同。weight、bias 可省略。
    """
    x = _as_float_array("x", x)
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(variance + eps)
    if weight is not None:
        y = y * _check_bias("weight", weight, x.shape[-1])
    if bias is not None:
        y = y + _check_bias("bias", bias, x.shape[-1])
    return y


def feed_forward(x, w_fc, b_fc, w_proj, b_proj) -> np.ndarray:
    """计算前馈网络（feed-forward network）GELU(x W_fc + b_fc) W_proj + b_proj，逐位置独立作用。

    GELU 用精确的 erf 形式（functions.gelu，笔记本 01 推导），与 torch.nn.GELU() 的默认形式相同。
    """
    return _linear(gelu(_linear(x, w_fc, b_fc)), w_proj, b_proj)


def causal_self_attention(x, w_qkv, b_qkv, w_o, b_o, num_heads: int) -> np.ndarray:
    """计算带因果掩码的多头自注意力，Q、K、V 由同一个矩阵 w_qkv（形状 (d, 3d)）一次投影得到。

    w_qkv 的列依次是 W_Q、W_K、W_V，与 gpt.CausalSelfAttention 的 qkv 层（转置后）一致。
    """
    x = _as_float_array("x", x)
    w_qkv = _as_float_array("w_qkv", w_qkv)
    d_model = x.shape[-1]
    _check_weight("w_qkv", w_qkv, d_model, 3 * d_model, "d_model")
    w_q, w_k, w_v = np.split(w_qkv, 3, axis=1)
    b_q = b_k = b_v = None
    if b_qkv is not None:
        b_q, b_k, b_v = np.split(_check_bias("b_qkv", b_qkv, 3 * d_model), 3)
    return multi_head_attention(x, x, x, num_heads, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, is_causal=True)


# state_dict 中的键 -> decoder_block 的参数名；Linear 的权重需要转置。
_BLOCK_KEY_MAP = {
    "ln1.weight": "ln1_weight",
    "ln1.bias": "ln1_bias",
    "attn.qkv.weight": "w_qkv",
    "attn.qkv.bias": "b_qkv",
    "attn.proj.weight": "w_o",
    "attn.proj.bias": "b_o",
    "ln2.weight": "ln2_weight",
    "ln2.bias": "ln2_bias",
    "mlp.fc.weight": "w_fc",
    "mlp.fc.bias": "b_fc",
    "mlp.proj.weight": "w_proj",
    "mlp.proj.bias": "b_proj",
}
_BLOCK_PARAM_NAMES = tuple(_BLOCK_KEY_MAP.values())
BLOCK_STATE_KEYS = tuple(_BLOCK_KEY_MAP)  # gpt.Block 的 state_dict 的全部键
_BIAS_KEYS = {key for key in _BLOCK_KEY_MAP if key.endswith(".bias")}


def decoder_block(x, params: dict, num_heads: int, eps: float = LAYER_NORM_EPS) -> np.ndarray:
    """计算一个 pre-LN 解码器块：x + 注意力(LN1(x))，再 + 前馈网络(LN2(·))，形状保持 (..., T, d)。

    params 的键：ln1_weight ln1_bias w_qkv b_qkv w_o b_o ln2_weight ln2_bias w_fc b_fc w_proj b_proj
    （偏置可为 None），通常由 block_params_from_state_dict 从 gpt.Block 的 state_dict 转换而来。
    """
    missing = [name for name in _BLOCK_PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(f"params 缺少 {missing}；请用 block_params_from_state_dict(block.state_dict()) 生成。")
    x = _as_float_array("x", x)

    normalized = layer_norm(x, params["ln1_weight"], params["ln1_bias"], eps)
    x = x + causal_self_attention(
        normalized, params["w_qkv"], params["b_qkv"], params["w_o"], params["b_o"], num_heads
    )

    normalized = layer_norm(x, params["ln2_weight"], params["ln2_bias"], eps)
    return x + feed_forward(normalized, params["w_fc"], params["b_fc"], params["w_proj"], params["b_proj"])


def _to_numpy(value, dtype) -> np.ndarray:
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=dtype)


def block_params_from_state_dict(state_dict, prefix: str = "", dtype=np.float64) -> dict:
    """把 gpt.Block 的 state_dict 转成 decoder_block 的参数字典（NumPy 数组，Linear 权重已转置）。

    prefix 用于从整个模型的 state_dict 中取某一块，例如 "blocks.0."。bias=False 的模型没有偏置键，
    对应参数为 None。
    """
    params = {}
    for key, name in _BLOCK_KEY_MAP.items():
        full_key = prefix + key
        if full_key not in state_dict:
            if key in _BIAS_KEYS:
                params[name] = None
                continue
            raise ValueError(
                f"state_dict 中缺少键 {full_key!r}；应传入 gpt.Block 的 state_dict()，"
                "若传入的是整个 GPT 的 state_dict，请指定 prefix，例如 prefix='blocks.0.'。"
            )
        array = _to_numpy(state_dict[full_key], dtype)
        params[name] = array.T if name.startswith("w_") else array
    return params


def gpt_params_from_state_dict(state_dict, dtype=np.float64) -> dict:
    """把 gpt.GPT 的 state_dict 转成 gpt_forward 的参数字典：tok_emb、pos_emb、blocks、ln_f_weight、ln_f_bias。"""
    for key in ("tok_emb.weight", "pos_emb.weight", "ln_f.weight"):
        if key not in state_dict:
            raise ValueError(f"state_dict 中缺少键 {key!r}；应传入 gpt.GPT 的 state_dict()。")
    layers = sorted({int(key.split(".")[1]) for key in state_dict if key.startswith("blocks.")})
    ln_f_bias = state_dict.get("ln_f.bias")
    return {
        "tok_emb": _to_numpy(state_dict["tok_emb.weight"], dtype),
        "pos_emb": _to_numpy(state_dict["pos_emb.weight"], dtype),
        "blocks": [block_params_from_state_dict(state_dict, f"blocks.{i}.", dtype) for i in layers],
        "ln_f_weight": _to_numpy(state_dict["ln_f.weight"], dtype),
        "ln_f_bias": None if ln_f_bias is None else _to_numpy(ln_f_bias, dtype),
    }


def gpt_forward(idx, params: dict, num_heads: int, eps: float = LAYER_NORM_EPS) -> np.ndarray:
    """用 NumPy 计算因果语言模型的前向传播，返回下一个词元的 logits，形状 (B, T, 词表大小)。

    词元嵌入 + 可学习位置嵌入 → 若干解码器块 → 最后的层归一化 → 与词元嵌入共享权重的输出层，
    与 gpt.GPT.forward 相同。idx 是形状 (B, T) 的整数编号，T 不超过位置嵌入的行数。
    """
    idx = np.asarray(idx)
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"idx 应为形状 (B, T) 的整数数组，实际形状 {idx.shape}、类型 {idx.dtype}；单条序列请写 idx[None, :]。")
    context_length = params["pos_emb"].shape[0]
    if idx.shape[1] > context_length:
        raise ValueError(f"序列长度 T={idx.shape[1]} 超过了上下文长度 {context_length}；请截取最后 {context_length} 个词元。")

    x = params["tok_emb"][idx] + params["pos_emb"][: idx.shape[1]]  # (B, T, d)
    for block in params["blocks"]:
        x = decoder_block(x, block, num_heads, eps)
    x = layer_norm(x, params["ln_f_weight"], params["ln_f_bias"], eps)
    return x @ params["tok_emb"].T  # (B, T, V)：输出层与词元嵌入共享权重


def sinusoidal_positional_encoding(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """返回正弦位置编码（sinusoidal positional encoding），形状 (length, d_model)。

    PE[p, 2i] = sin(p / base^(2i/d_model))，PE[p, 2i+1] = cos(p / base^(2i/d_model))，
    出自 Vaswani 等人 2017 年的 "Attention Is All You Need"。d_model 须为偶数。
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length 应为正整数（位置个数），实际为 {length!r}；例如 length=64。")
    if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or d_model < 2 or d_model % 2:
        raise ValueError(f"d_model 应为正偶数（sin 与 cos 成对出现），实际为 {d_model!r}；例如 d_model=128。")
    positions = np.arange(length)[:, None]  # (length, 1)
    frequencies = base ** (-np.arange(0, d_model, 2) / d_model)  # (d_model/2,)
    encoding = np.empty((length, d_model))
    encoding[:, 0::2] = np.sin(positions * frequencies)
    encoding[:, 1::2] = np.cos(positions * frequencies)
    return encoding
