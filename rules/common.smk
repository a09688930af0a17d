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


def final_outputs():
    return [
        f"{RESULTS}/pool/ledger.json",
        f"{RESULTS}/pool/split.json",
        f"{RESULTS}/tables/examples.parquet",
        f"{RESULTS}/figures/landscape.png",
        f"{RESULTS}/figures/landscape.pdf",
        f"{RESULTS}/figures/depth_by_domain.png",
        f"{RESULTS}/figures/depth_by_domain.pdf",
    ]
