"""Pool ingest: row validation, ledger, duplicates, field mapping, folder
mode, errors, the Hugging Face path on local files, and the real test pool."""

from __future__ import annotations

import gzip
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ila.io import read_json, stable_id
from ila.pool import ingest as ingest_mod
from ila.pool.ingest import (
    POOL_COLUMNS,
    REASONS,
    REJECT_COLUMNS,
    IngestError,
    ingest,
    read_hf,
    read_jsonl,
    write_outputs,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
MALFORMED = DATA / "malformed.jsonl"
MAPPED = DATA / "mapped.jsonl"
# the real-data fixture lies in shared/ beside the repository
REALPOOL = Path(__file__).resolve().parents[3] / "shared" / "data" / "realpool"

# Line number -> reason for every reject in malformed.jsonl (max_chars=200).
MALFORMED_REJECTS = {
    3: "invalid_utf8",
    4: "invalid_json",
    5: "not_an_object",
    6: "missing_field",
    7: "missing_field",
    8: "wrong_type",
    9: "wrong_type",
    10: "wrong_type",
    11: "empty_field",
    12: "empty_field",
    13: "too_long",
    14: "duplicate",
    19: "not_an_object",
    20: "invalid_json",
    21: "wrong_type",
}
ID_ADD = stable_id("Add 2 and 3.", "", "5")
ID_CHAT = stable_id("Translate to French.", "cat", "chat")
ID_LE_CHAT = stable_id("Translate to French.", "cat", "le chat")


def _pool_bytes(result, tmp_path: Path, tag: str) -> bytes:
    out = tmp_path / f"out-{tag}"
    write_outputs(result, out / "pool.parquet", out / "rejects.jsonl", out / "ledger.json")
    return (out / "pool.parquet").read_bytes()


# --------------------------------------------------------------------------
# Ledger and rejects on the hand-made malformed file


def test_malformed_file_ledger_counts_exact():
    r = ingest("jsonl", path=MALFORMED, max_chars=200)
    led = r.ledger
    assert led["read"] == 20  # 22 lines, 2 blank
    assert led["blank_lines"] == 2
    assert led["kept"] == 5
    assert led["rejected"] == {
        "invalid_utf8": 1,
        "invalid_json": 2,
        "not_an_object": 2,
        "duplicate_key": 0,
        "no_format": 0,
        "missing_field": 2,
        "wrong_type": 4,
        "bad_conversation": 0,
        "empty_field": 2,
        "too_long": 1,
        "duplicate": 1,
    }
    assert set(led["rejected"]) == set(REASONS)
    assert led["rejected_total"] == 15
    assert led["read"] == led["kept"] + led["rejected_total"]
    assert led["files"] == {str(MALFORMED): {"read": 20, "kept": 5, "rejected": 15, "blank_lines": 2}}
    assert led["skipped_files"] == []
    assert led["kept_by_domain"] == {"": 2, "chat": 1, "language": 1, "math": 1}


def test_malformed_file_each_reject_has_file_line_reason():
    r = ingest("jsonl", path=MALFORMED, max_chars=200)
    rej = r.rejects
    assert list(rej.columns) == REJECT_COLUMNS
    assert (rej["file"] == str(MALFORMED)).all()
    assert dict(zip(rej["line"].tolist(), rej["reason"].tolist())) == MALFORMED_REJECTS
    assert rej["line"].tolist() == sorted(MALFORMED_REJECTS)  # in file/line order
    by_line = rej.set_index("line")
    assert "output" in by_line.loc[6, "detail"] and "output" in by_line.loc[8, "detail"]
    assert "labels" in by_line.loc[9, "detail"] and "domain" in by_line.loc[21, "detail"]
    assert "235 characters > max_chars=200" == by_line.loc[13, "detail"]
    # id is given where the three text fields are strings, not otherwise
    assert by_line.loc[14, "id"] == ID_LE_CHAT
    assert by_line.loc[13, "id"] is not None
    assert by_line.loc[3, "id"] is None and by_line.loc[8, "id"] is None
    # only the duplicate has duplicate_of, pointing at the kept row
    assert by_line.loc[14, "duplicate_of"] == ID_CHAT
    assert by_line["duplicate_of"].notna().sum() == 1


def test_malformed_file_pool_content():
    r = ingest("jsonl", path=MALFORMED, max_chars=200)
    pool = r.pool
    assert list(pool.columns) == POOL_COLUMNS
    assert pool["id"].tolist() == sorted(pool["id"].tolist())
    assert pool["id"].is_unique
    by_id = pool.set_index("id")
    assert by_id.loc[ID_ADD, "labels"] == ["arithmetic"]
    assert by_id.loc[ID_ADD, "domain"] == "math"
    assert by_id.loc[ID_ADD, "source"] == "malformed"  # file stem
    # the duplicate kept is the smallest id, here the second occurrence
    assert ID_CHAT < ID_LE_CHAT and ID_CHAT in by_id.index and ID_LE_CHAT not in by_id.index
    say_hi = by_id.loc[stable_id("Say hi.", "", "Hi!")]
    assert say_hi["source"] == "handmade" and say_hi["domain"] == "chat"
    color = by_id.loc[stable_id("Name a color.", "", "Blue.")]
    assert color["input"] == "" and color["domain"] == "" and color["labels"] == []
    # the CRLF line is kept with its text intact
    assert stable_id("Count to three.", "", "1, 2, 3") in by_id.index


def test_golden_id_stable():
    # fixed value: changing stable_id or how ingest builds ids breaks every cached output
    assert ID_ADD == "2ebd7bcd348c3dde"
    r1 = ingest("jsonl", path=MALFORMED, max_chars=200)
    r2 = ingest("jsonl", path=MALFORMED, max_chars=200)
    assert "2ebd7bcd348c3dde" in set(r1.pool["id"])
    assert r1.pool["id"].tolist() == r2.pool["id"].tolist()
    assert r1.ledger["pool_ids_sha256"] == r2.ledger["pool_ids_sha256"]


def test_max_chars_none_and_limit_boundary(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(
        json.dumps({"instruction": "ab", "input": "cd", "output": "efgh"}) + "\n"
        + json.dumps({"instruction": "ab", "input": "cd", "output": "efghi"}) + "\n",
        encoding="utf-8",
    )
    # 8 chars is allowed at max_chars=8; the second row (ab, cd) is then a duplicate
    r = ingest("jsonl", path=f, max_chars=8)
    assert r.ledger["kept"] == 1 and r.ledger["rejected"]["too_long"] == 1
    r = ingest("jsonl", path=f, max_chars=None)
    assert r.ledger["kept"] == 1 and r.ledger["rejected"]["duplicate"] == 1
    with pytest.raises(ValueError):
        ingest("jsonl", path=f, max_chars=0)


def test_bom_surrogates_and_json_detail(tmp_path):
    f = tmp_path / "edge.jsonl"
    f.write_bytes(
        b'\xef\xbb\xbf{"instruction": "With BOM", "output": "ok"}\n'
        b'{"instruction": "Lone \\ud800 surrogate", "output": "ok"}\n'
        b'{"instruction": "Bad label", "output": "ok", "labels": ["\\udfff"]}\n'
        b'{"instruction": "Bad source", "output": "ok", "source": "\\ud800"}\n'
        b'{"instruction": "x", "output": "y",}\n'
    )
    r = ingest("jsonl", path=f)
    assert r.rejects[["line", "reason"]].values.tolist() == [[2, "invalid_utf8"], [3, "invalid_utf8"],
                                                             [5, "invalid_json"]]
    assert "'instruction'" in r.rejects["detail"].iloc[0] and "'labels'" in r.rejects["detail"].iloc[1]
    assert r.rejects["detail"].iloc[2] == "Expecting property name enclosed in double quotes at column 36"
    assert sorted(r.pool["instruction"]) == ["Bad source", "With BOM"]
    assert set(r.pool["source"]) == {"edge"}  # an unwritable row source falls back to the stem
    write_outputs(r, tmp_path / "p.parquet", tmp_path / "r.jsonl", tmp_path / "l.json")


# --------------------------------------------------------------------------
# Order independence


def test_duplicate_choice_and_pool_bytes_independent_of_row_order(tmp_path):
    reference = ingest("jsonl", path=MALFORMED, max_chars=200)
    ref_bytes = _pool_bytes(reference, tmp_path, "ref")
    lines = MALFORMED.read_bytes().split(b"\n")[:-1]
    for seed in range(5):
        shuffled = list(lines)
        random.Random(seed).shuffle(shuffled)
        d = tmp_path / f"s{seed}"
        d.mkdir()
        (d / "malformed.jsonl").write_bytes(b"\n".join(shuffled) + b"\n")
        r = ingest("jsonl", path=d / "malformed.jsonl", max_chars=200)
        assert _pool_bytes(r, tmp_path, f"s{seed}") == ref_bytes
        assert r.ledger["rejected"] == reference.ledger["rejected"]
        dup = r.rejects[r.rejects["reason"] == "duplicate"]
        assert dup["id"].tolist() == [ID_LE_CHAT] and dup["duplicate_of"].tolist() == [ID_CHAT]


def test_identical_rows_in_two_files_keep_same_row_whatever_the_file(tmp_path):
    row = {"instruction": "Same", "output": "row", "source": "s"}
    for order, (first, second) in enumerate([("b", "a"), ("a", "b")]):
        d = tmp_path / f"o{order}"
        d.mkdir()
        (d / "1.jsonl").write_text(json.dumps({**row, "domain": first}) + "\n", encoding="utf-8")
        (d / "2.jsonl").write_text(json.dumps({**row, "domain": second}) + "\n", encoding="utf-8")
        r = ingest("jsonl", path=d)
        assert r.pool["domain"].tolist() == ["a"]  # tie on id broken by content, not by file
        assert r.ledger["rejected"]["duplicate"] == 1
        assert r.ledger["files"][str(d / f"{2 if first == 'b' else 1}.jsonl")]["kept"] == 1


# --------------------------------------------------------------------------
# Field mapping


def test_field_mapping():
    fields = {"instruction": "question", "output": "answer", "input": "context",
              "domain": "category", "labels": "tags"}
    r = ingest("jsonl", path=MAPPED, fields=fields)
    assert r.ledger["kept"] == 3 and r.ledger["rejected_total"] == 0
    by_id = r.pool.set_index("id")
    row = by_id.loc[stable_id("What is 6 times 7?", "", "42")]
    assert row["domain"] == "math" and row["labels"] == ["arithmetic", "multiplication"]
    row = by_id.loc[stable_id("Summarise the text.", "The cat sat on the mat.", "A cat sat.")]
    assert row["input"] == "The cat sat on the mat." and row["domain"] == ""  # absent domain
    # an empty row-level source falls back to the file stem
    assert set(r.pool["source"]) == {"mapped"}


def test_unmapped_fields_are_missing():
    with pytest.raises(IngestError) as exc:
        ingest("jsonl", path=MAPPED)
    assert str(MAPPED) in str(exc.value) and "no_format" in str(exc.value)


def test_unknown_canonical_field_rejected():
    with pytest.raises(ValueError, match="unknown canonical field"):
        ingest("jsonl", path=MAPPED, fields={"question": "instruction"})


# --------------------------------------------------------------------------
# Folder mode


def test_folder_mode_reads_jsonl_in_name_order_and_lists_skipped(tmp_path):
    (tmp_path / "b.jsonl").write_text(
        '{"instruction": "B1", "output": "o"}\n{"instruction": "B2", "output": ""}\n', encoding="utf-8"
    )
    (tmp_path / "a.jsonl").write_text('{"instruction": "A1", "output": "o"}\n\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.jsonl").write_text('{"instruction": "C1", "output": "o"}\n', encoding="utf-8")
    r = read_jsonl(tmp_path)
    led = r.ledger
    assert list(led["files"]) == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    assert led["skipped_files"] == [str(tmp_path / "notes.txt"), str(tmp_path / "sub") + "/"]
    assert led["files"][str(tmp_path / "b.jsonl")] == {"read": 2, "kept": 1, "rejected": 1, "blank_lines": 0}
    assert led["files"][str(tmp_path / "a.jsonl")] == {"read": 1, "kept": 1, "rejected": 0, "blank_lines": 1}
    assert (led["read"], led["kept"], led["rejected_total"], led["blank_lines"]) == (3, 2, 1, 1)
    assert sorted(r.pool["source"]) == ["a", "b"]
    assert r.rejects[["file", "line", "reason"]].values.tolist() == [[str(tmp_path / "b.jsonl"), 2, "empty_field"]]


# --------------------------------------------------------------------------
# Errors name the file


def test_error_missing_path(tmp_path):
    p = tmp_path / "nope.jsonl"
    with pytest.raises(IngestError, match="nope.jsonl"):
        ingest("jsonl", path=p)


def test_error_folder_without_jsonl(tmp_path):
    (tmp_path / "README.md").write_text("x", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        ingest("jsonl", path=tmp_path)
    assert str(tmp_path) in str(exc.value) and "no pool file" in str(exc.value)


@pytest.mark.parametrize(
    "name, payload, why",
    [
        ("packed.jsonl", gzip.compress(b'{"instruction": "a", "output": "b"}\n', mtime=0), "gzip"),
        ("nul.jsonl", b'{"instruction": "a", "output": "b"}\n\x00\x00\x00', "NUL"),
        ("array.jsonl", b'  [\n{"instruction": "a", "output": "b"}\n]\n', "JSON array"),
    ],
)
def test_error_not_json_lines(tmp_path, name, payload, why):
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(IngestError) as exc:
        ingest("jsonl", path=tmp_path / name)
    assert str(tmp_path / name) in str(exc.value) and why in str(exc.value)


def test_error_not_json_lines_inside_folder_names_the_file(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"instruction": "a", "output": "b"}\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_bytes(b"[]")
    with pytest.raises(IngestError, match=r"b\.jsonl"):
        ingest("jsonl", path=tmp_path)


def test_error_zero_usable_rows(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"instruction": "a"}\nnot json\n\n', encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        ingest("jsonl", path=f)
    assert str(f) in str(exc.value) and "no usable rows" in str(exc.value)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(IngestError, match="empty.jsonl"):
        ingest("jsonl", path=tmp_path / "empty.jsonl")


def test_error_bad_source_kind():
    with pytest.raises(ValueError, match="unknown pool source"):
        ingest("csv", path=MALFORMED)


# --------------------------------------------------------------------------
# Outputs


def test_write_outputs_round_trip(tmp_path):
    r = ingest("jsonl", path=MALFORMED, max_chars=200)
    out = tmp_path / "o"
    write_outputs(r, out / "pool.parquet", out / "rejects.jsonl", out / "ledger.json")
    table = pq.read_table(out / "pool.parquet")
    assert table.schema.field("labels").type == pa.list_(pa.string())
    assert table.schema.metadata is None
    back = pd.read_parquet(out / "pool.parquet")
    assert back["id"].tolist() == r.pool["id"].tolist()
    assert [list(x) for x in back["labels"]] == r.pool["labels"].tolist()
    rej_lines = (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rej_lines) == r.ledger["rejected_total"] == 15
    first = json.loads(rej_lines[0])
    assert first == {"file": str(MALFORMED), "line": 3, "reason": "invalid_utf8",
                     "detail": first["detail"], "id": None, "duplicate_of": None}
    assert read_json(out / "ledger.json")["rejected"] == r.ledger["rejected"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_labels_schema_kept_when_all_labels_empty(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"instruction": "a", "output": "b"}\n', encoding="utf-8")
    r = ingest("jsonl", path=f)
    write_outputs(r, tmp_path / "pool.parquet", tmp_path / "r.jsonl", tmp_path / "l.json")
    assert pq.read_schema(tmp_path / "pool.parquet").field("labels").type == pa.list_(pa.string())
    assert (tmp_path / "r.jsonl").read_text(encoding="utf-8") == ""


# --------------------------------------------------------------------------
# Hugging Face datasets on local files


def test_hf_json_local(tmp_path):
    f = tmp_path / "hf.jsonl"
    rows = [
        {"instruction": "A", "output": "x", "labels": ["t"]},
        {"instruction": "B", "output": None, "labels": None},
        {"instruction": "  ", "output": "y", "labels": None},
        {"instruction": "A", "output": "z", "labels": None},
        {"instruction": "C", "input": "ctx", "output": "w", "domain": "d", "labels": ["u", "v"]},
    ]
    f.write_text("".join(json.dumps(x) + "\n" for x in rows), encoding="utf-8")
    r = read_hf("json", "train", data_files=str(f), cache_dir=tmp_path / "cache")
    led = r.ledger
    assert (led["read"], led["kept"], led["rejected_total"]) == (5, 2, 3)
    assert led["rejected"]["missing_field"] == 1 and led["rejected"]["empty_field"] == 1
    assert led["rejected"]["duplicate"] == 1
    assert r.rejects[["file", "line", "reason"]].values.tolist() == [
        ["json:train", 1, "duplicate"],
        ["json:train", 2, "missing_field"],
        ["json:train", 3, "empty_field"],
    ]
    # duplicate (A, ""): the smallest id is kept, here the later row (line 4)
    kept_a = stable_id("A", "", "z")
    assert kept_a < stable_id("A", "", "x")
    assert r.rejects.iloc[0]["duplicate_of"] == kept_a
    assert r.rejects.iloc[0]["id"] == stable_id("A", "", "x")
    by_id = r.pool.set_index("id")
    assert kept_a in by_id.index
    c = by_id.loc[stable_id("C", "ctx", "w")]
    assert c["labels"] == ["u", "v"] and c["domain"] == "d" and c["source"] == "json:train"
    # same rows through the JSON Lines path give the same pool ids
    assert read_jsonl(f).pool["id"].tolist() == r.pool["id"].tolist()


def test_hf_parquet_local_with_mapping(tmp_path):
    f = tmp_path / "d.parquet"
    pq.write_table(
        pa.table({"q": ["P", "Q", "R"], "a": ["1", "2", "3"], "tags": [["x"], [], ["y", "z"]],
                  "cat": ["m", "m", ""]}),
        f,
    )
    r = ingest("hf", name="parquet", split="train", data_files=str(f),
               fields={"instruction": "q", "output": "a", "labels": "tags", "domain": "cat"},
               cache_dir=tmp_path / "cache")
    assert r.ledger["kept"] == 3 and r.ledger["rejected_total"] == 0
    by_id = r.pool.set_index("id")
    assert by_id.loc[stable_id("R", "", "3"), "labels"] == ["y", "z"]
    assert sorted(r.pool["domain"]) == ["", "m", "m"]


def test_hf_errors_name_the_dataset(tmp_path):
    with pytest.raises(IngestError, match="missing.jsonl"):
        read_hf("json", "train", data_files=str(tmp_path / "missing.jsonl"), cache_dir=tmp_path / "c")
    f = tmp_path / "ok.jsonl"
    f.write_text('{"instruction": "a", "output": "b"}\n', encoding="utf-8")
    with pytest.raises(IngestError, match="json:nosuchsplit"):
        read_hf("json", "nosuchsplit", data_files=str(f), cache_dir=tmp_path / "c")


# --------------------------------------------------------------------------
# The real test pool


@pytest.mark.skipif(not REALPOOL.is_dir(), reason="realpool fixture not present")
def test_realpool_ingest_counts():
    t0 = time.perf_counter()
    r = ingest("jsonl", path=REALPOOL)
    elapsed = time.perf_counter() - t0
    led = r.ledger
    assert led["read"] == 14013
    assert led["skipped_files"] == [str(REALPOOL / "README.md")]
    assert len(led["files"]) == 9
    # 54 (instruction, input) keys occur twice each (README): one row of each is dropped
    assert led["rejected"]["duplicate"] == 54 and led["rejected_total"] == 54
    assert led["kept"] == 14013 - 54 == len(r.pool)
    assert r.rejects["duplicate_of"].isin(set(r.pool["id"])).all()
    # README per-domain counts minus the dropped duplicates (all from general files):
    # general 1232 - 54 = 1178; code keeps its 21 seed rows, whose identical
    # self_instruct_seed twins (same id) lose the tie on source name
    assert led["kept_by_domain"] == {"code": 2046, "general": 1178, "math": 8802,
                                     "reasoning": 10, "roleplay": 1923}
    dup_by_file = r.rejects.groupby("file").size().to_dict()
    assert dup_by_file == {
        str(REALPOOL / "alpaca_eval_gpt4_1106_preview.jsonl"): 20,
        str(REALPOOL / "self_instruct_seed.jsonl"): 9,
        str(REALPOOL / "self_instruct_user_oriented.jsonl"): 25,
    }
    assert elapsed < 15, elapsed


def test_several_hf_datasets_pool_into_one_with_per_dataset_fields_and_domains(tmp_path):
    """The real config pools several hub datasets; the same code path on
    local JSON files through datasets.load_dataset."""
    a = tmp_path / "general.jsonl"
    b = tmp_path / "math.jsonl"
    a.write_text(
        json.dumps({"instruction": "Say hi", "input": "", "output": "hi"}) + "\n"
        + json.dumps({"instruction": "Add", "input": "1 2", "output": "3", "domain": "arith"}) + "\n"
    )
    b.write_text(
        json.dumps({"question": "Add", "context": "1 2", "answer": "three"}) + "\n"
        + json.dumps({"question": "Double 4", "context": "", "answer": "8"}) + "\n"
    )
    specs = [
        {"name": "json", "data_files": str(a), "domain": "general"},
        {"name": "json", "data_files": str(b), "split": "train", "domain": "math",
         "fields": {"instruction": "question", "input": "context", "output": "answer"}},
    ]
    with pytest.raises(ValueError, match="listed twice"):
        ingest_mod.read_hf_many(specs)  # both are json:train
    specs[1]["config_name"] = None
    specs[1]["split"] = "train[:100%]"
    res = ingest_mod.read_hf_many(specs)
    pool = res.pool.set_index("instruction")
    assert res.ledger["read"] == 4 and res.ledger["kept"] == 3
    assert res.ledger["rejected"]["duplicate"] == 1  # ("Add", "1 2") in both datasets
    assert pool.loc["Say hi", "domain"] == "general"
    assert pool.loc["Double 4", "domain"] == "math"
    assert pool.loc["Add", "domain"] in ("arith", "math")
    assert set(res.ledger["files"]) == {"json:train", "json:train[:100%]"}
