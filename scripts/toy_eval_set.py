"""The toy task benchmark: the held-out benchmark problems for exact match
(``eval_per_family`` of each family, depths balanced) and every benchmark
problem as a 4-way multiple-choice item under the training prompt."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.lm.prompt import PromptTemplate
    from ila.pool.toy import write_jsonl
    from ila.pool.toy.benchmark import benchmark_problems
    from ila.pool.toy.choices import answer_rows

    p = snakemake.params
    template = PromptTemplate(**p.prompt)
    tokenizer = None
    if template.chat_template:  # the base model's own chat template renders the prompts
        from transformers import AutoTokenizer

        from ila import models

        tokenizer = AutoTokenizer.from_pretrained(models.read_handle(snakemake.input.base))
    heldout = io.read_parquet(snakemake.input.heldout)
    problems, rows, ledger = benchmark_problems(heldout, snakemake.input.mc, p.per_family, template, tokenizer)
    write_jsonl(problems, snakemake.output.problems)
    write_jsonl(rows, snakemake.output.mc)
    answers, answer_ledger = answer_rows(io.read_jsonl(snakemake.input.mc), template, tokenizer=tokenizer)
    write_jsonl(answers, snakemake.output.mc_answer)
    ledger.update(answer_ledger)
    io.write_json(snakemake.output.ledger, ledger)
    log.info("toy benchmark: %s", {k: ledger[k] for k in ("kept", "mc_items", "answer_items", "answer_items_skipped")})
