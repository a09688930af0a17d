"""The dev-loss model as a model, out of sample: its predicted loss for every scaling-study selection against the test loss that run measured."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import devloss, io

    inp, out = snakemake.input, snakemake.output
    model = io.read_json(inp.model)
    domain = io.read_parquet(inp.candidates, columns=["id", "domain"]).set_index("id")["domain"]
    table = pd.read_csv(inp.table)
    rows = []
    for record_path, ids_path in zip(inp.records, inp.ids):
        record = io.read_json(record_path)
        if not ids_path.endswith(f"/{record['method']}/{record['key']}.txt"):
            raise RuntimeError(f"{ids_path} is not the selection of {record_path}")
        ids = io.read_ids(ids_path)
        rows.append({"method": record["method"], "pool_fraction": record["pool_fraction"], "budget": record["budget"],
                     "replicate": record["replicate"],
                     **devloss.selection_features(record, domain.loc[ids].tolist(), model["dev_mix"])})
    runs = pd.DataFrame(rows).merge(table[["method", "pool_fraction", "budget", "replicate", "test_loss"]],
                                    on=["method", "pool_fraction", "budget", "replicate"], how="left", validate="one_to_one")
    runs, summary = devloss.check(model, runs)
    io.write_csv(out.table, runs)
    io.write_json(out.summary, summary)
    io.write_text(out.markdown, devloss.check_markdown(summary))
    log.info("dev-loss model out of sample: %s", summary)
