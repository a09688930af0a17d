# Information depth: summed response losses under M0 and M_SFT for every
# candidate outside I0 (sharded by whole length-bucketed batches), then ID and
# RID joined with the landscape into the per-example table.


rule score_plan:
    input:
        base=rules.base_model.output[0],
        base_files=base_model_dir(),
        pool=rules.ingest.output.pool,
        candidates=rules.split_dev.output.candidates,
        i0=rules.warmup_set.output[0],
    output:
        results("depth/plan.parquet"),
    params:
        shards=config["depth"]["shards"],
        batch_size=config["depth"]["batch_size"],
        max_length=config["model"]["max_length"],
        prompt=config["model"]["prompt"],
    log:
        logs("score_plan.log"),
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/score_plan.py"


rule score_shard:
    input:
        plan=rules.score_plan.output[0],
        base=rules.base_model.output[0],
        base_files=base_model_dir(),
        warmup=rules.warmup.output.model,
        pool=rules.ingest.output.pool,
    output:
        results("depth/shards/{scatteritem}.parquet"),
    params:
        batch_size=config["depth"]["batch_size"],
        max_length=config["model"]["max_length"],
        prompt=config["model"]["prompt"],
        device=config["device"],
        score_uncond=config["depth"]["score_uncond"],
    threads: threads_of("depth")
    resources:
        mem_mb=mem_mb("score"),
        runtime=runtime("score"),
        gpu=gpus("score"),
    log:
        logs("score_shard/{scatteritem}.log"),
    benchmark:
        bench("score_shard/{scatteritem}.tsv")
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/score_shard.py"


rule score_gather:
    input:
        plan=rules.score_plan.output[0],
        shards=gather.score(results("depth/shards/{scatteritem}.parquet")),
    output:
        results("depth/scores.parquet"),
    log:
        logs("score_gather.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/score_gather.py"


rule depth_table:
    input:
        scores=rules.score_gather.output[0],
        cells=rules.cells.output.cells,
        pool=rules.ingest.output.pool,
    output:
        table=results("tables/examples.parquet"),
        ledger=results("depth/ledger.json"),
    params:
        domain_from=config["depth"]["domain_from"],
        labels=config["depth"]["labels"],
        rid_within=config["depth"]["rid_within"],
    log:
        logs("depth_table.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/depth_table.py"
