"""Held-out toy problems for task accuracy: drawn with their own seed, none whose (instruction, input) is in the pool."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import accuracy, io, records  # noqa: E402
from ila.pool.toy import write_jsonl  # noqa: E402

p = snakemake.params  # noqa: F821
pool = io.read_parquet(snakemake.input.pool, columns=["instruction", "input"])  # noqa: F821
problems, ledger = accuracy.toy_eval_set(
    zip(pool["instruction"], pool["input"]),
    p.per_family,
    seed=records.derived_seed(p.seed, "toy_eval"),
    families=p.families,
    min_depth=p.min_depth,
    max_depth=p.max_depth,
)
write_jsonl(problems, snakemake.output.problems)  # noqa: F821
io.write_json(snakemake.output.ledger, ledger)  # noqa: F821
log.info("toy evaluation set: %s", ledger)
