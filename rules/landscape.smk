# The information landscape: a 2-D map of the candidates and their cells.


rule project:
    input:
        embeddings=rules.embed_gather.output.embeddings,
        pool=rules.ingest.output.pool,
        candidates=rules.split_dev.output.candidates,
    output:
        f"{RESULTS}/landscape/map.parquet",
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
        f"{LOGS}/project.log",
    benchmark:
        f"{BENCH}/project.tsv"
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
        cells=f"{RESULTS}/landscape/cells.parquet",
        info=f"{RESULTS}/landscape/cells.json",
    params:
        method=config["cells"]["method"],
        grid_size=config["cells"]["grid_size"],
        k=config["cells"]["k"],
        backend=config["cells"]["kmeans_backend"],
        seed=config["seed"],
    log:
        f"{LOGS}/cells.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/cells.py"
