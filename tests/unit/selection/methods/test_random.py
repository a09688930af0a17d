"""``random``: the smallest seeded id hashes."""

from __future__ import annotations

from ila.selection import select

from ..pools import landscape, sha_key


def test_random_is_seeded_hash_order():
    df = landscape(50)
    ids = df["id"].tolist()
    sel = select("random", df, 10, seed=4)
    assert sel.ids == sorted(ids, key=lambda i: sha_key(4, i))[:10]
    assert sel.ids != select("random", df, 10, seed=5).ids
    assert sel.excluded == {}
