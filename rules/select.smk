# Selection: the candidates (the per-example table, I0 excluded, with a seeded
# pool order for the nested pool fractions), Deita's scores (their own job),
# every selection of the scaling study (one job per method), and the export
# of one selection as JSON Lines for a user's own pool.


rule select_candidates:
    input:
        examples=rules.depth_table.output.table,
        pool=rules.ingest.output.pool,
        non_dev=rules.split_dev.output.candidates,
        dev=rules.split_dev.output.dev,
        i0=rules.warmup_set.output[0],
    output:
        table=results("selection/candidates.parquet"),
        ledger=report(
            results("selection/candidates.json"),
            caption=report_caption("selection_candidates.rst"),
            category="Selection",
            labels={"table": "candidate ledger"},
        ),
    params:
        seed=config["seed"],
    log:
        logs("select_candidates.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/select_candidates.py"


rule select_deita_scores:
    input:
        candidates=rules.select_candidates.output.table,
    output:
        table=results("selection/deita_scores.parquet"),
        info=results("selection/deita_scores.json"),
    params:
        deita=config["selection"]["deita"],
        device=config["device"],
    threads: threads_of("selection")
    resources:
        mem_mb=mem_mb("score"),
        runtime=runtime("score"),
        gpu=gpus("score"),
    log:
        logs("select_deita_scores.log"),
    benchmark:
        bench("select_deita_scores.tsv")
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/select_deita_scores.py"


rule select_method:
    input:
        candidates=rules.select_candidates.output.table,
        embeddings=rules.embed_gather.output.embeddings,
        pool=rules.ingest.output.pool,
        dev=rules.split_dev.output.dev,
        scores=deita_scores_input,
        model=ila_model_input,
    output:
        ids=expand(results("selection/{method}/{key}.txt"), key=scaling_keys(), allow_missing=True),
        records=expand(results("selection/{method}/{key}.json"), key=scaling_keys(), allow_missing=True),
        timings=expand(timings("selection/{method}/{key}.json"), key=scaling_keys(), allow_missing=True),
    params:
        grid_keys=scaling_keys(),
        method_params=lambda wc: config["selection"]["params"].get(wc.method, {}),
        ila=config["selection"]["ila"],
        allow_short=config["selection"]["allow_short"],
        seed=config["seed"],
    wildcard_constraints:
        method=selection_method_pattern(),
    threads: threads_of("selection")
    resources:
        mem_mb=config["selection"]["mem_mb"],
        runtime=config["selection"]["runtime"],
    log:
        logs("select_method/{method}.log"),
    benchmark:
        bench("select_method/{method}.tsv")
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/select_method.py"


# `snakemake --cores all results/<name>/selection/export/ila-b1000.jsonl`:
# the selection of `method` at `budget` from all candidates (pool fraction 1,
# replicate selection.export_replicate) as pool rows in the trainer format
# selection.export_format, plus its ids, its record and a LLaMA-Factory
# dataset_info entry. It is the same selection the scaling study makes at that
# point. `.../export/b1000.jsonl` (no method) is the same with
# selection.export_method.
rule export_selection:
    input:
        candidates=rules.select_candidates.output.table,
        embeddings=rules.embed_gather.output.embeddings,
        pool=rules.ingest.output.pool,
        dev=rules.split_dev.output.dev,
        ledger=rules.select_candidates.output.ledger,
        scores=lambda wc: deita_scores_for(export_choice(wc)[0]),
        model=lambda wc: ila_model_for(export_choice(wc)[0]),
    output:
        jsonl=results("selection/export/{export}.jsonl"),
        ids=results("selection/export/{export}.txt"),
        record=results("selection/export/{export}.json"),
        timing=timings("selection/export/{export}.json"),
        dataset_info=results("selection/export/{export}.dataset_info.json"),
    params:
        method=lambda wc: export_choice(wc)[0],
        budget=lambda wc: export_choice(wc)[1],
        method_params=lambda wc: config["selection"]["params"].get(export_choice(wc)[0], {}),
        ila=config["selection"]["ila"],
        allow_short=config["selection"]["allow_short"],
        replicate=config["selection"]["export_replicate"],
        export_format=config["selection"]["export_format"],
        seed=config["seed"],
    wildcard_constraints:
        export=export_name_pattern(),
    threads: threads_of("selection")
    resources:
        mem_mb=config["selection"]["mem_mb"],
        runtime=config["selection"]["runtime"],
    log:
        logs("export_selection/{export}.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/export_selection.py"
