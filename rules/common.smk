# Paths and helpers shared by every rule file.
import os

# Every product lies under results/<name>/. The helpers join that prefix to a
# plain path and format nothing else, so a path's wildcards are written as
# Snakemake reads them: results("selection/{method}/{key}.txt").
RESULTS = f"results/{config['name']}"


def results(path):
    """`path` under results/<name>/."""
    return f"{RESULTS}/{path}"


def logs(path):
    """A job's log: `path` under results/<name>/logs/."""
    return results(f"logs/{path}")


def bench(path):
    """A job's Snakemake benchmark: `path` under results/<name>/benchmarks/."""
    return results(f"benchmarks/{path}")


def timings(path):
    """The timing file of the product results(path) (ila.timing): the same
    relative path under results/<name>/timings/, apart from the results so
    that timings change no result."""
    return results(f"timings/{path}")


def report_caption(name):
    """A report caption in the workflow's report/ folder."""
    return os.path.join(workflow.basedir, "report", name)


def threads_of(section):
    """A stage's configured threads (Snakemake lowers them to --cores)."""
    return int(config[section]["threads"])


def pool_inputs(wildcards):
    """Files the ingest reads: the generated toy pool, the user's pool
    file(s) as ila.pool.files lists them (the same listing the ingest
    reads), or nothing for a hub dataset."""
    source = config["pool"]["source"]
    if source == "toy":
        return [results("pool/raw/toy.jsonl")]
    if source == "jsonl":
        from ila.pool.files import PoolFileError, list_pool_files

        try:
            return [str(f) for f in list_pool_files(config["pool"]["path"])[0]]
        except PoolFileError as exc:
            raise ValueError(f"pool.path: {exc}") from None
    return rehearsal_standins()


def rehearsal_standins():
    """The local stand-ins a rehearsal builds (rules/rehearsal.smk): the
    ingest takes them as inputs, so every job that loads one comes after."""
    return rules.rehearsal_standins.output if config["rehearsal"]["enabled"] else []


def base_model_dir():
    """The base model's folder when a rule builds it (tiny; a rehearsal's stand-in)."""
    if config["model"]["base"] == "tiny":
        return results("models/base")
    return config["model"]["base"] if config["rehearsal"]["enabled"] else []


def regression_subsets():
    from ila.regression.design import subset_names

    r = config["regression"]
    return subset_names(r["design"], r["coverage_levels"], list(r["depth_bands"]), r["seeds"], r["n_random"])


def scaling_points():
    """The scaling study's (pool fraction, budget, replicate) grid points."""
    from ila import scaling

    s = config["scaling"]
    return scaling.grid(s["pool_fractions"], s["budgets"], s["fixed_budget"], s["replicates"], s["grid"])


def scaling_fixed_budget():
    """Budget of the pool-size comparison (scaling.fixed_budget, else the largest budget)."""
    from ila import scaling

    return scaling.fixed_budget_of(config["scaling"]["budgets"], config["scaling"]["fixed_budget"])


def scaling_keys():
    return [p.key for p in scaling_points()]


def selection_methods():
    """The study's selection methods (the schema checks them against the registered ones)."""
    return list(config["selection"]["methods"])


def selection_method_pattern():
    """Wildcard constraint matching exactly the registered method names."""
    from ila.selection import METHODS

    return "|".join(sorted(METHODS, key=len, reverse=True))


def export_name_pattern():
    """File stem of an export: <method>-b<budget>, or b<budget> for selection.export_method."""
    return rf"(?:(?:{selection_method_pattern()})-)?b[1-9][0-9]*"


def export_choice(wildcards):
    """(method, budget) named by an export's file stem (see export_name_pattern)."""
    import re

    m = re.fullmatch(rf"(?:({selection_method_pattern()})-)?b([1-9][0-9]*)", wildcards.export)
    if m is None:
        raise ValueError(f"selection/export/{wildcards.export}: not <method>-b<budget> or b<budget>")
    return m.group(1) or config["selection"]["export_method"], int(m.group(2))


def deita_scores_for(method):
    """Deita's scores table and its scorer description, for the deita method
    only (scoring is its own job)."""
    if method != "deita":
        return []
    return [results("selection/deita_scores.parquet"), results("selection/deita_scores.json")]


def deita_scores_input(wildcards):
    return deita_scores_for(wildcards.method)


def scaling_notes():
    """Caveats the scaling summary must carry (ila.scaling.settings)."""
    from ila.scaling.settings import summary_notes

    return summary_notes(config)


def scaling_metrics():
    """The metrics the scaling summary reports, scaling.metric first."""
    from ila.scaling.settings import summary_metrics

    return summary_metrics(config["scaling"]["metric"])


def toy_eval_input():
    """The held-out toy problems for exact-match accuracy by greedy
    generation, a diagnostic (toy pools with scaling.eval_per_family > 0)."""
    toy = config["pool"]["source"] == "toy"
    return [results("scaling/eval_set.jsonl")] if toy and config["scaling"]["eval_per_family"] > 0 else []


def toy_truth_input():
    """The toy pool's ground truth per row (analysis only; no selector reads it)."""
    return [results("pool/truth.parquet")] if config["pool"]["source"] == "toy" else []


def toy_mc_input(stem="eval_mc"):
    """The toy task benchmark as 4-way multiple-choice items (toy pools):
    whole responses (eval_mc) or final answer lines after the gold steps
    (eval_mc_answer)."""
    toy = config["pool"]["source"] == "toy"
    return [results(f"scaling/{stem}.jsonl")] if toy and config["split"]["benchmark_per_family"] > 0 else []


def scaling_eval_sets():
    """Held-out sets every scaling run is judged on (ila.scaling.settings)."""
    from ila.scaling.settings import eval_sets

    return eval_sets(config)


def scaling_outputs():
    out = [
        results("tables/scaling.csv"),
        results("tables/scaling_timings.csv"),
        results("tables/scaling_composition.csv"),
        results("tables/scaling_composition.md"),
        results("tables/scaling_summary.json"),
        results("tables/scaling.md"),
    ]
    for name in ("scaling_budget", "scaling_pool", "scaling_selection"):
        out += [results(f"figures/{name}.png"), results(f"figures/{name}.pdf")]
    return out


def final_outputs():
    out = [
        results("pool/ledger.json"),
        results("pool/split.json"),
        results("pool/heldout.json"),
        results("tables/examples.parquet"),
        results("figures/landscape.png"),
        results("figures/landscape.pdf"),
        results("figures/depth_by_domain.png"),
        results("figures/depth_by_domain.pdf"),
    ]
    if config["regression"]["enabled"]:
        out += [
            results("tables/regression.csv"),
            results("tables/regression_summary.json"),
            results("tables/regression.md"),
            results("figures/regression_observed_vs_predicted.png"),
            results("figures/regression_partial.png"),
            results("figures/regression_loss_vs_coverage.png"),
        ]
    if config["scaling"]["enabled"]:
        out += scaling_outputs()
        if ila_needs_model():
            out += [results("tables/devloss_check.md"), results("tables/devloss_check.json")]
            if not config["selection"]["ila"]["calibration"]:
                out.append(results("tables/devloss_model.md"))
    if benchmarks_enabled():
        out.append(results("tables/benchmarks.csv"))
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
            "ids": results(f"regression/subsets/{s}.txt"),
            "seed": derived_seed(config["seed"], "regression", s),
            "metrics": results(f"regression/runs/{s}.json"),
            "timing": timings(f"regression/runs/{s}.json"),
            "staging": results(f"checkpoints/regression/{s}"),
            "model_dir": results(f"regression/models/{s}") if keep else None,
            "fields": {"subset": s},
        }
        for s in subsets
    ]


def calibration_names():
    """Calibration runs of the dev-loss model (none when a model is given)."""
    from ila.devloss import calibration_names as names

    if not ila_needs_model() or config["selection"]["ila"]["calibration"]:
        return []
    return names(config["selection"]["ila"])


def calibration_budget():
    """Budget of the calibration selections: selection.ila.calibration_budget,
    else the scaling study's fixed budget."""
    b = config["selection"]["ila"]["calibration_budget"]
    return int(b) if b is not None else scaling_fixed_budget()


def calibration_runs(names):
    from ila.records import derived_seed

    return [
        {
            "name": n,
            "ids": results(f"calibration/selections/{n}.txt"),
            "seed": derived_seed(config["seed"], "calibration", n),
            "metrics": results(f"calibration/runs/{n}.json"),
            "timing": timings(f"calibration/runs/{n}.json"),
            "staging": results(f"checkpoints/calibration/{n}"),
            "fields": {"calibration": n},
        }
        for n in names
    ]


def devloss_regression_inputs():
    """The regression study's runs, when the dev-loss model also fits them."""
    if "regression" not in config["selection"]["ila"]["model_data"] or not config["regression"]["enabled"]:
        return []
    return [results("regression/members.parquet"), results("tables/regression.csv"),
            results("tables/examples.parquet")]


def ila_needs_model():
    """Whether a method that chooses its knob with the dev-loss model is used."""
    from ila.devloss import needs_model

    return needs_model(config)


def ila_model_path():
    """The dev-loss model: selection.ila.calibration (reused from an earlier
    run of the same base model), else the one this run fits."""
    return config["selection"]["ila"]["calibration"] or results("calibration/model.json")


def ila_model_for(method):
    from ila.devloss import MODELLED

    return [ila_model_path()] if method in MODELLED else []


def ila_model_input(wildcards):
    return ila_model_for(wildcards.method)


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
            "ids": results(f"selection/{method}/{key}.txt"),
            "seed": seed,
            "metrics": results(f"scaling/runs/{method}/{key}.json"),
            "timing": timings(f"scaling/runs/{method}/{key}.json"),
            "staging": results(f"checkpoints/scaling/{method}/{key}"),
            "model_dir": results(f"scaling/models/{method}/{key}") if keep else None,
            "generations": results(f"scaling/runs/{method}/{key}.generations.jsonl") if toy_eval_input() else None,
            "mc_scores": {name: results(f"scaling/runs/{method}/{key}.{name}.jsonl")
                          for name in config["scaling"]["benchmarks"]} if toy_mc_input() else {},
            "fields": {"method": method, "key": key, "run_seed": seed, "accuracy": None},
        })
    return out


def report_products():
    """The figures and tables of this config: the files a reader cites."""
    return [p for p in final_outputs() if os.path.basename(os.path.dirname(p)) in ("figures", "tables")]


SCALING_KEY = r"f[0-9.]+-b[0-9]+-s[0-9]+"


def benchmarks_enabled():
    return bool(config["benchmarks"]["tasks"]) and config["scaling"]["enabled"]
