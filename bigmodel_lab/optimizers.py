"""梯度下降（gradient descent）与常用优化器的 NumPy 实现，以及 warm-up + 余弦学习率调度。

笔记本 03 逐个推导它们，并验证每个优化器从同一起点出发时与 torch.optim 的轨迹一致。
用法仿照 torch.optim：优化器持有参数数组，step(grads) 原地更新它们；学习率存在 lr 属性里，
每一步之前都可以修改。PyTorch 从 p.grad 读梯度，这里由调用者把梯度传给 step。
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

# 发散判定：参数的绝对值超过它就停止迭代，远在 float64 上溢之前。
DIVERGENCE_LIMIT = 1e6


# ---------------------------------------------------------------------------
# 输入检查
# ---------------------------------------------------------------------------


def _check_params(params) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        params = [params]
    try:
        params = list(params)
    except TypeError as error:
        raise TypeError(
            f"params 应为 NumPy 浮点数组或由它们组成的列表，实际为 {type(params).__name__}；"
            "例如 SGD([w, b], lr=0.1)。"
        ) from error
    if not params:
        raise ValueError("params 为空；请至少传入一个参数数组，例如 SGD([w], lr=0.1)。")

    for index, param in enumerate(params):
        if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
            kind = type(param).__name__ if not isinstance(param, np.ndarray) else f"{param.dtype} 数组"
            raise TypeError(
                f"params 的第 {index} 个参数应为 NumPy 浮点数组，实际为 {kind}；优化器原地修改参数，"
                "请先用 np.array(value, dtype=float) 转换，并保留这个数组的引用。"
            )
        if not param.flags.writeable:
            raise ValueError(f"params 的第 {index} 个参数是只读数组；请传入它的副本 param.copy()。")
    return params


def _check_number(name: str, value, *, low: float, high: float = math.inf, high_open: bool = False):
    """检查 value 是有限实数且位于 [low, high]（high_open=True 时为 [low, high)），返回 float。"""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} 应为数字，实际为 {value!r}（类型 {type(value).__name__}）。")
    value = float(value)
    below_high = value < high if high_open else value <= high
    if not (math.isfinite(value) and low <= value and below_high):  # NaN 也不满足
        upper = f"{high:g})" if high_open else f"{high:g}]"
        raise ValueError(f"{name} 应为 [{low:g}, {upper} 之间的有限数，实际为 {value!r}。")
    return value


def _check_grads(grads, params: list[np.ndarray]) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray) and len(params) == 1:
        grads = [grads]
    try:
        grads = list(grads)
    except TypeError as error:
        raise TypeError(f"grads 应为与 params 一一对应的数组列表，实际为 {type(grads).__name__}。") from error
    if len(grads) != len(params):
        raise ValueError(
            f"grads 应有 {len(params)} 个数组（每个参数一个），实际有 {len(grads)} 个；"
            "请按 params 的顺序传入梯度。"
        )

    checked = []
    for index, (grad, param) in enumerate(zip(grads, params)):
        try:
            grad = np.asarray(grad, dtype=param.dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"grads 的第 {index} 个梯度不是数值数组（{error}）。") from error
        if grad.shape != param.shape:
            raise ValueError(
                f"grads 的第 {index} 个梯度形状应为 {param.shape}（与参数相同），实际为 {grad.shape}；"
                "请检查是否把梯度的顺序弄反，或少做/多做了一次求和。"
            )
        checked.append(grad)
    return checked


# ---------------------------------------------------------------------------
# 优化器
# ---------------------------------------------------------------------------


class Optimizer:
    """优化器的基类：保存参数、学习率 lr、每个参数的状态字典与已走的步数 step_count。"""

    def __init__(self, params, lr: float):
        self.params = _check_params(params)
        self.lr = lr
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self.step_count = 0

    @property
    def lr(self) -> float:
        """学习率（learning rate），可以在两步之间修改（学习率调度就是这样做的）。"""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value, low=0.0)

    def step(self, grads) -> None:
        """按梯度 grads（与 params 一一对应、形状相同）原地更新每个参数一步。"""
        grads = _check_grads(grads, self.params)
        self.step_count += 1
        for param, grad, state in zip(self.params, grads, self.state):
            self._update(param, grad, state)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """随机梯度下降（SGD），可选动量（momentum），参数与 torch.optim.SGD 相同。

    g ← ∇ + λθ（λ 为 weight_decay）；有动量时 v ← μv + (1 - dampening)g（第一步 v = g），
    nesterov=True 时 g ← g + μv，否则 g ← v；最后 θ ← θ - lr·g。
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params, lr)
        self.momentum = _check_number("momentum", momentum, low=0.0)
        self.dampening = _check_number("dampening", dampening, low=0.0, high=1.0)
        self.weight_decay = _check_number("weight_decay", weight_decay, low=0.0)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True 需要 momentum > 0 且 dampening = 0；请调整这两个参数。")
        self.nesterov = bool(nesterov)

    def _update(self, param, grad, state):
        if self.weight_decay:
            grad = grad + self.weight_decay * param

        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = grad.copy()
            else:
                velocity = state["velocity"]
                velocity *= self.momentum
                velocity += (1 - self.dampening) * grad
            velocity = state["velocity"]
            grad = grad + self.momentum * velocity if self.nesterov else velocity

        param -= self.lr * grad


class EMAMomentum(Optimizer):
    """动量的另一种常见写法：速度是梯度的指数移动平均（exponential moving average）。

    v ← βv + (1 - β)g，θ ← θ - lr·v。速度恰好是 PyTorch 写法 v ← βv + g 的 (1 - β) 倍，
    所以它与 SGD(lr=(1 - β)·lr, momentum=β) 的每一步都相同，学习率逐步变化时也一样。
    """

    def __init__(self, params, lr: float = 1e-3, beta: float = 0.9):
        super().__init__(params, lr)
        self.beta = _check_number("beta", beta, low=0.0, high=1.0, high_open=True)

    def _update(self, param, grad, state):
        velocity = state.setdefault("velocity", np.zeros_like(param))
        velocity *= self.beta
        velocity += (1 - self.beta) * grad
        param -= self.lr * velocity


def _check_betas(betas) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError) as error:
        raise ValueError(f"betas 应为两个数 (β₁, β₂)，实际为 {betas!r}；例如 betas=(0.9, 0.999)。") from error
    beta1 = _check_number("betas[0]", beta1, low=0.0, high=1.0, high_open=True)
    beta2 = _check_number("betas[1]", beta2, low=0.0, high=1.0, high_open=True)
    return beta1, beta2


class Adam(Optimizer):
    """Adam：一阶矩 m 与二阶矩 v 的指数移动平均，加偏差修正（bias correction）。

    m ← β₁m + (1 - β₁)g，v ← β₂v + (1 - β₂)g²，m̂ = m/(1 - β₁ᵗ)，v̂ = v/(1 - β₂ᵗ)，
    θ ← θ - lr·m̂/(√v̂ + ε)，ε（eps）须为正数。weight_decay 按 L2 正则加到梯度上（g ← g + λθ），同 torch.optim.Adam。
    bias_correction=False 用来演示去掉修正后头几步会走多大，torch.optim 没有这个选项。
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        bias_correction: bool = True,
    ):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = _check_number("eps", eps, low=0.0)
        if self.eps == 0:
            raise ValueError(
                "eps 应为正数，实际为 0.0；梯度为 0 时 √v̂ = 0，没有 eps 就是 0/0，参数会变成 NaN。"
                "请传入例如 eps=1e-8。"
            )
        self.weight_decay = _check_number("weight_decay", weight_decay, low=0.0)
        self.bias_correction = bool(bias_correction)

    def _add_weight_decay(self, param, grad):
        """Adam 把权重衰减并入梯度（L2 正则）；AdamW 改写这一步。"""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        grad = self._add_weight_decay(param, grad)

        m = state.setdefault("m", np.zeros_like(param))
        v = state.setdefault("v", np.zeros_like(param))
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad

        if self.bias_correction:
            m_hat = m / (1 - beta1**self.step_count)
            v_hat = v / (1 - beta2**self.step_count)
        else:
            m_hat, v_hat = m, v
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """AdamW：把权重衰减与梯度解耦（decoupled weight decay），同 torch.optim.AdamW。

    每一步先 θ ← θ·(1 - lr·λ)，再做不含 λ 的 Adam 更新。衰减因此不经过 √v̂ 的缩放，
    每个参数按同一比例收缩；Adam 的 L2 写法会让梯度大的参数几乎不衰减。
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        bias_correction: bool = True,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, bias_correction)

    def _add_weight_decay(self, param, grad):
        param *= 1 - self.lr * self.weight_decay
        return grad


# ---------------------------------------------------------------------------
# 学习率调度
# ---------------------------------------------------------------------------


def _check_step_count(name: str, value, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} 应为整数，实际为 {value!r}（类型 {type(value).__name__}）。")
    if value < low:
        raise ValueError(f"{name} 应不小于 {low}，实际为 {value}。")
    return int(value)


def warmup_cosine_lr(
    step: int, *, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """返回第 step 步（从 0 数起）的学习率：先线性升温（warm-up），再按余弦降到 min_lr。

    step < warmup_steps 时为 max_lr·(step + 1)/warmup_steps，第 warmup_steps - 1 步到达 max_lr；
    之后 min_lr + (max_lr - min_lr)·(1 + cos(π·s))/2，s 从 0（第 warmup_steps 步）走到 1
    （第 total_steps 步）；step ≥ total_steps 时保持 min_lr。
    """
    step = _check_step_count("step", step)
    warmup_steps = _check_step_count("warmup_steps", warmup_steps)
    total_steps = _check_step_count("total_steps", total_steps, low=1)
    max_lr = _check_number("max_lr", max_lr, low=0.0)
    min_lr = _check_number("min_lr", min_lr, low=0.0, high=max_lr)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps 应小于 total_steps，实际 warmup_steps={warmup_steps}，"
            f"total_steps={total_steps}；升温通常只占总步数的几个百分点。"
        )

    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


# ---------------------------------------------------------------------------
# 二维测试函数与轨迹
# ---------------------------------------------------------------------------


def _as_points(point) -> np.ndarray:
    point = np.asarray(point, dtype=np.float64)
    if point.ndim == 0 or point.shape[-1] != 2:
        raise ValueError(f"point 的最后一维应为 2（x 与 y），实际形状为 {point.shape}；例如 np.array([-1.0, 1.5])。")
    return point


def quadratic(point, scales: tuple[float, float] = (1.0, 20.0)):
    """计算二次函数 f(x, y) = (a·x² + b·y²)/2，(a, b) = scales；b/a 越大越病态（ill-conditioned）。"""
    point = _as_points(point)
    return 0.5 * (scales[0] * point[..., 0] ** 2 + scales[1] * point[..., 1] ** 2)


def quadratic_grad(point, scales: tuple[float, float] = (1.0, 20.0)) -> np.ndarray:
    """返回 quadratic 的梯度 (a·x, b·y)。"""
    point = _as_points(point)
    return point * np.asarray(scales, dtype=np.float64)


def rosenbrock(point, a: float = 1.0, b: float = 100.0):
    """计算 Rosenbrock 函数 f(x, y) = (a - x)² + b·(y - x²)²；最小值 0 在 (a, a²)，位于一条弯曲的窄谷里。"""
    point = _as_points(point)
    x, y = point[..., 0], point[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def rosenbrock_grad(point, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """返回 Rosenbrock 函数的梯度 (-2(a - x) - 4b·x(y - x²), 2b(y - x²))。"""
    point = _as_points(point)
    x, y = point[..., 0], point[..., 1]
    dx = -2 * (a - x) - 4 * b * x * (y - x**2)
    dy = 2 * b * (y - x**2)
    return np.stack([dx, dy], axis=-1)


def optimize(
    optimizer: Optimizer,
    grad_fn: Callable[[np.ndarray], np.ndarray],
    steps: int,
    lr_at: Callable[[int], float] | None = None,
) -> np.ndarray:
    """让只有一个参数数组的优化器走 steps 步，返回轨迹，形状 (走过的步数 + 1, *参数形状)。

    每一步先（若给了 lr_at）把学习率设为 lr_at(第几步，从 0 数起)，再用 grad_fn(参数) 的梯度更新。
    参数出现非有限值或绝对值超过 DIVERGENCE_LIMIT 时视为发散，提前停止，轨迹因此可能短于 steps + 1 行。
    """
    steps = _check_step_count("steps", steps)
    if len(optimizer.params) != 1:
        raise ValueError(
            f"optimize 只支持一个参数数组的优化器，实际有 {len(optimizer.params)} 个；"
            "多个参数请自己写循环调用 optimizer.step(grads)。"
        )
    param = optimizer.params[0]

    path = [param.copy()]
    for step in range(steps):
        if lr_at is not None:
            optimizer.lr = lr_at(step)
        optimizer.step([grad_fn(param)])
        path.append(param.copy())
        if not np.all(np.isfinite(param)) or np.max(np.abs(param)) > DIVERGENCE_LIMIT:
            break
    return np.stack(path)


def race(
    optimizers: dict[str, Optimizer],
    grad_fn: Callable[[np.ndarray], np.ndarray],
    steps: int,
    lr_at: Callable[[int], float] | None = None,
) -> dict[str, np.ndarray]:
    """对每个优化器调用 optimize，返回 {名称: 轨迹}；常用于在同一张等高线图上比较。"""
    if not isinstance(optimizers, dict):
        raise TypeError(f"optimizers 应为 {{名称: 优化器}} 字典，实际为 {type(optimizers).__name__}。")
    return {name: optimize(opt, grad_fn, steps, lr_at) for name, opt in optimizers.items()}

