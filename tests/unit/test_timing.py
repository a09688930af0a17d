"""Timings are split off a record before it is written, so the record has
the same bytes on every run; merge puts them back."""

from ila import io, timing


def test_split_takes_every_seconds_key_at_any_depth_and_merge_restores_the_record():
    record = {"method": "ila", "seconds": 1.25, "info": {"knob": 8, "build_seconds": 0.5, "optimize_seconds": 0.1},
              "shard": {"examples_per_second": 300.0}, "plain": {"a": 1}, "n": 3, "second_pass": True}
    kept, timings = timing.split(record)
    assert kept == {"method": "ila", "info": {"knob": 8}, "shard": {}, "plain": {"a": 1}, "n": 3, "second_pass": True}
    assert timings == {"seconds": 1.25, "info": {"build_seconds": 0.5, "optimize_seconds": 0.1},
                       "shard": {"examples_per_second": 300.0}}
    assert timing.merge(kept, timings) == record


def test_write_gives_the_same_bytes_whatever_the_timings(tmp_path):
    a, b = ({"loss": 0.5, "train_seconds": s, "eval": {"seconds": s / 2}} for s in (1.0, 9.0))
    timing.write(tmp_path / "a.json", a, tmp_path / "t" / "a.json")
    timing.write(tmp_path / "b.json", b, str(tmp_path / "t" / "b.json"))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert io.read_json(tmp_path / "t" / "b.json") == {"train_seconds": 9.0, "eval": {"seconds": 4.5}}
    timing.write(tmp_path / "c.json", a, None)  # no timing file: the seconds are dropped
    assert io.read_json(tmp_path / "c.json") == {"loss": 0.5, "eval": {}}
