"""Ingest the pool into canonical Parquet with a ledger of every rejected row."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila.pool import ingest  # noqa: E402

p = snakemake.params  # noqa: F821
cfg = snakemake.config  # noqa: F821
if p.source == "jsonl":
    paths = list(snakemake.input)  # noqa: F821
    result = ingest.ingest("jsonl", path=p.path or paths[0], fields=p.fields, max_chars=p.max_chars, format=p.format)
elif p.hf["datasets"]:
    result = ingest.read_hf_many(p.hf["datasets"], fields=p.fields, max_chars=p.max_chars, format=p.format)
else:
    result = ingest.ingest(
        "hf",
        name=p.hf["name"],
        split=p.hf["split"],
        config_name=p.hf["config_name"],
        data_files=p.hf["data_files"],
        fields=p.fields,
        max_chars=p.max_chars,
        format=p.format,
    )
led = result.ledger
for path, why in led["skipped_reasons"].items():
    log.warning("skipped %s: %s", path, why)
for entry in led["fields_rarely_present"]:
    log.warning("pool.fields.%s: field '%s' is in only %d of %d rows", entry["field"], entry["source_field"], entry["rows"], entry["of"])
# read from the config, not params: the split sizes do not change the pool
ingest.check_pool_size(led["kept"], cfg["split"]["dev_size"], cfg["warmup"]["size"])
out = snakemake.output  # noqa: F821
ingest.write_outputs(result, out.pool, out.rejects, out.ledger)
log.info("ledger: %s", {k: led[k] for k in ("read", "kept", "rejected", "kept_by_format")})
