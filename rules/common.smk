# Paths and helpers shared by every rule file.
import glob
import os

RESULTS = f"results/{config['name']}"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
REPORT = os.path.join(workflow.basedir, "report")


def threads_of(section):
    """A stage's configured threads (Snakemake lowers them to --cores)."""
    return int(config[section]["threads"])


def pool_inputs(wildcards):
    """Files the ingest reads: the generated toy pool, the user's JSON
    Lines file(s), or nothing for a hub dataset."""
    source = config["pool"]["source"]
    if source == "toy":
        return [f"{RESULTS}/pool/raw/toy.jsonl"]
    if source == "jsonl":
        path = config["pool"]["path"]
        if not path:
            raise ValueError("pool.source is jsonl but pool.path is not set")
        if os.path.isdir(path):
            return sorted(glob.glob(os.path.join(path, "*.jsonl")))
        return [path]
    return []


def base_model_dir():
    return f"{RESULTS}/models/base" if config["model"]["base"] == "tiny" else []


def regression_subsets():
    from ila.regression.design import subset_names

    r = config["regression"]
    return subset_names(r["design"], r["coverage_levels"], list(r["depth_bands"]), r["seeds"], r["n_random"])


def final_outputs():
    out = [
        f"{RESULTS}/pool/ledger.json",
        f"{RESULTS}/pool/split.json",
        f"{RESULTS}/tables/examples.parquet",
        f"{RESULTS}/figures/landscape.png",
        f"{RESULTS}/figures/landscape.pdf",
        f"{RESULTS}/figures/depth_by_domain.png",
        f"{RESULTS}/figures/depth_by_domain.pdf",
    ]
    if config["regression"]["enabled"]:
        out += [
            f"{RESULTS}/tables/regression.csv",
            f"{RESULTS}/tables/regression_summary.json",
            f"{RESULTS}/tables/regression.md",
            f"{RESULTS}/figures/regression_observed_vs_predicted.png",
            f"{RESULTS}/figures/regression_partial.png",
            f"{RESULTS}/figures/regression_loss_vs_coverage.png",
        ]
    return out
