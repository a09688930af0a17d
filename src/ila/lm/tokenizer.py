"""Byte-level BPE tokenizer for the embedded tiny model, trained offline with
the `tokenizers` library and saved so that
``AutoTokenizer.from_pretrained(out_dir)`` loads it.

Digits are split one per token (numbers are compositional for the toy
arithmetic tasks); every byte is in the initial alphabet, so no text is ever
unknown and no unk token is needed. Special tokens: bos, eos and pad. The
tokenizer's post-processor prepends bos when ``add_special_tokens=True``
(Llama style); the data code in this package adds bos itself and encodes
with ``add_special_tokens=False``.
"""

from __future__ import annotations

import os
from typing import Iterable

BOS_TOKEN = "<|bos|>"
EOS_TOKEN = "<|eos|>"
PAD_TOKEN = "<|pad|>"
SPECIAL_TOKENS = (PAD_TOKEN, BOS_TOKEN, EOS_TOKEN)  # ids 0, 1, 2


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int,
    out_dir: str | os.PathLike,
    min_frequency: int = 2,
):
    """Train a byte-level BPE tokenizer on ``texts`` and save it to
    ``out_dir`` with ``save_pretrained``. Returns the
    ``PreTrainedTokenizerFast``. Deterministic for the same texts and
    settings. ``vocab_size`` counts the 256 byte symbols and the special
    tokens, so it must exceed 259."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    n_base = 256 + len(SPECIAL_TOKENS)
    if vocab_size <= n_base:
        raise ValueError(f"vocab_size must exceed {n_base} (bytes + special tokens), got {vocab_size}")
    texts = list(texts)
    if not texts:
        raise ValueError("train_tokenizer: no texts given")

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    bos_id = tok.token_to_id(BOS_TOKEN)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A",
        pair=f"{BOS_TOKEN} $A $B",
        special_tokens=[(BOS_TOKEN, bos_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    os.makedirs(out_dir, exist_ok=True)
    fast.save_pretrained(str(out_dir))
    return fast
