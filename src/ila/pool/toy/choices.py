"""Multiple-choice items of the toy task benchmark.

Per held-out benchmark problem, four responses in the pool's format: the
gold response and three distractors,

- ``other_problem``: the correct response of another benchmark problem of the
  same family and depth (the one closest in length; does the model read the
  prompt?);
- ``wrong_answer``: the gold steps with a wrong final answer (is the answer
  consistent with the steps?);
- ``flipped_task``: the correct response to the flipped task under the same
  prompt (the other sort order, + for - and - for +, multiply for divide,
  add for subtract days, append for prepend ...).

Where a problem has no flipped variant that differs from the gold (counting;
an arithmetic chain of products only; a string edit of only reversals and
swaps; a weekday-only date; a chained transform without + or -), the third
distractor is the correct response of the next-closest other problem
(``other_problem_2``). The gold's position is drawn from a generator seeded
by the seed and the problem's id.

Row schema (one JSON object per problem; the scoring reads exactly this):
``{"id": str, "family": str, "prompt": str, "choices": [4 str], "label": int}``
where ``prompt`` is the problem under the training prompt template (it
ends in the response header, so a choice follows it directly) and
``choices[label]`` is the gold response.
"""

from __future__ import annotations

import random
from typing import Sequence

from ila.io import stable_id

from ._common import _response
from .corrupt import _steps, wrong_value
from .generator import redraw

MC_KEYS = ("id", "family", "prompt", "choices", "label")
DISTRACTORS = ("other_problem", "wrong_answer", "flipped_task", "other_problem_2")


def _others_by_length(i: int, drawn: Sequence[tuple[dict, tuple]]) -> list[int]:
    rec = drawn[i][0]
    same = [j for j, (r, _) in enumerate(drawn)
            if j != i and r["domain"] == rec["domain"] and r["output"] != rec["output"]]
    same_depth = [j for j in same if drawn[j][0]["steps"] == rec["steps"]]
    pool = same_depth if len(same_depth) >= 2 else same
    return sorted(pool, key=lambda j: (abs(len(drawn[j][0]["output"]) - len(rec["output"])), j))


def mc_items(drawn: Sequence[tuple[dict, tuple]], seed: int) -> tuple[list[dict], dict]:
    """Raw items for benchmark draws ``(record, state)`` (see
    :func:`ila.pool.toy.heldout.heldout_sets`): rows with id, family,
    instruction, input, choices, label and distractors (the kind of each
    choice, "gold" at the label), in the order of `drawn`; and a ledger of
    the distractor kinds per family. Raises ValueError when a family has
    fewer than three problems."""
    items: list[dict] = []
    ledger: dict[str, dict[str, int]] = {}
    for i, (rec, state) in enumerate(drawn):
        fam = rec["domain"]
        gid = stable_id(rec["instruction"], rec["input"], rec["output"])
        rng = random.Random(f"ila.pool.toy.mc:{seed}:{gid}")
        others = _others_by_length(i, drawn)
        if len(others) < 2:
            raise ValueError(f"benchmark family {fam!r} needs at least 3 problems with distinct responses")
        gold = rec["output"]
        chosen: list[tuple[str, str]] = [("other_problem", drawn[others[0]][0]["output"])]
        steps = _steps(gold)
        for _ in range(20):
            wrong = _response(steps, wrong_value(rec["answer"], rng))
            if wrong not in (gold, chosen[0][1]):
                break
        chosen.append(("wrong_answer", wrong))
        flipped = redraw(fam, rec["steps"], state, flip=True)["output"]
        if flipped in (gold, chosen[0][1], wrong):
            k = next(j for j in others[1:] if drawn[j][0]["output"] not in (gold, chosen[0][1], wrong))
            chosen.append(("other_problem_2", drawn[k][0]["output"]))
        else:
            chosen.append(("flipped_task", flipped))
        rng.shuffle(chosen)
        label = rng.randrange(4)
        chosen.insert(label, ("gold", gold))
        items.append({
            "id": gid,
            "family": fam,
            "instruction": rec["instruction"],
            "input": rec["input"],
            "choices": [c for _, c in chosen],
            "label": label,
            "distractors": [k for k, _ in chosen],
        })
        fam_ledger = ledger.setdefault(fam, {k: 0 for k in DISTRACTORS})
        for k, _ in chosen:
            if k != "gold":
                fam_ledger[k] += 1
    return items, dict(sorted(ledger.items()))


def mc_rows(items: Sequence[dict], template, tokenizer=None) -> list[dict]:
    """The scoring rows (:data:`MC_KEYS`) of raw items, the prompt rendered
    by `template` (an :class:`ila.lm.prompt.PromptTemplate`; the tokenizer
    renders it with ``model.prompt.chat_template``)."""
    return [{"id": it["id"], "family": it["family"], "prompt": template.render(it, tokenizer),
             "choices": list(it["choices"]), "label": int(it["label"])} for it in items]


#: distractor kinds whose final answer line serves as an answer-line distractor, in order of preference
ANSWER_SOURCES = ("wrong_answer", "flipped_task", "other_problem", "other_problem_2")


def answer_rows(items: Sequence[dict], template, seed: int = 0, tokenizer=None) -> tuple[list[dict], dict]:
    """The answer-line variant of the benchmark (same row schema,
    :data:`MC_KEYS`): the prompt is the problem under ``template`` followed
    by the gold response's steps; the four choices are final answer lines:
    the gold one, the wrong final answer (inconsistent with the steps just
    read), the flipped task's answer and another problem's answer (the next
    other problem's where two coincide). It asks whether the model's answer
    follows from its own steps, the consistency that rows with a wrong final
    answer or an inconsistent step teach away. Items with fewer than three
    distinct distractor answers are left out and counted in the ledger;
    the gold's position is drawn from the seed and the item id."""
    rows, skipped = [], 0
    for it in items:
        gold = it["choices"][int(it["label"])]
        head, _, gold_line = gold.rpartition("\n")
        lines = {kind: choice.rpartition("\n")[2] for kind, choice in zip(it["distractors"], it["choices"])}
        picks: list[str] = []
        for kind in ANSWER_SOURCES:
            line = lines.get(kind)
            if line and line != gold_line and line not in picks and line.startswith("Answer:"):
                picks.append(line)
        if len(picks) < 3 or not gold_line.startswith("Answer:"):
            skipped += 1
            continue
        choices = [gold_line, *picks[:3]]
        order = list(range(4))
        random.Random(f"{seed}:{it['id']}:answer").shuffle(order)
        shuffled = [choices[k] for k in order]
        prompt = template.render(it, tokenizer) + (head + "\n" if head else "")
        rows.append({"id": it["id"], "family": it["family"], "prompt": prompt, "choices": shuffled,
                     "label": order.index(0)})
    return rows, {"answer_items": len(rows), "answer_items_skipped": skipped}
