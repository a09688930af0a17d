"""Selections out: messages, Alpaca and ShareGPT JSON Lines that a trainer
reads as they are. Round trip of every format in and out, byte-equal text,
one row a line, no column a trainer reads by name, LLaMA-Factory's column
rules on the dataset_info entry, and a few TRL SFTTrainer steps."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd
import pytest

from ila.pool.export import EXPORT_FORMATS, RESERVED, dataset_info, export_records, write_export
from ila.pool.ingest import ingest

FORMATS_DIR = Path(__file__).resolve().parents[1] / "data" / "ingest" / "formats"
FIXTURES = ("alpaca.jsonl", "messages.jsonl", "sharegpt.json", "prompt_completion.jsonl")


def _pool(tmp_path: Path, names=FIXTURES) -> pd.DataFrame:
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    for n in names:
        shutil.copy(FORMATS_DIR / n, d / n)
    return ingest("jsonl", path=d, fields={"domain": "category"}).pool


def _candidates(pool: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"id": pool["id"], "cell": range(len(pool)), "RID": [i / 10 for i in range(len(pool))]})


def _export(tmp_path: Path, pool: pd.DataFrame, fmt: str) -> tuple[Path, list[dict]]:
    ids = sorted(pool["id"], reverse=True)  # a selection order that is not the pool order
    rows = pool.set_index("id", drop=False).loc[ids].reset_index(drop=True)
    recs, _ = export_records(rows, _candidates(pool), fmt)
    path = tmp_path / f"ila-b{len(ids)}-{fmt}.jsonl"
    assert write_export(recs, path) == len(ids)
    return path, recs


def _strip_extras(turns):
    return [{"role": t["role"], "content": t["content"]} for t in turns]


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_round_trip_every_format_in_and_out(tmp_path, fmt):
    pool = _pool(tmp_path)
    path, recs = _export(tmp_path, pool, fmt)
    back = ingest("jsonl", path=path, format=fmt)
    assert back.ledger["kept"] == len(pool) and back.ledger["rejected_total"] == 0
    orig = pool.set_index("id")
    for row in back.pool.to_dict("records"):
        meta = json.loads(row["meta"])
        src = orig.loc[meta["ila_id"]]
        got, want = json.loads(row["messages"]), json.loads(src["messages"])
        if fmt == "alpaca":  # Alpaca has no place for extra keys of a turn
            got, want = _strip_extras(got), _strip_extras(want)
        assert got == want
        # the canonical text (and so the id) survives when the format can say it
        if fmt == "alpaca" or src["input"] == "":
            assert row["id"] == meta["ila_id"]
        # the user's own id and extra columns come back under their names
        for key, value in json.loads(src["meta"]).items():
            assert meta["user_labels" if key == "labels" else key] == value


def test_selection_fields_and_user_columns_cannot_collide(tmp_path):
    pool = _pool(tmp_path)
    _, recs = _export(tmp_path, pool, "messages")
    assert [r["ila_rank"] for r in recs] == list(range(1, len(recs) + 1))
    by_user = {r["id"]: r for r in recs}
    add = by_user["a-1"]
    assert add["user_labels"] == ["arithmetic"] and "labels" not in add
    assert add["category"] == "math" and add["ila_domain"] == "math" and add["ila_source"] == "alpaca"
    cand = _candidates(pool).set_index("id")
    assert add["ila_cell"] == cand.loc[add["ila_id"], "cell"] and add["ila_rid"] == cand.loc[add["ila_id"], "RID"]
    for r in recs:
        assert not (set(r) - {"messages"}) & RESERVED, r.keys()
    assert by_user[2]["score"] == 0.5  # types kept (an int id, a float column)


def test_exported_text_is_byte_equal_and_one_row_a_line(tmp_path):
    pool = _pool(tmp_path, ["alpaca.jsonl"])
    path, _ = _export(tmp_path, pool, "alpaca")
    data = path.read_bytes()
    for raw in ("\u2028", "\u2029", "\u0085"):
        assert raw.encode() not in data and json.dumps(raw).strip('"').encode() in data
    text = data.decode("utf-8")
    assert len(text.splitlines()) == len(data.split(b"\n")) - 1 == 4  # str.splitlines breaks at U+2028 too
    rows = {r["id"]: r for r in map(json.loads, text.splitlines())}
    src = {r["id"]: r for r in map(json.loads, (FORMATS_DIR / "alpaca.jsonl").read_text(encoding="utf-8").split("\n")[:-1])}
    for key in ("instruction", "input", "output"):
        assert rows["a-4"][key] == src["a-4"][key]
    assert rows["a-2"]["instruction"] == "Translate to French." and rows["a-2"]["input"] == "the cat"
    assert rows["a-3"]["system"] == src["a-3"]["system"] and rows["a-3"]["history"] == src["a-3"]["history"]


# --------------------------------------------------------------------------
# LLaMA-Factory: its dataset_info entry and column rules


def _llamafactory_convert(example: dict, attr: dict) -> tuple[str, list[dict]]:
    """(system, conversation) of one example by LLaMA-Factory's documented
    alpaca/sharegpt conversion rules (data/converter.py), which its loader
    applies after reading the file with datasets' json builder."""
    cols = attr["columns"]
    if attr["formatting"] == "alpaca":
        turns = []
        if cols.get("history") and isinstance(example.get(cols["history"]), list):
            for q, a in example[cols["history"]]:
                turns += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        query = [example[c] for c in (cols["prompt"], cols.get("query")) if c and example.get(c)]
        turns.append({"role": "user", "content": "\n".join(query)})
        turns.append({"role": "assistant", "content": example[cols["response"]]})
        return (example.get(cols["system"]) or "") if cols.get("system") else "", turns
    tags = attr["tags"]
    mapping = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant", tags["system_tag"]: "system"}
    msgs = example[cols["messages"]]
    if msgs and msgs[0][tags["role_tag"]] == tags["system_tag"]:
        system, msgs = msgs[0][tags["content_tag"]], msgs[1:]
    else:
        system = (example.get(cols["system"]) or "") if cols.get("system") else ""
    accept = ((tags["user_tag"],), (tags["assistant_tag"],))
    turns = []
    for i, m in enumerate(msgs):
        assert m[tags["role_tag"]] in accept[i % 2], f"LLaMA-Factory drops this example: role {m[tags['role_tag']]!r}"
        turns.append({"role": mapping[m[tags["role_tag"]]], "content": m[tags["content_tag"]]})
    assert len(turns) % 2 == 0, "LLaMA-Factory drops an example with an odd number of turns"
    return system, turns


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_llamafactory_reads_the_export_through_its_dataset_info_entry(tmp_path, fmt):
    import datasets

    pool = _pool(tmp_path, ["alpaca.jsonl", "messages.jsonl", "sharegpt.json"])
    path, recs = _export(tmp_path, pool, fmt)
    info = {path.stem: dataset_info(path.name, fmt, recs)}
    (tmp_path / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    attr = json.loads((tmp_path / "dataset_info.json").read_text())[path.stem]
    ds = datasets.load_dataset("json", data_files=str(tmp_path / attr["file_name"]), split="train")
    assert len(ds) == len(recs)
    orig = pool.set_index("id")
    for example in ds:
        system, turns = _llamafactory_convert(example, attr)
        want = json.loads(orig.loc[example["ila_id"], "messages"])
        want_system = want[0]["content"] if want[0]["role"] == "system" else ""
        body = _strip_extras(want[1:] if want_system else want)
        if fmt == "alpaca" and len(body) == 2 and not want_system:  # LLaMA-Factory joins instruction and input with "\n"
            row = orig.loc[example["ila_id"]]
            body[0]["content"] = "\n".join(x for x in (row["instruction"], row["input"]) if x)
        assert system == want_system and turns == body


# --------------------------------------------------------------------------
# TRL: the messages export trains as it is


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def test_trl_sft_trainer_trains_on_the_messages_export(tmp_path):
    trl = pytest.importorskip("trl")
    import datasets
    import torch

    from ila.lm.model import ModelShape, build_model
    from ila.lm.tokenizer import train_tokenizer
    from ila.pool.formats import chat_prompt

    pool = _pool(tmp_path, ["alpaca.jsonl", "messages.jsonl", "sharegpt.json"])
    path, recs = _export(tmp_path, pool, "messages")
    texts = [t["content"] for r in recs for t in r["messages"]] * 4
    tok = train_tokenizer(texts, 300, tmp_path / "tok", min_frequency=1)
    tok.chat_template = CHAT_TEMPLATE
    model = build_model(tok, ModelShape(hidden=32, layers=2, heads=2, ffn=64, max_position=256), seed=0)
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert "labels" not in ds.column_names and "user_labels" in ds.column_names
    cfg = trl.SFTConfig(
        output_dir=str(tmp_path / "out"), max_steps=3, per_device_train_batch_size=2, learning_rate=1e-3,
        logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, max_length=256, seed=0,
        dataloader_num_workers=0,
    )
    trainer = trl.SFTTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok)
    before = [p.detach().clone() for p in model.parameters()]
    out = trainer.train()
    assert out.global_step == 3
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 3 and all(0 < v < 20 for v in losses)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # the rendered text holds every turn of the exported conversation, system included
    conv = next(r["messages"] for r in recs if r["id"] == "m-2")
    rendered = tok.apply_chat_template(conv, tokenize=False)
    assert all(t["content"] in rendered for t in conv) and rendered.startswith("<|system|>\nBe brief.")
    prompt, response = chat_prompt(conv, tok)
    assert prompt.endswith("<|user|>\nAnd of Italy?\n<|assistant|>\n") and response == "Rome."
