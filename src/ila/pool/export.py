"""A selection exported as trainer-ready JSON Lines.

Formats (``selection.export_format``):

``messages``  ``{"messages": [{role, content}, ...]}`` (TRL SFTTrainer,
              axolotl ``chat_template``, open-instruct);
``alpaca``    ``instruction``, ``input``, ``output``, plus ``system`` and
              ``history`` (pairs) for conversations that have them
              (LLaMA-Factory's alpaca columns);
``sharegpt``  ``{"conversations": [{from: human|gpt, value}], "system"?}``
              (LLaMA-Factory's sharegpt columns).

Every row then carries the input row's other keys (the pool's ``meta``: the
user's own id and every extra column), and the selection's fields
``ila_id`` (pool id), ``ila_rank`` (1 = selected first), ``ila_cell``,
``ila_rid``, ``ila_domain``, ``ila_source``. A user key that a trainer reads
by name (``labels``, ``input_ids``, ``text``, ``prompt``, ...: see
:data:`RESERVED`) or that an exported field uses is written as ``user_<key>``
so it cannot collide. Text is written exactly as held (no stripping);
U+2028, U+2029 and U+0085 are escaped so line-based readers see one row a
line. A LLaMA-Factory ``dataset_info`` entry is written beside (messages:
its sharegpt formatting with OpenAI tags).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

import pandas as pd

from ila.io import atomic_path
from ila.pool.formats import ALPACA_JOIN, SHAREGPT_TAGS

EXPORT_FORMATS = ("messages", "alpaca", "sharegpt")
SELECTION_FIELDS = ("ila_id", "ila_rank", "ila_cell", "ila_rid", "ila_domain", "ila_source")
# Keys trainers read by name (model inputs, dataset text columns).
RESERVED = frozenset(
    {
        "labels", "input_ids", "attention_mask", "position_ids", "token_type_ids", "completion_mask",
        "assistant_masks", "text", "prompt", "completion", "chosen", "rejected", "images",
        "messages", "conversations", "instruction", "input", "output", "system", "history", "tools",
    }
)
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


def dumps_line(record: Mapping[str, Any]) -> str:
    """One JSON Lines row: non-ASCII kept (all-ASCII when a value holds a
    lone surrogate), U+2028/U+2029/U+0085 escaped, no raw line break."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True)
    for ch, esc in _LINE_BREAKS.items():
        text = text.replace(ch, esc)
    return text


def _alpaca_fields(row: Mapping, turns: list[dict]) -> dict:
    system = [t for t in turns if t["role"] == "system"]
    body = turns[len(system):]
    if len(body) == 2 and not system:
        # single turn: the instruction and input as ingested
        if body[0]["content"] == row["instruction"] + (ALPACA_JOIN + row["input"] if row["input"] else ""):
            return {"instruction": row["instruction"], "input": row["input"], "output": row["output"]}
        return {"instruction": body[0]["content"], "input": "", "output": body[1]["content"]}
    out = {"instruction": body[-2]["content"], "input": "", "output": body[-1]["content"]}
    if system:
        out["system"] = system[0]["content"]
    pairs = [[body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body) - 2, 2)]
    if pairs:
        out["history"] = pairs
    return out


def _turn_extras(turn: dict) -> dict:
    return {k: v for k, v in turn.items() if k not in ("role", "content")}


def _sharegpt_fields(turns: list[dict]) -> dict:
    system = [t for t in turns if t["role"] == "system"]
    conv = [{"from": SHAREGPT_TAGS[t["role"]], "value": t["content"], **_turn_extras(t)} for t in turns if t["role"] != "system"]
    out: dict[str, Any] = {"conversations": conv}
    if system:
        out["system"] = system[0]["content"]
    return out


def format_fields(row: Mapping, fmt: str) -> dict:
    """The conversation of one pool row in export format ``fmt``."""
    turns = json.loads(row["messages"])
    if fmt == "messages":
        return {"messages": turns}
    if fmt == "alpaca":
        return _alpaca_fields(row, turns)
    if fmt == "sharegpt":
        return _sharegpt_fields(turns)
    raise ValueError(f"selection.export_format must be one of {list(EXPORT_FORMATS)}, got {fmt!r}")


def export_records(
    pool_rows: pd.DataFrame,
    candidates: pd.DataFrame,
    fmt: str,
) -> tuple[list[dict], dict[str, str]]:
    """Exported rows for the selected pool rows (in selection order) and the
    user keys renamed (key -> exported name). ``candidates`` gives each id's
    ``cell`` and ``RID`` (joined by id)."""
    cand = candidates.set_index("id")
    renamed: dict[str, str] = {}
    out = []
    for rank, row in enumerate(pool_rows.to_dict("records"), start=1):
        rec = format_fields(row, fmt)
        meta = json.loads(row["meta"]) if row.get("meta") else {}
        taken = set(rec) | set(SELECTION_FIELDS)
        for key, value in meta.items():
            name = key
            if key in RESERVED or key in taken:
                name = f"user_{key}"
                renamed[key] = name
            if name in taken or name in meta and name != key:
                raise ValueError(f"exported column {name!r} of id {row['id']} would be written twice (input key {key!r})")
            rec[name] = value
            taken.add(name)
        c = cand.loc[row["id"]]
        rec.update(
            ila_id=row["id"],
            ila_rank=rank,
            ila_cell=int(c["cell"]),
            ila_rid=None if pd.isna(c["RID"]) else float(c["RID"]),
            ila_domain=row["domain"],
            ila_source=row["source"],
        )
        out.append(rec)
    return out, renamed


def write_export(records: Sequence[Mapping], path: str | os.PathLike) -> int:
    """Write the rows as UTF-8 JSON Lines (see :func:`dumps_line`)
    atomically; returns the number of lines."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for rec in records:
                fh.write(dumps_line(rec) + "\n")
    return len(records)


def dataset_info(file_name: str, fmt: str, records: Sequence[Mapping]) -> dict:
    """LLaMA-Factory's ``dataset_info.json`` entry for an export; the
    optional ``system``/``history`` columns are named only when some row has
    them (LLaMA-Factory reads every named column)."""
    has = {k for rec in records for k in ("system", "history") if k in rec}
    if fmt == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        columns.update({k: k for k in ("system", "history") if k in has})
        return {"file_name": file_name, "formatting": "alpaca", "columns": columns}
    if fmt == "sharegpt":
        tags = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                "system_tag": "system"}
        columns = {"messages": "conversations", **({"system": "system"} if "system" in has else {})}
    elif fmt == "messages":
        tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                "system_tag": "system"}
        columns = {"messages": "messages"}
    else:
        raise ValueError(f"selection.export_format must be one of {list(EXPORT_FORMATS)}, got {fmt!r}")
    return {"file_name": file_name, "formatting": "sharegpt", "columns": columns, "tags": tags}


__all__ = [
    "EXPORT_FORMATS",
    "RESERVED",
    "SELECTION_FIELDS",
    "dataset_info",
    "dumps_line",
    "export_records",
    "format_fields",
    "write_export",
]
