import numpy as np
import pytest
import torch

from bigmodel_lab import gpt
from bigmodel_lab.attention import (
    BLOCK_STATE_KEYS,
    block_params_from_state_dict,
    causal_self_attention,
    decoder_block,
    feed_forward,
    gpt_forward,
    gpt_params_from_state_dict,
    layer_norm,
    sinusoidal_positional_encoding,
)

BLOCK_TOLERANCE = 1e-8


def randomized(module, seed=0, std=0.2):
    """把模块的全部参数（含 LayerNorm 的 weight/bias）换成随机值，转为 float64 并设为评估模式。"""
    torch.manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, std)
    return module


def small_config(**overrides):
    values = {"vocab_size": 23, "context_length": 12, "n_layer": 1, "n_head": 4, "d_model": 16}
    values.update(overrides)
    return gpt.GPTConfig(**values)


def test_block_state_keys_match_gpt_block():
    assert set(gpt.Block(small_config()).state_dict()) == set(BLOCK_STATE_KEYS)


def test_layer_norm_matches_torch():
    x = np.random.default_rng(0).standard_normal((3, 5, 16)) * 3 + 1
    weight, bias = np.linspace(0.5, 1.5, 16), np.linspace(-1, 1, 16)
    expected = torch.nn.functional.layer_norm(
        torch.from_numpy(x), (16,), torch.from_numpy(weight), torch.from_numpy(bias), eps=1e-5
    )
    assert np.abs(layer_norm(x, weight, bias) - expected.numpy()).max() < 1e-12


def test_feed_forward_matches_gpt_mlp():
    block = randomized(gpt.Block(small_config()))
    params = block_params_from_state_dict(block.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 7, 16))
    ours = feed_forward(x, params["w_fc"], params["b_fc"], params["w_proj"], params["b_proj"])
    expected = block.mlp(torch.from_numpy(x)).detach().numpy()
    assert np.abs(ours - expected).max() < BLOCK_TOLERANCE


def test_causal_self_attention_matches_gpt_attention():
    block = randomized(gpt.Block(small_config()), seed=1)
    params = block_params_from_state_dict(block.state_dict())
    x = np.random.default_rng(2).standard_normal((2, 7, 16))
    ours = causal_self_attention(x, params["w_qkv"], params["b_qkv"], params["w_o"], params["b_o"], num_heads=4)
    expected = block.attn(torch.from_numpy(x)).detach().numpy()
    assert np.abs(ours - expected).max() < BLOCK_TOLERANCE


def test_decoder_block_matches_gpt_block():
    block = randomized(gpt.Block(small_config()))
    x = np.random.default_rng(3).standard_normal((3, 12, 16))
    ours = decoder_block(x, block_params_from_state_dict(block.state_dict()), num_heads=4)
    expected = block(torch.from_numpy(x)).detach().numpy()
    assert np.abs(ours - expected).max() < BLOCK_TOLERANCE


def test_decoder_block_matches_gpt_block_at_default_width():
    config = gpt.GPTConfig(vocab_size=10)  # d_model=128, n_head=4
    block = randomized(gpt.Block(config), seed=4, std=0.05)
    x = np.random.default_rng(4).standard_normal((2, config.context_length, config.d_model))
    ours = decoder_block(x, block_params_from_state_dict(block.state_dict()), num_heads=config.n_head)
    expected = block(torch.from_numpy(x)).detach().numpy()
    assert np.abs(ours - expected).max() < BLOCK_TOLERANCE


def test_decoder_block_without_bias_matches_gpt_block():
    block = randomized(gpt.Block(small_config(bias=False)), seed=5)
    params = block_params_from_state_dict(block.state_dict())
    assert params["b_qkv"] is None
    x = np.random.default_rng(5).standard_normal((2, 6, 16))
    expected = block(torch.from_numpy(x)).detach().numpy()
    assert np.abs(decoder_block(x, params, num_heads=4) - expected).max() < BLOCK_TOLERANCE


def test_decoder_block_is_causal():
    block = randomized(gpt.Block(small_config()), seed=6)
    params = block_params_from_state_dict(block.state_dict())
    x = np.random.default_rng(6).standard_normal((1, 8, 16))
    changed = x.copy()
    changed[0, 5:] += 1.0  # 只改后面的位置
    before, after = decoder_block(x, params, 4), decoder_block(changed, params, 4)
    np.testing.assert_allclose(before[0, :5], after[0, :5], atol=1e-12)


@pytest.mark.parametrize("n_layer", [1, 2])
def test_gpt_forward_matches_torch_gpt(n_layer):
    model = randomized(gpt.GPT(small_config(n_layer=n_layer)), seed=n_layer)
    idx = np.random.default_rng(7).integers(0, 23, size=(2, 12))
    ours = gpt_forward(idx, gpt_params_from_state_dict(model.state_dict()), num_heads=4)
    expected, _ = model(torch.from_numpy(idx))
    assert np.abs(ours - expected.detach().numpy()).max() < BLOCK_TOLERANCE


def test_gpt_forward_rejects_too_long_sequence():
    model = randomized(gpt.GPT(small_config()))
    params = gpt_params_from_state_dict(model.state_dict())
    with pytest.raises(ValueError, match="上下文长度 12"):
        gpt_forward(np.zeros((1, 13), dtype=np.int64), params, num_heads=4)


def test_missing_state_key_names_key_and_prefix():
    state = gpt.GPT(small_config()).state_dict()
    with pytest.raises(ValueError) as info:
        block_params_from_state_dict(state)
    message = str(info.value)
    assert "'ln1.weight'" in message
    assert "prefix='blocks.0.'" in message


def test_block_params_transpose_linear_weights():
    block = gpt.Block(small_config())
    params = block_params_from_state_dict(block.state_dict())
    assert params["w_qkv"].shape == (16, 48)
    assert params["w_fc"].shape == (16, 64)
    assert params["w_proj"].shape == (64, 16)


def test_decoder_block_reports_missing_params():
    params = block_params_from_state_dict(gpt.Block(small_config()).state_dict())
    del params["w_fc"]
    with pytest.raises(ValueError, match="w_fc"):
        decoder_block(np.ones((4, 16)), params, num_heads=4)


def test_sinusoidal_encoding_values():
    encoding = sinusoidal_positional_encoding(50, 16)
    assert encoding.shape == (50, 16)
    np.testing.assert_allclose(encoding[0], np.tile([0.0, 1.0], 8))
    np.testing.assert_allclose(encoding[3, 0], np.sin(3.0))
    np.testing.assert_allclose(encoding[3, 3], np.cos(3.0 / 10000 ** (2 / 16)))
    assert np.abs(encoding).max() <= 1.0


def test_sinusoidal_encoding_rejects_odd_width():
    with pytest.raises(ValueError, match="偶数"):
        sinusoidal_positional_encoding(10, 7)
