import numpy as np
import pytest

from ila import landscape


def test_coverage_counts_distinct_cells_both_normalisations():
    cov = landscape.coverage([3, 3, 7, 12, 7], total_cells=25, occupied_cells=10)
    assert cov.cells == 3
    assert cov.grid == pytest.approx(3 / 25)
    assert cov.occupied == pytest.approx(3 / 10)
    assert cov.as_dict() == {"cells": 3, "coverage_grid": 0.12, "coverage_occupied": 0.3}


def test_coverage_rejects_cells_from_another_landscape():
    with pytest.raises(ValueError, match="occupies only 2"):
        landscape.coverage([1, 2, 3], total_cells=9, occupied_cells=2)


def test_grid_cells_on_hand_made_points():
    # 3x3 grid over [0, 3] x [0, 3]
    pts = np.array([[0.0, 0.0], [3.0, 3.0], [1.5, 0.2], [0.2, 1.5], [2.9, 0.1], [1.0, 1.0]])
    cells, geo = landscape.grid_cells(pts, 3)
    # row-major: row from y, column from x; upper edge falls in the last cell
    assert cells.tolist() == [0, 8, 1, 3, 2, 4]
    assert geo["cell_width"] == pytest.approx(1.0)
    assert geo["x_min"] == 0.0 and geo["y_max"] == 3.0


def test_coverage_of_grid_cells_of_points():
    pts = np.array([[0, 0], [0.1, 0.1], [9, 9], [9, 0], [0, 9]], dtype=float)
    cells, _ = landscape.grid_cells(pts, 2)
    occupied = len(set(cells.tolist()))
    assert occupied == 4
    assert landscape.coverage(cells[:2], 4, occupied).cells == 1
    assert landscape.coverage(cells[[0, 2, 3]], 4, occupied).occupied == pytest.approx(0.75)


def test_grid_cells_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D points"):
        landscape.grid_cells(np.zeros((4, 3)), 2)


def test_projection_and_kmeans_are_deterministic():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.05, size=(30, 8)) for c in (0, 1, 2)]).astype(np.float32)
    a = landscape.project_2d(x, "tsne", pca_dims=5, perplexity=10, n_iter=250, seed=1, threads=1)
    b = landscape.project_2d(x, "tsne", pca_dims=5, perplexity=10, n_iter=250, seed=1, threads=1)
    assert a.shape == (90, 2)
    assert np.array_equal(a, b)
    k = landscape.kmeans_cells(x, 3, seed=0)
    # three well-separated clusters: each true cluster maps to one k-means cell
    assert [len(set(k[i * 30:(i + 1) * 30])) for i in range(3)] == [1, 1, 1]
    assert len(set(k)) == 3
    p = landscape.project_2d(x, "pca")
    assert p.shape == (90, 2)
    with pytest.raises(ValueError, match="unknown projection"):
        landscape.project_2d(x, "umap")
