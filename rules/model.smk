# The base model M0 (tiny: tokenizer + Llama-class model trained here; or a
# causal LM by name) and the warm-up model M_SFT fine-tuned on I0.


# corpus -> tokenizer -> pretrain gates every depth score, so it goes first
# whenever it competes with embedding or projection for a core.
BASE_MODEL_PRIORITY = 10


def corpus_inputs(wildcards):
    """The ingested pool and held-out rows, which the worked problems of the
    corpus must not repeat (only when there are worked problems)."""
    if not config["model"]["tiny"]["worked_problems"]:
        return {}
    return {"pool": rules.ingest.output.pool, "heldout": rules.ingest.output.heldout}


rule corpus:
    priority: BASE_MODEL_PRIORITY
    input:
        unpack(corpus_inputs),
    output:
        results("models/corpus.jsonl"),
    params:
        max_chars=config["model"]["tiny"]["corpus_chars"],
        worked_problems=config["model"]["tiny"]["worked_problems"],
        toy={k: config["pool"]["toy"][k] for k in ("families", "min_depth", "max_depth")},
        seed=config["seed"],
    log:
        logs("corpus.log"),
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/corpus.py"


rule tokenizer:
    priority: BASE_MODEL_PRIORITY
    input:
        corpus=rules.corpus.output[0],
    output:
        directory(results("models/tokenizer")),
    params:
        vocab_size=config["model"]["tiny"]["vocab_size"],
    log:
        logs("tokenizer.log"),
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/tokenizer.py"


rule pretrain:
    priority: BASE_MODEL_PRIORITY
    input:
        corpus=rules.corpus.output[0],
        tokenizer=rules.tokenizer.output[0],
    output:
        model=directory(results("models/base")),
        metrics=results("models/pretrain.json"),
        timing=timings("models/pretrain.json"),
    params:
        shape={k: config["model"]["tiny"][k] for k in ("hidden", "layers", "heads", "ffn")},
        max_position=config["model"]["max_length"],
        settings=config["model"]["pretrain"],
        seed=config["seed"],
        device=config["device"],
    threads: config["model"]["pretrain"]["threads"]
    resources:
        mem_mb=mem_mb("train"),
        runtime=runtime("train"),
        gpu=gpus("train"),
    log:
        logs("pretrain.log"),
    benchmark:
        bench("pretrain.tsv")
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/pretrain.py"


rule base_model:
    input:
        base_model_dir(),
    output:
        results("models/base.json"),
    params:
        base=config["model"]["base"],
    log:
        logs("base_model.log"),
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/base_model.py"


rule warmup_set:
    input:
        candidates=rules.split_dev.output.candidates,
    output:
        results("depth/i0_ids.txt"),
    params:
        size=config["warmup"]["size"],
        seed=config["seed"],
    log:
        logs("warmup_set.log"),
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/warmup_set.py"


rule warmup:
    input:
        ids=rules.warmup_set.output[0],
        base=rules.base_model.output[0],
        base_files=base_model_dir(),
        pool=rules.ingest.output.pool,
    output:
        model=directory(results("models/warmup")),
        metrics=results("models/warmup.json"),
        timing=timings("models/warmup.json"),
    params:
        kind="warmup",
        recipe=finetune_recipe(),
        prompt=config["model"]["prompt"],
        runs=[
            {
                "name": "warmup",
                "ids": results("depth/i0_ids.txt"),
                "seed": config["seed"],
                "metrics": results("models/warmup.json"),
                "timing": timings("models/warmup.json"),
                "staging": results("checkpoints/warmup"),
                "model_dir": results("models/warmup"),
            }
        ],
        device=config["device"],
    threads: threads_of("finetune")
    resources:
        mem_mb=mem_mb("train"),
        runtime=runtime("train"),
        gpu=gpus("train"),
    log:
        logs("warmup.log"),
    benchmark:
        bench("warmup.tsv")
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/finetune_group.py"
