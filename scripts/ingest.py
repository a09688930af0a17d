"""Ingest the pool into canonical Parquet with a ledger of every rejected row,
then hold out the test set and the benchmarks (heldout.parquet)."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io  # noqa: E402
from ila.pool import ingest, split  # noqa: E402

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
test_size = int(p.test_size) if p.test_size >= 1 else float(p.test_size)
pool, heldout, held = split.hold_out(
    result.pool, result.rejects, holdout_files=p.holdout_files, test_size=test_size, seed=p.seed, toy=p.toy
)
result.ledger["heldout"] = {**held, "pool_ids_sha256": io.sha256_ids(pool["id"])}
result.pool = pool
out = snakemake.output  # noqa: F821
ingest.write_outputs(result, out.pool, out.rejects, out.ledger)
split.write_heldout(heldout, out.heldout)
log.info("ledger: %s; held out: %s", {k: result.ledger[k] for k in ("read", "kept", "rejected")},
         {k: held[k] for k in ("test", "benchmark", "dropped_contaminated")})
