"""List the test and benchmark ids the ingest held out, checked disjoint from the candidates and the dev set."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.pool import split

    inp, out = snakemake.input, snakemake.output
    heldout = io.read_parquet(inp.heldout, columns=["id", "domain", "source", "split"])
    summary = split.heldout_summary(heldout, io.read_ids(inp.candidates), io.read_ids(inp.dev))
    io.write_ids(out.test, sorted(heldout.loc[heldout["split"] == "test", "id"]))
    io.write_ids(out.benchmark, sorted(heldout.loc[heldout["split"] == "benchmark", "id"]))
    io.write_json(out.summary, summary)
    log.info("held out: %d test, %d benchmark", summary["n_test"], summary["n_benchmark"])
