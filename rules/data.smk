# Pool: generate (toy) or read (jsonl, hf), ingest to the canonical Parquet
# pool with a ledger, hold out the test set and the benchmarks
# (pool/heldout.parquet), and split the rest into dev and candidates.
# Toy: the generator writes the pool rows (source toy), the clean dev, test
# and benchmark rows (source toy_dev, toy_test, toy_benchmark), the ground
# truth of every row (pool/truth.parquet: read by no selector) and the raw
# multiple-choice items of the benchmark.


rule toy_pool:
    output:
        pool=results("pool/raw/toy.jsonl"),
        truth=results("pool/truth.parquet"),
        mc=results("pool/raw/toy_mc.jsonl"),
        ledger=results("pool/raw/toy.json"),
    params:
        toy=config["pool"]["toy"],
        dev_size=config["split"]["dev_size"],
        test_size=config["split"]["test_size"],
        benchmark_per_family=config["split"]["benchmark_per_family"],
        seed=config["seed"],
    log:
        logs("toy_pool.log"),
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/toy_pool.py"


rule ingest:
    input:
        pool_inputs,
    output:
        pool=results("pool/pool.parquet"),
        heldout=results("pool/heldout.parquet"),
        rejects=results("pool/rejects.jsonl"),
        ledger=results("pool/ledger.json"),
    params:
        toy=config["pool"]["source"] == "toy",
        holdout_files=config["split"]["holdout_files"],
        test_size=config["split"]["test_size"],
        seed=config["seed"],
        source="jsonl" if config["pool"]["source"] == "toy" else config["pool"]["source"],
        path=config["pool"]["path"],
        format=config["pool"]["format"],
        fields=config["pool"]["fields"],
        max_chars=config["pool"]["max_chars"],
        hf=config["pool"]["hf"],
    log:
        logs("ingest.log"),
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/ingest.py"


rule split_dev:
    input:
        pool=rules.ingest.output.pool,
    output:
        candidates=results("pool/candidate_ids.txt"),
        dev=results("pool/dev_ids.txt"),
        summary=results("pool/split.json"),
    params:
        toy=config["pool"]["source"] == "toy",
        dev_size=config["split"]["dev_size"],
        max_per_domain=config["split"]["max_per_domain"],
        seed=config["seed"],
    log:
        logs("split_dev.log"),
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/split_dev.py"


# The test and benchmark ids, checked disjoint from candidates and dev. Only
# the final evaluation of the scaling study reads them: no selection,
# calibration or regression rule has them upstream (tested on the DAG).
rule heldout_ids:
    input:
        heldout=rules.ingest.output.heldout,
        candidates=rules.split_dev.output.candidates,
        dev=rules.split_dev.output.dev,
    output:
        test=results("pool/test_ids.txt"),
        benchmark=results("pool/benchmark_ids.txt"),
        summary=results("pool/heldout.json"),
    log:
        logs("heldout_ids.log"),
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/heldout_ids.py"
