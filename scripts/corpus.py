"""Generic offline corpus (Python standard-library docstrings) for the tiny base model."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import json  # noqa: E402

from ila import io  # noqa: E402
from ila.lm import corpus  # noqa: E402

docs = corpus.generic_corpus(max_chars=snakemake.params.max_chars)  # noqa: F821
io.write_text(snakemake.output[0], "".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs))  # noqa: F821
log.info("corpus: %d documents, %d characters", len(docs), sum(map(len, docs)))
