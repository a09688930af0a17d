"""One builder for the tiny decoders: the embedded Llama and the rehearsal's
Qwen2 stand-in from one ModelShape, the Llama weights those of a LlamaConfig
written out field by field, the Qwen2 weights those of the Qwen2Config the
stand-in was built from before."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import tiny_tokenizer  # noqa: E402

from ila.lm.model import ModelShape, build_model, n_parameters  # noqa: E402

SHAPE = ModelShape(hidden=32, layers=2, heads=4, kv_heads=2, ffn=64, max_position=128)


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return tiny_tokenizer(tmp_path_factory.mktemp("tok"))


def written_out(tok, shape, config_class):
    """The config fields given one by one, as the builders wrote them."""
    return config_class(
        vocab_size=len(tok), hidden_size=shape.hidden, num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads, intermediate_size=shape.ffn,
        max_position_embeddings=shape.max_position, tie_word_embeddings=True, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, attention_dropout=0.0, use_cache=True,
    )


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape and bool((sa[k] == sb[k]).all()), k


def test_kv_heads_default_to_heads_and_shapes_are_checked():
    assert ModelShape(heads=4).kv_heads == 4 and ModelShape(heads=4) == ModelShape(heads=4, kv_heads=4)
    assert ModelShape().arch == "llama" and ModelShape().architecture == "LlamaForCausalLM"
    assert replace(SHAPE, arch="qwen2").architecture == "Qwen2ForCausalLM"
    with pytest.raises(ValueError, match="divisible by kv_heads"):
        ModelShape(hidden=32, heads=4, kv_heads=3)
    with pytest.raises(ValueError, match="divisible by heads"):
        ModelShape(hidden=30, heads=4)
    with pytest.raises(ValueError, match="arch must be one of"):
        ModelShape(arch="gpt2")


@pytest.mark.parametrize("seed", [0, 7])
def test_llama_weights_are_those_of_the_llama_config_written_out(tok, seed):
    """The embedded base model is the same, bit for bit, as before the
    builder learnt other architectures: plain multi-head attention."""
    from transformers import LlamaConfig, LlamaForCausalLM, set_seed

    shape = replace(SHAPE, kv_heads=None)
    model = build_model(tok, shape, seed)
    set_seed(seed)
    reference = LlamaForCausalLM(written_out(tok, shape, LlamaConfig))
    assert type(model) is LlamaForCausalLM and model.config.num_key_value_heads == shape.heads == 4
    assert_same_state(model, reference)


def test_qwen2_weights_are_those_of_the_qwen2_config_written_out(tok):
    """The rehearsal's base stand-in is the same, bit for bit, as the one
    built from its own Qwen2Config."""
    from transformers import Qwen2Config, Qwen2ForCausalLM, set_seed

    shape = replace(SHAPE, arch="qwen2")
    model = build_model(tok, shape, 3)
    set_seed(3)
    assert_same_state(model, Qwen2ForCausalLM(written_out(tok, shape, Qwen2Config)))


def test_one_shape_builds_both_architectures(tok):
    import torch

    llama, qwen2 = build_model(tok, SHAPE, 0), build_model(tok, replace(SHAPE, arch="qwen2"), 0)
    assert (llama.config.model_type, qwen2.config.model_type) == ("llama", "qwen2")
    for m in (llama, qwen2):
        c = m.config
        assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads) == (32, 2, 4, 2)
        assert (c.intermediate_size, c.max_position_embeddings, c.vocab_size) == (64, 128, len(tok))
        assert m.get_input_embeddings().weight is m.get_output_embeddings().weight  # tied
        assert tuple(m.model.layers[0].self_attn.k_proj.weight.shape) == (2 * 32 // 4, 32)  # grouped-query
    assert not qwen2.config.use_sliding_window
    # the one difference in weights: Qwen2's query, key and value projections have biases
    head_dim = 32 // 4
    biases = SHAPE.layers * (SHAPE.heads + 2 * SHAPE.kv_heads) * head_dim
    assert n_parameters(qwen2) - n_parameters(llama) == biases == 128
    assert llama.model.layers[0].self_attn.q_proj.bias is None
    assert qwen2.model.layers[0].self_attn.q_proj.bias is not None
    ids = torch.tensor([tok("Return the sum.", add_special_tokens=False)["input_ids"]])
    for m in (llama, qwen2):
        logits = m(input_ids=ids).logits
        assert tuple(logits.shape) == (1, ids.shape[1], len(tok)) and bool(torch.isfinite(logits).all())
