"""Generic offline corpus (Python standard-library docstrings) for the tiny base model."""
from ila.plumbing import job

with job(snakemake) as log:
    import json

    from ila import io
    from ila.lm import corpus

    docs = corpus.generic_corpus(max_chars=snakemake.params.max_chars)
    io.write_text(snakemake.output[0], "".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs))
    log.info("corpus: %d documents, %d characters", len(docs), sum(map(len, docs)))
