"""Ingest the pool into canonical Parquet with a ledger of every rejected row,
then hold out the test set and the benchmarks (heldout.parquet)."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.pool import ingest, split

    p = snakemake.params
    cfg = snakemake.config
    if p.source == "jsonl":
        paths = list(snakemake.input)
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
    test_size = int(p.test_size) if p.test_size >= 1 else float(p.test_size)
    # read from the config, not params: the dev and warm-up sizes do not change the pool
    dev_size, warmup_size = cfg["split"]["dev_size"], cfg["warmup"]["size"]
    # before the test set is drawn, so that a pool too small fails with every number at once
    ingest.check_pool_size(len(result.pool), dev_size, warmup_size, 0 if p.toy else test_size)
    pool, heldout, held = split.hold_out(
        result.pool, result.rejects, holdout_files=p.holdout_files, test_size=test_size, seed=p.seed, toy=p.toy
    )
    led["heldout"] = {**held, "pool_ids_sha256": io.sha256_ids(pool["id"])}
    result.pool = pool
    ingest.check_pool_size(len(pool), dev_size, warmup_size)
    out = snakemake.output
    ingest.write_outputs(result, out.pool, out.rejects, out.ledger)
    split.write_heldout(heldout, out.heldout)
    log.info("ledger: %s; held out: %s", {k: led[k] for k in ("read", "kept", "rejected", "kept_by_format")},
             {k: held[k] for k in ("test", "benchmark", "dropped_contaminated")})
