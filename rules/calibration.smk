# The dev-loss model of dev-loss-modelled ILA (ila.devloss): selections at
# every knob of selection.ila (tilted and banded) from all candidates,
# fine-tuned and scored on the dev set only, then an OLS of dev loss on
# log coverage, mean RID and the shift of the domain mix from the dev set's,
# over these runs and the regression study's designed subsets. Skipped when
# selection.ila.calibration names a model.json from an earlier run of the
# same base model.


rule calibration_select:
    input:
        candidates=rules.select_candidates.output.table,
        pool=rules.ingest.output.pool,
        dev=rules.split_dev.output.dev,
    output:
        ids=[results(f"calibration/selections/{n}.txt") for n in calibration_names()],
        records=[results(f"calibration/selections/{n}.json") for n in calibration_names()],
        timings=[timings(f"calibration/selections/{n}.json") for n in calibration_names()],
    params:
        ila=config["selection"]["ila"],
        budget=calibration_budget(),
        seed=config["seed"],
    threads: threads_of("selection")
    log:
        logs("calibration_select.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/calibration_select.py"


for _group, _names in finetune_groups([("calibration", n) for n in calibration_names()]).items():

    rule:
        name:
            f"calibration_finetune_{_group}"
        input:
            ids=[results(f"calibration/selections/{n}.txt") for n in _names],
            base=rules.base_model.output[0],
            base_files=base_model_dir(),
            pool=rules.ingest.output.pool,
            dev=rules.split_dev.output.dev,
        output:
            runs=[results(f"calibration/runs/{n}.json") for n in _names],
            timings=[timings(f"calibration/runs/{n}.json") for n in _names],
        params:
            kind="study",
            eval_sets=["dev"],
            recipe=finetune_recipe(),
            prompt=config["model"]["prompt"],
            clip=config["regression"]["clip"],
            eval_batch_size=config["model"]["eval_batch_size"],
            runs=calibration_runs(_names),
            device=config["device"],
        threads: threads_of("finetune")
        resources:
            mem_mb=mem_mb("train"),
            runtime=runtime("train"),
            gpu=gpus("train"),
        log:
            logs(f"calibration_finetune/{_group}.log"),
        benchmark:
            bench(f"calibration_finetune/{_group}.tsv")
        conda:
            "../envs/train.yaml"
        script:
            "../scripts/finetune_group.py"


rule devloss_model:
    input:
        runs=[results(f"calibration/runs/{n}.json") for n in calibration_names()],
        records=[results(f"calibration/selections/{n}.json") for n in calibration_names()],
        ids=[results(f"calibration/selections/{n}.txt") for n in calibration_names()],
        candidates=rules.select_candidates.output.table,
        pool=rules.ingest.output.pool,
        dev=rules.split_dev.output.dev,
        regression=devloss_regression_inputs(),
    output:
        model=results("calibration/model.json"),
        table=results("calibration/runs.csv"),
        markdown=report(
            results("tables/devloss_model.md"),
            caption=report_caption("devloss_model.rst"),
            category="Selection",
            labels={"table": "dev-loss model"},
        ),
    log:
        logs("devloss_model.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/devloss_model.py"
