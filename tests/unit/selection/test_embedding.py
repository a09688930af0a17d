"""Helpers of the embedding-based selectors (:mod:`ila.selection.embedding`):
unit rows with counted exclusions, sampled steps, the sparse k-NN
similarity."""

from __future__ import annotations

import numpy as np

from ila.selection.embedding import embedding_exclusions, knn_similarity, sample_steps, unit_rows


def test_unit_rows_normalise_and_give_the_reason_of_each_excluded_row():
    x = np.array([[3, 4], [np.nan, 1], [0, 0], [0, 2]], dtype=np.float32)
    elig, xn, reason = unit_rows(x, chunk=1)
    assert elig.tolist() == [0, 3] and reason.tolist() == [0, 1, 2, 0]
    np.testing.assert_allclose(xn, [[0.6, 0.8], [0.0, 1.0]])
    assert embedding_exclusions(reason) == {"embedding_nonfinite": 1, "embedding_zero_norm": 1}


def test_sample_steps_every_step_or_evenly_spaced_with_both_ends():
    assert sample_steps(5, 10).tolist() == [0, 1, 2, 3, 4]
    assert sample_steps(101, 5).tolist() == [0, 25, 50, 75, 100]


def test_knn_similarity_keeps_positive_cosines_of_the_nearest_rows():
    xn = np.array([[1, 0], [0, 1], [np.sqrt(0.5), np.sqrt(0.5)]], dtype=np.float32)
    mat = knn_similarity(xn, n_neighbors=3)
    c = np.sqrt(0.5)
    np.testing.assert_allclose(mat.toarray(), [[1, 0, c], [0, 1, c], [c, c, 1]], atol=1e-6)
    assert mat.nnz == 7 and mat.indices.dtype == np.int32 and mat.indptr.dtype == np.int32
    # two neighbours each: a row's two largest cosines
    assert knn_similarity(xn, n_neighbors=2).nnz == 6
