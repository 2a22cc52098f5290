"""损失浏览器：移动预测概率 p，看标签 y = 1 与 y = 0 时的二元交叉熵。"""

from __future__ import annotations

import numpy as np

from ..functions import binary_cross_entropy

FIGSIZE = (7, 4)


def _check_probability(probability) -> float:
    if isinstance(probability, bool) or not isinstance(probability, (int, float, np.floating)):
        raise TypeError(f"probability 应为 0 到 1 之间的数，实际为 {probability!r}。")
    if not 0 < probability < 1:
        raise ValueError(f"probability 应在开区间 (0, 1) 内，实际为 {probability!r}；例如 0.7。")
    return float(probability)


def plot_binary_losses(probability: float = 0.7, show_squared_error: bool = False, ax=None):
    """画预测概率 p 与二元交叉熵的关系（y = 1 与 y = 0 各一条曲线），标出当前 p 处的两个损失，返回 Figure。

    show_squared_error=True 时叠加平方误差 (y - p)²，对比它对“自信地答错”罚得多轻。
    """
    import matplotlib.pyplot as plt

    probability = _check_probability(probability)
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)

    p = np.linspace(0.001, 0.999, 999)
    ones, zeros = np.ones_like(p), np.zeros_like(p)
    ax.plot(p, binary_cross_entropy(p, ones, reduction="none"), color="tab:blue", label=r"$y=1$：$-\log p$")
    ax.plot(p, binary_cross_entropy(p, zeros, reduction="none"), color="tab:red", label=r"$y=0$：$-\log(1-p)$")
    if show_squared_error:
        ax.plot(p, (1 - p) ** 2, color="tab:blue", linestyle=":", label=r"$y=1$ 的平方误差 $(1-p)^2$")
        ax.plot(p, p**2, color="tab:red", linestyle=":", label=r"$y=0$ 的平方误差 $p^2$")

    loss_one = float(binary_cross_entropy(probability, 1.0))
    loss_zero = float(binary_cross_entropy(probability, 0.0))
    ax.scatter([probability, probability], [loss_one, loss_zero], color=["tab:blue", "tab:red"], zorder=3)
    ax.axvline(probability, color="gray", linewidth=0.8, linestyle="--")
    ax.set_title(f"p = {probability:.2f}：y=1 时损失 {loss_one:.3f}，y=0 时损失 {loss_zero:.3f}")
    ax.set_xlabel("预测为正类的概率 $p$")
    ax.set_ylabel("损失")
    ax.set_ylim(0, 5)
    ax.legend(loc="upper center")
    ax.grid(alpha=0.3)
    return ax.figure


def loss_explorer():
    """返回一个 ipywidgets 控件：滑块移动预测概率 p，复选框叠加平方误差作对比。"""
    import ipywidgets as widgets

    probability = widgets.FloatSlider(
        value=0.7, min=0.01, max=0.99, step=0.01, description="预测概率 p", continuous_update=False
    )
    show_squared_error = widgets.Checkbox(value=False, description="叠加平方误差")
    output = widgets.Output()

    def redraw(_change=None):
        _draw_into(output, lambda: plot_binary_losses(probability.value, show_squared_error.value))

    for control in (probability, show_squared_error):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([probability, show_squared_error]), output])


def _draw_into(output, make_figure) -> None:
    """在 Output 控件里清空旧图、画新图，并关闭 Figure，避免图越积越多。"""
    import matplotlib.pyplot as plt
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        figure = make_figure()
        display(figure)
        plt.close(figure)
