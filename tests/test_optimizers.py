"""bigmodel_lab.optimizers 的测试：从同一起点出发，手写优化器与 torch.optim 的轨迹一致。"""

import math

import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

from bigmodel_lab import optimizers
from bigmodel_lab.optimizers import SGD, Adam, AdamW, EMAMomentum, warmup_cosine_lr

START = np.array([-1.2, 1.0])
STEPS = 100

# 名称 → (手写优化器, torch 优化器, torch 学习率相对手写学习率的倍数, 手写的基础学习率)
CASES = {
    "sgd": (lambda p, lr: SGD(p, lr=lr), lambda p, lr: torch.optim.SGD(p, lr=lr), 1.0, 1e-3),
    "sgd_momentum": (
        lambda p, lr: SGD(p, lr=lr, momentum=0.9),
        lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
        1.0,
        1e-3,
    ),
    "sgd_nesterov_weight_decay": (
        lambda p, lr: SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=0.1),
        1.0,
        1e-3,
    ),
    "sgd_dampening": (
        lambda p, lr: SGD(p, lr=lr, momentum=0.9, dampening=0.5),
        lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, dampening=0.5),
        1.0,
        1e-3,
    ),
    # EMA 写法的速度是 PyTorch 写法的 (1 - β) 倍，所以 torch 用 (1 - β)·lr
    "ema_momentum": (
        lambda p, lr: EMAMomentum(p, lr=lr, beta=0.9),
        lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
        0.1,
        1e-2,
    ),
    "adam": (lambda p, lr: Adam(p, lr=lr), lambda p, lr: torch.optim.Adam(p, lr=lr), 1.0, 0.05),
    "adam_l2": (
        lambda p, lr: Adam(p, lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        1.0,
        0.05,
    ),
    "adamw": (
        lambda p, lr: AdamW(p, lr=lr, weight_decay=0.5),
        lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.5),
        1.0,
        0.05,
    ),
}


def torch_rosenbrock_path(optimizer, parameter, learning_rates):
    path = [parameter.detach().numpy().copy()]
    for lr in learning_rates:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        x, y = parameter[0], parameter[1]
        ((1 - x) ** 2 + 100 * (y - x**2) ** 2).backward()
        optimizer.step()
        path.append(parameter.detach().numpy().copy())
    return np.stack(path)


def schedules(base_lr):
    constant = [base_lr] * STEPS
    warmup_cosine = [
        warmup_cosine_lr(s, max_lr=base_lr, warmup_steps=10, total_steps=STEPS, min_lr=base_lr / 10)
        for s in range(STEPS)
    ]
    return {"constant": constant, "warmup_cosine": warmup_cosine}


@pytest.mark.parametrize("schedule", ["constant", "warmup_cosine"])
@pytest.mark.parametrize("name", list(CASES))
def test_trajectory_matches_torch(name, schedule):
    make_ours, make_torch, torch_lr_factor, base_lr = CASES[name]
    learning_rates = schedules(base_lr)[schedule]

    ours = make_ours([START.copy()], learning_rates[0])
    path = optimizers.optimize(ours, optimizers.rosenbrock_grad, STEPS, lambda s: learning_rates[s])

    parameter = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    theirs = make_torch([parameter], learning_rates[0] * torch_lr_factor)
    expected = torch_rosenbrock_path(theirs, parameter, [lr * torch_lr_factor for lr in learning_rates])

    assert path.shape == (STEPS + 1, 2)
    assert np.abs(path - expected).max() < 1e-6
    assert np.abs(path[-1] - START).max() > 1e-2  # 轨迹确实走动了，比较才有意义


@pytest.mark.parametrize("name", ["sgd_momentum", "adam", "adamw"])
def test_several_parameters_match_torch(name):
    make_ours, make_torch, _, _ = CASES[name]
    generator = np.random.default_rng(0)
    features = generator.normal(size=(32, 3))
    labels = (features @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)

    weight, bias = np.zeros(3), np.zeros(1)
    ours = make_ours([weight, bias], 0.1)
    weight_t = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    bias_t = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    theirs = make_torch([weight_t, bias_t], 0.1)

    for _ in range(50):
        probs = 1 / (1 + np.exp(-(features @ weight + bias)))
        error = (probs - labels) / len(labels)
        ours.step([features.T @ error, np.array([error.sum()])])

        theirs.zero_grad()
        logits = torch.from_numpy(features) @ weight_t + bias_t
        torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(labels)).backward()
        theirs.step()

    assert np.abs(weight - weight_t.detach().numpy()).max() < 1e-6
    assert np.abs(bias - bias_t.detach().numpy()).max() < 1e-6


def test_ema_momentum_equals_scaled_sgd():
    beta, lr = 0.9, 0.05
    pytorch_form = SGD([START.copy()], lr=(1 - beta) * lr, momentum=beta)
    ema_form = EMAMomentum([START.copy()], lr=lr, beta=beta)

    grad = lambda p: optimizers.quadratic_grad(p)  # noqa: E731
    difference = optimizers.optimize(pytorch_form, grad, 200) - optimizers.optimize(ema_form, grad, 200)
    assert np.abs(difference).max() < 1e-12


def test_adam_first_step_is_lr_times_sign():
    param = np.array([1.0, -2.0, 3.0])
    Adam([param], lr=0.1).step([np.array([5.0, -0.01, 300.0])])
    np.testing.assert_allclose(param, [0.9, -1.9, 2.9], atol=1e-6)


def test_adam_without_correction_overshoots():
    lr, (beta1, beta2) = 0.01, (0.9, 0.999)
    corrected, raw = np.zeros(1), np.zeros(1)
    # eps 必须为正，而 1e-15 对步长的影响远小于下面的容差 1e-9。
    with_correction = Adam([corrected], lr=lr, betas=(beta1, beta2), eps=1e-15)
    without_correction = Adam([raw], lr=lr, betas=(beta1, beta2), eps=1e-15, bias_correction=False)

    for t in range(1, 4):
        before_corrected, before_raw = corrected.copy(), raw.copy()
        with_correction.step([np.ones(1)])
        without_correction.step([np.ones(1)])
        expected_raw_step = lr * (1 - beta1**t) / math.sqrt(1 - beta2**t)

        assert abs(abs(corrected - before_corrected)[0] - lr) < 1e-9
        assert abs(abs(raw - before_raw)[0] - expected_raw_step) < 1e-9
    assert expected_raw_step > 3 * lr


def test_adamw_decays_weights_by_lr_times_decay():
    lr, decay = 0.1, 0.5
    param = np.array([2.0, -4.0])
    optimizer = AdamW([param], lr=lr, weight_decay=decay)

    for _ in range(10):
        optimizer.step([np.zeros(2)])
    np.testing.assert_allclose(param, np.array([2.0, -4.0]) * (1 - lr * decay) ** 10, rtol=1e-12)


def test_learning_rate_can_change_between_steps():
    param = np.array([1.0])
    optimizer = SGD([param], lr=0.1)
    optimizer.step([np.array([1.0])])
    optimizer.lr = 0.5
    optimizer.step([np.array([1.0])])
    assert abs(param[0] - 0.4) < 1e-12


def test_optimize_stops_when_diverging():
    optimizer = SGD([np.array([1.0, 1.0])], lr=0.2)  # 2/20 = 0.1 是 y 方向的稳定上限
    path = optimizers.optimize(optimizer, optimizers.quadratic_grad, 10_000)

    assert len(path) < 10_001
    assert np.all(np.isfinite(path))
    assert np.abs(path[-1]).max() > optimizers.DIVERGENCE_LIMIT


def test_optimize_rejects_several_parameters():
    optimizer = SGD([np.zeros(2), np.zeros(1)], lr=0.1)
    with pytest.raises(ValueError, match="只支持一个参数数组"):
        optimizers.optimize(optimizer, optimizers.quadratic_grad, 5)


def test_race_returns_path_per_optimizer():
    paths = optimizers.race(
        {"SGD": SGD([START.copy()], lr=1e-3), "Adam": Adam([START.copy()], lr=1e-2)},
        optimizers.rosenbrock_grad,
        20,
    )
    assert set(paths) == {"SGD", "Adam"}
    assert paths["SGD"].shape == (21, 2)


# ---------------------------------------------------------------------------
# 测试函数
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f, grad",
    [
        (optimizers.quadratic, optimizers.quadratic_grad),
        (optimizers.rosenbrock, optimizers.rosenbrock_grad),
    ],
)
def test_test_function_gradient_is_correct(f, grad):
    points = np.random.default_rng(0).uniform(-2, 2, size=(20, 2))
    h = 1e-6
    for axis in range(2):
        step = np.zeros(2)
        step[axis] = h
        numerical = (f(points + step) - f(points - step)) / (2 * h)
        np.testing.assert_allclose(grad(points)[:, axis], numerical, rtol=1e-6, atol=1e-5)


def test_rosenbrock_minimum():
    assert optimizers.rosenbrock(np.array([1.0, 1.0])) == 0.0
    np.testing.assert_array_equal(optimizers.rosenbrock_grad(np.array([1.0, 1.0])), [0.0, 0.0])


def test_test_functions_evaluate_on_grids():
    x, y = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 4))
    assert optimizers.rosenbrock(np.stack([x, y], axis=-1)).shape == (4, 5)


def test_test_function_rejects_wrong_point_shape():
    with pytest.raises(ValueError, match="point 的最后一维应为 2"):
        optimizers.rosenbrock(np.zeros(3))


# ---------------------------------------------------------------------------
# 学习率调度
# ---------------------------------------------------------------------------


def test_warmup_cosine_key_points():
    kwargs = dict(max_lr=1.0, warmup_steps=10, total_steps=110, min_lr=0.1)
    assert warmup_cosine_lr(0, **kwargs) == pytest.approx(0.1)
    assert warmup_cosine_lr(9, **kwargs) == pytest.approx(1.0)
    assert warmup_cosine_lr(10, **kwargs) == pytest.approx(1.0)
    assert warmup_cosine_lr(60, **kwargs) == pytest.approx(0.55)
    assert warmup_cosine_lr(110, **kwargs) == pytest.approx(0.1)
    assert warmup_cosine_lr(500, **kwargs) == pytest.approx(0.1)


def test_warmup_cosine_rises_then_falls():
    lrs = np.array([warmup_cosine_lr(s, max_lr=3e-4, warmup_steps=20, total_steps=200) for s in range(200)])
    assert np.all(np.diff(lrs[:20]) > 0)
    assert np.all(np.diff(lrs[20:]) <= 0)


def test_warmup_cosine_without_warmup_starts_at_max():
    assert warmup_cosine_lr(0, max_lr=0.5, warmup_steps=0, total_steps=10) == 0.5


def test_warmup_cosine_matches_torch_schedulers():
    warmup, total, max_lr, min_lr = 10, 60, 1.0, 0.05
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=max_lr)
    scheduler = SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
            CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=min_lr),
        ],
        milestones=[warmup],
    )

    for step in range(total + 1):
        ours = warmup_cosine_lr(step, max_lr=max_lr, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
        assert abs(optimizer.param_groups[0]["lr"] - ours) < 1e-12
        optimizer.step()
        scheduler.step()


# ---------------------------------------------------------------------------
# 错误输入
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, pattern",
    [
        ([[1.0, 2.0]], r"第 0 个参数应为 NumPy 浮点数组，实际为 list"),
        ([np.zeros(2, dtype=int)], r"第 0 个参数应为 NumPy 浮点数组，实际为 int64 数组"),
        ([np.zeros(2), "w"], r"第 1 个参数应为 NumPy 浮点数组"),
        (3.0, r"params 应为 NumPy 浮点数组或由它们组成的列表"),
    ],
)
def test_non_numeric_params_raise_chinese_error(params, pattern):
    with pytest.raises(TypeError, match=pattern):
        SGD(params, lr=0.1)


def test_empty_params_raise():
    with pytest.raises(ValueError, match="params 为空"):
        Adam([], lr=0.1)


def test_read_only_param_raises():
    param = np.zeros(2)
    param.flags.writeable = False
    with pytest.raises(ValueError, match="只读"):
        SGD([param], lr=0.1)


def test_grad_count_mismatch_raises():
    optimizer = SGD([np.zeros(2), np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match=r"grads 应有 2 个数组.*实际有 1 个"):
        optimizer.step([np.zeros(2)])


def test_grad_shape_mismatch_raises():
    optimizer = Adam([np.zeros((2, 3))], lr=0.1)
    with pytest.raises(ValueError, match=r"第 0 个梯度形状应为 \(2, 3\).*实际为 \(3, 2\)"):
        optimizer.step([np.zeros((3, 2))])


def test_non_numeric_grad_raises():
    optimizer = SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="grads 的第 0 个梯度不是数值数组"):
        optimizer.step([np.array(["a", "b"])])


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
def test_invalid_lr_raises(lr):
    with pytest.raises(ValueError, match="lr 应为"):
        SGD([np.zeros(2)], lr=lr)


def test_non_numeric_lr_raises():
    with pytest.raises(TypeError, match="lr 应为数字"):
        SGD([np.zeros(2)], lr="0.1")


def test_lr_set_between_steps_is_checked():
    optimizer = SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr 应为"):
        optimizer.lr = -1.0


@pytest.mark.parametrize("betas", [(0.9, 1.0), (1.2, 0.999), (0.9,)])
def test_invalid_betas_raise(betas):
    with pytest.raises(ValueError, match="betas"):
        Adam([np.zeros(2)], betas=betas)


def test_nesterov_without_momentum_raises():
    with pytest.raises(ValueError, match="nesterov=True 需要 momentum > 0"):
        SGD([np.zeros(2)], lr=0.1, nesterov=True)


def test_warmup_longer_than_training_raises():
    with pytest.raises(ValueError, match="warmup_steps 应小于 total_steps"):
        warmup_cosine_lr(0, max_lr=1.0, warmup_steps=100, total_steps=100)


def test_min_lr_above_max_lr_raises():
    with pytest.raises(ValueError, match="min_lr 应为"):
        warmup_cosine_lr(0, max_lr=1e-3, warmup_steps=1, total_steps=10, min_lr=1e-2)


def test_non_integer_step_raises():
    with pytest.raises(TypeError, match="step 应为整数"):
        warmup_cosine_lr(1.5, max_lr=1.0, warmup_steps=1, total_steps=10)


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("eps", [0.0, -1e-8, float("nan"), float("inf")])
def test_adam_rejects_nonpositive_eps(cls, eps):
    with pytest.raises(ValueError, match="eps"):
        cls([np.ones(2)], eps=eps)


def test_adam_accepts_numpy_scalar_hyperparameters():
    param = np.ones(2)
    opt = Adam([param], lr=np.float32(0.1), betas=(np.float64(0.9), 0.999), eps=np.float32(1e-8))
    opt.step([np.zeros(2)])
    assert np.all(param == 1.0)
