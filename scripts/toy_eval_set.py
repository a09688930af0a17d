"""The toy task benchmark: the held-out benchmark problems for exact match
(``eval_per_family`` of each family, depths balanced) and every benchmark
problem as a 4-way multiple-choice item under the training prompt."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.pool.toy import write_jsonl  # noqa: E402
from ila.pool.toy.benchmark import benchmark_problems  # noqa: E402
from ila.pool.toy.choices import answer_rows  # noqa: E402

p = snakemake.params  # noqa: F821
heldout = io.read_parquet(snakemake.input.heldout)  # noqa: F821
problems, rows, ledger = benchmark_problems(
    heldout, snakemake.input.mc, p.per_family, PromptTemplate(**p.prompt)  # noqa: F821
)
write_jsonl(problems, snakemake.output.problems)  # noqa: F821
write_jsonl(rows, snakemake.output.mc)  # noqa: F821
answers, answer_ledger = answer_rows(io.read_jsonl(snakemake.input.mc), PromptTemplate(**p.prompt))  # noqa: F821
write_jsonl(answers, snakemake.output.mc_answer)  # noqa: F821
ledger.update(answer_ledger)
io.write_json(snakemake.output.ledger, ledger)  # noqa: F821
log.info("toy benchmark: %s", {k: ledger[k] for k in ("kept", "mc_items", "answer_items", "answer_items_skipped")})
