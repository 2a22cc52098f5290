"""训练成本估算器：选模型大小、训练词元数、GPU 类型、利用率与单价，看 GPU 时与费用。

所有 GPU 参数都是假设（见 bigmodel_lab.compute.GPU_SPECS）：峰值取厂商数据表的稠密 BF16 数值，
单价是可修改的示例值。
"""

from __future__ import annotations

import numpy as np

from ..compute import GPU_SPECS, estimate_training_cost


def _format_hours(hours: float) -> str:
    return f"{hours:,.0f}" if hours >= 10 else f"{hours:.2g}"


def plot_gpu_hours(n_parameters: float, n_tokens: float, utilization: float = 0.4, prices=None,
                   highlight: str | None = None, ax=None):
    """画各种 GPU 训练同一个模型所需的 GPU 时（横向条形图，对数坐标），条旁标出费用；返回 Figure。

    prices 是 {GPU 名: 元/GPU·小时}，缺省的用 GPU_SPECS 中的示例单价；highlight 的那一条画成橙色。
    """
    import matplotlib.pyplot as plt

    prices = dict(prices or {})
    names = list(GPU_SPECS)
    estimates = [
        estimate_training_cost(n_parameters, n_tokens, name, utilization, prices.get(name)) for name in names
    ]
    hours = np.array([e.gpu_hours for e in estimates])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.6))

    colors = ["tab:orange" if name == highlight else "tab:blue" for name in names]
    ax.barh(names, hours, color=colors)
    ax.set_xscale("log")
    ax.invert_yaxis()
    for row, estimate in enumerate(estimates):
        ax.text(estimate.gpu_hours * 1.1, row, f"{_format_hours(estimate.gpu_hours)} GPU·时，约 {estimate.cost:,.0f} 元",
                va="center", fontsize=9)
    ax.set_xlim(hours.min() / 2, hours.max() * 12)
    ax.set_xlabel("GPU 时（对数坐标）")
    ax.set_title(f"训练 {n_parameters:.3g} 参数、{n_tokens:.3g} 词元（利用率 {utilization:.0%}）")
    ax.grid(axis="x", alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def cost_estimator(n_parameters: float = 124e6, n_tokens: float = 10e9):
    """返回一个 ipywidgets 控件：调模型大小、词元数、GPU、利用率、单价与卡数，显示假设、GPU 时与费用。"""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    style = {"description_width": "8em"}
    parameters = widgets.FloatLogSlider(value=n_parameters, base=10, min=6, max=12, step=0.1,
                                        description="参数量 N", style=style, continuous_update=False)
    tokens = widgets.FloatLogSlider(value=n_tokens, base=10, min=8, max=13, step=0.1,
                                    description="训练词元数 D", style=style, continuous_update=False)
    gpu = widgets.Dropdown(options=list(GPU_SPECS), value="NVIDIA A100 SXM 80GB", description="GPU", style=style)
    utilization = widgets.FloatSlider(value=0.4, min=0.05, max=0.8, step=0.05, description="算力利用率",
                                      style=style, continuous_update=False)
    price = widgets.FloatText(value=GPU_SPECS[gpu.value].example_price_per_hour,
                              description="元/GPU·小时（假设）", style={"description_width": "11em"})
    gpus = widgets.BoundedIntText(value=8, min=1, max=100000, description="GPU 块数", style=style)
    output = widgets.Output()

    def use_example_price(change):
        price.value = GPU_SPECS[change["new"]].example_price_per_hour  # 换 GPU 时先填入它的示例单价

    def redraw(_change=None):
        with output:
            output.clear_output(wait=True)
            try:
                estimate = estimate_training_cost(parameters.value, tokens.value, gpu.value, utilization.value,
                                                  price.value, gpus.value)
            except ValueError as error:
                print(error)
                return
            print(estimate)
            figure = plot_gpu_hours(parameters.value, tokens.value, utilization.value,
                                    {gpu.value: price.value}, highlight=gpu.value)
            display(figure)
            plt.close(figure)

    gpu.observe(use_example_price, names="value")
    for control in (parameters, tokens, gpu, utilization, price, gpus):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([parameters, tokens]), widgets.HBox([gpu, utilization]),
                         widgets.HBox([price, gpus]), output])
