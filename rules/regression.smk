# The regression study: subsets spanning coverage x depth, one fine-tune per
# subset, dev loss, OLS dev_loss ~ coverage + depth, figures.


rule regression_design:
    input:
        examples=rules.depth_table.output.table,
        cells=rules.cells.output.info,
    output:
        members=results("regression/members.parquet"),
        subsets=results("regression/subsets.parquet"),
        ids=expand(results("regression/subsets/{subset}.txt"), subset=regression_subsets()),
    params:
        design=config["regression"]["design"],
        size=config["regression"]["size"],
        group_by=config["regression"]["group_by"],
        coverage_levels=config["regression"]["coverage_levels"],
        depth_bands=config["regression"]["depth_bands"],
        seeds=config["regression"]["seeds"],
        n_random=config["regression"]["n_random"],
        seed=config["seed"],
    log:
        logs("regression_design.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/regression_design.py"


# One job trains a group of subsets (finetune.runs_per_job) in one process;
# each subset still gets its own metrics file and provenance sidecar.
for _group, _subsets in regression_groups().items():

    rule:
        name:
            f"regression_finetune_{_group}"
        input:
            ids=[results(f"regression/subsets/{s}.txt") for s in _subsets],
            base=rules.base_model.output[0],
            base_files=base_model_dir(),
            pool=rules.ingest.output.pool,
            dev=rules.split_dev.output.dev,
        output:
            runs=[results(f"regression/runs/{s}.json") for s in _subsets],
            timings=[timings(f"regression/runs/{s}.json") for s in _subsets],
        params:
            kind="study",
            eval_sets=["dev"],
            recipe=finetune_recipe(),
            prompt=config["model"]["prompt"],
            clip=config["regression"]["clip"],
            eval_batch_size=config["model"]["eval_batch_size"],
            runs=regression_runs(_subsets),
            device=config["device"],
        threads: threads_of("finetune")
        resources:
            mem_mb=mem_mb("train"),
            runtime=runtime("train"),
            gpu=gpus("train"),
        log:
            logs(f"regression_finetune/{_group}.log"),
        benchmark:
            bench(f"regression_finetune/{_group}.tsv")
        conda:
            "../envs/train.yaml"
        script:
            "../scripts/finetune_group.py"


rule regression_table:
    input:
        subsets=rules.regression_design.output.subsets,
        runs=expand(results("regression/runs/{subset}.json"), subset=regression_subsets()),
    output:
        results("tables/regression.csv"),
    log:
        logs("regression_table.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/regression_table.py"


rule regression_ols:
    input:
        table=rules.regression_table.output[0],
    output:
        summary=report(
            results("tables/regression_summary.json"),
            caption=report_caption("regression_summary.rst"),
            category="Regression study",
            labels={"table": "OLS summary"},
        ),
        markdown=results("tables/regression.md"),
    params:
        response=config["regression"]["response"],
        regressors=config["regression"]["regressors"],
        transforms=config["regression"]["transforms"],
    log:
        logs("regression_ols.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/regression_ols.py"


rule regression_figures:
    input:
        table=rules.regression_table.output[0],
        summary=rules.regression_ols.output.summary,
    output:
        observed=report(
            results("figures/regression_observed_vs_predicted.png"),
            caption=report_caption("regression_observed_vs_predicted.rst"),
            category="Regression study",
            labels={"figure": "observed vs predicted"},
        ),
        observed_pdf=results("figures/regression_observed_vs_predicted.pdf"),
        partial=report(
            results("figures/regression_partial.png"),
            caption=report_caption("regression_partial.rst"),
            category="Regression study",
            labels={"figure": "partial regression"},
        ),
        partial_pdf=results("figures/regression_partial.pdf"),
        coverage=report(
            results("figures/regression_loss_vs_coverage.png"),
            caption=report_caption("regression_loss_vs_coverage.rst"),
            category="Regression study",
            labels={"figure": "dev loss vs coverage"},
        ),
        coverage_pdf=results("figures/regression_loss_vs_coverage.pdf"),
    params:
        response=config["regression"]["response"],
        regressors=config["regression"]["regressors"],
    log:
        logs("regression_figures.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/regression_figures.py"
