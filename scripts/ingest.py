"""Ingest the pool into canonical Parquet with a ledger of every rejected row."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila.pool import ingest  # noqa: E402

p = snakemake.params  # noqa: F821
if p.source == "jsonl":
    paths = list(snakemake.input)  # noqa: F821
    path = paths[0] if len(paths) == 1 and not p.path else p.path
    result = ingest.ingest("jsonl", path=path or paths[0], fields=p.fields, max_chars=p.max_chars)
elif p.hf["datasets"]:
    result = ingest.read_hf_many(p.hf["datasets"], fields=p.fields, max_chars=p.max_chars)
else:
    result = ingest.ingest(
        "hf",
        name=p.hf["name"],
        split=p.hf["split"],
        config_name=p.hf["config_name"],
        data_files=p.hf["data_files"],
        fields=p.fields,
        max_chars=p.max_chars,
    )
out = snakemake.output  # noqa: F821
ingest.write_outputs(result, out.pool, out.rejects, out.ledger)
log.info("ledger: %s", {k: result.ledger[k] for k in ("read", "kept", "rejected")})
