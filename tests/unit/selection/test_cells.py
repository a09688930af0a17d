"""Helpers of the cell-based selectors (:mod:`ila.selection.cells`): ranks
inside a cell, proportional quotas, round-robin bookkeeping, the knobs'
parsers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ila.selection.cells import parse_kappa, parse_window, proportional_quotas, rank_within_cell, round_robin_info


def test_rank_within_cell_orders_each_cell_by_its_key_ties_to_the_earlier_row():
    codes = np.array([1, 0, 1, 0, 1])
    assert rank_within_cell(codes, np.array([5, 3, 4, 9, 6])).tolist() == [1, 0, 0, 1, 2]
    assert rank_within_cell(codes, np.zeros(5)).tolist() == [0, 0, 1, 1, 2]
    assert rank_within_cell(np.zeros(0, dtype=np.int64), np.zeros(0)).tolist() == []


def test_proportional_quotas_largest_remainder_ties_to_the_smaller_code():
    # cell sizes 5, 3, 2 of k=5: shares 2.5, 1.5, 1.0 -> the one left unit to cell 0
    assert proportional_quotas(np.array([0] * 5 + [1] * 3 + [2] * 2), 5).tolist() == [3, 1, 1]
    # sizes 1, 9 of k=6: shares 0.6, 5.4 -> the unit to cell 0, within its size
    assert proportional_quotas(np.array([0] + [1] * 9), 6).tolist() == [1, 5]


def test_round_robin_info_counts_rounds_and_the_last_round():
    assert round_robin_info(np.array([0, 1, 0, 2, 1]), 3) == {"rounds": 3, "cells_in_last_round": 1,
                                                            "n_cells_eligible": 3}
    assert round_robin_info(np.zeros(0, dtype=np.int64), 4) == {"rounds": 0, "cells_in_last_round": 0,
                                                              "n_cells_eligible": 4}


def test_knob_parsers():
    assert parse_kappa("inf") == math.inf and parse_kappa(" Infinity ") == math.inf and parse_kappa(2) == 2.0
    for bad in (-1, float("nan"), "strong"):
        with pytest.raises(ValueError, match="kappa must be a non-negative number or 'inf'"):
            parse_kappa(bad)
    assert parse_window([0.25, "0.5"]) == (0.25, 0.5)
    with pytest.raises(ValueError, match="needs 0 <= lo < hi <= 1"):
        parse_window([0.5, 0.2])
    with pytest.raises(ValueError, match=r"an RID window is \[lo, hi\]"):
        parse_window([0.1, 0.2, 0.3])
