"""The selection benchmark at a small size (marked ``bench``: not in the
default run; ``pytest -m bench tests/unit/selection/test_bench_selection.py``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_selection.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_selection", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.bench
def test_bench_selection_small(tmp_path, capsys):
    bench = _load()
    out = tmp_path / "bench.json"
    common = ["--n", "30000", "--budget", "100", "--dim", "16", "--cells", "100", "--repeats", "2", "--threads", "1"]
    # --max-seconds 0: every probed method must be extrapolated
    res = bench.main(common + ["--max-seconds", "0", "--out", str(out)])
    text = capsys.readouterr().out
    r = res["results"]
    assert set(r) == {"ila", "random", "kcenter", "facility"}
    assert r["ila"]["mode"] == "measured" and len(r["ila"]["runs"]) == 2 and r["ila"]["ratio_to_ila"] == 1.0
    for m in ("kcenter", "facility"):
        assert r[m]["mode"] == "extrapolated"
        assert [p["n"] for p in r[m]["probes"]] == [300, 1000]  # N/100, N/30 (the N/10 probe exceeds the limit)
        assert r[m]["seconds"] == pytest.approx(r[m]["power_law_a"] * 30000 ** r[m]["power_law_p"])
        assert r[m]["ratio_to_ila"] == pytest.approx(r[m]["seconds"] / r["ila"]["seconds"])
    assert "EXTRAPOLATED" in text and "ila_100x_faster_than_kcenter" in text
    assert json.loads(out.read_text())["results"]["ila"]["seconds"] == r["ila"]["seconds"]
    # a generous limit: k-center is run at full size
    res2 = bench.main(common + ["--methods", "ila,kcenter", "--max-seconds", "600"])
    assert res2["results"]["kcenter"]["mode"] == "measured" and res2["results"]["kcenter"]["runs"] == 1


def test_power_law_fit_recovers_exponent():
    bench = _load()
    a, p = bench.fit_power_law([1000, 10000, 100000], [2e-3, 2e-1, 20.0])
    assert p == pytest.approx(2.0) and a == pytest.approx(2e-9)
    assert bench._probe_sizes("auto", 1_000_000, 10_000) == [20000, 33333, 100000]
