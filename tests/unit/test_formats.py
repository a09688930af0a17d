"""Pool formats in: Alpaca, messages, ShareGPT and prompt/completion rows
(single- and multi-turn), .jsonl.gz / JSON arrays / Parquet, and the silent
losses of a user's own pool (duplicate keys, field typos, untracked files,
config errors, a pool too small for the dev and warm-up sets)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ila.io import stable_id
from ila.pool.ingest import IngestError, ingest

ROOT = Path(__file__).resolve().parents[2]
FORMATS_DIR = ROOT / "tests" / "data" / "ingest" / "formats"


def _rows(result) -> dict:
    """meta id -> pool row (as a dict, messages and meta decoded)."""
    out = {}
    for rec in result.pool.to_dict("records"):
        meta = json.loads(rec["meta"])
        out[meta["id"]] = {**rec, "messages": json.loads(rec["messages"]), "meta": meta}
    return out


# --------------------------------------------------------------------------
# One fixture per format


def test_alpaca_fixture_single_and_multi_turn():
    r = ingest("jsonl", path=FORMATS_DIR / "alpaca.jsonl", fields={"domain": "category"})
    assert (r.ledger["read"], r.ledger["kept"], r.ledger["rejected_total"]) == (4, 4, 0)
    assert r.ledger["kept_by_format"]["alpaca"] == 4
    rows = _rows(r)
    # single turn: canonical columns and id as before
    add = rows["a-1"]
    assert add["id"] == stable_id("Add 2 and 3.", "", "5") == "2ebd7bcd348c3dde"
    assert add["messages"] == [{"role": "user", "content": "Add 2 and 3."}, {"role": "assistant", "content": "5"}]
    assert add["meta"] == {"id": "a-1", "category": "math", "labels": ["arithmetic"]}
    assert add["domain"] == "math" and add["labels"] == ["arithmetic"]
    fr = rows["a-2"]
    assert (fr["instruction"], fr["input"]) == ("Translate to French.", "the cat")
    assert fr["messages"][0]["content"] == "Translate to French.\n\nthe cat"
    # system + history: a multi-turn conversation, the context rendered
    dog = rows["a-3"]
    assert dog["messages"] == [
        {"role": "system", "content": "You translate English to French."},
        {"role": "user", "content": "Translate: the cat"},
        {"role": "assistant", "content": "le chat"},
        {"role": "user", "content": "And the dog?"},
        {"role": "assistant", "content": "le chien"},
    ]
    assert dog["instruction"] == (
        "<|system|>\nYou translate English to French.\n<|user|>\nTranslate: the cat\n"
        "<|assistant|>\nle chat\n<|user|>\nAnd the dog?"
    )
    assert (dog["input"], dog["output"]) == ("", "le chien")
    assert "system" not in dog["meta"] and "history" not in dog["meta"]
    # text is kept exactly: line separators, whitespace-only input, spaces
    edge = rows["a-4"]
    assert edge["instruction"] == "Line\u2028separator and\u2029paragraph and\u0085next line kept."
    assert edge["input"] == "  " and edge["output"] == " spaced \n"


def test_messages_fixture_keeps_system_and_every_turn():
    r = ingest("jsonl", path=FORMATS_DIR / "messages.jsonl")
    assert r.ledger["kept_by_format"]["messages"] == 3 and r.ledger["rejected_total"] == 0
    rows = _rows(r)
    one = rows["m-1"]
    assert (one["instruction"], one["input"], one["output"]) == ("Name a prime.", "", "7")
    assert one["id"] == stable_id("Name a prime.", "", "7")
    two = rows["m-2"]
    assert [t["role"] for t in two["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert two["output"] == "Rome."  # the last assistant turn is the response
    assert two["instruction"].startswith("<|system|>\nBe brief.\n<|user|>\nCapital of France?\n<|assistant|>\nParis.")
    assert two["instruction"].endswith("<|user|>\nAnd of Italy?")
    assert two["meta"] == {"id": "m-2", "dataset": "ultrachat"}
    three = rows["m-3"]
    assert three["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert three["output"] == "Madrid. 🇪🇸" and three["labels"] == ["geo"]


def test_sharegpt_json_array_fixture_with_turn_extras():
    r = ingest("jsonl", path=FORMATS_DIR / "sharegpt.json")
    assert r.ledger["kept_by_format"]["sharegpt"] == 2 and r.ledger["rejected_total"] == 0
    rows = _rows(r)
    assert rows["s-1"]["messages"] == [{"role": "user", "content": "What is 6 times 7?"},
                                       {"role": "assistant", "content": "42"}]
    poem = rows["s-2"]
    assert poem["messages"][0] == {"role": "system", "content": "You are a poet."}
    assert poem["messages"][1] == {"role": "user", "content": "Write a line about rain.", "weight": 0}
    assert poem["messages"][-1] == {"role": "assistant", "content": "Snow hushes the street.", "weight": 1}
    assert poem["meta"] == {"id": "s-2"}
    assert set(r.pool["source"]) == {"sharegpt"}


def test_prompt_completion_fixture_strings_and_message_lists():
    r = ingest("jsonl", path=FORMATS_DIR / "prompt_completion.jsonl")
    assert r.ledger["kept_by_format"]["prompt_completion"] == 3 and r.ledger["rejected_total"] == 0
    rows = _rows(r)
    assert (rows[1]["instruction"], rows[1]["output"]) == ("Complete: The sky is", " blue.")
    assert rows[2]["messages"] == [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi!"}]
    assert rows[2]["meta"] == {"id": 2, "score": 0.5}
    # multi-turn: the prompt's turns, then the completion's
    many = rows[3]
    assert [t["role"] for t in many["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert many["instruction"] == "<|system|>\nReply in one word.\n<|user|>\nOpposite of hot?\n<|assistant|>\nCold.\n<|user|>\nOf up?"
    assert (many["input"], many["output"]) == ("", "Down.")


def test_folder_of_every_format_and_file_kind(tmp_path):
    """auto reads each row by its own keys; .jsonl.gz and Parquet are read."""
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress((FORMATS_DIR / "alpaca.jsonl").read_bytes(), mtime=0))
    (tmp_path / "b.json").write_bytes((FORMATS_DIR / "sharegpt.json").read_bytes())
    (tmp_path / "c.jsonl").write_bytes((FORMATS_DIR / "messages.jsonl").read_bytes())
    table = pa.Table.from_pylist([
        {"id": "p-1", "messages": [{"role": "user", "content": "Parquet?"}, {"role": "assistant", "content": "Yes."}]},
    ])
    pq.write_table(table, tmp_path / "d.parquet")
    r = ingest("jsonl", path=tmp_path)
    assert r.ledger["kept_by_format"] == {"alpaca": 4, "messages": 4, "sharegpt": 2, "prompt_completion": 0}
    assert list(r.ledger["files"]) == [str(tmp_path / n) for n in ("a.jsonl.gz", "b.json", "c.jsonl", "d.parquet")]
    assert set(r.pool["source"]) == {"a", "b", "c", "d"}
    gz = r.pool[r.pool["source"] == "a"]
    assert stable_id("Add 2 and 3.", "", "5") in set(gz["id"])


def test_format_named_in_config_rejects_other_rows_with_file_and_line(tmp_path):
    f = tmp_path / "mix.jsonl"
    f.write_text(
        '{"instruction": "Hi", "output": "Hello"}\n'
        '{"messages": [{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "Yo"}]}\n'
        '{"question": "Hi?", "answer": "Hi."}\n',
        encoding="utf-8",
    )
    r = ingest("jsonl", path=f, format="messages")
    assert r.rejects[["file", "line", "reason"]].values.tolist() == [[str(f), 1, "missing_field"], [str(f), 3, "missing_field"]]
    assert "format messages" in r.rejects["detail"].iloc[0]
    r = ingest("jsonl", path=f)  # auto
    rej = r.rejects.set_index("line")
    assert rej.loc[3, "reason"] == "no_format" and "['answer', 'question']" in rej.loc[3, "detail"]
    assert r.ledger["kept_by_format"] == {"alpaca": 1, "messages": 1, "sharegpt": 0, "prompt_completion": 0}


@pytest.mark.parametrize(
    "row, reason, words",
    [
        ({"messages": []}, "bad_conversation", "no turns"),
        ({"messages": [{"role": "user", "content": "a"}]}, "bad_conversation", "end with an assistant"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                       {"role": "assistant", "content": "c"}]}, "bad_conversation", "turn 2 is user"),
        ({"messages": [{"role": "tool", "content": "a"}]}, "bad_conversation", "role 'tool'"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}, {"role": "assistant", "content": "x"}]},
         "wrong_type", "not string"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": " "}]}, "empty_field", "turn 2"),
        ({"conversations": [{"from": "observation", "value": "a"}]}, "bad_conversation", "'observation'"),
        ({"system": "s", "conversations": [{"from": "system", "value": "t"}, {"from": "human", "value": "a"},
                                           {"from": "gpt", "value": "b"}]}, "bad_conversation", "both"),
        ({"instruction": "a", "output": "b", "history": [["only one"]]}, "wrong_type", "pairs"),
    ],
)
def test_malformed_conversations_are_counted_rejects(tmp_path, row, reason, words):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps(row) + "\n" + json.dumps({"instruction": "ok", "output": "fine"}) + "\n", encoding="utf-8")
    r = ingest("jsonl", path=f)
    assert r.rejects[["line", "reason"]].values.tolist() == [[1, reason]]
    assert words in r.rejects["detail"].iloc[0]
    assert r.ledger["read"] == 2 and r.ledger["kept"] == 1


# --------------------------------------------------------------------------
# Silent losses of today's ingest


def test_duplicate_json_key_is_a_counted_reject(tmp_path):
    f = tmp_path / "dup.jsonl"
    f.write_text(
        '{"instruction": "Say A.", "output": "A", "output": "B"}\n'
        '{"messages": [{"role": "user", "content": "x", "content": "y"}, {"role": "assistant", "content": "z"}]}\n'
        '{"instruction": "Say C.", "output": "C"}\n',
        encoding="utf-8",
    )
    r = ingest("jsonl", path=f)
    assert r.rejects[["line", "reason"]].values.tolist() == [[1, "duplicate_key"], [2, "duplicate_key"]]
    assert "'output'" in r.rejects["detail"].iloc[0] and "'content'" in r.rejects["detail"].iloc[1]
    assert r.ledger["rejected"]["duplicate_key"] == 2 and r.pool["output"].tolist() == ["C"]


def test_duplicate_json_key_in_a_json_array_names_the_line(tmp_path):
    f = tmp_path / "arr.json"
    f.write_text('[\n{"instruction": "a", "output": "b"},\n\n{"instruction": "c",\n "instruction": "d", "output": "e"}\n]\n',
                 encoding="utf-8")
    r = ingest("jsonl", path=f)
    assert r.rejects[["line", "reason"]].values.tolist() == [[4, "duplicate_key"]]


def test_json_array_syntax_error_names_file_and_line(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('[\n{"instruction": "a", "output": "b"},\n{"instruction": "c" "output": "d"}\n]\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"broken.json: line 3 column"):
        ingest("jsonl", path=f)


def test_mapped_field_no_row_has_is_an_error_naming_the_key(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"instruction": "Sum.", "ctx": "1 2", "output": "3"}\n'
                 '{"instruction": "Max.", "ctx": "1 2", "output": "2"}\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"pool.fields.input names field 'ctx_typo', which none of the 2 rows"):
        ingest("jsonl", path=f, fields={"input": "ctx_typo"})
    assert ingest("jsonl", path=f, fields={"input": "ctx"}).pool["input"].tolist() == ["1 2", "1 2"]


def test_mapped_field_most_rows_lack_is_in_the_ledger(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text("".join(json.dumps({"instruction": f"q{i}", "output": "a", **({"ctx": "c"} if i == 0 else {})}) + "\n"
                         for i in range(3)), encoding="utf-8")
    led = ingest("jsonl", path=f, fields={"input": "ctx"}).ledger
    assert led["fields_rarely_present"] == [{"field": "input", "source_field": "ctx", "rows": 1, "of": 3}]


def _pool_inputs(config: dict):
    """rules/common.smk's pool_inputs, run outside Snakemake."""
    ns = {"config": config, "workflow": SimpleNamespace(basedir=str(ROOT)), "directory": lambda p: p}
    exec(compile((ROOT / "rules" / "common.smk").read_text(), "common.smk", "exec"), ns)
    return ns["pool_inputs"](None)


def _jsonl_config(path) -> dict:
    return {"name": "t", "offline": True,
            "pool": {"source": "jsonl", "path": str(path), "fields": {}, "hf": {"name": None, "datasets": []}}}


@pytest.mark.parametrize("folder", ["plain", "data[1]"])
def test_files_tracked_by_the_workflow_are_the_files_read(tmp_path, folder):
    d = tmp_path / folder
    d.mkdir()
    (d / "a.jsonl").write_text('{"instruction": "A", "output": "a"}\n', encoding="utf-8")
    (d / ".hidden.jsonl").write_text('{"instruction": "H", "output": "h"}\n', encoding="utf-8")
    (d / "b.parquet").write_bytes(b"")
    pq.write_table(pa.Table.from_pylist([{"instruction": "B", "output": "b"}]), d / "b.parquet")
    os.symlink("loop.jsonl", d / "loop.jsonl")  # a symlink loop
    tracked = _pool_inputs(_jsonl_config(d))
    r = ingest("jsonl", path=d)
    assert tracked == list(r.ledger["files"]) == [str(d / "a.jsonl"), str(d / "b.parquet")]
    assert sorted(r.pool["instruction"]) == ["A", "B"]  # the hidden file is not read
    reasons = r.ledger["skipped_reasons"]
    assert reasons[str(d / ".hidden.jsonl")] == "hidden file"
    assert "symlink loop" in reasons[str(d / "loop.jsonl")]


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pool": {"source": "hf", "hf": {"name": "tatsu-lab/alpaca"}}}, "set offline: false"),
        ({"pool": {"source": "hf"}, "offline": False}, "pool.hf.name"),
        ({"pool": {"fields": {"instruction": ""}}}, "pool.fields.instruction"),
        ({"pool": {"source": "jsonl", "path": "data/{x}"}}, "pool.path"),
        ({"name": "mypool\n"}, "name:"),
        ({"pool": {"source": "hf", "hf": {"datasets": [{"name": "json", "data_files": "a.jsonl"}, {"name": " "}]}},
          "offline": False}, "pool.hf.datasets[1].name"),
        ({"model": {"prompt": {"chat_template": True}}}, "model.prompt.chat_template: true, but model.base is tiny"),
    ],
)
def test_config_errors_before_any_job_name_the_key(tmp_path, change, key):
    cfg = {"name": "t", "pool": {"source": "toy"}, **{k: v for k, v in change.items() if k != "pool"}}
    cfg["pool"].update(change.get("pool", {}))
    (tmp_path / "c.yaml").write_text(json.dumps(cfg), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
         "--configfile", str(tmp_path / "c.yaml")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.returncode != 0
    assert key in out.stdout + out.stderr, (out.stdout + out.stderr)[-2000:]
    assert "WildcardError" not in out.stdout + out.stderr


def test_pool_too_small_for_dev_and_warmup_fails_with_the_numbers():
    from ila.pool.ingest import check_pool_size

    check_pool_size(601, 100, 500)
    with pytest.raises(IngestError, match=r"600 rows kept, but split.dev_size=100 takes 100 and warmup.size=500"):
        check_pool_size(600, 100, 500)
    with pytest.raises(IngestError, match=r"split.dev_size=0.5 takes 300"):
        check_pool_size(600, 0.5, 500)
    # the test set is drawn first: its rows count too
    check_pool_size(951, 100, 500, test_size=350)
    with pytest.raises(IngestError, match=r"950 rows kept, but split.test_size=350 takes 350, split.dev_size=100 takes "
                                          r"100 and warmup.size=500 takes 500, leaving 0 candidates"):
        check_pool_size(950, 100, 500, test_size=350)
    with pytest.raises(IngestError, match=r"3 rows kept, but split.test_size=350 leaves none"):
        check_pool_size(3, 100, 500, test_size=350)


def test_pool_too_small_fails_the_ingest_job_with_the_numbers_and_logs_skipped_files(tmp_path):
    """Through the workflow: the ingest job, not a later one, fails naming
    the keys, and the entries it skips are in its log."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.jsonl").write_text("".join(json.dumps({"instruction": f"Q{i}", "output": "A"}) + "\n" for i in range(3)),
                               encoding="utf-8")
    (d / "b.json.gz").write_bytes(gzip.compress(b'[{"instruction": "Z", "output": "z"}]', mtime=0))
    (d / ".c.jsonl").write_text('{"instruction": "H", "output": "h"}\n', encoding="utf-8")
    cfg = {"name": "t", "pool": {"source": "jsonl", "path": str(d)}, "split": {"test_size": 1, "dev_size": 1},
           "warmup": {"size": 5}}
    (tmp_path / "c.yaml").write_text(json.dumps(cfg), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
         "results/t/pool/pool.parquet", "--configfile", str(tmp_path / "c.yaml")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert out.returncode != 0
    log = (tmp_path / "results" / "t" / "logs" / "ingest.log").read_text(encoding="utf-8")
    assert ("pool too small: 3 rows kept, but split.test_size=1 takes 1, split.dev_size=1 takes 1 and "
            "warmup.size=5 takes 5, leaving -4 candidates") in log
    assert f"skipped {d / 'b.json.gz'}: not a pool file" in log
    assert f"skipped {d / '.c.jsonl'}: hidden file" in log
    assert not (tmp_path / "results" / "t" / "pool" / "pool.parquet").exists()


# --------------------------------------------------------------------------
# Columnar sources, the Hugging Face path, and what the stages read


def test_parquet_mixing_formats_reads_each_row_by_its_non_null_columns(tmp_path):
    """A Parquet file (or a dataset) that mixes formats gives every row every
    column, null where the row has none: each row is read by the columns it
    fills, and the null columns of the other formats are not its meta."""
    rows = [
        {"id": "x1", "instruction": "Hi", "output": "Hello"},
        {"id": "x2", "messages": [{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "Yo"}]},
        {"id": "x3", "conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A.", "weight": 1}]},
        {"id": "x4", "prompt": "P", "completion": "C"},
    ]
    keys = list(dict.fromkeys(k for row in rows for k in row))
    pq.write_table(pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in rows]), tmp_path / "mix.parquet")
    r = ingest("jsonl", path=tmp_path / "mix.parquet")
    assert r.ledger["kept_by_format"] == {"alpaca": 1, "messages": 1, "sharegpt": 1, "prompt_completion": 1}
    assert r.ledger["rejected_total"] == 0
    got = _rows(r)
    assert {k: v["meta"] for k, v in got.items()} == {k: {"id": k} for k in ("x1", "x2", "x3", "x4")}
    # a turn's null key (the struct column's other field) is not kept
    assert got["x3"]["messages"] == [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A.", "weight": 1}]


def test_hf_loader_failure_names_the_dataset_and_its_cause(tmp_path):
    """The json builder cannot count a key given twice as a reject; it fails
    loudly, naming the cause."""
    from ila.pool.hf import read_hf

    f = tmp_path / "dup.jsonl"
    f.write_text('{"instruction": "Say A.", "output": "A", "output": "B"}\n{"instruction": "C", "output": "c"}\n',
                 encoding="utf-8")
    with pytest.raises(IngestError, match=r"json:train: cannot load dataset .*caused by .*output.* specified twice"):
        read_hf("json", "train", data_files=str(f), cache_dir=tmp_path / "cache")


def test_what_each_stage_reads_from_a_multi_turn_conversation(tmp_path):
    """Cells embed the whole context (system, earlier turns, last question);
    depth and fine-tuning put the loss on the last assistant turn only."""
    from ila.embed import instruction_text
    from ila.lm.data import IGNORE_INDEX, tokenize_records
    from ila.lm.prompt import PromptTemplate
    from ila.lm.tokenizer import train_tokenizer

    row = _rows(ingest("jsonl", path=FORMATS_DIR / "messages.jsonl"))["m-2"]
    embedded = instruction_text(row["instruction"], row["input"])
    for turn in row["messages"][:-1]:
        assert turn["content"] in embedded
    assert "Rome." not in embedded
    tok = train_tokenizer([embedded, row["output"]] * 8, 300, tmp_path / "tok", min_frequency=1)
    [ex] = tokenize_records([row], tok, PromptTemplate(), max_length=256).examples
    scored = [t for t, lab in zip(ex.input_ids, ex.labels) if lab != IGNORE_INDEX]
    context = [t for t, lab in zip(ex.input_ids, ex.labels) if lab == IGNORE_INDEX]
    assert tok.decode(scored, skip_special_tokens=True) == "Rome."
    assert "Be brief." in tok.decode(context) and "Paris." in tok.decode(context)  # earlier turns: context, no loss


def test_readme_examples_give_one_row_of_each_format(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Select from your own pool"):]
    block = section[section.index("```jsonl\n") + len("```jsonl\n"): section.index("```\n", section.index("```jsonl"))]
    (tmp_path / "readme.jsonl").write_text(block, encoding="utf-8")
    r = ingest("jsonl", path=tmp_path / "readme.jsonl")
    assert r.ledger["rejected_total"] == 0
    assert r.ledger["kept_by_format"] == {"alpaca": 2, "messages": 1, "sharegpt": 1, "prompt_completion": 1}
