# Paths and helpers shared by every rule file.
import os

RESULTS = f"results/{config['name']}"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
REPORT = os.path.join(workflow.basedir, "report")


def threads_of(section):
    """A stage's configured threads (Snakemake lowers them to --cores)."""
    return int(config[section]["threads"])


# Pool settings that need Python to check fail here, before any job.
from ila.pool.checks import check_pool_config

check_pool_config(config)


def pool_inputs(wildcards):
    """Files the ingest reads: the generated toy pool, the user's pool
    file(s) as ila.pool.files lists them (the same listing the ingest
    reads), or nothing for a hub dataset."""
    source = config["pool"]["source"]
    if source == "toy":
        return [f"{RESULTS}/pool/raw/toy.jsonl"]
    if source == "jsonl":
        from ila.pool.files import PoolFileError, list_pool_files

        try:
            return [str(f) for f in list_pool_files(config["pool"]["path"])[0]]
        except PoolFileError as exc:
            raise ValueError(f"pool.path: {exc}") from None
    return []


def base_model_dir():
    return f"{RESULTS}/models/base" if config["model"]["base"] == "tiny" else []


def regression_subsets():
    from ila.regression.design import subset_names

    r = config["regression"]
    return subset_names(r["design"], r["coverage_levels"], list(r["depth_bands"]), r["seeds"], r["n_random"])


def scaling_points():
    """The scaling study's (pool fraction, budget, seed) grid points."""
    from ila import scaling

    s = config["scaling"]
    return scaling.grid(s["pool_fractions"], s["budgets"], s["fixed_budget"], s["seeds"], s["grid"])


def scaling_fixed_budget():
    """Budget of the pool-size comparison (scaling.fixed_budget, else the largest budget)."""
    from ila import scaling

    return scaling.fixed_budget_of(config["scaling"]["budgets"], config["scaling"]["fixed_budget"])


def scaling_keys():
    return [p.key for p in scaling_points()]


def selection_methods():
    """The study's selection methods, checked against the registered ones."""
    from ila.selection import METHODS

    methods = list(config["selection"]["methods"])
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"selection.methods: unknown method(s) {unknown}; known: {sorted(METHODS)}")
    if len(set(methods)) != len(methods):
        raise ValueError(f"selection.methods lists a method twice: {methods}")
    return methods


def selection_method_pattern():
    """Wildcard constraint matching exactly the registered method names."""
    from ila.selection import METHODS

    return "|".join(sorted(METHODS, key=len, reverse=True))


def deita_scores_for(method):
    """Deita's scores table and its scorer description, for the deita method
    only (scoring is its own job)."""
    if method != "deita":
        return []
    return [f"{RESULTS}/selection/deita_scores.parquet", f"{RESULTS}/selection/deita_scores.json"]


def deita_scores_input(wildcards):
    return deita_scores_for(wildcards.method)


def scaling_notes():
    """Caveats the scaling summary must carry."""
    notes = []
    if "deita" in config["selection"]["methods"] and config["selection"]["deita"]["scorer"] == "proxy":
        d = config["selection"]["deita"]
        notes.append(
            "deita ran with the offline ProxyScorer, a stand-in that is NOT Deita: complexity = "
            f"{d['complexity_feature']}, quality = {d['quality_feature']} (percentile ranks on Deita's 1-6 scale)."
        )
    if config["pool"]["source"] != "toy":
        notes.append("accuracy is not measured on this pool (no checkable answers): null, not 0.")
    return notes


def toy_eval_input():
    """The held-out toy problems for task accuracy (toy pools only)."""
    return [f"{RESULTS}/scaling/eval_set.jsonl"] if config["pool"]["source"] == "toy" else []


def scaling_outputs():
    out = [
        f"{RESULTS}/tables/scaling.csv",
        f"{RESULTS}/tables/scaling_summary.json",
        f"{RESULTS}/tables/scaling.md",
    ]
    for name in ("scaling_budget", "scaling_pool", "scaling_selection"):
        out += [f"{RESULTS}/figures/{name}.png", f"{RESULTS}/figures/{name}.pdf"]
    return out


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
    if config["scaling"]["enabled"]:
        out += scaling_outputs()
    if benchmarks_enabled():
        out.append(f"{RESULTS}/tables/benchmarks.csv")
    return out


# Portable resources of the heavy rules, from the config's `resources`
# section: memory and run time per job family, and GPUs when the device is
# cuda. Site settings (partition, account, GPU model) live in profiles/.
def mem_mb(family):
    return int(config["resources"][family]["mem_mb"])


def runtime(family):
    return int(config["resources"][family]["runtime"])


def gpus(family):
    """GPUs per job: none on CPU; on cuda one per job, or one per training
    process for fine-tuning."""
    if config["device"] != "cuda":
        return 0
    if family == "train":
        return max(1, int(config["finetune"]["processes"]))
    return 1


# How a fine-tune is executed (threads, processes, checkpointing) does not
# change its result, so these keys are read by the jobs from the config and
# kept out of the params of every job, so changing them reruns nothing.
EXECUTION_KEYS = ("threads", "processes", "checkpoint_steps")


def trainer_settings():
    return {k: v for k, v in config["finetune"].items() if k not in EXECUTION_KEYS}


def report_products():
    """The figures and tables of this config: the files a reader cites."""
    return [p for p in final_outputs() if os.path.basename(os.path.dirname(p)) in ("figures", "tables")]


SCALING_KEY = r"f[0-9.]+-b[0-9]+-s[0-9]+"


def benchmarks_enabled():
    return bool(config["benchmarks"]["tasks"]) and config["scaling"]["enabled"]


def scaling_run_outputs():
    out = {"run": f"{RESULTS}/scaling/runs/{{method}}/{{key}}.json"}
    if benchmarks_enabled():
        out["model"] = directory(f"{RESULTS}/scaling/models/{{method}}/{{key}}")
    if toy_eval_input():
        out["generations"] = f"{RESULTS}/scaling/runs/{{method}}/{{key}}.generations.jsonl"
    return out
