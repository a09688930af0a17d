"""Per-example response losses, dev loss aggregation and greedy generation
on a tiny randomly initialised model."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import make_record, tiny_base, toy_records  # noqa: E402

from ila.lm.data import tokenize_records  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.lm.scoring import (  # noqa: E402
    dev_loss,
    length_batches,
    load_model,
    response_losses,
    summarize_dev_losses,
)

T = PromptTemplate()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tiny_base(tmp_path_factory.mktemp("base"))


def test_batched_losses_equal_single_and_hand_computation(base):
    import torch

    _, model, tok = base
    recs = toy_records(12)
    batched, stats = response_losses(model, tok, recs, T, batch_size=5, progress=False)
    single, _ = response_losses(model, tok, recs, T, batch_size=1, progress=False)
    assert batched["id"].tolist() == [r["id"] for r in recs]  # input order, joined by id
    np.testing.assert_allclose(batched["loss_sum"], single["loss_sum"], rtol=0, atol=1e-5)
    assert (batched["T"] == single["T"]).all()
    assert stats["n_examples"] == 12 and stats["n_tokens"] == int(batched["T"].sum())
    assert stats["unscorable_ids"] == [] and stats["n_batches"] == 3

    # by hand for one example: sum of -log_softmax at the response positions
    ex = tokenize_records([recs[3]], tok, T).examples[0]
    with torch.no_grad():
        logits = model(torch.tensor([ex.input_ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    hand = -sum(logp[i - 1, ex.input_ids[i]].item() for i in range(1, len(ex.input_ids)) if ex.labels[i] != -100)
    assert batched.loc[3, "T"] == ex.T
    assert batched.loc[3, "loss_sum"] == pytest.approx(hand, abs=1e-5)
    assert hand > 0


def test_length_bucketing_wastes_less_than_random_order(base):
    _, model, tok = base
    recs = toy_records(12)
    _, stats = response_losses(model, tok, recs, T, batch_size=4, progress=False)
    lengths = [len(e.input_ids) for e in tokenize_records(recs, tok, T).examples]
    assert len(set(lengths)) > 3
    rng = np.random.default_rng(0)
    shares = []
    for _ in range(20):
        order = rng.permutation(len(lengths))
        padded = sum(max(lengths[i] for i in order[k : k + 4]) * len(order[k : k + 4]) for k in range(0, 12, 4))
        shares.append(sum(lengths) / padded)
    sorted_share = sum(lengths) / sum(
        max(lengths[i] for i in b) * len(b) for b in length_batches(lengths, 4)
    )
    assert stats["non_pad_share"] == pytest.approx(sorted_share)
    assert stats["non_pad_share"] > np.mean(shares)
    assert length_batches([3, 5, 5, 1], 2) == [[1, 2], [0, 3]]


def test_unconditioned_scoring_differs_and_unscorable_is_reported(base):
    _, model, tok = base
    recs = toy_records(6) + [make_record("Return the sum " * 40, "", "5")]
    cond, s1 = response_losses(model, tok, recs, T, max_length=128, progress=False)
    alone, s2 = response_losses(model, tok, recs, T, max_length=128, condition_on_prompt=False, progress=False)
    assert s1["unscorable_ids"] == [recs[-1]["id"]] and s2["unscorable_ids"] == []
    assert s1["truncated_ids"] == [recs[-1]["id"]] and s2["truncated_ids"] == []
    assert math.isnan(cond.loc[6, "loss_sum"]) and cond.loc[6, "T"] == 0
    # same response tokens are scored, with and without the prompt as context
    assert (cond["T"][:6] == alone["T"][:6]).all()
    assert (np.abs(cond["loss_sum"][:6] - alone["loss_sum"][:6]) > 1e-4).all()


def test_summarize_dev_losses_by_hand():
    frame = pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "T": [2, 4, 5, 0], "loss_sum": [2.0, 12.0, 50.0, np.nan]}
    )
    domains = {"a": "x", "b": "x", "c": "y", "d": "y"}
    out = summarize_dev_losses(frame, domains, clip=5.0)
    assert out["token_mean"] == pytest.approx(64 / 11)
    assert out["example_mean"] == pytest.approx((1 + 3 + 10) / 3)
    assert out["per_domain"] == {"x": pytest.approx(14 / 6), "y": pytest.approx(10.0)}
    assert out["domain_mean"] == pytest.approx((14 / 6 + 10) / 2)
    assert out["example_mean_clipped"] == pytest.approx((1 + 3 + 5) / 3)
    assert (out["n_examples"], out["n_tokens"], out["n_unscorable"]) == (3, 11, 1)
    assert "example_mean_clipped" not in summarize_dev_losses(frame, domains)
    with pytest.raises(KeyError, match="no domain"):
        summarize_dev_losses(frame, {"a": "x"})


def test_dev_loss_matches_response_losses(base):
    _, model, tok = base
    recs = toy_records(10)
    frame, _ = response_losses(model, tok, recs, T, batch_size=3, progress=False)
    out = dev_loss(model, tok, recs, T, batch_size=4, clip=3.0)
    assert out["token_mean"] == pytest.approx(frame["loss_sum"].sum() / frame["T"].sum(), rel=1e-9)
    add = frame[[r["domain"] == "add" for r in recs]]
    assert out["per_domain"]["add"] == pytest.approx(add["loss_sum"].sum() / add["T"].sum(), rel=1e-9)
    assert set(out["per_domain"]) == {"add", "sort"} and out["n_examples"] == 10


def test_load_model_round_trip(base):
    path, model, tok = base
    recs = toy_records(4)
    m2, t2 = load_model(path, "cpu")
    a, _ = response_losses(model, tok, recs, T, progress=False)
    b, _ = response_losses(m2, t2, recs, T, progress=False)
    np.testing.assert_array_equal(a["loss_sum"].to_numpy(), b["loss_sum"].to_numpy())
    with pytest.raises(ValueError, match="dtype"):
        load_model(path, "cpu", dtype="float64")


def test_greedy_generate_batched_equals_single_and_manual_argmax(base):
    import torch

    from ila.lm.generate import greedy_generate

    _, model, tok = base
    prompts = [T.format(r["instruction"], r["input"]) for r in toy_records(5)]
    batched = greedy_generate(model, tok, prompts, max_new_tokens=6, batch_size=3)
    single = [greedy_generate(model, tok, [p], max_new_tokens=6, batch_size=1)[0] for p in prompts]
    assert batched == single

    ids = [tok.bos_token_id] + tok(prompts[0], add_special_tokens=False)["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(6):
            nxt = int(model(torch.tensor([ids + new])).logits[0, -1].argmax())
            if nxt == tok.eos_token_id:
                break
            new.append(nxt)
    assert batched[0] == tok.decode(new, skip_special_tokens=True)


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_labelled_positions_alone_give_the_full_logits_losses_bit_for_bit(base, arch):
    """The output projection on the labelled positions alone (the plain-head
    model types) gives every row the same float64 sum as the full logits,
    to the last bit; a model type outside the list takes the full path."""
    import torch
    import torch.nn.functional as F

    from ila.lm.data import PaddingCollator
    from ila.lm.model import ModelShape, build_model
    from ila.lm.scoring import PLAIN_HEADS, summed_token_losses

    _, _, tok = base
    model = build_model(tok, ModelShape(hidden=32, layers=2, heads=4, kv_heads=2, ffn=64, max_position=128, arch=arch), 3)
    model.eval()
    assert model.config.model_type in PLAIN_HEADS
    ex = tokenize_records(toy_records(9), tok, T).examples
    batch = PaddingCollator(tok.pad_token_id)(ex)
    with torch.no_grad():
        got = summed_token_losses(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
        target = batch["labels"][:, 1:]
        ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), ignore_index=-100,
                             reduction="none").view(target.shape)
        want = ce.sum(dim=1, dtype=torch.float64)
        assert torch.equal(got, want)
        model.config.model_type = "other"  # not a plain head: the full logits, the same numbers
        assert torch.equal(summed_token_losses(model, batch), want)
