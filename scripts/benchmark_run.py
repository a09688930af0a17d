"""Benchmark one scaling-study model with lm-evaluation-harness."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import benchmarks, io  # noqa: E402

p = snakemake.params  # noqa: F821
result = benchmarks.evaluate(
    snakemake.input.model,  # noqa: F821
    p.tasks,
    include_path=p.include_path,
    batch_size=p.batch_size,
    device=p.device,
    limit=p.limit,
    num_fewshot=p.num_fewshot,
    add_bos_token=p.add_bos_token,
    seed=p.seed,
)
result.update(method=snakemake.wildcards.method, key=snakemake.wildcards.key)  # noqa: F821
io.write_json(snakemake.output[0], result)  # noqa: F821
log.info("benchmarks: %s", result["tasks"])
