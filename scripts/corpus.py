"""Offline corpus of the tiny base model: Python standard-library docstrings,
mixed with worked toy problems (model.tiny.worked_problems) drawn apart from
every pool and held-out row."""
from ila.plumbing import job

with job(snakemake) as log:
    import json

    from ila import io
    from ila.lm import corpus, jobs
    from ila.pool.toy.worked import worked_problems

    p = snakemake.params
    docstrings = corpus.generic_corpus(max_chars=p.max_chars)
    worked, banned = [], set()
    if p.worked_problems:
        for path in (snakemake.input.pool, snakemake.input.heldout):
            rows = io.read_parquet(path, columns=["instruction", "input"])
            banned.update(zip(rows["instruction"], rows["input"]))
        worked = worked_problems(p.worked_problems, p.seed, banned, p.toy["families"], p.toy["min_depth"],
                                 p.toy["max_depth"])
    docs = jobs.pretraining_corpus(docstrings, worked, p.seed)
    io.write_text(snakemake.output[0], "".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs))
    log.info("corpus: %d docstring documents (%d characters), %d worked problems (%d characters), kept apart "
             "from %d pool and held-out problems", len(docstrings), sum(map(len, docstrings)), len(worked),
             sum(map(len, worked)), len(banned))
