import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from bigmodel_lab.attention import (
    attention_weights,
    causal_mask,
    merge_heads,
    multi_head_attention,
    padding_mask,
    scaled_dot_product_attention,
    split_heads,
)

TOLERANCE = 1e-10


def random_qkv(batch=(2, 3), length_q=5, length_k=7, d_k=4, d_v=6, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((*batch, length_q, d_k))
    k = rng.standard_normal((*batch, length_k, d_k))
    v = rng.standard_normal((*batch, length_k, d_v))
    return q, k, v


def torch_sdpa(q, k, v, **kwargs):
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in (q, k, v)]
    if "attn_mask" in kwargs:
        kwargs["attn_mask"] = torch.from_numpy(np.asarray(kwargs["attn_mask"]))
    return F.scaled_dot_product_attention(*tensors, **kwargs).numpy()


def max_difference(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# ---------------------------------------------------------------- 与 torch 一致


def test_sdpa_matches_torch_without_mask():
    q, k, v = random_qkv()
    assert max_difference(scaled_dot_product_attention(q, k, v), torch_sdpa(q, k, v)) < TOLERANCE


def test_sdpa_matches_torch_with_causal_mask():
    q, k, v = random_qkv(length_q=6, length_k=6)
    ours = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert max_difference(ours, torch_sdpa(q, k, v, is_causal=True)) < TOLERANCE


def test_sdpa_causal_matches_torch_when_lengths_differ():
    q, k, v = random_qkv(length_q=4, length_k=7)
    ours = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert max_difference(ours, torch_sdpa(q, k, v, is_causal=True)) < TOLERANCE


def test_sdpa_boolean_mask_true_means_attend():
    q, k, v = random_qkv()
    mask = np.random.default_rng(1).random((2, 1, 5, 7)) > 0.4
    mask[..., 0] = True  # 每行至少留一个位置
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    assert max_difference(ours, torch_sdpa(q, k, v, attn_mask=mask)) < TOLERANCE


def test_sdpa_float_mask_is_added_to_scores():
    q, k, v = random_qkv()
    mask = np.random.default_rng(2).standard_normal((5, 7))
    mask[:, 3] = -np.inf
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    assert max_difference(ours, torch_sdpa(q, k, v, attn_mask=mask)) < TOLERANCE


def test_sdpa_custom_scale_matches_torch():
    q, k, v = random_qkv()
    ours = scaled_dot_product_attention(q, k, v, scale=0.3)
    assert max_difference(ours, torch_sdpa(q, k, v, scale=0.3)) < TOLERANCE


def test_sdpa_broadcasts_batch_dimensions():
    q, _, _ = random_qkv(batch=(2, 3))
    _, k, v = random_qkv(batch=(1, 3), seed=1)
    ours = scaled_dot_product_attention(q, k, v)
    expected = torch_sdpa(q, np.broadcast_to(k, (2, 3, 7, 4)), np.broadcast_to(v, (2, 3, 7, 6)))
    assert ours.shape == (2, 3, 5, 6)
    assert max_difference(ours, expected) < TOLERANCE


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    length_q=st.integers(1, 6),
    length_k=st.integers(1, 6),
    d_k=st.integers(1, 8),
    d_v=st.integers(1, 8),
    is_causal=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_sdpa_matches_torch_for_random_shapes(batch, length_q, length_k, d_k, d_v, is_causal, seed):
    q, k, v = random_qkv(tuple(batch), length_q, length_k, d_k, d_v, seed)
    ours = scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    assert max_difference(ours, torch_sdpa(q, k, v, is_causal=is_causal)) < TOLERANCE


def test_sdpa_keeps_float32():
    q, k, v = (a.astype(np.float32) for a in random_qkv())
    output = scaled_dot_product_attention(q, k, v)
    assert output.dtype == np.float32
    assert max_difference(output, torch_sdpa(q, k, v)) < 1e-5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 200.0, 1000.0, -200.0, -1000.0])
def test_sdpa_exp_overflow_and_underflow(dtype, offset):
    # 分数整体加上 offset：±200 会让 float32 的 exp 上溢或下溢，±1000 对 float64 也一样。
    # softmax 对每行加同一个数不变，所以结果应与 offset=0 相同，也不应发出溢出警告。
    q, k, v = (a.astype(dtype) for a in random_qkv())
    plain = scaled_dot_product_attention(q, k, v)
    shift = np.full(q.shape[:-1] + (k.shape[-2],), offset, dtype=dtype)
    shifted = scaled_dot_product_attention(q, k, v, mask=shift)
    assert np.all(np.isfinite(shifted))
    # float32 里分数加上 1000 后只剩约 6e-5 的分辨率，误差随 offset 变大，这是输入本身的舍入。
    tolerance = 1e-5 + 1e-7 * abs(offset) if dtype == np.float32 else TOLERANCE
    assert max_difference(shifted, plain) < tolerance


def test_sdpa_one_row_overflows():
    q, k, v = random_qkv()
    q[0, 1, 2] *= 500.0  # 这一行的分数上千，exp 会上溢，其余各行照常
    ours, weights = scaled_dot_product_attention(q, k, v, return_weights=True)
    assert max_difference(ours, torch_sdpa(q, k, v)) < TOLERANCE
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)


@pytest.mark.parametrize(
    "dtype, score, value",
    [(np.float16, 10.0, 2.0), (np.float32, 85.0, 100.0), (np.float64, 700.0, 1e4)],
)
def test_sdpa_large_product_stays_finite(dtype, score, value):
    # exp(分数) 本身不上溢，但没有归一化的分子乘以 V 会上溢：结果仍应等于 V。
    q = np.array([[score]], dtype=dtype)
    k = np.ones((10, 1), dtype=dtype)
    v = np.full((10, 1), value, dtype=dtype)
    output = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(output, [[value]], rtol=1e-3)


def test_sdpa_float16_matches_float64():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(0.0, 2.5, (4, 32, 64)) for _ in range(3))
    expected = scaled_dot_product_attention(q, k, v)
    ours = scaled_dot_product_attention(*(a.astype(np.float16) for a in (q, k, v)))
    assert np.all(np.isfinite(ours))
    assert max_difference(ours, expected) < 0.1


def test_sdpa_nan_input_raises_chinese_error():
    q, k, v = random_qkv()
    q[0, 0, 1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scaled_dot_product_attention(q, k, v)


def test_sdpa_scores_beyond_dtype_range_raise():
    q, k, v = random_qkv()
    with pytest.raises(ValueError, match="float64"):
        scaled_dot_product_attention(q * 1e200, k * 1e200, v)


def test_sdpa_empty_keys_raise_chinese_error():
    q, k, v = random_qkv(length_k=0)
    with pytest.raises(ValueError, match="序列长度 S 为 0"):
        scaled_dot_product_attention(q, k, v)


def test_sdpa_does_not_modify_inputs():
    q, k, v = random_qkv()
    copies = [a.copy() for a in (q, k, v)]
    scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)
    for original, copy in zip((q, k, v), copies):
        np.testing.assert_array_equal(original, copy)


def test_sdpa_returns_weights_whose_rows_sum_to_one():
    q, k, v = random_qkv()
    output, weights = scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)
    assert weights.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)
    assert max_difference(output, weights @ v) < TOLERANCE


def test_attention_weights_are_zero_where_masked():
    q, k, _ = random_qkv(length_q=5, length_k=5)
    weights = attention_weights(q, k, is_causal=True)
    assert np.all(weights[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_sdpa_combines_causal_and_padding_masks():
    q, k, v = random_qkv(batch=(2,), length_q=5, length_k=5)
    keys = padding_mask([5, 3], 5)
    combined = keys & causal_mask(5)
    ours = scaled_dot_product_attention(q, k, v, mask=keys, is_causal=True)
    assert max_difference(ours, torch_sdpa(q, k, v, attn_mask=combined)) < TOLERANCE


# ---------------------------------------------------------------- 掩码


def test_causal_mask_equals_lower_triangle():
    np.testing.assert_array_equal(causal_mask(3, 4), torch.ones(3, 4, dtype=torch.bool).tril().numpy())


def test_padding_mask_marks_real_tokens():
    mask = padding_mask([3, 1], 4)
    assert mask.shape == (2, 1, 4)
    np.testing.assert_array_equal(mask[:, 0], [[True, True, True, False], [True, False, False, False]])


def test_padding_mask_rejects_zero_length():
    with pytest.raises(ValueError, match="lengths"):
        padding_mask([3, 0], 4)


# ---------------------------------------------------------------- 错误信息


def test_fully_masked_row_raises_chinese_error():
    q, k, v = random_qkv(batch=(), length_q=3, length_k=3)
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    with pytest.raises(ValueError, match="屏蔽了一整行") as info:
        scaled_dot_product_attention(q, k, v, mask=mask)
    assert "(1,)" in str(info.value)


def test_fully_masked_row_from_float_mask_raises():
    q, k, v = random_qkv(batch=(), length_q=2, length_k=2)
    mask = np.array([[0.0, 0.0], [-np.inf, -np.inf]])
    with pytest.raises(ValueError, match="NaN"):
        scaled_dot_product_attention(q, k, v, mask=mask)


def test_d_k_mismatch_names_shapes_and_fix():
    q, _, _ = random_qkv(d_k=4)
    _, k, v = random_qkv(d_k=3)
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(q, k, v)
    message = str(info.value)
    assert "d_k=4" in message
    assert "(2, 3, 7, 3)" in message
    assert "W_K" in message


def test_key_value_length_mismatch_raises():
    q, k, _ = random_qkv(length_k=7)
    _, _, v = random_qkv(length_k=6)
    with pytest.raises(ValueError, match="S=7"):
        scaled_dot_product_attention(q, k, v)


def test_unbroadcastable_batch_dimensions_raise():
    q, _, _ = random_qkv(batch=(2, 3))
    _, k, v = random_qkv(batch=(4, 3))
    with pytest.raises(ValueError, match="批次维度"):
        scaled_dot_product_attention(q, k, v)


def test_mask_that_cannot_broadcast_names_shapes():
    q, k, v = random_qkv()
    with pytest.raises(ValueError) as info:
        scaled_dot_product_attention(q, k, v, mask=np.ones((5, 5), dtype=bool))
    message = str(info.value)
    assert "(5, 5)" in message
    assert "(2, 3, 5, 7)" in message
    assert "(批大小, 1, S)" in message


def test_mask_with_extra_batch_dimensions_is_rejected():
    q, k, v = random_qkv(batch=(3,))
    with pytest.raises(ValueError, match="无法广播"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((2, 3, 5, 7), dtype=bool))


def test_integer_mask_is_rejected_with_hint():
    q, k, v = random_qkv()
    with pytest.raises(TypeError, match="astype"):
        scaled_dot_product_attention(q, k, v, mask=np.ones((5, 7), dtype=int))


def test_one_dimensional_query_is_rejected():
    _, k, v = random_qkv(batch=())
    with pytest.raises(ValueError, match=r"q\[None, :\]"):
        scaled_dot_product_attention(np.ones(4), k, v)


def test_non_positive_scale_is_rejected():
    q, k, v = random_qkv()
    with pytest.raises(ValueError, match="scale"):
        scaled_dot_product_attention(q, k, v, scale=0.0)


# ---------------------------------------------------------------- 拆分与合并头


def test_split_heads_matches_torch_view_transpose():
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    expected = torch.from_numpy(x).view(2, 5, 4, 2).transpose(1, 2).numpy()
    np.testing.assert_array_equal(split_heads(x, 4), expected)


def test_merge_heads_inverts_split_heads():
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    np.testing.assert_array_equal(merge_heads(split_heads(x, 2)), x)


def test_merge_without_transpose_differs():
    x = np.random.default_rng(0).standard_normal((5, 8))
    heads = split_heads(x, 2)
    assert not np.allclose(heads.reshape(5, 8), x)


def test_heads_that_do_not_divide_d_model_raise():
    with pytest.raises(ValueError) as info:
        split_heads(np.ones((5, 10)), 3)
    message = str(info.value)
    assert "d_model=10" in message
    assert "num_heads=3" in message
    assert "[1, 2, 5, 10]" in message


# ---------------------------------------------------------------- 多头注意力


def torch_mha(d_model, num_heads, seed=0):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(d_model, num_heads, batch_first=True).double().eval()
    with torch.no_grad():
        mha.in_proj_bias.normal_()
        mha.out_proj.bias.normal_()
    return mha


def numpy_weights(mha):
    d = mha.embed_dim
    w_in = mha.in_proj_weight.detach().numpy()
    b_in = mha.in_proj_bias.detach().numpy()
    return {
        "w_q": w_in[:d].T,
        "w_k": w_in[d : 2 * d].T,
        "w_v": w_in[2 * d :].T,
        "w_o": mha.out_proj.weight.detach().numpy().T,
        "b_q": b_in[:d],
        "b_k": b_in[d : 2 * d],
        "b_v": b_in[2 * d :],
        "b_o": mha.out_proj.bias.detach().numpy(),
    }


def test_mha_matches_torch_self_attention():
    mha = torch_mha(8, 2)
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    expected, expected_weights = mha(*[torch.from_numpy(x)] * 3, average_attn_weights=False)
    ours, weights = multi_head_attention(x, x, x, 2, **numpy_weights(mha), return_weights=True)
    assert max_difference(ours, expected.detach().numpy()) < TOLERANCE
    assert max_difference(weights, expected_weights.detach().numpy()) < TOLERANCE


def test_mha_matches_torch_cross_attention():
    mha = torch_mha(12, 3, seed=1)
    rng = np.random.default_rng(1)
    query, memory = rng.standard_normal((2, 4, 12)), rng.standard_normal((2, 6, 12))
    expected, _ = mha(torch.from_numpy(query), torch.from_numpy(memory), torch.from_numpy(memory))
    ours = multi_head_attention(query, memory, memory, 3, **numpy_weights(mha))
    assert max_difference(ours, expected.detach().numpy()) < TOLERANCE


def test_mha_causal_matches_torch_inverted_mask():
    mha = torch_mha(8, 4, seed=2)
    x = np.random.default_rng(2).standard_normal((2, 6, 8))
    # nn.MultiheadAttention 的布尔 attn_mask 中 True 表示屏蔽，与我们的约定相反。
    blocked = torch.from_numpy(~causal_mask(6))
    expected, _ = mha(*[torch.from_numpy(x)] * 3, attn_mask=blocked)
    ours = multi_head_attention(x, x, x, 4, **numpy_weights(mha), is_causal=True)
    assert max_difference(ours, expected.detach().numpy()) < TOLERANCE


def test_mha_padding_mask_matches_key_padding_mask():
    mha = torch_mha(8, 2, seed=3)
    x = np.random.default_rng(3).standard_normal((2, 5, 8))
    keep = padding_mask([5, 2], 5)  # (B, 1, S)
    expected, _ = mha(*[torch.from_numpy(x)] * 3, key_padding_mask=torch.from_numpy(~keep[:, 0]))
    ours = multi_head_attention(x, x, x, 2, **numpy_weights(mha), mask=keep)
    assert max_difference(ours, expected.detach().numpy()) < TOLERANCE


@pytest.mark.parametrize(
    "narrowed, expected_parts",
    [
        ("w_k", ["w_k", "(8, 4)", "weight.T"]),  # 说明要转置从 torch.nn.Linear 取来的权重
        ("w_q", ["4、8、8", "(8, 4)"]),  # 三个投影宽度都列出来，不只怪 w_k
    ],
)
def test_mha_projection_width_errors(narrowed, expected_parts):
    weights = numpy_weights(torch_mha(8, 2))
    weights[narrowed] = weights[narrowed][:, :4]
    x = np.ones((5, 8))
    with pytest.raises(ValueError) as info:
        multi_head_attention(x, x, x, 2, **weights)
    message = str(info.value)
    for part in expected_parts:
        assert part in message


def test_mha_rejects_heads_that_do_not_divide():
    weights = numpy_weights(torch_mha(8, 2))
    x = np.ones((5, 8))
    with pytest.raises(ValueError, match="num_heads=3"):
        multi_head_attention(x, x, x, 3, **weights)


def test_mha_rejects_wrong_bias_length():
    weights = numpy_weights(torch_mha(8, 2))
    weights["b_v"] = weights["b_v"][:4]
    x = np.ones((5, 8))
    with pytest.raises(ValueError, match="b_v"):
        multi_head_attention(x, x, x, 2, **weights)


# ---------------------------------------------------------------- 热力图与控件


def test_plot_attention_uses_chinese_tick_labels(tmp_path):
    import matplotlib.pyplot as plt

    from bigmodel_lab.plotting import use_chinese_font
    from bigmodel_lab.widgets.attention import plot_attention_settings

    use_chinese_font()
    q, k, _ = random_qkv(batch=(), length_q=4, length_k=4)
    figure = plot_attention_settings(q, k, "新年快乐", [(True, False, 1.0), (False, True, 0.5), (True, True, 2.0)])
    figure.savefig(tmp_path / "attention.png")  # 缺字形时 pytest 把警告变成错误
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    plt.close(figure)
    assert labels == list("新年快乐")


def test_plot_attention_rejects_wrong_label_count():
    from bigmodel_lab.widgets.attention import plot_attention

    with pytest.raises(ValueError, match="标签个数"):
        plot_attention(np.full((3, 3), 1 / 3), "新年快乐")


def test_weights_for_settings_rejects_zero_temperature():
    from bigmodel_lab.widgets.attention import weights_for_settings

    q, k, _ = random_qkv(batch=())
    with pytest.raises(ValueError, match="temperature"):
        weights_for_settings(q, k, temperature=0.0)


def test_attention_explorer_builds_widget():
    import ipywidgets

    from bigmodel_lab.widgets.attention import attention_explorer

    q, k, _ = random_qkv(batch=(), length_q=4, length_k=4)
    widget = attention_explorer(q, k, "新年快乐")
    assert isinstance(widget, ipywidgets.VBox)
