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
    return rehearsal_standins()


def rehearsal_standins():
    """The local stand-ins a rehearsal builds (rules/rehearsal.smk): the
    ingest takes them as inputs, so every job that loads one comes after."""
    return rules.rehearsal_standins.output if config["rehearsal"]["enabled"] else []


def base_model_dir():
    """The base model's folder when a rule builds it (tiny; a rehearsal's stand-in)."""
    if config["model"]["base"] == "tiny":
        return f"{RESULTS}/models/base"
    return config["model"]["base"] if config["rehearsal"]["enabled"] else []


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


# The fine-tuning recipe (what changes a result) goes into the params of
# every fine-tuning job; how it executes (threads, processes, checkpoints,
# runs per job) is read by the job from the config and changes no result,
# so changing it reruns nothing (ila.finetune.settings).
def finetune_recipe():
    from ila.finetune import recipe

    return recipe(config["finetune"], config["model"]["max_length"])


def finetune_groups(runs):
    """{group: [run names]} of a study's (family, run name) pairs, at most
    finetune.runs_per_job runs a job (ila.finetune.runs.group_runs)."""
    from ila.finetune import group_runs

    return group_runs(runs, int(config["finetune"]["runs_per_job"]))


def regression_groups():
    return finetune_groups([("regression", s) for s in regression_subsets()])


def regression_runs(subsets):
    """Run specs (ila.finetune.RunSpec fields) of regression subsets."""
    from ila.records import derived_seed

    keep = config["regression"]["keep_models"]
    return [
        {
            "name": s,
            "ids": f"{RESULTS}/regression/subsets/{s}.txt",
            "seed": derived_seed(config["seed"], "regression", s),
            "metrics": f"{RESULTS}/regression/runs/{s}.json",
            "staging": f"{RESULTS}/checkpoints/regression/{s}",
            "model_dir": f"{RESULTS}/regression/models/{s}" if keep else None,
            "fields": {"subset": s},
        }
        for s in subsets
    ]


def scaling_groups():
    """Groups of scaling runs ("<method>/<key>"), never mixing methods."""
    return finetune_groups([(m, f"{m}/{k}") for m in selection_methods() for k in scaling_keys()])


def scaling_runs(names):
    from ila import scaling

    keep = config["scaling"]["keep_models"] or benchmarks_enabled()
    out = []
    for name in names:
        method, key = name.split("/")
        seed = scaling.run_seed(config["seed"], method, scaling.parse_key(key))
        out.append({
            "name": name,
            "ids": f"{RESULTS}/selection/{method}/{key}.txt",
            "seed": seed,
            "metrics": f"{RESULTS}/scaling/runs/{method}/{key}.json",
            "staging": f"{RESULTS}/checkpoints/scaling/{method}/{key}",
            "model_dir": f"{RESULTS}/scaling/models/{method}/{key}" if keep else None,
            "generations": f"{RESULTS}/scaling/runs/{method}/{key}.generations.jsonl" if toy_eval_input() else None,
            "fields": {"method": method, "key": key, "run_seed": seed, "accuracy": None},
        })
    return out


def report_products():
    """The figures and tables of this config: the files a reader cites."""
    return [p for p in final_outputs() if os.path.basename(os.path.dirname(p)) in ("figures", "tables")]


SCALING_KEY = r"f[0-9.]+-b[0-9]+-s[0-9]+"


def benchmarks_enabled():
    return bool(config["benchmarks"]["tasks"]) and config["scaling"]["enabled"]
