"""The calibration selections of the dev-loss model: every knob of selection.ila (tilt kappas, band windows) from all candidates, at the calibration budget, for each calibration seed."""
from ila.plumbing import job

with job(snakemake) as log:
    import os

    from ila import devloss, io, scaling, timing
    from ila.selection import select

    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    candidates = io.read_parquet(inp.candidates)
    by_name = {os.path.basename(i)[: -len(".txt")]: (i, r, t) for i, r, t in zip(out.ids, out.records, out.timings)}
    for stem, method, params in devloss.calibration_knobs(p.ila):
        for replicate in p.ila["calibration_seeds"]:
            name = f"{stem}-s{replicate}"
            ids_path, record_path, timing_path = by_name[name]
            if not record_path.endswith(f"/{name}.json"):
                raise RuntimeError(f"output {record_path} does not match calibration run {name}")
            sel = select(method, candidates, p.budget, scaling.selection_seed(p.seed, 1000 + int(replicate)), **params)
            io.write_ids(ids_path, sel.ids)
            record = sel.as_dict()
            record.pop("ids")
            record.update(name=name, knob=stem, replicate=int(replicate), n_selected=len(sel.ids))
            timing.write(record_path, record, timing_path)
            log.info("%s: %d selected, mean RID %.3f, coverage %.3f", name, len(sel.ids), sel.info.get("mean_RID") or 0,
                     sel.info.get("coverage_occupied") or 0)
