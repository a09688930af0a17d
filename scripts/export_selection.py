"""One selection from all candidates, exported for use outside the study: the selected pool rows in the trainer format of selection.export_format, the ids, the selection record and a LLaMA-Factory dataset_info entry."""
from ila.plumbing import job

with job(snakemake) as log:
    import os

    import numpy as np

    from ila import devloss, embed, io, records, scaling, timing
    from ila.pool import export

    p = snakemake.params
    inp = snakemake.input
    out = snakemake.output
    budget = int(p.budget)
    candidates = io.read_parquet(inp.candidates)
    pool = io.read_parquet(inp.pool)
    pool_ids = pool["id"].tolist()
    vectors = np.load(inp.embeddings, allow_pickle=False)
    point = scaling.GridPoint(1.0, budget, int(p.replicate))
    model = io.read_json(inp.model[0]) if inp.model else None
    params = devloss.method_params(p.method, p.method_params, p.ila, model, devloss.dev_domain_mix(pool, io.read_ids(inp.dev)))
    [(_, sel)] = scaling.select_grid(
        p.method,
        candidates,
        [point],
        p.seed,
        vectors[embed.rows_for(candidates["id"].tolist(), pool_ids)],
        vectors[embed.rows_for(io.read_ids(inp.dev), pool_ids)],
        params,
        p.allow_short,
        io.read_parquet(inp.scores[0]) if inp.scores else None,
    )
    rows = records.rows_by_id(pool, sel.ids, "pool")
    recs, renamed = export.export_records(rows, candidates, p.export_format)
    n = export.write_export(recs, out.jsonl)
    name = os.path.basename(out.jsonl)[: -len(".jsonl")]
    io.write_json(out.dataset_info, {name: export.dataset_info(os.path.basename(out.jsonl), p.export_format, recs)})
    io.write_ids(out.ids, sel.ids)
    record = scaling.selection_record(p.method, point, sel, len(candidates))
    record["candidates_ledger"] = io.read_json(inp.ledger)
    record["jsonl_rows"] = n
    record["export_format"] = p.export_format
    record["renamed_columns"] = renamed
    if inp.scores:
        record["deita_scorers"] = io.read_json(inp.scores[1])
    if inp.model:  # which calibration chose the knob (reused from an earlier run, or fitted in this one)
        record["dev_loss_model"] = {"path": inp.model[0], "sha256": io.sha256_file(inp.model[0]),
                                    "knob": sel.info.get("knob"), "variant": sel.info.get("variant")}
    timing.write(out.record, record, out.timing)
    if renamed:
        log.info("input columns renamed in the export (trainers read these names): %s", renamed)
    log.info("exported %d %s-selected examples of %d candidates as %s", n, p.method, len(candidates), p.export_format)
