"""Benchmark one scaling-study model with lm-evaluation-harness."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    from ila import benchmarks, io

    p = snakemake.params
    result = benchmarks.evaluate(
        snakemake.input.model,
        p.tasks,
        include_path=p.include_path,
        batch_size=p.batch_size,
        device=p.device,
        limit=p.limit,
        num_fewshot=p.num_fewshot,
        add_bos_token=p.add_bos_token,
        seed=p.seed,
        chat_template=p.chat_template,
    )
    result.update(method=snakemake.wildcards.method, key=snakemake.wildcards.key)
    io.write_json(snakemake.output[0], result)
    log.info("benchmarks: %s", result["tasks"])
