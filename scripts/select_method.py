"""Every selection of one method in the scaling study: one ids file and one record per (pool fraction, budget, replicate)."""
from ila.plumbing import job

with job(snakemake) as log:
    import numpy as np

    from ila import devloss, embed, io, scaling, timing

    p = snakemake.params
    inp = snakemake.input
    out = snakemake.output
    method = snakemake.wildcards.method
    candidates = io.read_parquet(inp.candidates)
    pool_ids = io.read_parquet(inp.pool, columns=["id"])["id"].tolist()
    vectors = np.load(inp.embeddings, allow_pickle=False)
    embeddings = vectors[embed.rows_for(candidates["id"].tolist(), pool_ids)]
    dev_embeddings = vectors[embed.rows_for(io.read_ids(inp.dev), pool_ids)]
    scores = io.read_parquet(inp.scores[0]) if inp.scores else None
    scorers = io.read_json(inp.scores[1]) if inp.scores else None
    points = [scaling.parse_key(k) for k in p.grid_keys]
    model = io.read_json(inp.model[0]) if inp.model else None
    dev_mix = devloss.dev_domain_mix(io.read_parquet(inp.pool, columns=["id", "domain"]), io.read_ids(inp.dev))
    params = devloss.method_params(method, p.method_params, p.ila, model, dev_mix)
    results = scaling.select_grid(method, candidates, points, p.seed, embeddings, dev_embeddings, params, p.allow_short, scores)
    for (point, sel), ids_path, record_path, timing_path in zip(results, out.ids, out.records, out.timings):
        if not ids_path.endswith(f"/{point.key}.txt"):
            raise RuntimeError(f"output {ids_path} does not match grid point {point.key}")
        io.write_ids(ids_path, sel.ids)
        record = scaling.selection_record(method, point, sel, len(candidates))
        if scorers is not None:
            record["deita_scorers"] = scorers
        if inp.model:
            record["dev_loss_model"] = {"path": inp.model[0], "sha256": io.sha256_file(inp.model[0])}
        timing.write(record_path, record, timing_path)
        log.info("%s %s: %d selected in %.3f s, excluded %s", method, point.key, len(sel.ids), sel.seconds, sel.excluded)
