# Pool: generate (toy) or read (jsonl, hf), ingest to the canonical Parquet
# pool with a ledger, and hold out a dev set stratified by domain.


rule toy_pool:
    output:
        f"{RESULTS}/pool/raw/toy.jsonl",
    params:
        n=config["pool"]["toy"]["n"],
        families=config["pool"]["toy"]["families"],
        min_depth=config["pool"]["toy"]["min_depth"],
        max_depth=config["pool"]["toy"]["max_depth"],
        seed=config["seed"],
    log:
        f"{LOGS}/toy_pool.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/toy_pool.py"


rule ingest:
    input:
        pool_inputs,
    output:
        pool=f"{RESULTS}/pool/pool.parquet",
        rejects=f"{RESULTS}/pool/rejects.jsonl",
        ledger=f"{RESULTS}/pool/ledger.json",
    params:
        source="jsonl" if config["pool"]["source"] == "toy" else config["pool"]["source"],
        path=config["pool"]["path"],
        format=config["pool"]["format"],
        fields=config["pool"]["fields"],
        max_chars=config["pool"]["max_chars"],
        hf=config["pool"]["hf"],
    log:
        f"{LOGS}/ingest.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/ingest.py"


rule split_dev:
    input:
        pool=rules.ingest.output.pool,
    output:
        candidates=f"{RESULTS}/pool/candidate_ids.txt",
        dev=f"{RESULTS}/pool/dev_ids.txt",
        summary=f"{RESULTS}/pool/split.json",
    params:
        dev_size=config["split"]["dev_size"],
        max_per_domain=config["split"]["max_per_domain"],
        seed=config["seed"],
    log:
        f"{LOGS}/split_dev.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/split_dev.py"
