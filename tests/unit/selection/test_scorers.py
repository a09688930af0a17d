"""Deita scorers: the published prompt-and-expectation method on a tiny local
Llama model (built here, nothing downloaded), and the offline proxy."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

from ila.selection import select  # noqa: E402
from ila.selection.scorers import (  # noqa: E402
    COMPLEXITY_TEMPLATE,
    QUALITY_TEMPLATE,
    DeitaScorer,
    ProxyScorer,
    deita_prompt,
    instruction_texts,
)

CORPUS = [
    "You are a helpful assistant. Please identify the complexity score of the following user query.",
    "Please identify the quality score of the Response corresponding to the Question.",
    "##Query: ##Complexity: #Question#: #Response#: ##Quality: 1 2 3 4 5 6",
    "Write a poem about the sea. Explain how a hash map works. Add 12 and 30.",
    "The answer is 42 because 40 plus 2 is 42. Here is a list: first, second, third.",
]


def _tokenizer_dir(path, with_digits=True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    if with_digits:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.ByteLevel(add_prefix_space=False), pre_tokenizers.Digits(individual_digits=True)]
        )
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=300, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
        tok.train_from_iterator(CORPUS, trainer)
    else:  # a word-level vocabulary without digit tokens
        words = sorted({w for line in CORPUS for w in line.split() if not any(c.isdigit() for c in w)})
        vocab = {t: i for i, t in enumerate(specials + words)}
        tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    fast.save_pretrained(path)
    return fast


def _model_dir(path, vocab_size, max_pos=256):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=max_pos,
        initializer_range=0.5,  # large weights: digit probabilities far from uniform
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    LlamaForCausalLM(cfg).save_pretrained(path)


@pytest.fixture(scope="module")
def scorer_dir(tmp_path_factory):
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("deita_scorer")
    tok = _tokenizer_dir(path)
    _model_dir(path, len(tok))
    return str(path)


def candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["c1", "c2", "c3", "c4", "c5"],
            "instruction": [
                "Add 12 and 30.",
                "Write a poem about the sea.",
                "Explain how a hash map works, with a list of first, second and third steps.",
                "Hi",
                "Explain",
            ],
            "input": ["", "", "", "", "a hash map"],
            "output": ["42", "The sea is wide.", "First hash, second store, third look up.", "Hello", "It maps."],
        }
    )


def test_prompts_are_deitas_verbatim():
    assert COMPLEXITY_TEMPLATE == (
        "You are a helpful assistant. Please identify the complexity score of the following user query. "
        "\n##Query: {instruction}  \n##Complexity: "
    )
    assert QUALITY_TEMPLATE == (
        "You are a helpful assistant. Please identify the quality score of the Response corresponding to the "
        "Question. \n #Question#:\n{instruction}\n#Response#:\n{output} \n##Quality: "
    )
    body, tail = deita_prompt("quality", "Q?", "A.")
    assert body + tail == QUALITY_TEMPLATE.format(instruction="Q?", output="A.")
    assert tail == " \n##Quality: "
    assert instruction_texts(candidates())[4] == "Explain\na hash map"


def _manual_score(scorer: DeitaScorer, prompt: str) -> float:
    ids = scorer.tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = scorer.model(input_ids=ids).logits[0, -1]
    digit_ids = [scorer.tokenizer.convert_tokens_to_ids(d) for d in "123456"]
    p = torch.softmax(logits[digit_ids].double(), dim=0).numpy()
    return float((p * np.arange(1, 7)).sum())


def test_deita_scorer_is_expectation_over_digit_logits(scorer_dir):
    df = candidates()
    comp = DeitaScorer(scorer_dir, device="cpu", kind="complexity", batch_size=1)
    scores = comp.score(df)
    assert scores.shape == (5,) and np.all((scores >= 1) & (scores <= 6))
    assert np.ptp(scores) > 0.05  # the prompt matters
    for i, ins in enumerate(instruction_texts(df)):
        assert scores[i] == pytest.approx(_manual_score(comp, COMPLEXITY_TEMPLATE.format(instruction=ins)), abs=1e-5)
    # batched with left padding equals one at a time
    batched = DeitaScorer(scorer_dir, kind="complexity", batch_size=4).score(df)
    np.testing.assert_allclose(batched, scores, atol=1e-4)
    qual = DeitaScorer(scorer_dir, kind="quality", batch_size=3)
    qs = qual.score(df)
    expected = QUALITY_TEMPLATE.format(instruction="Add 12 and 30.", output="42")
    assert qs[0] == pytest.approx(_manual_score(qual, expected), abs=1e-5)
    assert qual.describe()["n_scored"] == 5 and qual.describe()["kind"] == "quality"


def test_deita_scorer_truncates_keeping_the_tail(scorer_dir):
    sc = DeitaScorer(scorer_dir, kind="quality", max_length=40)
    body, tail = deita_prompt("quality", "Explain how a hash map works. " * 5, "First hash. " * 5)
    ids = sc._encode(body, tail)
    tail_ids = sc.tokenizer(tail, add_special_tokens=False)["input_ids"]
    assert len(ids) == 40 and ids[-len(tail_ids) :] == tail_ids and ids[0] == sc.tokenizer.bos_token_id
    assert sc.n_truncated == 1
    out = sc.score_prompts([(body, tail)])
    assert np.isfinite(out).all() and sc.describe()["n_truncated"] == 2


def test_deita_scorer_needs_digit_tokens(tmp_path):
    tok = _tokenizer_dir(tmp_path, with_digits=False)
    _model_dir(tmp_path, len(tok))
    with pytest.raises(ValueError, match="no token for the digit '1'"):
        DeitaScorer(str(tmp_path))
    with pytest.raises(ValueError, match="needs 6 ids"):
        DeitaScorer(str(tmp_path), score_token_ids=[4, 5])
    sc = DeitaScorer(str(tmp_path), score_token_ids=[4, 5, 6, 7, 8, 9])
    assert np.isfinite(sc.score(candidates())).all()


def test_deita_selection_through_scorers(scorer_dir):
    df = candidates()
    emb = np.eye(5, dtype=np.float32)
    comp = DeitaScorer(scorer_dir, kind="complexity", batch_size=2)
    qual = DeitaScorer(scorer_dir, kind="quality", batch_size=2)
    sel = select("deita", df, 3, seed=0, embeddings=emb, complexity_scorer=comp, quality_scorer=qual)
    c = DeitaScorer(scorer_dir, kind="complexity").score(df)
    q = DeitaScorer(scorer_dir, kind="quality").score(df)
    expected = df["id"].to_numpy()[np.argsort(-(c * q), kind="stable")][:3].tolist()
    assert sel.ids == expected
    assert sel.info["complexity_source"]["scorer"] == "deita"
    assert sel.info["params"]["quality_scorer"]["kind"] == "quality"


def _break_answers(scorer, marker, value):
    """Make the scorer model answer ``value`` (NaN, inf, -inf) for every
    score digit on each prompt containing ``marker``."""

    def hook(module, args, kwargs, output):
        for row, ids in enumerate(kwargs["input_ids"]):
            if marker in scorer.tokenizer.decode(ids):
                output.logits[row, -1, scorer.score_token_ids] = value
        return output

    scorer.model.register_forward_hook(hook, with_kwargs=True)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_deita_answer_that_does_not_parse_is_counted_never_defaulted(scorer_dir, value):
    df = candidates()
    plain = DeitaScorer(scorer_dir, kind="complexity", batch_size=2).score(df)
    comp = DeitaScorer(scorer_dir, kind="complexity", batch_size=2)
    _break_answers(comp, "poem", value)
    scores = comp.score(df)
    assert np.isnan(scores[1]), "no default score (Deita's vLLM scorer would give 3.0)"
    np.testing.assert_allclose(np.delete(scores, 1), np.delete(plain, 1), atol=1e-6)
    assert comp.describe()["n_unparsable"] == 1 and comp.describe()["n_scored"] == 5
    # the deita method excludes it, counted, and selects among the others
    qual = DeitaScorer(scorer_dir, kind="quality", batch_size=2)
    sel = select("deita", df, 3, seed=0, embeddings=np.eye(5, dtype=np.float32), complexity_scorer=comp,
                 quality_scorer=qual)
    assert sel.excluded["score_missing"] == 1 and "c2" not in sel.ids and len(sel.ids) == 3


def test_deita_answer_with_some_digits_impossible_still_parses(scorer_dir):
    comp = DeitaScorer(scorer_dir, kind="complexity", batch_size=1)
    digit_one = comp.score_token_ids[0]

    def hook(module, args, kwargs, output):
        output.logits[:, -1, digit_one] = float("-inf")
        return output

    comp.model.register_forward_hook(hook, with_kwargs=True)
    scores = comp.score(candidates())
    assert np.all((scores > 1) & (scores <= 6)) and comp.describe()["n_unparsable"] == 0


def test_proxy_scorer_percentile_mapping():
    df = pd.DataFrame(
        {
            "instruction": ["a", "a b c", "x y z", "w " * 10],
            "input": ["", "", "", ""],
            "output": ["o", "o o", "", "o o o"],
            "loss_base": [2.0, 4.0, np.nan, 3.0],
            "T": [2, 2, 2, 0],
        }
    )
    np.testing.assert_allclose(ProxyScorer("complexity").score(df), [1.0, 3.5, 3.5, 6.0])
    np.testing.assert_allclose(ProxyScorer("quality").score(df), [1 + 5 / 3, 1 + 10 / 3, 1.0, 6.0])
    # -loss/T: row 0 -1.0, row 1 -2.0, row 2 missing, row 3 T=0 -> missing
    loss = ProxyScorer("quality", "response_loss").score(df)
    assert loss[0] == 6.0 and loss[1] == 1.0 and np.isnan(loss[2]) and np.isnan(loss[3])
    np.testing.assert_allclose(ProxyScorer("complexity", "column:T").score(df), [1 + 10 / 3] * 3 + [1.0])
    assert "proxy" in ProxyScorer("quality").describe()["scorer"]
    with pytest.raises(ValueError, match="unknown feature"):
        ProxyScorer("complexity", "response_length")
