"""激活函数、损失与优化器三个控件：能在无界面环境中构建，画图时不缺字形、不告警。"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bigmodel_lab.functions import ACTIVATIONS  # noqa: E402
from bigmodel_lab.plotting import use_chinese_font  # noqa: E402
from bigmodel_lab.widgets import activations, losses, optimizers  # noqa: E402


@pytest.fixture(autouse=True)
def chinese_font():
    use_chinese_font()
    yield
    plt.close("all")


def draw(figure):
    figure.canvas.draw()  # 缺字形的警告在绘制时才出现，pytest 会把它变成错误


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_plot_activation_draws_each_function(name):
    figure = activations.plot_activation(name, (-3, 3))
    draw(figure)
    assert len(figure.axes[0].lines) == 4  # f、f' 与两条坐标轴线


def test_plot_activation_can_hide_derivative():
    figure = activations.plot_activation("relu", show_derivative=False)
    assert len(figure.axes[0].lines) == 3


def test_plot_activation_rejects_unknown_name():
    with pytest.raises(ValueError, match="未知的激活函数 'swish'"):
        activations.plot_activation("swish")


def test_plot_activation_rejects_empty_range():
    with pytest.raises(ValueError, match="x_range 的最小值应小于最大值"):
        activations.plot_activation("relu", (2, 2))


def test_plot_binary_losses_marks_both_losses():
    figure = losses.plot_binary_losses(0.8, show_squared_error=True)
    draw(figure)
    offsets = figure.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], [-np.log(0.8), -np.log(0.2)])


@pytest.mark.parametrize("probability", [0.0, 1.0, 1.5])
def test_plot_binary_losses_rejects_bad_probability(probability):
    with pytest.raises(ValueError, match="probability 应在开区间"):
        losses.plot_binary_losses(probability)


@pytest.mark.parametrize("problem", list(optimizers.PROBLEMS))
def test_plot_optimizer_race_draws_three_paths(problem):
    figure = optimizers.plot_optimizer_race(problem, steps=50)
    draw(figure)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert any(label.startswith("Adam") for label in labels)


def test_optimizer_race_marks_divergence():
    paths = optimizers.run_race("quadratic", sgd_lr=0.2, steps=500)
    assert len(paths["SGD"]) < 501
    figure = optimizers.plot_optimizer_race("quadratic", sgd_lr=0.2, steps=500)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "SGD（发散）" in labels


def test_optimizer_race_rejects_unknown_problem():
    with pytest.raises(ValueError, match="未知的赛道"):
        optimizers.run_race("himmelblau")


@pytest.mark.parametrize(
    "build", [activations.activation_explorer, losses.loss_explorer, optimizers.optimizer_race]
)
def test_widget_builds_and_redraws(build):
    box = build()
    slider_or_dropdown = box.children[0].children[0]
    options = getattr(slider_or_dropdown, "options", None)
    if options:
        slider_or_dropdown.value = options[-1][1]
    else:
        slider_or_dropdown.value = slider_or_dropdown.max
    assert box.children[-1].__class__.__name__ == "Output"
