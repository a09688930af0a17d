# Benchmarks of the scaling-study models through lm-evaluation-harness
# (only when benchmarks.tasks is set, e.g. gsm8k and mmlu in configs/paper.yaml).


rule benchmark_run:
    input:
        model=f"{RESULTS}/scaling/models/{{method}}/{{key}}",
    output:
        f"{RESULTS}/scaling/benchmarks/{{method}}/{{key}}.json",
    params:
        tasks=config["benchmarks"]["tasks"],
        include_path=config["benchmarks"]["include_path"],
        num_fewshot=config["benchmarks"]["num_fewshot"],
        limit=config["benchmarks"]["limit"],
        batch_size=config["benchmarks"]["batch_size"],
        add_bos_token=config["benchmarks"]["add_bos_token"],
        device=config["device"],
        seed=config["seed"],
    wildcard_constraints:
        method=selection_method_pattern(),
        key=SCALING_KEY,
    threads: threads_of("finetune")
    resources:
        mem_mb=mem_mb("train"),
        runtime=runtime("train"),
        gpu=gpus("evaluate"),
    log:
        f"{LOGS}/benchmark_run/{{method}}/{{key}}.log",
    benchmark:
        f"{BENCH}/benchmark_run/{{method}}/{{key}}.tsv"
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/benchmark_run.py"


rule benchmark_table:
    input:
        expand(f"{RESULTS}/scaling/benchmarks/{{method}}/{{key}}.json", method=selection_methods(), key=scaling_keys()),
    output:
        report(
            f"{RESULTS}/tables/benchmarks.csv",
            caption=f"{REPORT}/benchmarks.rst",
            category="Scaling study",
            labels={"table": "benchmarks"},
        ),
    log:
        f"{LOGS}/benchmark_table.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/benchmark_table.py"
