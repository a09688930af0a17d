"""Prompt template, tokenisation with response-only labels, truncation
policy and the padding collator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import make_record, tiny_tokenizer  # noqa: E402

from ila.lm.data import IGNORE_INDEX, PaddingCollator, encode_example, tokenize_records  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return tiny_tokenizer(tmp_path_factory.mktemp("tok"))


def enc(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_template_formats_with_and_without_input():
    t = PromptTemplate()
    assert t.format("Do {x}.", "a {b}") == "### Instruction:\nDo {x}.\n\n### Input:\na {b}\n\n### Response:\n"
    assert t.format("Do it.", "  ") == "### Instruction:\nDo it.\n\n### Response:\n"
    with pytest.raises(ValueError, match="without_input"):
        PromptTemplate(without_input="{instruction} {input}")


def test_labels_mask_exactly_the_prompt(tok):
    t = PromptTemplate()
    rec = make_record("Return the sum.", "2 and 3", "2 + 3 = 5")
    ts = tokenize_records([rec], tok, t, max_length=256)
    ex = ts.examples[0]
    prompt = [tok.bos_token_id] + enc(tok, t.format(rec["instruction"], rec["input"]))
    response = enc(tok, rec["output"]) + [tok.eos_token_id]
    assert ex.input_ids == prompt + response
    assert ex.labels == [IGNORE_INDEX] * len(prompt) + response
    assert ex.T == len(response) and ex.labels[-1] == tok.eos_token_id
    assert ts.empty_ids == [] and ts.truncated_ids == [] and ex.id == rec["id"]


def test_truncation_keeps_prompt_and_counts_kept_response_tokens(tok):
    t = PromptTemplate()
    rec = make_record("Sort the words.", "fox dog list", "dog fox list")
    prompt_len = 1 + len(enc(tok, t.format(rec["instruction"], rec["input"])))
    ts = tokenize_records([rec], tok, t, max_length=prompt_len + 3)
    ex = ts.examples[0]
    assert len(ex.input_ids) == prompt_len + 3
    assert ex.T == 3 and ex.truncated and ts.truncated_ids == [rec["id"]]
    assert tok.eos_token_id not in ex.input_ids  # the eos was cut
    assert ex.labels[prompt_len:] == enc(tok, rec["output"])[:3]


def test_example_without_response_tokens_is_reported_not_dropped(tok):
    t = PromptTemplate()
    long_rec = make_record("Return the sum " * 30, "", "5")
    ok = make_record("Sort.", "", "a b")
    ts = tokenize_records([long_rec, ok], tok, t, max_length=32)
    assert [e.id for e in ts.examples] == [long_rec["id"], ok["id"]]
    assert ts.empty_ids == [long_rec["id"]]
    assert ts.examples[0].T == 0 and all(x == IGNORE_INDEX for x in ts.examples[0].labels)
    assert [e.id for e in ts.usable] == [ok["id"]]


def test_response_alone_for_unconditioned_scoring(tok):
    rec = make_record("Return the sum.", "2 and 3", "5")
    ex = tokenize_records([rec], tok, PromptTemplate(), condition_on_prompt=False).examples[0]
    resp = enc(tok, "5") + [tok.eos_token_id]
    assert ex.input_ids == [tok.bos_token_id] + resp
    assert ex.labels == [IGNORE_INDEX] + resp and ex.T == len(resp)


def test_first_position_never_counts_without_bos(tok):
    class NoBos:
        bos_token_id = None
        eos_token_id = tok.eos_token_id

        def __call__(self, text, add_special_tokens=False):
            return tok(text, add_special_tokens=False)

    ex = encode_example(NoBos(), None, "2 3", max_length=64)
    assert ex.labels[0] == IGNORE_INDEX and ex.T == len(ex.input_ids) - 1


def test_collator_right_pads_and_masks(tok):
    t = PromptTemplate()
    recs = [make_record("Sort.", "", "a b c d e f"), make_record("Sort the words now.", "x", "y")]
    ts = tokenize_records(recs, tok, t)
    batch = PaddingCollator(pad_id=tok.pad_token_id)(ts.examples)
    a, b = ts.examples
    width = max(len(a.input_ids), len(b.input_ids))
    assert batch["input_ids"].shape == (2, width)
    for row, ex in enumerate(ts.examples):
        k = len(ex.input_ids)
        assert batch["input_ids"][row, :k].tolist() == ex.input_ids
        assert batch["input_ids"][row, k:].tolist() == [tok.pad_token_id] * (width - k)
        assert batch["attention_mask"][row].tolist() == [1] * k + [0] * (width - k)
        labels = batch["labels"][row].tolist()
        assert labels[k:] == [IGNORE_INDEX] * (width - k)
        # labelled positions are exactly the response: label == input id there, -100 on the prompt
        labelled = [i for i, x in enumerate(labels) if x != IGNORE_INDEX]
        assert len(labelled) == ex.T
        assert all(labels[i] == ex.input_ids[i] for i in labelled)
        prompt_len = 1 + len(enc(tok, t.format(recs[row]["instruction"], recs[row]["input"])))
        assert labelled == list(range(prompt_len, k))


def test_bad_records_name_the_problem(tok):
    rec = make_record("a", "", "b")
    with pytest.raises(ValueError, match="duplicate id"):
        tokenize_records([rec, dict(rec)], tok, PromptTemplate())
    with pytest.raises(ValueError, match=r"record #0 .*'output'"):
        tokenize_records([{"id": "x", "instruction": "a", "input": ""}], tok, PromptTemplate())
