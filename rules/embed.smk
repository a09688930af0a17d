# Sentence embeddings of every pool example, scattered over shards of whole
# length-bucketed batches and gathered back into pool order.


rule embed_shard:
    input:
        pool=rules.ingest.output.pool,
    output:
        results("embed/shards/{scatteritem}.npz"),
    params:
        model=config["embed"]["model"],
        batch_size=config["embed"]["batch_size"],
        max_seq_length=config["embed"]["max_seq_length"],
        device=config["device"],
    threads: threads_of("embed")
    resources:
        mem_mb=mem_mb("embed"),
        runtime=runtime("embed"),
        gpu=gpus("embed"),
    log:
        logs("embed_shard/{scatteritem}.log"),
    benchmark:
        bench("embed_shard/{scatteritem}.tsv")
    conda:
        "../envs/embed.yaml"
    script:
        "../scripts/embed_shard.py"


rule embed_gather:
    input:
        pool=rules.ingest.output.pool,
        shards=gather.embed(results("embed/shards/{scatteritem}.npz")),
    output:
        embeddings=results("embed/embeddings.npy"),
        meta=results("embed/embeddings.json"),
    params:
        model=config["embed"]["model"],
    log:
        logs("embed_gather.log"),
    conda:
        "../envs/embed.yaml"
    script:
        "../scripts/embed_gather.py"
