"""Generate the toy instruction pool with its held-out dev, test and benchmark
rows as JSON Lines (read by the ingest rule), the ground truth of every row
(no selector reads it) and the raw multiple-choice items of the benchmark."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import io
    from ila.pool import toy
    from ila.pool.toy.corrupt import Realism
    from ila.pool.toy.heldout import pool_and_heldout

    p = snakemake.params
    out = snakemake.output
    records, truth, items, ledger = pool_and_heldout(
        p.toy["n"], p.seed, p.toy["families"], p.toy["min_depth"], p.toy["max_depth"], Realism.from_config(p.toy),
        int(p.dev_size), int(p.test_size), int(p.benchmark_per_family),
    )
    toy.write_jsonl(records, out.pool)
    io.write_parquet(out.truth, pd.DataFrame(truth).sort_values("id", kind="stable").reset_index(drop=True))
    toy.write_jsonl(items, out.mc)
    io.write_json(out.ledger, ledger)
    log.info("toy pool: %s", ledger["rows"])
