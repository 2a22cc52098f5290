"""bigmodel_lab.functions 的测试：与 torch.nn.functional 对照、有限差分、极端输入与中文报错。

pytest 把警告当作错误（见 pyproject.toml），所以任何 RuntimeWarning 都会让测试失败。
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bigmodel_lab import functions

ACTIVATION_NAMES = list(functions.ACTIVATIONS)

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "gelu": lambda t: F.gelu(t, approximate="none"),
    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
    "silu": F.silu,
}

EXTREME = np.array([-1e4, -1000.0, -88.0, -20.0, -1.0, 0.0, 1.0, 20.0, 88.0, 1000.0, 1e4])


def rng(seed=0):
    return np.random.default_rng(seed)


def as_tensor(array):
    return torch.from_numpy(np.asarray(array, dtype=np.float64))


def numerical_derivative(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


# ---------------------------------------------------------------------------
# 激活函数
# ---------------------------------------------------------------------------


def test_worked_activation_values():
    assert round(float(functions.sigmoid(3)), 4) == 0.9526
    assert functions.relu(-2) == 0
    assert round(float(functions.tanh(2)), 4) == 0.9640


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_matches_torch(name):
    f, _, _ = functions.ACTIVATIONS[name]
    x = np.concatenate([np.linspace(-12, 12, 2001), EXTREME])

    expected = TORCH_ACTIVATIONS[name](as_tensor(x)).numpy()
    np.testing.assert_allclose(f(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_derivative_matches_autograd(name):
    _, derivative, _ = functions.ACTIVATIONS[name]
    x = np.concatenate([np.linspace(-12, 12, 2001), EXTREME])
    x = x[x != 0]  # ReLU 在 0 处不可导

    tensor = as_tensor(x).requires_grad_(True)
    TORCH_ACTIVATIONS[name](tensor).sum().backward()
    np.testing.assert_allclose(derivative(x), tensor.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_derivative_matches_finite_differences(name):
    f, derivative, _ = functions.ACTIVATIONS[name]
    x = rng().uniform(-6, 6, size=500)
    x = x[np.abs(x) > 1e-3]  # 远离 ReLU 的折点

    np.testing.assert_allclose(derivative(x), numerical_derivative(f, x), rtol=0, atol=1e-7)


def test_relu_derivative_at_zero_is_zero():
    assert functions.relu_derivative(0.0) == 0.0


def test_sigmoid_derivative_is_at_most_quarter():
    x = np.linspace(-50, 50, 100001)
    assert functions.sigmoid_derivative(x).max() <= 0.25
    assert functions.sigmoid_derivative(0.0) == 0.25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_extreme_inputs_stay_finite(name, dtype):
    f, derivative, _ = functions.ACTIVATIONS[name]
    x = EXTREME.astype(dtype)

    value, slope = f(x), derivative(x)
    assert value.dtype == dtype
    assert slope.dtype == dtype
    assert np.all(np.isfinite(value))
    assert np.all(np.isfinite(slope))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_float32_close_to_float64(name):
    f, derivative, _ = functions.ACTIVATIONS[name]
    x = np.linspace(-10, 10, 1001)

    np.testing.assert_allclose(f(x.astype(np.float32)), f(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(derivative(x.astype(np.float32)), derivative(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_keeps_batch_shape(name):
    f, derivative, _ = functions.ACTIVATIONS[name]
    x = rng().normal(size=(2, 3, 4, 5))

    assert f(x).shape == x.shape
    assert derivative(x).shape == x.shape


def test_activation_accepts_integers_and_lists():
    assert functions.sigmoid(0) == 0.5
    np.testing.assert_allclose(functions.relu([-1, 2]), [0.0, 2.0])


def test_activation_scalar_returns_scalar():
    value = functions.sigmoid(3)
    assert np.ndim(value) == 0
    assert isinstance(value, np.floating)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        functions.gelu(1.0, approximate="erf")


# ---------------------------------------------------------------------------
# softmax 一族
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_family_matches_torch(axis):
    x = rng().normal(scale=5, size=(3, 4, 5))
    tensor = as_tensor(x)

    np.testing.assert_allclose(functions.softmax(x, axis=axis), torch.softmax(tensor, axis).numpy(), atol=1e-12)
    np.testing.assert_allclose(
        functions.log_softmax(x, axis=axis), torch.log_softmax(tensor, axis).numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        functions.logsumexp(x, axis=axis), torch.logsumexp(tensor, axis).numpy(), atol=1e-12
    )


def test_logsumexp_keepdims():
    x = rng().normal(size=(3, 4))
    assert functions.logsumexp(x, axis=1, keepdims=True).shape == (3, 1)
    assert functions.logsumexp(x, axis=0).shape == (4,)


def test_softmax_matches_torch_for_large_logits():
    x = np.array([[1e4, -1e4, 0.0], [1000.0, 1001.0, 1002.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    tensor = as_tensor(x)

    np.testing.assert_allclose(functions.softmax(x), torch.softmax(tensor, -1).numpy(), atol=1e-12)
    np.testing.assert_allclose(functions.log_softmax(x), torch.log_softmax(tensor, -1).numpy(), atol=1e-12)
    np.testing.assert_allclose(functions.logsumexp(x), torch.logsumexp(tensor, -1).numpy(), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_extreme_inputs_stay_finite(dtype):
    x = np.stack([EXTREME, EXTREME[::-1]]).astype(dtype)
    for f in (functions.softmax, functions.log_softmax, functions.logsumexp):
        result = f(x)
        assert result.dtype == dtype
        assert np.all(np.isfinite(result))


def test_softmax_masked_row_uses_minus_infinity():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
    tensor = as_tensor(x)

    probs = functions.softmax(x)
    np.testing.assert_allclose(probs[0], torch.softmax(tensor, -1).numpy()[0], atol=1e-12)
    assert probs[0, 1] == 0.0
    assert np.all(np.isnan(probs[1]))  # 与 torch 相同：整行被遮住时没有定义
    assert functions.logsumexp(x)[1] == -np.inf


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(-1e4, 1e4),
    )
)
def test_softmax_rows_sum_to_one(x):
    probs = functions.softmax(x, axis=-1)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(-1e4, 1e4),
    ),
    st.floats(-1e3, 1e3),
)
def test_softmax_unchanged_by_constant_shift(x, shift):
    np.testing.assert_allclose(functions.softmax(x + shift), functions.softmax(x), atol=1e-9)


def test_softmax_rejects_bad_axis():
    with pytest.raises(ValueError, match="axis=2"):
        functions.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis"):
        functions.softmax(np.zeros((2, 3)), axis=1.0)


def test_softmax_rejects_scalar():
    with pytest.raises(ValueError, match="至少要有一维"):
        functions.softmax(1.0)


def test_softmax_rejects_empty_axis():
    with pytest.raises(ValueError, match="长度为 0"):
        functions.softmax(np.zeros((2, 0)))


# ---------------------------------------------------------------------------
# 损失函数：与 torch 对照
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction):
    prediction, target = rng().normal(size=(2, 3, 4)), rng(1).normal(size=(2, 3, 4))

    expected = F.mse_loss(as_tensor(prediction), as_tensor(target), reduction=reduction).numpy()
    np.testing.assert_allclose(functions.mse_loss(prediction, target, reduction), expected, atol=1e-12)


def test_mse_worked_example():
    assert round(float(functions.mse_loss([2.5, 3.0, 1.0], [2.0, 4.0, 1.0])), 4) == 0.4167


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weight", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, with_weight):
    probs = rng().uniform(0.001, 0.999, size=(4, 5))
    target = rng(1).integers(0, 2, size=(4, 5)).astype(float)
    weight = rng(2).uniform(0.5, 2.0, size=(5,)) if with_weight else None

    expected = F.binary_cross_entropy(
        as_tensor(probs), as_tensor(target),
        weight=None if weight is None else as_tensor(weight), reduction=reduction,
    ).numpy()
    got = functions.binary_cross_entropy(probs, target, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_binary_cross_entropy_clamps_log_like_torch():
    probs, target = np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])

    expected = F.binary_cross_entropy(as_tensor(probs), as_tensor(target), reduction="none").numpy()
    np.testing.assert_allclose(functions.binary_cross_entropy(probs, target, reduction="none"), expected)
    assert functions.binary_cross_entropy(probs, target, reduction="none")[0] == 100.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weight", [False, True])
def test_binary_cross_entropy_with_logits_matches_torch(reduction, with_weight):
    logits = rng().normal(scale=10, size=(3, 4, 5))
    logits[0, 0] = [1e4, -1e4, 800.0, -800.0, 0.0]
    target = rng(1).integers(0, 2, size=(3, 4, 5)).astype(float)
    weight = rng(2).uniform(0.5, 2.0, size=(4, 5)) if with_weight else None

    expected = F.binary_cross_entropy_with_logits(
        as_tensor(logits), as_tensor(target),
        weight=None if weight is None else as_tensor(weight), reduction=reduction,
    ).numpy()
    got = functions.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_binary_cross_entropy_worked_example():
    y, y_hat = np.array([1.0, 0.0, 1.0]), np.array([0.8, 0.2, 0.6])

    positive_only_sum = -np.sum(y * np.log(y_hat))
    assert round(float(positive_only_sum), 4) == 0.7340
    assert round(float(functions.binary_cross_entropy(y_hat, y)), 4) == 0.3190


def test_binary_cross_entropy_logits_agree_with_probabilities():
    logits = rng().normal(size=20)
    target = rng(1).integers(0, 2, size=20)

    from_logits = functions.binary_cross_entropy_with_logits(logits, target)
    from_probs = functions.binary_cross_entropy(functions.sigmoid(logits), target)
    assert abs(from_logits - from_probs) < 1e-12


def test_binary_cross_entropy_with_logits_avoids_saturation():
    # sigmoid(40) 在 float64 中舍入为 1.0，从概率算会截断成 100；从 logits 算得到准确的 40。
    assert functions.binary_cross_entropy(functions.sigmoid(40.0), 0.0) == 100.0
    assert abs(functions.binary_cross_entropy_with_logits(40.0, 0.0) - 40.0) < 1e-12


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weight", [False, True])
def test_cross_entropy_matches_torch(reduction, with_weight):
    logits = rng().normal(scale=5, size=(6, 4))
    logits[0] = [1e4, -1e4, 0.0, 5.0]
    target = np.array([0, 1, 2, 3, 1, 1])
    weight = np.array([0.5, 2.0, 1.0, 3.0]) if with_weight else None

    expected = F.cross_entropy(
        as_tensor(logits), torch.from_numpy(target),
        weight=None if weight is None else as_tensor(weight), reduction=reduction,
    ).numpy()
    got = functions.cross_entropy(logits, target, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_cross_entropy_weighted_mean_divides_by_weight_sum():
    logits = rng().normal(size=(5, 3))
    target = np.array([0, 1, 2, 2, 0])
    weight = np.array([1.0, 2.0, 4.0])

    per_sample = functions.cross_entropy(logits, target, weight=weight, reduction="none")
    expected = per_sample.sum() / weight[target].sum()
    assert abs(functions.cross_entropy(logits, target, weight=weight) - expected) < 1e-12


@pytest.mark.parametrize("with_weight", [False, True])
def test_cross_entropy_one_hot_equals_integer_labels(with_weight):
    logits = rng().normal(size=(5, 3))
    target = np.array([0, 1, 2, 2, 0])
    weight = np.array([1.0, 2.0, 4.0]) if with_weight else None

    from_indices = functions.cross_entropy(logits, target, weight=weight)
    from_one_hot = functions.cross_entropy(logits, np.eye(3)[target], weight=weight)
    assert abs(from_indices - from_one_hot) < 1e-12


def test_cross_entropy_class_axis_is_last():
    logits = rng().normal(size=(2, 3, 5))  # (B, T, C)
    target = rng(1).integers(0, 5, size=(2, 3))

    # PyTorch 要求类别在第 1 维：(B, C, T)
    expected = F.cross_entropy(as_tensor(logits).movedim(-1, 1), torch.from_numpy(target)).numpy()
    assert abs(functions.cross_entropy(logits, target) - expected) < 1e-12


def test_cross_entropy_unbatched_input():
    logits = np.array([1.0, 2.0, 0.5])
    expected = F.cross_entropy(as_tensor(logits), torch.tensor(1)).numpy()
    assert abs(functions.cross_entropy(logits, 1) - expected) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_extreme_inputs_stay_finite(dtype):
    logits = np.stack([EXTREME, EXTREME[::-1]]).astype(dtype)
    labels = np.array([0, 3])
    binary = (logits > 0).astype(dtype)
    probs = np.asarray(functions.sigmoid(logits))

    results = [
        functions.mse_loss(logits, logits[::-1]),
        functions.binary_cross_entropy(probs, binary[::-1]),
        functions.binary_cross_entropy_with_logits(logits, binary[::-1]),
        functions.cross_entropy(logits, labels),
        functions.cross_entropy_grad(logits, labels),
        functions.binary_cross_entropy_with_logits_grad(logits, binary[::-1]),
    ]
    for result in results:
        assert np.asarray(result).dtype == dtype
        assert np.all(np.isfinite(result))


# ---------------------------------------------------------------------------
# 损失的梯度
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_grad_matches_autograd(with_weight, reduction):
    logits = rng().normal(scale=3, size=(2, 4, 5))
    target = rng(1).integers(0, 5, size=(2, 4))
    weight = rng(2).uniform(0.5, 2.0, size=5) if with_weight else None

    tensor = as_tensor(logits).requires_grad_(True)
    F.cross_entropy(
        tensor.movedim(-1, 1), torch.from_numpy(target),
        weight=None if weight is None else as_tensor(weight), reduction=reduction,
    ).backward()
    got = functions.cross_entropy_grad(logits, target, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, tensor.grad.numpy(), atol=1e-12)


def test_cross_entropy_grad_is_p_minus_y():
    logits = rng().normal(size=(4, 3))
    target = np.array([0, 2, 1, 1])

    expected = (functions.softmax(logits) - np.eye(3)[target]) / 4
    np.testing.assert_allclose(functions.cross_entropy_grad(logits, target), expected, atol=1e-15)


def test_cross_entropy_grad_matches_finite_differences():
    logits = rng().normal(size=(3, 4))
    target = np.array([0, 3, 1])
    h = 1e-6

    numerical = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        step = np.zeros_like(logits)
        step[index] = h
        plus = functions.cross_entropy(logits + step, target)
        minus = functions.cross_entropy(logits - step, target)
        numerical[index] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(functions.cross_entropy_grad(logits, target), numerical, atol=1e-8)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_cross_entropy_with_logits_grad_matches_autograd(reduction):
    logits = rng().normal(scale=3, size=(4, 5))
    target = rng(1).integers(0, 2, size=(4, 5)).astype(float)
    weight = rng(2).uniform(0.5, 2.0, size=5)

    tensor = as_tensor(logits).requires_grad_(True)
    F.binary_cross_entropy_with_logits(
        tensor, as_tensor(target), weight=as_tensor(weight), reduction=reduction
    ).backward()
    got = functions.binary_cross_entropy_with_logits_grad(logits, target, weight=weight, reduction=reduction)
    np.testing.assert_allclose(got, tensor.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_grad_matches_autograd(reduction):
    prediction, target = rng().normal(size=(3, 4)), rng(1).normal(size=(3, 4))

    tensor = as_tensor(prediction).requires_grad_(True)
    F.mse_loss(tensor, as_tensor(target), reduction=reduction).backward()
    got = functions.mse_loss_grad(prediction, target, reduction=reduction)
    np.testing.assert_allclose(got, tensor.grad.numpy(), atol=1e-12)


# ---------------------------------------------------------------------------
# 错误输入：中文报错，说出参数名与改法
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: functions.mse_loss(np.zeros((4, 1)), np.zeros(4)),
        lambda: functions.mse_loss_grad(np.zeros((4, 1)), np.zeros(4)),
        lambda: functions.binary_cross_entropy(np.full(3, 0.5), np.zeros(4)),
        lambda: functions.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros(3)),
        lambda: functions.binary_cross_entropy_with_logits_grad(np.zeros(2), np.zeros(3)),
    ],
)
def test_mismatched_shapes_raise_chinese_error(call):
    with pytest.raises(ValueError, match=r"input 与 target 的形状应相同.*reshape"):
        call()


def test_cross_entropy_rejects_mismatched_target_shape():
    with pytest.raises(ValueError, match=r"target 的形状应为 \(4,\).*实际为 \(3,\)"):
        functions.cross_entropy(np.zeros((4, 3)), np.zeros(3, dtype=int))


def test_cross_entropy_rejects_wrong_class_weight_shape():
    with pytest.raises(ValueError, match=r"weight 应是每个类别一个权重，形状为 \(3,\)"):
        functions.cross_entropy(np.zeros((4, 3)), np.zeros(4, dtype=int), weight=np.ones(2))


def test_cross_entropy_rejects_negative_class_weight():
    with pytest.raises(ValueError, match="weight"):
        functions.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), weight=np.array([1.0, -1.0, 1.0]))


def test_binary_cross_entropy_rejects_unbroadcastable_weight():
    with pytest.raises(ValueError, match=r"weight 的形状 \(3,\) 无法广播"):
        functions.binary_cross_entropy(np.full((2, 4), 0.5), np.zeros((2, 4)), weight=np.ones(3))


@pytest.mark.parametrize("bad_label", [3, -1])
def test_cross_entropy_rejects_label_outside_classes(bad_label):
    with pytest.raises(ValueError, match=r"target 中的类别下标应在 0 到 2 之间.*从 0 开始"):
        functions.cross_entropy(np.zeros((2, 3)), np.array([0, bad_label]))


def test_cross_entropy_grad_rejects_label_outside_classes():
    with pytest.raises(ValueError, match="target 中的类别下标应在 0 到 2 之间"):
        functions.cross_entropy_grad(np.zeros((2, 3)), np.array([0, 3]))


def test_cross_entropy_rejects_float_labels():
    with pytest.raises(TypeError, match=r"target（类别下标）应为整数数组.*astype\(int\)"):
        functions.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_cross_entropy_rejects_invalid_one_hot():
    with pytest.raises(ValueError, match="恰好有一个 1"):
        functions.cross_entropy(np.zeros((2, 3)), np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]))


@pytest.mark.parametrize("bad_label", [2.0, -1.0])
def test_binary_losses_reject_labels_outside_zero_one(bad_label):
    target = np.array([0.0, bad_label])
    with pytest.raises(ValueError, match=r"target 的取值应在 \[0, 1\].*cross_entropy"):
        functions.binary_cross_entropy(np.full(2, 0.5), target)
    with pytest.raises(ValueError, match=r"target 的取值应在 \[0, 1\]"):
        functions.binary_cross_entropy_with_logits(np.zeros(2), target)


def test_binary_cross_entropy_rejects_logits_as_probabilities():
    with pytest.raises(ValueError, match=r"input 的取值应在 \[0, 1\].*binary_cross_entropy_with_logits"):
        functions.binary_cross_entropy(np.array([2.5, -1.0]), np.array([1.0, 0.0]))


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: functions.sigmoid("3"), "x"),
        (lambda: functions.relu(["a", "b"]), "x"),
        (lambda: functions.gelu(None), "x"),
        (lambda: functions.softmax(["1", "2"]), "x"),
        (lambda: functions.mse_loss(["1.0"], [1.0]), "input"),
        (lambda: functions.mse_loss([1.0], ["1.0"]), "target"),
        (lambda: functions.binary_cross_entropy([0.5], ["yes"]), "target"),
        (lambda: functions.binary_cross_entropy_with_logits({"z": 1}, [1.0]), "input"),
        (lambda: functions.cross_entropy([["a", "b"]], [0]), "input"),
        (lambda: functions.cross_entropy([[1.0, 2.0]], ["cat"]), "target"),
        (lambda: functions.cross_entropy([[1.0, 2.0]], [0], weight=["x", "y"]), "weight"),
    ],
)
def test_non_numeric_input_raises_chinese_error(call, argument):
    with pytest.raises(TypeError, match=rf"^{argument}[ （].*(数值|整数)"):
        call()


def test_ragged_list_raises_chinese_error():
    with pytest.raises(TypeError, match="x 无法转换为数值数组"):
        functions.sigmoid([[1.0, 2.0], [3.0]])


def test_unknown_reduction_raises():
    with pytest.raises(ValueError, match="reduction 应为"):
        functions.mse_loss([1.0], [1.0], reduction="average")


def test_empty_input_raises():
    with pytest.raises(ValueError, match="input 为空"):
        functions.mse_loss(np.zeros(0), np.zeros(0))


INF = np.array([np.inf, -np.inf])


@pytest.mark.parametrize(
    "name, value, derivative",
    [("gelu", [np.inf, 0.0], [1.0, 0.0]), ("gelu_tanh", [np.inf, 0.0], [1.0, 0.0]), ("silu", [np.inf, 0.0], [1.0, 0.0])],
)
def test_activation_infinity_gives_limits(name, value, derivative):
    f, df, _ = functions.ACTIVATIONS[name]
    for dtype in (np.float32, np.float64):
        x = INF.astype(dtype)
        assert f(x).dtype == dtype
        np.testing.assert_array_equal(f(x), value)
        np.testing.assert_array_equal(df(x), derivative)


def test_activation_nan_input_stays_nan():
    assert np.isnan(functions.gelu(np.nan))
    assert np.isnan(functions.silu_derivative(np.nan))


def test_bce_logits_infinity_gives_limits():
    z = np.array([np.inf, -np.inf, np.inf, -np.inf, np.inf])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    loss = functions.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_array_equal(loss, [0.0, 0.0, np.inf, np.inf, np.inf])


@pytest.mark.parametrize(
    "input, target",
    [(np.array([1e200]), np.array([-1e200])), (np.array([1e20], dtype=np.float32), np.array([0.0], dtype=np.float32))],
)
def test_mse_overflow_returns_inf_silently(input, target):
    for reduction in ("mean", "sum", "none"):
        assert np.all(np.isposinf(functions.mse_loss(input, target, reduction=reduction)))
    assert np.all(np.isposinf(functions.mse_loss_grad(np.array([1e308]), np.array([-1e308]))))


def test_softmax_positive_infinity_row_is_nan():
    x = np.array([[np.inf, 1.0], [0.0, -np.inf]])
    tensor = as_tensor(x)
    np.testing.assert_array_equal(functions.softmax(x), torch.softmax(tensor, -1).numpy())
    np.testing.assert_array_equal(functions.log_softmax(x), torch.log_softmax(tensor, -1).numpy())


def test_object_array_message_is_accurate():
    with pytest.raises(TypeError, match=r"object.*np\.asarray\(x, dtype=float\)") as info:
        functions.sigmoid(np.array([1, 2], dtype=object))
    assert "字符串要先用 float()" not in str(info.value)
