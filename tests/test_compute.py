"""算力与成本的公式：参数量、6·N·D、训练显存与 GPU 时估算。"""

import numpy as np
import pytest

from bigmodel_lab.compute import (
    GPU_SPECS,
    PUBLISHED_MODELS,
    approx_block_parameters,
    approx_parameters,
    estimate_training_cost,
    formula_parameters,
    gpt_parameter_breakdown,
    training_flops,
    training_memory_bytes,
)
from bigmodel_lab.gpt import GPT, GPTConfig, gpt_num_parameters

CONFIGS = [
    dict(vocab_size=100, context_length=16, n_layer=2, n_head=2, d_model=32, bias=True),
    dict(vocab_size=57, context_length=8, n_layer=3, n_head=4, d_model=16, bias=False),
]


@pytest.mark.parametrize("spec", CONFIGS, ids=["bias", "no_bias"])
def test_breakdown_sums_to_counted_parameters(spec):
    breakdown = gpt_parameter_breakdown(
        spec["vocab_size"], spec["context_length"], spec["n_layer"], spec["d_model"], bias=spec["bias"]
    )
    config = GPTConfig(**spec)
    assert sum(breakdown.values()) == gpt_num_parameters(config)
    assert sum(breakdown.values()) == GPT(config).num_parameters()


def test_gpt2_small_formula_gives_124m():
    gpt2_small = next(m for m in PUBLISHED_MODELS if m.name == "GPT-2 small")
    assert formula_parameters(gpt2_small) == 124_439_808


def test_every_published_model_cites_a_source():
    for model in PUBLISHED_MODELS:
        assert "et al." in model.source
        assert any(year in model.source for year in ("2019", "2020", "2022", "2023"))


def test_twelve_l_d_squared_is_close_for_large_models():
    gpt3 = next(m for m in PUBLISHED_MODELS if m.name == "GPT-3 175B")
    assert approx_block_parameters(gpt3.n_layer, gpt3.d_model) / gpt3.reported_parameters == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("model", PUBLISHED_MODELS, ids=lambda m: m.name)
def test_approximation_within_seven_percent_of_reported(model):
    assert approx_parameters(model) / model.reported_parameters == pytest.approx(1.0, abs=0.07)


def test_approx_block_parameters_rejects_zero_layers():
    with pytest.raises(ValueError, match="n_layer"):
        approx_block_parameters(0, 768)


def test_training_flops_of_gpt3():
    assert training_flops(175e9, 300e9) == pytest.approx(3.15e23)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True, "1e9"])
def test_training_flops_rejects_bad_tokens(bad):
    with pytest.raises(ValueError, match="n_tokens"):
        training_flops(1e6, bad)


def test_mixed_precision_adam_needs_16_bytes_per_parameter():
    assert sum(training_memory_bytes(1.0).values()) == 16


def test_fp32_adam_also_needs_16_bytes_per_parameter():
    assert sum(training_memory_bytes(1.0, mixed_precision=False).values()) == 16


def test_cost_estimate_arithmetic():
    estimate = estimate_training_cost(1e9, 20e9, "NVIDIA A100 SXM 80GB", utilization=0.5, price_per_gpu_hour=10.0)
    expected_hours = 6 * 1e9 * 20e9 / (312e12 * 0.5) / 3600
    assert estimate.gpu_hours == pytest.approx(expected_hours)
    assert estimate.cost == pytest.approx(expected_hours * 10.0)


def test_more_gpus_shorten_wall_time_only():
    one = estimate_training_cost(1e9, 20e9, n_gpus=1)
    eight = estimate_training_cost(1e9, 20e9, n_gpus=8)
    assert eight.wall_hours == pytest.approx(one.wall_hours / 8)
    assert eight.cost == pytest.approx(one.cost)


def test_default_price_is_the_example_price():
    estimate = estimate_training_cost(1e9, 20e9, "NVIDIA L4")
    assert estimate.price_per_gpu_hour == GPU_SPECS["NVIDIA L4"].example_price_per_hour


def test_cost_lines_state_assumptions():
    text = str(estimate_training_cost(124e6, 10e9))
    assert text.count("假设") == 3
    assert "元" in text


def test_unknown_gpu_lists_choices():
    with pytest.raises(ValueError, match="NVIDIA H100 SXM"):
        estimate_training_cost(1e9, 1e9, gpu="TPU")


@pytest.mark.parametrize("bad", [0, 1.5, -0.2, True])
def test_utilization_must_be_a_fraction(bad):
    with pytest.raises(ValueError, match="utilization"):
        estimate_training_cost(1e9, 1e9, utilization=bad)


def test_negative_price_rejected():
    with pytest.raises(ValueError, match="price_per_gpu_hour"):
        estimate_training_cost(1e9, 1e9, price_per_gpu_hour=-1)


def test_gpu_count_must_be_positive_integer():
    with pytest.raises(ValueError, match="n_gpus"):
        estimate_training_cost(1e9, 1e9, n_gpus=0)


def test_gpu_hours_plot_draws_without_warnings():
    import matplotlib.pyplot as plt

    from bigmodel_lab.plotting import use_chinese_font
    from bigmodel_lab.widgets.compute import plot_gpu_hours

    use_chinese_font()
    figure = plot_gpu_hours(124e6, 10e9, 0.4, highlight="NVIDIA L4")
    figure.canvas.draw()
    plt.close(figure)


def test_cost_estimator_builds_widget():
    import ipywidgets

    from bigmodel_lab.widgets.compute import cost_estimator

    assert isinstance(cost_estimator(), ipywidgets.VBox)


@pytest.mark.parametrize("bad", [1.5, 12.0, "12", True, -3])
def test_approx_block_parameters_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="n_layer 应为正整数"):
        approx_block_parameters(bad, 768)


def test_compute_accepts_numpy_scalars():
    assert approx_block_parameters(np.int64(12), np.int32(768)) == approx_block_parameters(12, 768)
    assert training_flops(np.int64(10**6), np.float32(1e9)) == training_flops(1e6, 1e9)
    estimate = estimate_training_cost(1e9, 20e9, utilization=np.float32(0.5), n_gpus=np.int64(8))
    reference = estimate_training_cost(1e9, 20e9, utilization=0.5, n_gpus=8)
    assert estimate.gpu_hours == reference.gpu_hours
    assert type(estimate.n_gpus) is int
    assert type(estimate.utilization) is float


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_price_rejected(bad):
    with pytest.raises(ValueError, match="price_per_gpu_hour 应为有限的非负数"):
        estimate_training_cost(1e9, 1e9, price_per_gpu_hour=bad)


def test_fractional_gpu_count_rejected():
    with pytest.raises(ValueError, match="n_gpus 应为正整数"):
        estimate_training_cost(1e9, 1e9, n_gpus=8.0)
