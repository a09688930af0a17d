"""Fit the dev-loss model on dev-evaluated runs only: the calibration selections and (selection.ila.model_data) the regression study's subsets."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import devloss, io

    inp, out = snakemake.input, snakemake.output
    candidates = io.read_parquet(inp.candidates)
    domain = candidates.set_index("id")["domain"]
    dev_mix = devloss.dev_domain_mix(io.read_parquet(inp.pool, columns=["id", "domain"]), io.read_ids(inp.dev))
    rows = []
    for run_path, record_path, ids_path in zip(inp.runs, inp.records, inp.ids):
        run, record = io.read_json(run_path), io.read_json(record_path)
        if run["calibration"] != record["name"]:
            raise RuntimeError(f"{run_path} and {record_path} are different calibration runs")
        ids = io.read_ids(ids_path)
        rows.append({"source": "calibration", "name": record["name"], "knob": record["knob"], "dev_loss": run["dev_loss"],
                     **devloss.selection_features(record, domain.loc[ids].tolist(), dev_mix)})
    if inp.regression:
        members, table, examples = io.read_parquet(inp.regression[0]), pd.read_csv(inp.regression[1]), io.read_parquet(inp.regression[2])
        dom = examples.set_index("id")["domain"]
        for r in table.to_dict("records"):
            ids = members.loc[members["subset"] == r["subset"], "id"].tolist()
            rows.append({"source": "regression", "name": r["subset"], "knob": "designed", "dev_loss": r["dev_loss"],
                         **devloss.selection_features(r, dom.loc[ids].tolist(), dev_mix)})
    runs = pd.DataFrame(rows)
    model = devloss.fit(runs)
    model["dev_mix"] = dev_mix
    runs["predicted"] = [devloss.predict(model, f) for f in runs[list(devloss.FEATURES)].to_dict("records")]
    io.write_json(out.model, model)
    io.write_csv(out.table, runs)
    io.write_text(out.markdown, devloss.model_markdown(model, runs[runs["source"] == "calibration"]))
    log.info("dev-loss model: %s (R^2 %.3f, n %d)", model["coef"], model["r2"], model["n"])
