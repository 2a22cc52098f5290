"""优化器赛跑：同一起点出发，SGD、带动量的 SGD 与 Adam 的轨迹画在同一张等高线图上。"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..optimizers import (
    DIVERGENCE_LIMIT,
    SGD,
    Adam,
    quadratic,
    quadratic_grad,
    race,
    rosenbrock,
    rosenbrock_grad,
)

FIGSIZE = (7, 5)


@dataclass(frozen=True)
class RaceProblem:
    """赛道：目标函数、梯度、起点、画图范围、最小值位置与两组默认学习率。"""

    label: str
    function: Callable[[np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray], np.ndarray]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minimum: tuple[float, float]
    sgd_lr: float
    adam_lr: float


PROBLEMS = {
    "rosenbrock": RaceProblem(
        "Rosenbrock 函数", rosenbrock, rosenbrock_grad,
        start=(-1.2, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), minimum=(1.0, 1.0),
        sgd_lr=1e-3, adam_lr=0.05,
    ),
    "quadratic": RaceProblem(
        "病态二次函数 (x² + 20y²)/2", quadratic, quadratic_grad,
        start=(-4.0, 1.5), xlim=(-5.0, 5.0), ylim=(-2.5, 2.5), minimum=(0.0, 0.0),
        sgd_lr=0.02, adam_lr=0.1,
    ),
}
COLORS = {"SGD": "tab:blue", "SGD + 动量": "tab:orange", "Adam": "tab:green"}


def _problem(problem: str) -> RaceProblem:
    if problem not in PROBLEMS:
        raise ValueError(f"未知的赛道 {problem!r}；可选值为 {', '.join(PROBLEMS)}。")
    return PROBLEMS[problem]


def run_race(
    problem: str = "rosenbrock",
    sgd_lr: float | None = None,
    adam_lr: float | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    steps: int = 300,
) -> dict[str, np.ndarray]:
    """从赛道的起点出发跑 steps 步，返回 {优化器名称: 轨迹}；动量 SGD 的动量系数取 β₁。

    学习率为 None 时用赛道的默认值。发散的轨迹会提前结束（见 bigmodel_lab.optimizers.optimize）。
    """
    track = _problem(problem)
    sgd_lr = track.sgd_lr if sgd_lr is None else sgd_lr
    adam_lr = track.adam_lr if adam_lr is None else adam_lr

    def start():
        return np.array(track.start, dtype=np.float64)

    contestants = {
        "SGD": SGD([start()], lr=sgd_lr),
        "SGD + 动量": SGD([start()], lr=sgd_lr, momentum=betas[0]),
        "Adam": Adam([start()], lr=adam_lr, betas=betas),
    }
    return race(contestants, track.gradient, steps)


def plot_paths(paths: dict[str, np.ndarray], problem: str = "rosenbrock", title: str | None = None, ax=None):
    """把若干条轨迹画在赛道 problem 的等高线图上，图例给出终点的函数值，返回 Figure。

    paths 是 {名称: 形状 (步数 + 1, 2) 的轨迹}，例如 bigmodel_lab.optimizers.race 的返回值；
    终点超出 DIVERGENCE_LIMIT 的轨迹（发散）在图例中注明。
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    track = _problem(problem)
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)

    # 填色等高线按对数分层，谷底颜色最深；填色图的 PNG 比线条等高线小得多。
    x, y = np.meshgrid(np.linspace(*track.xlim, 200), np.linspace(*track.ylim, 200))
    z = track.function(np.stack([x, y], axis=-1)) + 1e-3  # 加一个小数，最小值处也能取对数
    levels = np.logspace(np.log10(z.min()), np.log10(z.max()), 13)
    ax.contourf(x, y, z, levels=levels, norm=LogNorm(), cmap="Greys_r", alpha=0.35)

    colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for name, path in paths.items():
        diverged = not np.all(np.isfinite(path[-1])) or np.abs(path[-1]).max() > DIVERGENCE_LIMIT
        end = "发散" if diverged else f"终点 f = {float(track.function(path[-1])):.2g}"
        ax.plot(path[:, 0], path[:, 1], linewidth=1.5, color=COLORS.get(name) or next(colors),
                label=f"{name}（{end}）")

    ax.plot(*track.start, marker="o", color="black", linestyle="none", label="起点")
    ax.plot(*track.minimum, marker="*", markersize=12, color="gold", markeredgecolor="black",
            linestyle="none", label="最小值")
    ax.set_xlim(track.xlim)
    ax.set_ylim(track.ylim)
    ax.set_title(title or track.label)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.legend(loc="upper right", fontsize=9)
    return ax.figure


def plot_optimizer_race(
    problem: str = "rosenbrock",
    sgd_lr: float | None = None,
    adam_lr: float | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    steps: int = 300,
    ax=None,
):
    """跑 run_race，再用 plot_paths 把三条轨迹画在同一张等高线图上，返回 Figure。"""
    track = _problem(problem)
    paths = run_race(problem, sgd_lr, adam_lr, betas, steps)
    return plot_paths(paths, problem, title=f"{track.label}：{steps} 步", ax=ax)


def optimizer_race():
    """返回一个 ipywidgets 控件：选赛道，调 SGD 与 Adam 的学习率、β₁（兼作动量系数）、β₂ 和步数。"""
    import ipywidgets as widgets

    track = PROBLEMS["rosenbrock"]
    problem = widgets.Dropdown(
        options=[(p.label, key) for key, p in PROBLEMS.items()], value="rosenbrock", description="赛道"
    )
    sgd_lr = widgets.FloatLogSlider(
        value=track.sgd_lr, base=10, min=-4, max=0, step=0.1, description="SGD 学习率",
        readout_format=".1e", continuous_update=False,
    )
    adam_lr = widgets.FloatLogSlider(
        value=track.adam_lr, base=10, min=-3, max=0, step=0.1, description="Adam 学习率",
        readout_format=".1e", continuous_update=False,
    )
    beta1 = widgets.FloatSlider(
        value=0.9, min=0.0, max=0.99, step=0.01, description="β₁ / 动量", continuous_update=False
    )
    beta2 = widgets.FloatSlider(
        value=0.999, min=0.9, max=0.9999, step=0.0001, description="β₂",
        readout_format=".4f", continuous_update=False,
    )
    steps = widgets.IntSlider(value=300, min=10, max=2000, step=10, description="步数", continuous_update=False)
    output = widgets.Output()
    resetting = False

    def redraw(_change=None):
        if resetting:
            return
        _draw_into(output, lambda: plot_optimizer_race(
            problem.value, sgd_lr.value, adam_lr.value, (beta1.value, beta2.value), steps.value
        ))

    def switch_problem(change):
        # 换赛道时把学习率设回该赛道的默认值，改完再画一次，而不是每改一个滑块画一次。
        nonlocal resetting
        resetting = True
        sgd_lr.value = PROBLEMS[change["new"]].sgd_lr
        adam_lr.value = PROBLEMS[change["new"]].adam_lr
        resetting = False
        redraw()

    problem.observe(switch_problem, names="value")
    for control in (sgd_lr, adam_lr, beta1, beta2, steps):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([
        widgets.HBox([problem, steps]),
        widgets.HBox([sgd_lr, adam_lr]),
        widgets.HBox([beta1, beta2]),
        output,
    ])


def _draw_into(output, make_figure) -> None:
    """在 Output 控件里清空旧图、画新图，并关闭 Figure，避免图越积越多。"""
    import matplotlib.pyplot as plt
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        figure = make_figure()
        display(figure)
        plt.close(figure)
