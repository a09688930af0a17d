"""The tiny decoders the project builds from a shape: the embedded base model
(Llama architecture) and the rehearsal's stand-ins (a Qwen2 base, Llama
Deita scorers), saved and loaded like any Hugging Face causal LM; and
:func:`load_causal_lm`, the one ``from_pretrained`` of a causal LM that
fine-tuning and scoring share."""

from __future__ import annotations

from dataclasses import dataclass

#: architecture -> (config class, causal LM class) in transformers. Given the
#: same shape, a Qwen2 differs from a Llama in its biased query/key/value
#: projections (and a sliding window, off unless asked for): the same
#: config fields build both.
ARCHITECTURES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM"),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM"),
}


@dataclass(frozen=True)
class ModelShape:
    """Size and architecture of a tiny decoder (defaults: the embedded
    Llama, ~0.5M parameters at vocab 2048).

    hidden: model width; layers: decoder blocks; heads: attention heads
    (``hidden`` must be divisible by it); ffn: width of the SwiGLU MLP;
    max_position: longest sequence (RoPE); tie_embeddings: share the input
    embedding with the output projection; kv_heads: key-value heads
    (``heads`` must be divisible by it; None: ``heads``, plain multi-head
    attention; fewer: grouped-query attention, as in Qwen2); arch: a key of
    :data:`ARCHITECTURES`.
    """

    hidden: int = 64
    layers: int = 6
    heads: int = 4
    ffn: int = 256
    max_position: int = 256
    tie_embeddings: bool = True
    kv_heads: int | None = None
    arch: str = "llama"

    def __post_init__(self) -> None:
        if self.kv_heads is None:
            object.__setattr__(self, "kv_heads", self.heads)
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"ModelShape.arch must be one of {sorted(ARCHITECTURES)}, got {self.arch!r}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        if self.kv_heads < 1 or self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be divisible by kv_heads ({self.kv_heads})")

    @property
    def architecture(self) -> str:
        """The transformers class of the model (its config's ``architectures``)."""
        return ARCHITECTURES[self.arch][1]


def build_model(tokenizer, shape: ModelShape = ModelShape(), seed: int = 0):
    """A freshly initialised causal LM of ``shape.arch`` (``LlamaForCausalLM``
    by default) sized by ``shape`` with the tokenizer's vocabulary and
    special token ids. ``transformers.set_seed`` is called first, so the
    same seed gives the same weights."""
    import transformers

    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer defines no eos token")
    config_class, model_class = (getattr(transformers, name) for name in ARCHITECTURES[shape.arch])
    transformers.set_seed(seed)
    config = config_class(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        intermediate_size=shape.ffn,
        max_position_embeddings=shape.max_position,
        tie_word_embeddings=shape.tie_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attention_dropout=0.0,
        use_cache=True,
    )
    return model_class(config)


DTYPES = ("float32", "bfloat16", "float16")


def load_causal_lm(name_or_path: str, dtype: str = "float32"):
    """``AutoModelForCausalLM.from_pretrained(name_or_path)`` (a local folder
    or a Hugging Face name) with its weights in ``dtype``, one of
    :data:`DTYPES`; on the CPU, in training mode (as ``from_pretrained``
    leaves it)."""
    import torch
    from transformers import AutoModelForCausalLM

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return AutoModelForCausalLM.from_pretrained(name_or_path, dtype=getattr(torch, dtype))


def n_parameters(model) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
