"""手写 LoRA：初始时不改变输出、只训练低秩矩阵、参数量符合公式、合并后输出不变。"""

import numpy as np
import pytest
import torch
from torch import nn

from bigmodel_lab.gpt import GPTClassifier, GPTConfig
from bigmodel_lab.lora import (
    LoRALinear,
    apply_lora,
    count_parameters,
    lora_parameter_count,
    merge_lora,
)


def tiny_classifier(seed=0):
    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=20, context_length=8, n_layer=2, n_head=2, d_model=16)
    return GPTClassifier(config)


def tiny_ids():
    return torch.tensor([[3, 4, 5, 6, 1, 1], [7, 8, 9, 10, 11, 12]])


def test_lora_linear_starts_equal_to_base():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    x = torch.randn(3, 6)
    want = base(x)
    lora = LoRALinear(base, rank=2, alpha=4)
    torch.testing.assert_close(lora(x), want)


def test_lora_linear_matches_formula():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    lora = LoRALinear(base, rank=2, alpha=4)
    with torch.no_grad():
        lora.lora_B.normal_()
    x = torch.randn(3, 6)
    want = x @ (base.weight + (4 / 2) * lora.lora_B @ lora.lora_A).T + base.bias
    torch.testing.assert_close(lora(x), want)


def test_lora_linear_freezes_base_weights():
    lora = LoRALinear(nn.Linear(6, 5), rank=2)
    assert not lora.base.weight.requires_grad
    assert not lora.base.bias.requires_grad
    assert lora.lora_A.requires_grad
    assert lora.lora_B.requires_grad


def test_apply_lora_keeps_classifier_output_at_start():
    model = tiny_classifier()
    ids = tiny_ids()
    want = model(ids)
    apply_lora(model, rank=2)
    torch.testing.assert_close(model(ids), want)


def test_apply_lora_replaces_attention_layers():
    model = tiny_classifier()
    replaced = apply_lora(model, rank=2)
    assert replaced == [
        "backbone.blocks.0.attn.qkv",
        "backbone.blocks.0.attn.proj",
        "backbone.blocks.1.attn.qkv",
        "backbone.blocks.1.attn.proj",
    ]
    assert isinstance(model.backbone.blocks[0].attn.qkv, LoRALinear)
    assert isinstance(model.backbone.blocks[0].mlp.proj, nn.Linear)


def test_only_lora_and_head_are_trainable():
    model = tiny_classifier()
    apply_lora(model, rank=2)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {
        f"backbone.blocks.{i}.attn.{layer}.lora_{m}" for i in range(2) for layer in ("qkv", "proj") for m in "AB"
    } | {"head.weight", "head.bias"}


def test_trainable_count_matches_formula():
    model = tiny_classifier()
    apply_lora(model, rank=2)
    d = 16
    per_block = lora_parameter_count(d, 3 * d, 2) + lora_parameter_count(d, d, 2)
    head = d * 2 + 2
    assert count_parameters(model, trainable_only=True) == 2 * per_block + head


def test_count_parameters_counts_tied_weights_once():
    model = tiny_classifier()
    assert count_parameters(model) == model.backbone.num_parameters() + 16 * 2 + 2


def test_training_step_leaves_frozen_weights_unchanged():
    model = tiny_classifier()
    apply_lora(model, rank=2)
    frozen_before = model.backbone.blocks[0].attn.qkv.base.weight.clone()
    embedding_before = model.backbone.tok_emb.weight.clone()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = nn.functional.cross_entropy(model(tiny_ids()), torch.tensor([0, 1]))
    loss.backward()
    optimizer.step()
    torch.testing.assert_close(model.backbone.blocks[0].attn.qkv.base.weight, frozen_before)
    torch.testing.assert_close(model.backbone.tok_emb.weight, embedding_before)
    assert model.backbone.blocks[0].attn.qkv.lora_B.abs().sum() > 0


def test_merge_gives_same_output_and_plain_state_dict():
    model = tiny_classifier()
    apply_lora(model, rank=2)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.lora_B.normal_()
    ids = tiny_ids()
    want = model(ids)
    merge_lora(model)
    torch.testing.assert_close(model(ids), want)
    plain = tiny_classifier(seed=1)
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(plain(ids), want)


def test_lora_rejects_non_linear_base():
    with pytest.raises(TypeError, match="base 应为 nn.Linear"):
        LoRALinear(nn.Conv1d(2, 2, 1))


@pytest.mark.parametrize("rank", [0, -1, 2.5, True])
def test_lora_rejects_bad_rank(rank):
    with pytest.raises(ValueError, match="rank 应为正整数"):
        LoRALinear(nn.Linear(6, 5), rank=rank)


def test_lora_rejects_rank_above_layer_size():
    with pytest.raises(ValueError, match="rank=6 大于该层的 min"):
        LoRALinear(nn.Linear(6, 5), rank=6)


def test_lora_rejects_non_positive_alpha():
    with pytest.raises(ValueError, match="alpha 应为正数"):
        LoRALinear(nn.Linear(6, 5), rank=2, alpha=0)


def test_apply_lora_rejects_unknown_targets():
    with pytest.raises(ValueError, match="没有名字以 \\['attn.query'\\] 结尾"):
        apply_lora(tiny_classifier(), targets=("attn.query",))


def test_apply_lora_accepts_single_trainable_string():
    as_string, as_tuple = tiny_classifier(), tiny_classifier()
    apply_lora(as_string, trainable="head")
    apply_lora(as_tuple, trainable=("head",))
    assert count_parameters(as_string, trainable_only=True) == count_parameters(as_tuple, trainable_only=True)
    assert as_string.head.weight.requires_grad


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), -2.0, "8"])
def test_lora_rejects_non_finite_alpha(alpha):
    with pytest.raises(ValueError, match="alpha 应为正数"):
        LoRALinear(nn.Linear(6, 5), rank=2, alpha=alpha)


def test_lora_accepts_numpy_scalars():
    layer = LoRALinear(nn.Linear(6, 5), rank=np.int64(2), alpha=np.float32(4.0))
    assert layer.rank == 2
    assert layer.scaling == 2.0


def test_apply_lora_twice_says_already_applied():
    model = tiny_classifier()
    apply_lora(model)
    with pytest.raises(ValueError, match="模型已经加过 LoRA"):
        apply_lora(model)


def test_apply_lora_bad_alpha_keeps_model():
    model = tiny_classifier()
    with pytest.raises(ValueError, match="alpha 应为正数"):
        apply_lora(model, alpha=float("nan"))
    assert all(parameter.requires_grad for parameter in model.parameters())
    assert apply_lora(model)
