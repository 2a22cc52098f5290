"""激活函数浏览器：选一个激活函数和 x 的范围，画出 f(x) 与导数 f'(x)。"""

from __future__ import annotations

import numpy as np

from ..functions import ACTIVATIONS

FIGSIZE = (7, 4)


def _check_name(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"未知的激活函数 {name!r}；可选值为 {', '.join(ACTIVATIONS)}。")


def _check_range(x_range) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in x_range)
    except (TypeError, ValueError) as error:
        raise ValueError(f"x_range 应为两个数 (最小值, 最大值)，实际为 {x_range!r}；例如 (-5, 5)。") from error
    if not low < high:
        raise ValueError(f"x_range 的最小值应小于最大值，实际为 ({low:g}, {high:g})；例如 (-5, 5)。")
    return low, high


def plot_activation(
    name: str = "gelu",
    x_range: tuple[float, float] = (-5.0, 5.0),
    show_function: bool = True,
    show_derivative: bool = True,
    ax=None,
):
    """在 ax（默认新建一张图）上画激活函数 name 及其导数，返回 Figure。

    name 取 bigmodel_lab.functions.ACTIVATIONS 的键，例如 "sigmoid"、"gelu_tanh"。
    """
    import matplotlib.pyplot as plt

    _check_name(name)
    low, high = _check_range(x_range)
    function, derivative, label = ACTIVATIONS[name]
    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE)

    x = np.linspace(low, high, 801)
    if show_function:
        ax.plot(x, function(x), color="tab:blue", label="$f(x)$")
    if show_derivative:
        ax.plot(x, derivative(x), color="tab:orange", linestyle="--", label="$f'(x)$")

    ax.axhline(0, color="gray", linewidth=0.8)
    ax.axvline(0, color="gray", linewidth=0.8)
    ax.set_title(f"激活函数：{label}")
    ax.set_xlabel("输入 $x$")
    ax.set_ylabel("输出")
    if show_function or show_derivative:
        ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax.figure


def activation_explorer():
    """返回一个 ipywidgets 控件：下拉框选函数，滑块选 x 的范围，复选框决定是否画 f 与 f'。"""
    import ipywidgets as widgets

    name = widgets.Dropdown(
        options=[(label, key) for key, (_, _, label) in ACTIVATIONS.items()],
        value="gelu",
        description="函数",
    )
    x_range = widgets.FloatRangeSlider(
        value=(-5.0, 5.0), min=-20.0, max=20.0, step=0.5, description="x 范围", continuous_update=False
    )
    show_function = widgets.Checkbox(value=True, description="画 f(x)")
    show_derivative = widgets.Checkbox(value=True, description="画导数 f'(x)")
    output = widgets.Output()

    def redraw(_change=None):
        low, high = x_range.value
        if high - low < x_range.step:
            # 两个滑块拖到同一点时范围为空：把区间撑开一格，而不是让画图报错。
            high = min(low + x_range.step, x_range.max)
            low = high - x_range.step
            x_range.value = (low, high)  # 这会再次触发 redraw，用撑开后的范围画图
            return
        _draw_into(output, lambda: plot_activation(
            name.value, (low, high), show_function.value, show_derivative.value
        ))

    for control in (name, x_range, show_function, show_derivative):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([name, x_range]), widgets.HBox([show_function, show_derivative]), output])


def _draw_into(output, make_figure) -> None:
    """在 Output 控件里清空旧图、画新图，并关闭 Figure，避免图越积越多。"""
    import matplotlib.pyplot as plt
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        figure = make_figure()
        display(figure)
        plt.close(figure)
