"""The multiple-choice metric: item checks, lm-eval's encoding, known
log-likelihoods from a unigram model, and the in-process scorer against
lm-evaluation-harness on a tiny fine-tuned model."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from ila import mc
from ila.lm.data import encode_example
from ila.lm.prompt import PromptTemplate
from ila.lm.scoring import response_losses

from test_lm_support import tiny_base, tiny_tokenizer

TEMPLATE = PromptTemplate()
PROMPT = TEMPLATE.format("Add the numbers.", "20 + 6")
GOLD = "Step 1: 20 + 6 = 26\nAnswer: 26"


def write_items(path, items):
    path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
    return path


def item(id, choices, label=0, family="add", prompt=PROMPT):
    return {"id": id, "family": family, "prompt": prompt, "choices": choices, "label": label}


@pytest.mark.parametrize(
    "bad, reason",
    [
        ({"label": 4}, "'label' must be an int in [0, 4)"),
        ({"label": True}, "'label' must be an int"),
        ({"choices": ["a", "b", "a", "c"]}, "repeats a choice"),
        ({"choices": "abcd"}, "'choices' must be a list"),
        ({"prompt": ""}, "'prompt' must be a non-empty string"),
    ],
)
def test_read_items_names_file_line_and_reason(tmp_path, bad, reason):
    good = item("a", ["w", "x", "y", "z"])
    path = write_items(tmp_path / "items.jsonl", [good, dict(good, id="b", **bad)])
    with pytest.raises(ValueError) as err:
        mc.read_items(path)
    assert "items.jsonl:2: " in str(err.value) and reason in str(err.value)


def test_read_items_refuses_duplicate_ids(tmp_path):
    path = write_items(tmp_path / "items.jsonl", [item("a", ["w", "x"]), item("a", ["y", "z"])])
    with pytest.raises(ValueError, match=r"items.jsonl:2: duplicate id 'a'"):
        mc.read_items(path)


def test_encoding_is_lm_evals_and_equals_the_training_sequence(tmp_path):
    """bos first, the prompt's final newline moves into the continuation, and
    prompt + continuation is the training sequence of ila.lm.data minus its eos."""
    tok = tiny_tokenizer(tmp_path)
    ctx, cont = mc.encode_pair(tok, PROMPT, GOLD, add_bos_token=True)
    assert ctx[0] == tok.bos_token_id and ctx.count(tok.bos_token_id) == 1
    assert tok.decode(cont) == "\n" + GOLD
    assert tok.decode(ctx[1:]) == PROMPT.rstrip()
    trained = encode_example(tok, PROMPT, GOLD, max_length=256)
    assert ctx + cont == trained.input_ids[:-1]
    assert trained.input_ids[-1] == tok.eos_token_id
    no_bos, _ = mc.encode_pair(tok, PROMPT, GOLD, add_bos_token=False)
    assert no_bos == ctx[1:]


class UnigramLM:
    """A causal LM whose next-token distribution ignores the context:
    log p(token) = logp[token], so every log-likelihood is known by hand."""

    def __init__(self, logits):
        import torch

        self.logits = torch.as_tensor(logits, dtype=torch.float32)
        self.logp = torch.log_softmax(self.logits, -1).double().numpy()
        self.config = type("Config", (), {"max_position_embeddings": 128})()
        self.training = False

    def eval(self):
        return self

    def __call__(self, input_ids, attention_mask, use_cache=False):
        n, width = input_ids.shape
        return type("Out", (), {"logits": self.logits.expand(n, width, -1).clone()})()


def test_unigram_model_gives_known_lls_predictions_and_losses(tmp_path):
    tok = tiny_tokenizer(tmp_path)
    rng = np.random.default_rng(0)
    lm = UnigramLM(rng.normal(size=len(tok)))
    choices = [GOLD, "Step 1: 20 - 6 = 14\nAnswer: 14", "Answer: 26", "Step 1: 2 * 6 = 12\nStep 2: 12 + 8 = 20\nAnswer: 20"]
    items = [item(f"q{k}", choices[k:] + choices[:k], label=(-k) % 4, family=f) for k, f in enumerate("aabb")]
    frame = mc.score_items(lm, tok, items, batch_size=3)
    one = mc.score_items(lm, tok, items, batch_size=1)
    pd.testing.assert_frame_equal(frame, one)
    for r, it in zip(frame.itertuples(), items):
        lls = [lm.logp[mc.encode_pair(tok, it["prompt"], c)[1]].sum() for c in it["choices"]]
        assert np.allclose([getattr(r, f"ll_{j}") for j in range(4)], lls, atol=1e-5)
        assert r.pred == int(np.argmax(lls))
        assert r.pred_norm == int(np.argmax(np.array(lls) / [len(c) for c in it["choices"]]))
        assert r.correct == (r.pred == it["label"])
        gold_cont = mc.encode_pair(tok, it["prompt"], GOLD)[1]
        own = tok.encode(GOLD, add_special_tokens=False)  # the response tokens of training
        assert r.gold_tokens == len(own) == len(gold_cont) - 1 and gold_cont[1:] == own
        assert r.gold_loss == pytest.approx(-lm.logp[own].mean(), abs=1e-6)
        answer = tok.encode("Answer: 26", add_special_tokens=False)
        assert r.answer_tokens == len(answer) and gold_cont[-len(answer):] == answer
        assert r.answer_loss == pytest.approx(-lm.logp[answer].mean(), abs=1e-6)
    assert len({it["choices"][p] for it, p in zip(items, frame["pred"])}) == 1  # the same text wins wherever it stands
    # the gold's loss is the training loss of ila.lm.scoring without the eos term
    record = {"id": "r", "instruction": "Add the numbers.", "input": "20 + 6", "output": GOLD}
    train, _ = response_losses(lm, tok, [record], TEMPLATE, progress=False)
    r = frame.iloc[0]
    assert train.loc[0, "T"] == r["gold_tokens"] + 1
    assert train.loc[0, "loss_sum"] == pytest.approx(r["gold_loss"] * r["gold_tokens"] - lm.logp[tok.eos_token_id], abs=1e-5)


def test_summarize_counts_accuracy_se_chance_and_families():
    frame = pd.DataFrame({
        "family": ["a", "a", "a", "b", "b"], "n_choices": [4, 4, 4, 4, 2],
        "correct": [True, True, False, False, True], "correct_norm": [True, False, False, False, False],
        "correct_bytes": [False] * 5, "gold_tokens": [5] * 5, "gold_loss": [1.0, 2.0, 3.0, 4.0, 5.0],
        "answer_tokens": [3, 3, 0, 3, 3], "answer_loss": [1.0, 2.0, math.nan, 3.0, 6.0], "truncated": [False] * 5,
    })
    s = mc.summarize(frame)
    assert s["mc_accuracy"] == 0.6 and s["n"] == 5
    assert s["mc_accuracy_se"] == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    assert s["chance"] == pytest.approx((4 * 0.25 + 0.5) / 5)
    assert s["acc_norm"] == 0.2 and s["per_family"] == {"a": pytest.approx(2 / 3), "b": 0.5}
    assert s["answer_loss"] == 3.0 and s["n_answer_unaligned"] == 1
    assert s["gold_loss"] == 3.0 and s["n_gold_unaligned"] == 0


def test_task_yaml_is_local_multiple_choice_with_absolute_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_items(tmp_path / "items.jsonl", [item("a", ["w", "x"])])
    spec = yaml.safe_load(mc.write_lm_eval_task("items.jsonl", "tasks", "toy_mc").read_text())
    assert spec["dataset_kwargs"]["data_files"]["test"] == str(tmp_path / "items.jsonl")
    assert (spec["output_type"], spec["target_delimiter"], spec["doc_to_target"]) == ("multiple_choice", "", "label")
    assert [m["metric"] for m in spec["metric_list"]] == ["acc", "acc_norm"]


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    """A tiny model fine-tuned on one response, saved to a folder."""
    from ila.lm.train import FinetuneSettings, finetune

    root = tmp_path_factory.mktemp("mc")
    base, _, _ = tiny_base(root / "base")
    records = [{"id": f"copy{i}", "instruction": "Add the numbers.", "input": "20 + 6", "output": GOLD, "domain": "add"}
               for i in range(16)]
    finetune(base, records, FinetuneSettings(epochs=8, lr=2e-2, batch_size=4, max_length=128, warmup_ratio=0.0),
             TEMPLATE, seed=0, out_dir=str(root / "tuned"), threads=1)
    return root


def test_in_process_scores_equal_lm_eval_on_a_tiny_model(taught):
    """Per-choice log-likelihoods within 1e-4 of lm-eval's, the same acc and
    acc_norm per item; the taught response wins against same-format
    distractors (wrong final answer, wrong operation, another problem) and
    its answer line lost over a nat per token in training."""
    from ila.lm.scoring import load_model

    other = TEMPLATE.format("Sort the words.", "fox dog")
    items = [
        item("taught", ["Step 1: 20 + 6 = 25\nAnswer: 25", GOLD, "Step 1: 20 - 6 = 14\nAnswer: 14",
                        "Step 1: 2 + 9 = 11\nAnswer: 11"], label=1),
        item("sort", ["dog fox", "fox dog", "Answer: dog", "Answer: fox dog"], label=0, family="sort", prompt=other),
        item("sum", ["Answer: 5", "Answer: 7", "Answer: 6", "Answer: 57"], label=1, prompt=TEMPLATE.format("Add.", "3 + 4")),
    ]
    path = write_items(taught / "items.jsonl", items)
    mc.write_lm_eval_task(path, taught / "tasks", "toy_mc")
    ref = mc.lm_eval_scores(str(taught / "tuned"), taught / "tasks", "toy_mc", batch_size=4)
    model, tok = load_model(str(taught / "tuned"))
    mine = mc.score_items(model, tok, items, batch_size=5).sort_values("id").reset_index(drop=True)
    assert ref["n"] == 3 and list(ref["samples"]["id"]) == list(mine["id"])
    cols = [f"ll_{j}" for j in range(4)]
    diff = np.abs(mine[cols].to_numpy() - ref["samples"][cols].to_numpy()).max()
    assert diff < 1e-4
    assert list(mine["correct"].astype(float)) == list(ref["samples"]["acc"])
    assert list(mine["correct_norm"].astype(float)) == list(ref["samples"]["acc_norm"])
    summary = mc.summarize(mine)
    assert summary["mc_accuracy"] == pytest.approx(ref["acc"]) and summary["acc_norm"] == pytest.approx(ref["acc_norm"])
    assert bool(mine.set_index("id").loc["taught", "correct"])
    base, base_tok = load_model(str(taught / "base"))
    before = mc.score_items(base, base_tok, items[:1])
    assert mine.set_index("id").loc["taught", "answer_loss"] < before.loc[0, "answer_loss"] - 1.0



def test_an_item_longer_than_the_models_window_is_counted_not_scored(taught):
    from ila.lm.scoring import load_model

    model, tok = load_model(str(taught / "tuned"))
    long_choice = "Step 1: " + " + ".join(["20"] * 60) + "\nAnswer: 1200"
    items = [item("fits", [GOLD, "Step 1: 20 - 6 = 14\nAnswer: 14"], label=0),
             item("long", [GOLD, long_choice], label=0)]
    frame = mc.score_items(model, tok, items, batch_size=2, max_length=64)
    by_id = frame.set_index("id")
    assert bool(by_id.loc["fits", "scored"]) and not bool(by_id.loc["long", "scored"])
    s = mc.summarize(frame)
    assert s["n"] == 1 and s["n_unscorable"] == 1 and s["mc_accuracy"] == 1.0
