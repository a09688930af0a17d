"""What each selection picked, per domain and (toy pool) per ground-truth corruption type, against the candidates."""
from ila.plumbing import job

with job(snakemake) as log:
    import os

    from ila import io
    from ila.scaling.composition import candidate_shares, composition_markdown, composition_table

    inp, out, p = snakemake.input, snakemake.output, snakemake.params
    candidates = io.read_parquet(inp.candidates)
    truth = io.read_parquet(inp.truth[0]) if inp.truth else None
    selections = []
    for path in inp.selections:
        method, key = os.path.basename(os.path.dirname(path)), os.path.basename(path)[: -len(".txt")]
        selections.append((method, key, io.read_ids(path)))
    table = composition_table(selections, candidates, truth)
    io.write_csv(out.table, table)
    io.write_text(out.markdown, composition_markdown(table, candidate_shares(candidates, truth), p.fixed_budget))
    log.info("composition of %d selections", len(table))
