# Benchmarks of the scaling-study models through lm-evaluation-harness
# (only when benchmarks.tasks is set, e.g. gsm8k and mmlu in configs/paper.yaml).


rule benchmark_run:
    input:
        model=results("scaling/models/{method}/{key}"),
    output:
        results("scaling/benchmarks/{method}/{key}.json"),
    params:
        tasks=config["benchmarks"]["tasks"],
        include_path=config["benchmarks"]["include_path"],
        num_fewshot=config["benchmarks"]["num_fewshot"],
        limit=config["benchmarks"]["limit"],
        batch_size=config["benchmarks"]["batch_size"],
        add_bos_token=config["benchmarks"]["add_bos_token"],
        device=config["device"],
        seed=config["seed"],
        chat_template=config["model"]["prompt"]["chat_template"],
    wildcard_constraints:
        method=selection_method_pattern(),
        key=SCALING_KEY,
    threads: threads_of("finetune")
    resources:
        mem_mb=mem_mb("train"),
        runtime=runtime("train"),
        gpu=gpus("evaluate"),
    log:
        logs("benchmark_run/{method}/{key}.log"),
    benchmark:
        bench("benchmark_run/{method}/{key}.tsv")
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/benchmark_run.py"


rule benchmark_table:
    input:
        expand(results("scaling/benchmarks/{method}/{key}.json"), method=selection_methods(), key=scaling_keys()),
    output:
        report(
            results("tables/benchmarks.csv"),
            caption=report_caption("benchmarks.rst"),
            category="Scaling study",
            labels={"table": "benchmarks"},
        ),
    log:
        logs("benchmark_table.log"),
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/benchmark_table.py"
