"""注意力热力图与交互控件：开关 √d_k 缩放、因果掩码，拖动温度，看注意力权重如何变化。

调用前请先执行 bigmodel_lab.plotting.use_chinese_font()，热力图的刻度是汉字。
"""

from __future__ import annotations

import math

import numpy as np

from ..attention import attention_weights


def plot_attention(weights, labels, ax=None, title: str = "", annotate: bool = False, colorbar: bool = True):
    """把形状 (L, S) 的注意力权重画成热力图：行是查询，列是键，刻度是对应的字符，返回 ax。

    labels 可以是长度为 L（L == S 时）的字符串或字符列表，也可以是（查询标签, 键标签）二元组。
    annotate=True 时在每个格子里写出两位小数的权重。
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"weights 应为二维 (L, S)，实际形状为 {weights.shape}；多头或批次请先取出一个，例如 weights[0, 0]。")
    query_labels, key_labels = labels if isinstance(labels, tuple) else (labels, labels)
    query_labels, key_labels = list(query_labels), list(key_labels)
    if (len(query_labels), len(key_labels)) != weights.shape:
        raise ValueError(
            f"标签个数应与权重形状 {weights.shape} 一致，实际为查询 {len(query_labels)} 个、键 {len(key_labels)} 个；"
            "请传入与序列等长的字符列表。"
        )

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0)
    # 多字符的标签（如 <pad>）横排会互相重叠，竖排显示。
    rotation = 90 if max(len(str(label)) for label in key_labels) > 1 else 0
    ax.set_xticks(range(len(key_labels)), key_labels, rotation=rotation)
    ax.set_yticks(range(len(query_labels)), query_labels)
    ax.set_xlabel("键（被关注的字）")
    ax.set_ylabel("查询（正在计算的字）")
    if title:
        ax.set_title(title)
    if annotate:
        for row, col in np.ndindex(weights.shape):
            color = "white" if weights[row, col] > 0.6 else "black"
            ax.text(col, row, f"{weights[row, col]:.2f}", ha="center", va="center", fontsize=7, color=color)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def weights_for_settings(q, k, scaled: bool = True, causal: bool = False, temperature: float = 1.0) -> np.ndarray:
    """按给定设置计算注意力权重 softmax(Q Kᵀ · c / T)：scaled=True 时 c = 1/√d_k，否则 c = 1。"""
    if not temperature > 0:
        raise ValueError(f"temperature 应为正数，实际为 {temperature!r}；例如 temperature=1.0。")
    d_k = np.shape(q)[-1]
    scale = (1.0 / math.sqrt(d_k) if scaled else 1.0) / temperature
    return attention_weights(q, k, is_causal=causal, scale=scale)


def _settings_title(scaled: bool, causal: bool, temperature: float) -> str:
    parts = ["÷√d_k" if scaled else "不缩放", "因果掩码" if causal else "无掩码", f"温度 {temperature:g}"]
    return "，".join(parts)


def plot_attention_settings(q, k, labels, settings, ncols: int = 2):
    """把多组（scaled, causal, temperature）设置下的权重画成并排的热力图，返回 figure。

    这是交互控件的静态版本：在 GitHub 上看笔记本时控件不会显示，这张图仍然可见。
    """
    import matplotlib.pyplot as plt

    settings = list(settings)
    nrows = math.ceil(len(settings) / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.8 * nrows), squeeze=False)
    for ax, (scaled, causal, temperature) in zip(axes.flat, settings):
        weights = weights_for_settings(q, k, scaled, causal, temperature)
        plot_attention(weights, labels, ax=ax, title=_settings_title(scaled, causal, temperature))
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    figure.tight_layout()
    return figure


def attention_explorer(q, k, labels):
    """返回一个 ipywidgets 控件：勾选是否除以 √d_k、是否加因果掩码，拖动温度，热力图随之重画。

    q、k 的形状为 (L, d_k) 与 (S, d_k)，labels 是每个位置的字符。
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    scaled = widgets.Checkbox(value=True, description="除以 √d_k")
    causal = widgets.Checkbox(value=False, description="因果掩码")
    temperature = widgets.FloatSlider(
        value=1.0, min=0.1, max=3.0, step=0.1, description="温度 T", continuous_update=False
    )

    def draw(scaled: bool, causal: bool, temperature: float) -> None:
        weights = weights_for_settings(q, k, scaled, causal, temperature)
        figure, ax = plt.subplots(figsize=(5.0, 4.2))
        plot_attention(weights, labels, ax=ax, title=_settings_title(scaled, causal, temperature))
        plt.show()
        plt.close(figure)

    output = widgets.interactive_output(draw, {"scaled": scaled, "causal": causal, "temperature": temperature})
    return widgets.VBox([widgets.HBox([scaled, causal, temperature]), output])
