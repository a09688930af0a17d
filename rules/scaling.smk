# The selection and accelerated-scaling study: one fine-tune per
# (method, pool fraction, budget, seed) selection, dev loss and (toy pool)
# task accuracy on held-out problems, then the table, summary and figures.

rule toy_eval_set:
    input:
        heldout=rules.ingest.output.heldout,
        mc=rules.toy_pool.output.mc,
        # model.prompt.chat_template: the prompts are rendered by the base model's tokenizer
        base=rules.base_model.output[0] if config["model"]["prompt"]["chat_template"] else [],
        base_files=base_model_dir() if config["model"]["prompt"]["chat_template"] else [],
    output:
        problems=results("scaling/eval_set.jsonl"),
        mc=results("scaling/eval_mc.jsonl"),
        mc_answer=results("scaling/eval_mc_answer.jsonl"),
        ledger=results("scaling/eval_set.json"),
    params:
        per_family=config["scaling"]["eval_per_family"],
        prompt=config["model"]["prompt"],
    log:
        logs("toy_eval_set.log"),
    conda:
        "../envs/train.yaml" if config["model"]["prompt"]["chat_template"] else "../envs/data.yaml"
    script:
        "../scripts/toy_eval_set.py"


# One job trains a group of one method's selections (finetune.runs_per_job)
# in one process; each run still gets its own metrics file, model folder
# (for the benchmarks) and provenance sidecar.
for _group, _names in scaling_groups().items():
    _runs = scaling_runs(_names)

    rule:
        name:
            f"scaling_finetune_{_group}"
        input:
            ids=[r["ids"] for r in _runs],
            base=rules.base_model.output[0],
            base_files=base_model_dir(),
            pool=rules.ingest.output.pool,
            heldout=rules.ingest.output.heldout,
            test=rules.heldout_ids.output.test,
            benchmark=rules.heldout_ids.output.benchmark,
            mc=toy_mc_input() if "mc" in config["scaling"]["benchmarks"] else [],
            mc_answer=toy_mc_input("eval_mc_answer") if "mc_answer" in config["scaling"]["benchmarks"] else [],
            problems=toy_eval_input(),
        output:
            runs=[r["metrics"] for r in _runs],
            timings=[r["timing"] for r in _runs],
            models=[directory(r["model_dir"]) for r in _runs] if benchmarks_enabled() else [],
            generations=[r["generations"] for r in _runs] if toy_eval_input() else [],
            mc=[r["mc_scores"]["mc"] for r in _runs if "mc" in r["mc_scores"]],
            mc_answer=[r["mc_scores"]["mc_answer"] for r in _runs if "mc_answer" in r["mc_scores"]],
        params:
            kind="study",
            eval_sets=scaling_eval_sets(),
            recipe=finetune_recipe(),
            prompt=config["model"]["prompt"],
            clip=config["scaling"]["clip"],
            eval_batch_size=config["model"]["eval_batch_size"],
            max_new_tokens=config["scaling"]["max_new_tokens"],
            generate_batch_size=config["scaling"]["eval_batch_size"],
            runs=_runs,
            device=config["device"],
        threads: threads_of("finetune")
        resources:
            mem_mb=mem_mb("train"),
            runtime=runtime("train"),
            gpu=gpus("train"),
        log:
            logs(f"scaling_finetune/{_group}.log"),
        benchmark:
            bench(f"scaling_finetune/{_group}.tsv")
        conda:
            "../envs/train.yaml"
        script:
            "../scripts/finetune_group.py"


rule scaling_table:
    input:
        selections=expand(
            results("selection/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()
        ),
        runs=expand(
            results("scaling/runs/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()
        ),
        selection_timings=expand(
            timings("selection/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()
        ),
        run_timings=expand(
            timings("scaling/runs/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()
        ),
    output:
        table=results("tables/scaling.csv"),
        timings=results("tables/scaling_timings.csv"),
    log:
        logs("scaling_table.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/scaling_table.py"


rule scaling_composition:
    input:
        selections=expand(
            results("selection/{method}/{key}.txt"), method=selection_methods(), key=scaling_keys()
        ),
        candidates=results("selection/candidates.parquet"),
        truth=toy_truth_input(),
    output:
        table=report(
            results("tables/scaling_composition.csv"),
            caption=report_caption("scaling_composition.rst"),
            category="Scaling study",
            labels={"table": "what each selection picked"},
        ),
        markdown=results("tables/scaling_composition.md"),
    params:
        fixed_budget=scaling_fixed_budget(),
    log:
        logs("scaling_composition.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/scaling_composition.py"


rule devloss_check:
    input:
        model=ila_model_path(),
        table=rules.scaling_table.output.table,
        records=expand(
            results("selection/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()
        ),
        ids=expand(results("selection/{method}/{key}.txt"), method=selection_methods(), key=scaling_keys()),
        candidates=results("selection/candidates.parquet"),
    output:
        table=results("tables/devloss_check.csv"),
        summary=results("tables/devloss_check.json"),
        markdown=report(
            results("tables/devloss_check.md"),
            caption=report_caption("devloss_check.rst"),
            category="Scaling study",
            labels={"table": "dev-loss model out of sample"},
        ),
    log:
        logs("devloss_check.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/devloss_check.py"


rule scaling_summary:
    input:
        table=rules.scaling_table.output.table,
    output:
        summary=report(
            results("tables/scaling_summary.json"),
            caption=report_caption("scaling_summary.rst"),
            category="Scaling study",
            labels={"table": "summary"},
        ),
        markdown=results("tables/scaling.md"),
    params:
        metrics=scaling_metrics(),
        baseline=config["scaling"]["baseline"],
        fixed_budget=scaling_fixed_budget(),
        notes=scaling_notes(),
        predictions=config["scaling"]["predictions"],
    log:
        logs("scaling_summary.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/scaling_summary.py"


rule scaling_figures:
    input:
        table=rules.scaling_table.output.table,
    output:
        budget=report(
            results("figures/scaling_budget.png"),
            caption=report_caption("scaling_budget.rst"),
            category="Scaling study",
            labels={"figure": "score vs budget"},
        ),
        budget_pdf=results("figures/scaling_budget.pdf"),
        pool=report(
            results("figures/scaling_pool.png"),
            caption=report_caption("scaling_pool.rst"),
            category="Scaling study",
            labels={"figure": "score vs pool size"},
        ),
        pool_pdf=results("figures/scaling_pool.pdf"),
        selection=report(
            results("figures/scaling_selection.png"),
            caption=report_caption("scaling_selection.rst"),
            category="Scaling study",
            labels={"figure": "coverage and depth of selections"},
        ),
        selection_pdf=results("figures/scaling_selection.pdf"),
    params:
        metric=config["scaling"]["metric"],
        reference=config["scaling"]["reference"],
        fixed_budget=scaling_fixed_budget(),
        dpi=config["figures"]["dpi"],
    log:
        logs("scaling_figures.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/scaling_figures.py"
