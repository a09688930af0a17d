"""Task accuracy on the toy pool: a held-out set of toy problems, greedy
generation with the tuned model, exact match of the final answer.

The held-out problems come from :func:`ila.pool.toy.generate` with a seed of
their own; a problem whose (instruction, input) also occurs in the pool (dev
set included) is dropped and counted, so no evaluation problem was seen in
training or used to pick a checkpoint. A generation is correct when
:func:`ila.pool.toy.final_answer` of it equals the problem's answer exactly
(after stripping whitespace); a generation without ``Answer:`` is wrong and
counted as ``no_answer``.

Accuracy exists only where answers can be checked (the toy pool); for any
other pool the study records it as null, never as 0.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

from .io import stable_id
from .pool import toy

__all__ = ["toy_eval_set", "is_correct", "score_generations", "prompts_for", "generation_limits", "evaluate_model"]

#: Candidate problems drawn per wanted problem on the first try; doubled
#: (up to _MAX_OVERDRAW) while a family is short after dropping pool problems.
_FIRST_OVERDRAW = 2
_MAX_OVERDRAW = 64


def _key(record: dict) -> tuple[str, str]:
    return (str(record["instruction"]), str(record.get("input") or ""))


def toy_eval_set(
    pool_keys: Iterable[tuple[str, str]],
    per_family: int,
    seed: int,
    families: Sequence[str] | None = None,
    min_depth: int = toy.MIN_DEPTH,
    max_depth: int = toy.MAX_DEPTH,
) -> tuple[list[dict], dict]:
    """Held-out toy problems: ``per_family`` of each family, none of whose
    (instruction, input) is in ``pool_keys``.

    Problems are drawn with :func:`ila.pool.toy.generate` (``seed`` must
    differ from the pool's), several times more than needed; within a family
    they are taken in generation order, cycling over depths
    ``min_depth..max_depth`` so the depths stay balanced. When a family is
    still short, twice as many are drawn (up to 64x); a family that stays
    short raises ValueError naming it.

    Returns (records, ledger). Each record has id (:func:`ila.io.stable_id`),
    instruction, input, output, domain, labels, steps and answer, ordered by
    family then position. The ledger counts: ``drawn``, ``dropped_in_pool``
    (problem text also in the pool), ``dropped_duplicate`` (repeats an
    earlier drawn problem's text), ``not_needed`` (passed the checks but the
    family was full), ``kept`` and ``per_family``."""
    if isinstance(per_family, bool) or not isinstance(per_family, int) or per_family < 1:
        raise ValueError(f"per_family must be a positive int, got {per_family!r}")
    fams = list(toy.FAMILIES if families is None else families)
    depths = list(range(min_depth, max_depth + 1))
    if not depths:
        raise ValueError(f"min_depth ({min_depth}) is greater than max_depth ({max_depth})")
    banned = set(pool_keys)
    overdraw = _FIRST_OVERDRAW
    while True:
        n = len(fams) * len(depths) * math.ceil(per_family * overdraw / len(depths))
        drawn = toy.generate(n, seed=seed, families=fams, min_depth=min_depth, max_depth=max_depth)
        in_pool = dup = 0
        seen: set[tuple[str, str]] = set()
        by_cell: dict[tuple[str, int], list[dict]] = {}
        for rec in drawn:
            key = _key(rec)
            if key in banned:
                in_pool += 1
                continue
            if key in seen:
                dup += 1
                continue
            seen.add(key)
            by_cell.setdefault((rec["domain"], rec["steps"]), []).append(rec)
        kept: list[dict] = []
        short: dict[str, int] = {}
        for fam in fams:
            queues = [list(by_cell.get((fam, d), [])) for d in depths]
            taken: list[dict] = []
            while len(taken) < per_family and any(queues):
                for q in queues:
                    if q and len(taken) < per_family:
                        taken.append(q.pop(0))
            if len(taken) < per_family:
                short[fam] = per_family - len(taken)
            kept.extend(taken)
        if not short:
            break
        if overdraw >= _MAX_OVERDRAW:
            raise ValueError(
                f"toy evaluation set: families {sorted(short)} are short of {per_family} problems outside the "
                f"pool after drawing {n} problems (short by {short}); lower eval_per_family"
            )
        overdraw *= 2
    records = [
        {
            "id": stable_id(r["instruction"], r["input"], r["output"]),
            "instruction": r["instruction"],
            "input": r["input"],
            "output": r["output"],
            "domain": r["domain"],
            "labels": list(r["labels"]),
            "steps": int(r["steps"]),
            "answer": str(r["answer"]),
        }
        for r in kept
    ]
    ledger = {
        "seed": seed,
        "drawn": len(drawn),
        "dropped_in_pool": in_pool,
        "dropped_duplicate": dup,
        "not_needed": len(drawn) - in_pool - dup - len(records),
        "kept": len(records),
        "per_family": dict(sorted(Counter(r["domain"] for r in records).items())),
    }
    return records, ledger


def is_correct(generation: str | None, answer: str) -> bool:
    """Exact match of the generation's final answer (text after the last
    ``Answer:`` on its line, stripped) to ``answer`` (stripped). No
    ``Answer:`` (or no generation) is wrong."""
    if generation is None:
        return False
    predicted = toy.final_answer(generation)
    return predicted is not None and predicted == str(answer).strip()


def score_generations(records: Sequence[dict], generations: Sequence[str | None]) -> dict:
    """Accuracy of ``generations`` (one per record, same order) against the
    records' ``answer``, overall and per ``domain`` (task family).

    Returns {accuracy, n, correct, no_answer, per_family: {family: {accuracy,
    n, correct, no_answer}}}; accuracy is None when n is 0."""
    if len(records) != len(generations):
        raise ValueError(f"{len(generations)} generations for {len(records)} evaluation problems")
    fam: dict[str, dict[str, int]] = {}
    for rec, gen in zip(records, generations):
        if "answer" not in rec:
            raise ValueError(f"evaluation problem {rec.get('id', '?')} has no 'answer'")
        st = fam.setdefault(str(rec.get("domain", "")), {"n": 0, "correct": 0, "no_answer": 0})
        st["n"] += 1
        if gen is None or toy.final_answer(gen) is None:
            st["no_answer"] += 1
        elif is_correct(gen, rec["answer"]):
            st["correct"] += 1

    def acc(st: dict) -> dict:
        return {**st, "accuracy": st["correct"] / st["n"] if st["n"] else None}

    total = {k: sum(st[k] for st in fam.values()) for k in ("n", "correct", "no_answer")}
    return {**acc(total), "per_family": {f: acc(st) for f, st in sorted(fam.items())}}


def prompts_for(records: Sequence[dict], template, tokenizer=None) -> list[str]:
    """Prompt text of each problem under the training template (the
    tokenizer renders it with ``model.prompt.chat_template``)."""
    return [template.render(r, tokenizer) for r in records]


def generation_limits(
    prompt_lengths: Sequence[int], max_new_tokens: int, max_positions: int | None, bucket: int = 16
) -> list[int]:
    """New-token limit of each prompt: ``max_new_tokens``, or less where
    prompt + generation would pass the model's ``max_positions`` (the length
    it was trained on; None = no cut). A cut limit is rounded down to a
    multiple of ``bucket`` (so that few groups of prompts share a limit), and
    is at least 1."""
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
    out = []
    for n in prompt_lengths:
        room = None if max_positions is None else int(max_positions) - int(n)
        if room is None or room >= max_new_tokens:
            out.append(int(max_new_tokens))
        else:
            out.append(max(1, room - room % bucket if room >= bucket else room))
    return out


def evaluate_model(
    model_dir: str,
    records: Sequence[dict],
    template,
    max_new_tokens: int,
    batch_size: int = 32,
    device: str = "cpu",
    max_positions: int | None = None,
    model=None,
    tokenizer=None,
) -> tuple[dict, list[dict]]:
    """Greedy-generate an answer to every problem with the model in
    ``model_dir`` and score it. Generation stops at eos, after
    ``max_new_tokens``, or where prompt + generation reaches
    ``max_positions`` (default: the model's ``max_position_embeddings``);
    prompts with the same limit are generated together.

    Returns (score as in :func:`score_generations`, one row per problem: id,
    domain, answer, predicted, correct, max_new_tokens, generation).
    ``model`` / ``tokenizer``: a model already in memory (then ``model_dir``
    is not read)."""
    from .lm.generate import greedy_generate
    from .lm.scoring import load_model

    if model is None:
        model, tokenizer = load_model(model_dir, device=device)
    if max_positions is None:
        max_positions = getattr(model.config, "max_position_embeddings", None)
    prompts = prompts_for(records, template, tokenizer)
    bos = 1 if tokenizer.bos_token_id is not None else 0
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) + bos for p in prompts]
    limits = generation_limits(lengths, max_new_tokens, max_positions)
    generations: list[str | None] = [None] * len(records)
    for limit in sorted(set(limits)):
        idx = [i for i, n in enumerate(limits) if n == limit]
        outs = greedy_generate(
            model, tokenizer, [prompts[i] for i in idx], max_new_tokens=limit, batch_size=batch_size, device=device
        )
        for i, g in zip(idx, outs):
            generations[i] = g
    rows = [
        {
            "id": r["id"],
            "domain": r["domain"],
            "answer": r["answer"],
            "predicted": toy.final_answer(g),
            "correct": is_correct(g, r["answer"]),
            "max_new_tokens": n,
            "generation": g,
        }
        for r, g, n in zip(records, generations, limits)
    ]
    return score_generations(records, generations), rows
