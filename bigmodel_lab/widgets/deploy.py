"""评论分类演示：输入一条评论，看预测的标签、概率，以及用遮挡法算出的每个字符的贡献。

调用前请先执行 bigmodel_lab.plotting.use_chinese_font()，图中的字符是汉字。
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..deploy import Predictor, occlusion_importance

CHARS_PER_ROW = 20
MISSING_GLYPH = "?"


@lru_cache(maxsize=4)
def _covered_codepoints(family: str) -> frozenset[int]:
    """返回字体 family 覆盖的字符编码集合。"""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def displayable(text: str) -> str:
    """把当前中文字体画不出的字符（如表情符号）换成 '?'，避免 matplotlib 的缺字警告。

    只看 font.sans-serif 里的第一个字体（use_chinese_font 设置的中文字体）：
    它已含常用汉字、拉丁字母与标点，回退字体能画的少数字符也换掉，宁可保守。
    """
    import matplotlib

    covered = _covered_codepoints(matplotlib.rcParams["font.sans-serif"][0])
    return "".join(char if ord(char) in covered or char.isspace() else MISSING_GLYPH for char in text)


def plot_char_importance(text: str, scores, label_name: str, probability: float, ax=None):
    """把每个字符画成一个色块：红色把预测推向 label_name，蓝色推离，颜色越深作用越大；返回 Figure。

    scores 与 text 等长，通常来自 bigmodel_lab.deploy.occlusion_importance。
    """
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(text),):
        raise ValueError(f"scores 的形状应为 ({len(text)},)，与 text 的字符数一致，实际为 {scores.shape}。")
    rows = max(1, -(-len(text) // CHARS_PER_ROW))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 * rows + 1.2))

    limit = max(float(np.abs(scores).max()), 1e-3)  # 颜色范围关于 0 对称
    norm = Normalize(-limit, limit)
    colormap = colormaps["RdBu_r"]
    for position, (char, score) in enumerate(zip(displayable(text), scores)):
        row, col = divmod(position, CHARS_PER_ROW)
        ax.add_patch(Rectangle((col, -row - 1), 0.95, 0.9, color=colormap(norm(score))))
        color = "white" if abs(score) > 0.6 * limit else "black"
        ax.text(col + 0.475, -row - 0.55, char, ha="center", va="center", fontsize=13, color=color)

    ax.set_xlim(0, CHARS_PER_ROW)
    ax.set_ylim(-rows - 0.1, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"预测：{label_name}（概率 {probability:.2f}）  红色推向该预测，蓝色推离")
    colorbar = ax.figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax, orientation="horizontal",
                                  fraction=0.08, pad=0.04)
    colorbar.set_label("删去该字符后，预测概率下降多少")
    return ax.figure


def explain(predictor: Predictor, text: str):
    """对一条评论做遮挡分析并画图，返回（标签名，概率，Figure）。"""
    label, probability, scores = occlusion_importance(predictor, text)
    label_name = predictor.label_names.get(label, str(label))
    return label_name, probability, plot_char_importance(text, scores, label_name, probability)


def review_demo(predictor: Predictor, text: str = "质量很好，物流也快，就是价格有点贵"):
    """返回一个 ipywidgets 控件：在文本框里输入评论，按回车或点到框外后显示标签、概率与字符贡献图。"""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    box = widgets.Text(value=text, description="评论", continuous_update=False, layout=widgets.Layout(width="95%"))
    verdict = widgets.HTML()
    output = widgets.Output()

    def redraw(_change=None):
        with output:
            output.clear_output(wait=True)
            review = box.value.strip()
            if not review:
                verdict.value = "请输入一条评论。"
                return
            label_name, probability, figure = explain(predictor, review)
            verdict.value = f"<b>预测：{label_name}</b>，概率 {probability:.3f}"
            display(figure)
            plt.close(figure)

    box.observe(redraw, names="value")
    redraw()
    return widgets.VBox([box, verdict, output])
