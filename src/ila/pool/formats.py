"""Row formats of an instruction pool, and the conversation each row holds.

A row is read as one of four formats (``pool.format``; ``auto`` picks one per
row, in this order, by the keys it has):

``alpaca``             ``instruction``, ``output``, optional ``input``, and the
                       LLaMA-Factory extras ``system`` (string) and
                       ``history`` (list of [user, assistant] pairs);
``messages``           ``messages``: a list of {role, content} (OpenAI, Tulu,
                       UltraChat, open-instruct, TRL);
``sharegpt``           ``conversations``: a list of {from, value} with from in
                       human/gpt/system (also user/assistant), optional
                       top-level ``system``;
``prompt_completion``  ``prompt`` and ``completion``: two strings, or two
                       lists of {role, content} (TRL's conversational form).

Every row becomes a conversation: an optional system turn, then user and
assistant turns alternating, ending with an assistant turn. Extra keys of a
turn (e.g. ShareGPT's ``weight``) are kept in it, unless null (a columnar
file gives every turn every key of any turn). A single-turn Alpaca row
with an input has one user turn ``instruction + "\\n\\n" + input``.

The canonical columns the other stages read are derived from it
(:func:`canonical_text`):

- single turn, no system: ``instruction`` = the user turn (for Alpaca rows the
  instruction and input exactly as read), ``output`` = the assistant turn;
- otherwise ``instruction`` = every turn before the last assistant turn,
  system included, rendered by :func:`render_context`; ``input`` = "";
  ``output`` = the last assistant turn.

Only the last assistant turn is a response (loss, depth); earlier assistant
turns are context. :func:`chat_prompt` renders the same context with a real
tokenizer's chat template; :func:`record_turns` reads the conversation back
from a pool record (``model.prompt.chat_template``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

FORMATS = ("alpaca", "messages", "sharegpt", "prompt_completion")
ROLES = ("system", "user", "assistant")
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
SHAREGPT_TAGS = {"user": "human", "assistant": "gpt", "system": "system"}
# Canonical name -> default source key of the fields that hold the text.
FORMAT_FIELDS = {
    "instruction": "instruction",
    "input": "input",
    "output": "output",
    "system": "system",
    "history": "history",
    "messages": "messages",
    "conversations": "conversations",
    "prompt": "prompt",
    "completion": "completion",
}
ALPACA_JOIN = "\n\n"


class RowError(Exception):
    """A row that is not a valid conversation: ``reason`` is a ledger reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Conversation:
    """One row read as a conversation, with the canonical text columns."""

    format: str
    messages: list[dict]
    instruction: str
    input: str
    output: str
    used: tuple[str, ...]  # source keys holding the text (not kept in meta)

    def empty_turn(self) -> str | None:
        """Why the row is empty (a user or assistant turn empty after
        stripping whitespace), or None."""
        if self.format == "alpaca" and len(self.messages) == 2:
            for name in ("instruction", "output"):
                if not getattr(self, name).strip():
                    return f"'{name}' is empty after strip"
            return None
        for i, turn in enumerate(self.messages, start=1):
            if turn["role"] != "system" and not turn["content"].strip():
                return f"turn {i} ({turn['role']}) is empty after strip"
        return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise RowError("wrong_type", f"{what} has type {type(value).__name__}, not string")
    if not _encodable(value):
        raise RowError("invalid_utf8", f"{what} holds a lone surrogate escape")
    return value


def detect_format(obj: Mapping, fmap: Mapping[str, str]) -> str | None:
    """The format of a row by the keys it has with a non-null value (None
    when it fits none): a Parquet file or a dataset that mixes formats gives
    every row every column, null where the row has none."""
    if obj.get(fmap["instruction"]) is not None or obj.get(fmap["output"]) is not None:
        return "alpaca"
    if obj.get(fmap["messages"]) is not None:
        return "messages"
    if obj.get(fmap["conversations"]) is not None:
        return "sharegpt"
    if obj.get(fmap["prompt"]) is not None and obj.get(fmap["completion"]) is not None:
        return "prompt_completion"
    return None


def no_format_detail(obj: Mapping, fmap: Mapping[str, str]) -> str:
    keys = sorted(obj)[:12]
    return (
        f"fits no format: keys {keys}; expected '{fmap['instruction']}'+'{fmap['output']}' (alpaca), "
        f"'{fmap['messages']}' (messages), '{fmap['conversations']}' (sharegpt) or "
        f"'{fmap['prompt']}'+'{fmap['completion']}' (prompt_completion)"
    )


def check_turns(turns: list[dict]) -> None:
    """An optional leading system turn, then user/assistant alternating,
    ending with an assistant turn."""
    if not turns:
        raise RowError("bad_conversation", "the conversation has no turns")
    roles = [t["role"] for t in turns]
    body = roles[1:] if roles[0] == "system" else roles
    for i, role in enumerate(body):
        want = "user" if i % 2 == 0 else "assistant"
        if role != want:
            pos = i + 1 + (len(roles) - len(body))
            raise RowError("bad_conversation", f"turn {pos} is {role}, expected {want} (roles {roles})")
    if not body or body[-1] != "assistant":
        raise RowError("bad_conversation", f"the conversation does not end with an assistant turn (roles {roles})")


def _turns(value: Any, what: str, role_key: str, content_key: str, roles: Mapping[str, str]) -> list[dict]:
    if not isinstance(value, list):
        raise RowError("wrong_type", f"{what} has type {type(value).__name__}, not a list of turns")
    out = []
    for i, turn in enumerate(value, start=1):
        if not isinstance(turn, dict):
            raise RowError("wrong_type", f"{what} turn {i} has type {type(turn).__name__}, not object")
        for key in (role_key, content_key):
            if turn.get(key) is None:
                raise RowError("missing_field", f"{what} turn {i} has no '{key}'")
        tag = turn[role_key]
        if not isinstance(tag, str) or tag not in roles:
            raise RowError("bad_conversation", f"{what} turn {i} has {role_key} {tag!r}; supported: {sorted(roles)}")
        content = _text(turn[content_key], f"{what} turn {i} '{content_key}'")
        extra = {k: v for k, v in turn.items() if k not in (role_key, content_key) and v is not None}
        out.append({"role": roles[tag], "content": content, **extra})
    return out


def _system_turn(obj: Mapping, fmap: Mapping[str, str]) -> list[dict]:
    value = obj.get(fmap["system"])
    if value is None or value == "":
        return []
    return [{"role": "system", "content": _text(value, f"'{fmap['system']}'")}]


def _alpaca(obj: Mapping, fmap: Mapping[str, str]) -> tuple[list[dict], tuple, tuple[str, str]]:
    for name in ("instruction", "output"):
        if obj.get(fmap[name]) is None:
            label = f"'{name}'" if fmap[name] == name else f"'{name}' (source field '{fmap[name]}')"
            raise RowError("missing_field", f"missing {label}")
    vals = {}
    for name in ("instruction", "input", "output"):
        value = obj.get(fmap[name])
        label = f"'{name}'" if fmap[name] == name else f"'{name}' (source field '{fmap[name]}')"
        vals[name] = "" if value is None else _text(value, label)
    turns = _system_turn(obj, fmap)
    history = obj.get(fmap["history"])
    if history is not None:
        if not isinstance(history, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in history
        ):
            raise RowError("wrong_type", f"'{fmap['history']}' is not a list of [user, assistant] pairs")
        for i, (q, a) in enumerate(history, start=1):
            turns.append({"role": "user", "content": _text(q, f"history pair {i} user")})
            turns.append({"role": "assistant", "content": _text(a, f"history pair {i} assistant")})
    user = vals["instruction"] + (ALPACA_JOIN + vals["input"] if vals["input"] else "")
    turns += [{"role": "user", "content": user}, {"role": "assistant", "content": vals["output"]}]
    used = tuple(fmap[n] for n in ("instruction", "input", "output", "system", "history") if fmap[n] in obj)
    return turns, used, (vals["instruction"], vals["input"])


def parse_row(obj: Mapping, fmt: str, fmap: Mapping[str, str]) -> Conversation:
    """Read one JSON object as ``fmt`` (a name of FORMATS, or ``auto``).
    Raises RowError with a ledger reason."""
    if fmt == "auto":
        found = detect_format(obj, fmap)
        if found is None:
            raise RowError("no_format", no_format_detail(obj, fmap))
        fmt = found
    single = None
    if fmt == "alpaca":
        turns, used, single = _alpaca(obj, fmap)
    elif fmt == "messages":
        key = fmap["messages"]
        if obj.get(key) is None:
            raise RowError("missing_field", f"missing '{key}' (format messages)")
        turns = _turns(obj[key], f"'{key}'", "role", "content", {r: r for r in ROLES})
        used = (key,)
    elif fmt == "sharegpt":
        key = fmap["conversations"]
        if obj.get(key) is None:
            raise RowError("missing_field", f"missing '{key}' (format sharegpt)")
        turns = _turns(obj[key], f"'{key}'", "from", "value", SHAREGPT_ROLES)
        system = _system_turn(obj, fmap)
        if system and turns and turns[0]["role"] == "system":
            raise RowError("bad_conversation", f"both '{fmap['system']}' and a system turn")
        turns = system + turns
        used = tuple(k for k in (key, fmap["system"]) if k in obj)
    elif fmt == "prompt_completion":
        pk, ck = fmap["prompt"], fmap["completion"]
        for k in (pk, ck):
            if obj.get(k) is None:
                raise RowError("missing_field", f"missing '{k}' (format prompt_completion)")
        p, c = obj[pk], obj[ck]
        if isinstance(p, str) or isinstance(c, str):
            turns = [{"role": "user", "content": _text(p, f"'{pk}'")},
                     {"role": "assistant", "content": _text(c, f"'{ck}'")}]
            single = (turns[0]["content"], "")
        else:
            turns = _turns(p, f"'{pk}'", "role", "content", {r: r for r in ROLES}) + _turns(
                c, f"'{ck}'", "role", "content", {r: r for r in ROLES}
            )
        used = (pk, ck)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected auto or one of {FORMATS}")
    check_turns(turns)
    instruction, input_, output = canonical_text(turns, single)
    return Conversation(fmt, turns, instruction, input_, output, used)


def render_context(turns: list[dict]) -> str:
    """The turns before the response as one instruction text: each turn as
    ``<|role|>`` on its own line followed by its content, turns joined by a
    newline (the Tulu layout). The prompt template wraps it as it wraps an
    instruction."""
    return "\n".join(f"<|{t['role']}|>\n{t['content']}" for t in turns)


def canonical_text(turns: list[dict], single: tuple[str, str] | None = None) -> tuple[str, str, str]:
    """(instruction, input, output) of a conversation. ``single`` is the
    (instruction, input) as read for a one-turn row of a format that has
    them (Alpaca, string prompt/completion)."""
    output = turns[-1]["content"]
    if len(turns) == 2 and turns[0]["role"] == "user":
        if single is not None:
            return single[0], single[1], output
        return turns[0]["content"], "", output
    return render_context(turns[:-1]), "", output


def chat_prompt(messages: list[dict], tokenizer) -> tuple[str, str]:
    """(prompt, response) of a conversation for a model with a chat
    template: the context rendered by ``tokenizer.apply_chat_template`` with
    the generation prompt, and the last assistant turn. Every stage
    conditions on this prompt with ``model.prompt.chat_template``
    (:meth:`ila.lm.prompt.PromptTemplate.render`); by default they use the
    prompt template on ``instruction``."""
    prompt = tokenizer.apply_chat_template(
        [{"role": t["role"], "content": t["content"]} for t in messages[:-1]],
        tokenize=False,
        add_generation_prompt=True,
    )
    return prompt, messages[-1]["content"]


def record_turns(record: Mapping) -> list[dict]:
    """The conversation of a pool record: its ``messages`` column (a JSON
    string, or a list of turns) when it has one, else an optional system
    turn (a non-empty ``system``), one user turn (``instruction``, plus
    ``"\\n\\n" + input`` when the input is non-empty) and the assistant
    turn ``output``. The last assistant turn must be the record's output
    (the response the stages put the loss on). Raises ValueError naming the
    record."""
    rid = record.get("id")
    value = record.get("messages")
    if isinstance(value, str) and value:
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"record {rid!r}: 'messages' is not JSON ({exc})") from None
    if isinstance(value, list) and value:
        try:
            turns = _turns(value, "'messages'", "role", "content", {r: r for r in ROLES})
            check_turns(turns)
        except RowError as exc:
            raise ValueError(f"record {rid!r}: {exc}") from None
        if "output" in record and turns[-1]["content"] != record["output"]:
            raise ValueError(f"record {rid!r}: the last assistant turn of 'messages' is not its output")
        return turns
    system = record.get("system")
    turns = [{"role": "system", "content": system}] if isinstance(system, str) and system else []
    input_ = record.get("input") or ""
    user = record["instruction"] + (ALPACA_JOIN + input_ if input_ else "")
    return turns + [{"role": "user", "content": user}, {"role": "assistant", "content": record.get("output", "")}]


def messages_json(turns: list[dict]) -> str:
    """The ``messages`` column: the conversation as a JSON string."""
    return json.dumps(turns, ensure_ascii=False)


__all__ = [
    "ALPACA_JOIN",
    "FORMATS",
    "FORMAT_FIELDS",
    "Conversation",
    "RowError",
    "canonical_text",
    "chat_prompt",
    "check_turns",
    "detect_format",
    "messages_json",
    "parse_row",
    "record_turns",
    "render_context",
]
