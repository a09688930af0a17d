# The information landscape: a 2-D map of the candidates and their cells.


rule project:
    input:
        embeddings=rules.embed_gather.output.embeddings,
        pool=rules.ingest.output.pool,
        candidates=rules.split_dev.output.candidates,
    output:
        results("landscape/map.parquet"),
    params:
        method=config["projection"]["method"],
        pca_dims=config["projection"]["pca_dims"],
        perplexity=config["projection"]["perplexity"],
        n_iter=config["projection"]["n_iter"],
        backend=config["projection"]["backend"],
        seed=config["seed"],
    threads: threads_of("projection")
    resources:
        mem_mb=mem_mb("landscape"),
        runtime=runtime("landscape"),
    log:
        logs("project.log"),
    benchmark:
        bench("project.tsv")
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/project.py"


rule cells:
    input:
        map=rules.project.output[0],
        embeddings=rules.embed_gather.output.embeddings,
        pool=rules.ingest.output.pool,
    output:
        cells=results("landscape/cells.parquet"),
        info=results("landscape/cells.json"),
    params:
        method=config["cells"]["method"],
        grid_size=config["cells"]["grid_size"],
        k=config["cells"]["k"],
        backend=config["cells"]["kmeans_backend"],
        seed=config["seed"],
    log:
        logs("cells.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/cells.py"
