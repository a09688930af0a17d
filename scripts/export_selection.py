"""One selection from all candidates, exported for use outside the study: full pool rows as JSON Lines, the ids, and the selection record."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import numpy as np  # noqa: E402

from ila import embed, io, records, scaling  # noqa: E402
from ila.pool.toy import write_jsonl  # noqa: E402

p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
out = snakemake.output  # noqa: F821
budget = int(snakemake.wildcards.budget)  # noqa: F821
candidates = io.read_parquet(inp.candidates)
pool = io.read_parquet(inp.pool)
pool_ids = pool["id"].tolist()
vectors = np.load(inp.embeddings, allow_pickle=False)
point = scaling.GridPoint(1.0, budget, int(p.replicate))
[(_, sel)] = scaling.select_grid(
    p.method,
    candidates,
    [point],
    p.seed,
    vectors[embed.rows_for(candidates["id"].tolist(), pool_ids)],
    vectors[embed.rows_for(io.read_ids(inp.dev), pool_ids)],
    dict(p.method_params),
    p.allow_short,
    io.read_parquet(inp.scores[0]) if inp.scores else None,
)
rows = records.rows_by_id(pool, sel.ids, "pool")
rows["labels"] = rows["labels"].map(lambda v: [str(x) for x in v] if v is not None else [])
n = write_jsonl(rows.to_dict("records"), out.jsonl)
io.write_ids(out.ids, sel.ids)
record = scaling.selection_record(p.method, point, sel, len(candidates))
record["candidates_ledger"] = io.read_json(inp.ledger)
record["jsonl_rows"] = n
if inp.scores:
    record["deita_scorers"] = io.read_json(inp.scores[1])
io.write_json(out.record, record)
log.info("exported %d %s-selected examples of %d candidates", n, p.method, len(candidates))
