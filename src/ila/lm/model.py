"""The embedded tiny base model: a Llama-architecture decoder built from a
shape, so that it is saved and loaded like any Hugging Face causal LM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelShape:
    """Size of the tiny decoder (defaults: ~0.5M parameters at vocab 2048).

    hidden: model width; layers: decoder blocks; heads: attention heads
    (``hidden`` must be divisible by it); ffn: width of the SwiGLU MLP;
    max_position: longest sequence (RoPE); tie_embeddings: share the input
    embedding with the output projection.
    """

    hidden: int = 64
    layers: int = 6
    heads: int = 4
    ffn: int = 256
    max_position: int = 256
    tie_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")


def build_model(tokenizer, shape: ModelShape = ModelShape(), seed: int = 0):
    """A freshly initialised ``LlamaForCausalLM`` sized by ``shape`` with the
    tokenizer's vocabulary and special token ids. ``transformers.set_seed``
    is called first, so the same seed gives the same weights."""
    from transformers import LlamaConfig, LlamaForCausalLM, set_seed

    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer defines no eos token")
    set_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.heads,
        intermediate_size=shape.ffn,
        max_position_embeddings=shape.max_position,
        tie_word_embeddings=shape.tie_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attention_dropout=0.0,
        use_cache=True,
    )
    return LlamaForCausalLM(config)


def n_parameters(model) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
