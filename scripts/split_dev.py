"""Hold out a dev set stratified by domain (toy: the generated dev rows); the rest are candidates."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.pool import split

    p = snakemake.params
    pool = io.read_parquet(snakemake.input.pool, columns=["id", "domain", "source"])
    if p.toy:
        dev = split.toy_dev_ids(pool)
        dev_set = set(dev)
        candidates = sorted(i for i in pool["id"] if i not in dev_set)
    else:
        dev_size = int(p.dev_size) if p.dev_size >= 1 else float(p.dev_size)
        candidates, dev = split.dev_split(pool, dev_size, seed=p.seed, max_per_domain=p.max_per_domain)
    out = snakemake.output
    io.write_ids(out.candidates, candidates)
    io.write_ids(out.dev, dev)
    io.write_json(out.summary, split.split_summary(pool, candidates, dev))
    log.info("split: %d candidates, %d dev", len(candidates), len(dev))
