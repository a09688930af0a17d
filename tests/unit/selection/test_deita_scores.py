"""Deita complexity and quality of every candidate (:mod:`ila.selection.deita_scores`)."""

from __future__ import annotations

import pytest

from ila.selection.deita_scores import deita_scores

from .pools import instructions


def test_proxy_scores_every_candidate_and_describes_its_scorers():
    df = instructions()
    out, info = deita_scores(df, {"scorer": "proxy"})
    assert out.columns.tolist() == ["id", "complexity", "quality"] and out["id"].tolist() == ["p", "q", "r"]
    assert out["complexity"].tolist() == [1.0, 6.0, 3.5] and out["quality"].tolist() == [1.0, 3.5, 6.0]
    assert info["n"] == 3 and info["missing"] == {"complexity": 0, "quality": 0}
    assert info["complexity"]["scorer"] == "proxy (not Deita)"
    with pytest.raises(ValueError, match="must be 'proxy' or 'deita', got 'gpt'"):
        deita_scores(df, {"scorer": "gpt"})
