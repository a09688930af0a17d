"""Build the local stand-ins of a rehearsal config: pools, tokenizer, Qwen2 base, Deita scorers, embedder, tasks."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    from ila import io, rehearsal

    p, out = snakemake.params, snakemake.output
    info = rehearsal.build_all(
        pools=list(out.pools), tokenizer=out.tokenizer, base=out.base, complexity=out.complexity, quality=out.quality,
        embedder=out.embedder, tasks_dir=out.tasks, tasks=list(p.tasks), settings=p.settings,
        max_position=p.max_position, prompt=p.prompt, max_gen_toks=p.max_gen_toks, seed=p.seed,
        device=p.device, threads=snakemake.threads,
    )
    io.write_json(out.info, info)
    log.info("stand-ins: %s", info)
