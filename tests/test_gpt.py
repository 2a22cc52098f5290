"""bigmodel_lab.gpt 的规格：形状、参数量公式、因果性、权重共享、采样与分类头。"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from bigmodel_lab.gpt import (
    GPT,
    Block,
    CausalSelfAttention,
    GPTClassifier,
    GPTConfig,
    cross_entropy,
    gpt_num_parameters,
    model_flops_per_token,
)

VOCAB = 50


def tiny_config(**overrides) -> GPTConfig:
    values = dict(vocab_size=VOCAB, context_length=16, n_layer=2, n_head=2, d_model=32)
    values.update(overrides)
    return GPTConfig(**values)


def tiny_model(seed: int = 0, **overrides) -> GPT:
    torch.manual_seed(seed)
    return GPT(tiny_config(**overrides)).eval()


def random_ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(2, VOCAB, (batch, length), generator=generator)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n_layer,d_model,n_head", [(1, 16, 1), (2, 32, 4), (4, 128, 4), (3, 96, 6)])
def test_parameter_count_matches_formula(bias, n_layer, d_model, n_head):
    config = tiny_config(n_layer=n_layer, d_model=d_model, n_head=n_head, bias=bias)
    model = GPT(config)
    counted = sum(p.numel() for p in model.parameters())
    assert model.num_parameters() == counted
    assert gpt_num_parameters(config) == counted


def test_parameter_count_close_to_12_l_d_squared():
    config = GPTConfig(vocab_size=4606, context_length=64, n_layer=6, n_head=6, d_model=384, bias=False)
    embeddings = config.vocab_size * config.d_model + config.context_length * config.d_model
    blocks = gpt_num_parameters(config) - embeddings
    approximate = 12 * config.n_layer * config.d_model**2
    assert abs(blocks - approximate) / approximate < 0.001


def test_flops_per_token_is_six_n_plus_attention():
    config = tiny_config()
    non_position = gpt_num_parameters(config) - config.context_length * config.d_model
    attention = 12 * config.n_layer * config.context_length * config.d_model
    assert model_flops_per_token(config) == 6 * non_position + attention


def test_block_state_dict_keys():
    block = Block(tiny_config())
    expected = [
        "ln1.weight", "ln1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
        "ln2.weight", "ln2.bias", "mlp.fc.weight", "mlp.fc.bias", "mlp.proj.weight", "mlp.proj.bias",
    ]  # fmt: skip
    assert list(block.state_dict()) == expected


def test_bias_free_block_has_no_bias_keys():
    block = Block(tiny_config(bias=False))
    assert not [key for key in block.state_dict() if key.endswith("bias")]


def test_attention_matches_explicit_masked_softmax():
    config = tiny_config(n_head=4)
    torch.manual_seed(0)
    attention = CausalSelfAttention(config).eval()
    x = torch.randn(3, 7, config.d_model)
    B, T, C = x.shape
    hs = C // config.n_head

    q, k, v = attention.qkv(x).split(C, dim=2)
    q, k, v = (t.view(B, T, config.n_head, hs).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / math.sqrt(hs)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
    expected = attention.proj((weights @ v).transpose(1, 2).reshape(B, T, C))

    torch.testing.assert_close(attention(x), expected, atol=1e-5, rtol=1e-5)


def test_forward_shapes_and_loss_is_cross_entropy():
    model = tiny_model()
    idx = random_ids(3, 10)
    targets = random_ids(3, 10, seed=2)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 10, VOCAB)
    expected = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
    torch.testing.assert_close(loss, expected)
    assert model(idx)[1] is None


def test_initial_loss_near_uniform_guessing():
    model = tiny_model()
    _, loss = model(random_ids(8, 16), random_ids(8, 16, seed=3))
    assert abs(loss.item() - math.log(VOCAB)) < 0.2


def test_future_tokens_do_not_change_past_logits():
    model = tiny_model()
    idx = random_ids(2, 12)
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 5) % VOCAB
    before, _ = model(idx)
    after, _ = model(changed)
    torch.testing.assert_close(before[:, :8], after[:, :8])
    assert not torch.allclose(before[:, 8:], after[:, 8:])


def test_output_layer_shares_embedding_weight():
    model = tiny_model()
    assert model.lm_head.weight is model.tok_emb.weight
    assert model.lm_head.weight.data_ptr() == model.tok_emb.weight.data_ptr()


def test_features_shape():
    model = tiny_model()
    assert model.features(random_ids(2, 5)).shape == (2, 5, 32)


def test_too_long_input_raises_chinese_error():
    model = tiny_model()
    with pytest.raises(ValueError, match="context_length=16"):
        model(random_ids(1, 17))


def test_one_dimensional_input_raises_chinese_error():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"idx\[None, :\]"):
        model(random_ids(1, 5)[0])


def test_float_input_raises_chinese_error():
    model = tiny_model()
    with pytest.raises(TypeError, match="torch.long"):
        model(torch.zeros(1, 4))


def test_mismatched_targets_raise_chinese_error():
    model = tiny_model()
    with pytest.raises(ValueError, match="targets 的形状"):
        model(random_ids(2, 5), random_ids(2, 4))


@pytest.mark.parametrize(
    "overrides,message",
    [
        (dict(d_model=30, n_head=4), "整除"),
        (dict(n_layer=0), "n_layer"),
        (dict(vocab_size=-1), "vocab_size"),
        (dict(dropout=1.0), "dropout"),
        (dict(d_model=32.0), "d_model"),
        (dict(dropout="0.1"), "dropout"),
        (dict(dropout=float("nan")), "dropout"),
    ],
)
def test_invalid_config_raises_chinese_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_config_round_trips_through_dict():
    config = tiny_config(bias=False, dropout=0.1)
    assert GPTConfig.from_dict(config.to_dict()) == config


def test_config_from_dict_rejects_unknown_keys():
    data = tiny_config().to_dict() | {"n_embd": 32}
    with pytest.raises(ValueError, match="n_embd"):
        GPTConfig.from_dict(data)


def test_generate_appends_tokens_and_keeps_prompt():
    model = tiny_model()
    prompt = random_ids(2, 4)
    out = model.generate(prompt, max_new_tokens=6)
    assert out.shape == (2, 10)
    assert torch.equal(out[:, :4], prompt)
    assert out.device == model.lm_head.weight.device


def test_generate_runs_past_context_length():
    model = tiny_model()
    out = model.generate(random_ids(1, 14), max_new_tokens=10)
    assert out.shape == (1, 24)


def test_generate_top_k_one_equals_greedy():
    model = tiny_model()
    prompt = random_ids(2, 3)
    greedy = model.generate(prompt, 8, temperature=0)
    torch.manual_seed(5)
    top_one = model.generate(prompt, 8, temperature=1.3, top_k=1)
    assert torch.equal(greedy, top_one)


def test_generate_top_k_samples_only_top_tokens():
    model = tiny_model()
    prompt = random_ids(1, 5).repeat(400, 1)
    logits, _ = model(prompt[:1])
    allowed = set(torch.topk(logits[0, -1], 3).indices.tolist())
    out = model.generate(prompt, 1, temperature=1.0, top_k=3, generator=torch.Generator().manual_seed(0))
    sampled = set(out[:, -1].tolist())
    assert sampled <= allowed
    assert len(sampled) > 1


def test_generate_same_generator_seed_same_text():
    model = tiny_model()
    prompt = random_ids(1, 3)
    first = model.generate(prompt, 10, generator=torch.Generator().manual_seed(7))
    second = model.generate(prompt, 10, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, second)


def test_generate_restores_training_mode():
    model = tiny_model().train()
    model.generate(random_ids(1, 3), 2)
    assert model.training


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(max_new_tokens=-1), "max_new_tokens"),
        (dict(max_new_tokens=3, temperature=-0.5), "temperature"),
        (dict(max_new_tokens=3, top_k=0), "top_k"),
        (dict(max_new_tokens=3, temperature=float("nan")), "temperature"),
        (dict(max_new_tokens=3, temperature=float("inf")), "temperature"),
    ],
)
def test_generate_invalid_arguments_raise_chinese_error(kwargs, message):
    model = tiny_model()
    with pytest.raises(ValueError, match=message):
        model.generate(random_ids(1, 3), **kwargs)


def test_gpt_rejects_non_config():
    with pytest.raises(TypeError, match="GPTConfig"):
        GPT({"vocab_size": 10})


def test_classifier_from_pretrained_copies_backbone():
    gpt = tiny_model()
    classifier = GPTClassifier.from_pretrained(gpt, num_classes=3)
    for key, value in gpt.state_dict().items():
        torch.testing.assert_close(classifier.backbone.state_dict()[key], value)
    with torch.no_grad():
        classifier.backbone.tok_emb.weight.add_(1.0)
    assert not torch.equal(classifier.backbone.tok_emb.weight, gpt.tok_emb.weight)
    assert classifier.head.out_features == 3


def test_classifier_output_shape():
    classifier = GPTClassifier(tiny_config()).eval()
    assert classifier(random_ids(4, 9)).shape == (4, 2)


def test_classifier_ignores_right_padding():
    classifier = GPTClassifier(tiny_config()).eval()
    idx = random_ids(1, 6)
    padded = torch.cat([idx, torch.ones(1, 5, dtype=torch.long)], dim=1)
    torch.testing.assert_close(classifier(idx), classifier(padded, pad_id=1), atol=1e-6, rtol=1e-5)


def test_classifier_pools_mean_of_non_pad_features():
    classifier = GPTClassifier(tiny_config()).eval()
    idx = torch.tensor([[5, 6, 7, 1, 1], [8, 9, 10, 11, 12]])
    features = classifier.backbone.features(idx)
    pooled = torch.stack([features[0, :3].mean(0), features[1].mean(0)])
    torch.testing.assert_close(classifier(idx), classifier.head(pooled))


def test_classifier_rejects_one_class():
    with pytest.raises(ValueError, match="num_classes"):
        GPTClassifier(tiny_config(), num_classes=1)


def test_classifier_from_pretrained_rejects_non_gpt():
    with pytest.raises(TypeError, match="GPT"):
        GPTClassifier.from_pretrained(torch.nn.Linear(2, 2))


def test_generate_one_dimensional_prompt_raises_chinese_error():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"idx\[None, :\]"):
        model.generate(random_ids(1, 3)[0], 2)


def test_generate_list_prompt_raises_chinese_error():
    model = tiny_model()
    with pytest.raises(TypeError, match="torch.long"):
        model.generate([[3, 4]], 2)


def test_cross_entropy_matches_torch_value_and_gradient():
    generator = torch.Generator().manual_seed(0)
    logits = (torch.randn(37, 11, generator=generator) * 30).requires_grad_(True)
    targets = torch.randint(0, 11, (37,), generator=generator)
    ours = cross_entropy(logits, targets)
    ours.backward()
    ours_grad = logits.grad.clone()
    logits.grad = None
    reference = F.cross_entropy(logits, targets)
    reference.backward()
    torch.testing.assert_close(ours, reference)
    torch.testing.assert_close(ours_grad, logits.grad)


def test_cross_entropy_gradient_is_p_minus_y_over_n():
    logits = torch.randn(4, 6, requires_grad=True)
    targets = torch.tensor([0, 5, 2, 2])
    cross_entropy(logits, targets).backward()
    expected = (logits.detach().softmax(-1) - F.one_hot(targets, 6).float()) / 4
    torch.testing.assert_close(logits.grad, expected)


def test_cross_entropy_accepts_bfloat16_logits():
    logits = torch.randn(5, 7).bfloat16().requires_grad_(True)
    targets = torch.tensor([1, 2, 3, 4, 5])
    loss = cross_entropy(logits, targets)
    assert loss.dtype == torch.float32
    loss.backward()
    assert logits.grad.dtype == torch.bfloat16


def test_cross_entropy_second_backward_raises_chinese_error():
    logits = torch.randn(3, 4, requires_grad=True)
    loss = cross_entropy(logits, torch.tensor([0, 1, 2]))
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_cross_entropy_rejects_unflattened_logits():
    with pytest.raises(ValueError, match=r"flatten\(0, 1\)"):
        cross_entropy(torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))


def test_cross_entropy_exact_when_probability_underflows():
    logits = torch.tensor([[0.0, 200.0, -5.0], [1.0, 2.0, 3.0]], requires_grad=True)
    targets = torch.tensor([0, 2])
    loss = cross_entropy(logits, targets)
    torch.testing.assert_close(loss, F.cross_entropy(logits, targets))
    assert math.isfinite(loss.item())


@pytest.mark.parametrize("bad_value", [-100, VOCAB])
def test_targets_out_of_range_raise(bad_value):
    model = tiny_model()
    targets = random_ids(2, 5)
    targets[0, 1] = bad_value
    with pytest.raises(ValueError, match=f"targets 的编号应在 \\[0, vocab_size={VOCAB}\\)"):
        model(random_ids(2, 5), targets)


def test_idx_out_of_range_raises():
    model = tiny_model()
    idx = random_ids(2, 5)
    idx[1, 4] = VOCAB + 3
    with pytest.raises(ValueError, match="idx 的编号"):
        model(idx, random_ids(2, 5))


def test_float_targets_raise_chinese_error():
    model = tiny_model()
    with pytest.raises(TypeError, match="targets.long"):
        model(random_ids(2, 5), random_ids(2, 5).float())


def test_int32_targets_still_accepted():
    model = tiny_model()
    idx, targets = random_ids(2, 5), random_ids(2, 5, seed=2)
    torch.testing.assert_close(model(idx, targets.int())[1], model(idx, targets)[1])


def test_generate_out_of_vocab_prompt_raises():
    model = tiny_model()
    with pytest.raises(ValueError, match="idx 的编号"):
        model.generate(torch.tensor([[3, VOCAB]]), 2)


def test_generate_empty_prompt_raises():
    model = tiny_model()
    with pytest.raises(ValueError, match="不能为空"):
        model.generate(torch.zeros(2, 0, dtype=torch.long), 2)


def test_generate_restores_mode_after_error():
    model = tiny_model().train()
    with pytest.raises(AttributeError):
        model.generate(random_ids(1, 3), 2, generator="not a generator")
    assert model.training


def test_generate_accepts_numpy_scalars():
    model = tiny_model()
    prompt = random_ids(1, 3)
    out = model.generate(prompt, np.int64(4), temperature=np.float32(0.8), top_k=np.int64(5))
    assert out.shape == (1, 7)
    greedy = model.generate(prompt, 4, temperature=0)
    assert torch.equal(model.generate(prompt, np.int64(4), temperature=np.float64(0.0)), greedy)


def test_config_accepts_numpy_scalars():
    config = tiny_config(vocab_size=np.int64(10), n_layer=np.int32(1), dropout=np.float32(0.5))
    assert config.vocab_size == 10
    assert type(config.vocab_size) is int
    assert type(config.n_layer) is int
    assert config.dropout == 0.5
    assert type(config.dropout) is float


def test_config_from_dict_names_missing_keys():
    with pytest.raises(ValueError, match=r"缺少必需的键 \['vocab_size'\]"):
        GPTConfig.from_dict({})


def test_classifier_accepts_numpy_num_classes():
    classifier = GPTClassifier(tiny_config(), num_classes=np.int64(3))
    assert classifier.num_classes == 3
    assert classifier.head.out_features == 3


def test_cross_entropy_keeps_float64():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(9, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 6, (9,), generator=generator)
    loss = cross_entropy(logits, targets)
    assert loss.dtype == torch.float64
    loss.backward()
    grad = logits.grad.clone()
    logits.grad = None
    F.cross_entropy(logits, targets).backward()
    torch.testing.assert_close(loss, F.cross_entropy(logits, targets))
    torch.testing.assert_close(grad, logits.grad)


def test_cross_entropy_rejects_ignore_index():
    with pytest.raises(ValueError, match="-100"):
        cross_entropy(torch.randn(3, 4), torch.tensor([0, -100, 2]))
