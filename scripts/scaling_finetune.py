"""Fine-tune the base model on one selection of the scaling study; dev loss and, on the toy pool, task accuracy."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from ila import accuracy, io, models, scaling, study  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.pool.toy import write_jsonl  # noqa: E402

p = snakemake.params  # noqa: F821
inp = snakemake.input  # noqa: F821
out = snakemake.output  # noqa: F821
method, key = snakemake.wildcards.method, snakemake.wildcards.key  # noqa: F821
point = scaling.parse_key(key)
ids = io.read_ids(inp.ids)
if not ids:
    raise ValueError(f"{inp.ids}: the selection is empty")
template = PromptTemplate(**p.prompt)
seed = scaling.run_seed(p.seed, method, point)
model_dir = p.model_dir if p.keep_model else tempfile.mkdtemp(prefix="ila-scaling-")
try:
    metrics = study.train_and_evaluate(
        models.read_handle(inp.base),
        io.read_parquet(inp.pool),
        ids,
        io.read_ids(inp.dev),
        study.settings_from_config(p.finetune, p.max_length),
        template,
        seed=seed,
        threads=snakemake.threads,  # noqa: F821
        device=p.device,
        clip=p.clip,
        dev_batch_size=p.batch_size,
        out_dir=model_dir,
        processes=snakemake.config["finetune"]["processes"],  # noqa: F821
        checkpoint_dir=p.checkpoint_dir,
        checkpoint_steps=snakemake.config["finetune"]["checkpoint_steps"],  # noqa: F821
    )
    metrics["accuracy"] = None
    if inp.eval_set:
        t0 = time.perf_counter()
        with open(inp.eval_set[0], encoding="utf-8") as fh:
            problems = [json.loads(line) for line in fh if line.strip()]
        score, rows = accuracy.evaluate_model(
            model_dir, problems, template, p.max_new_tokens, p.eval_batch_size, p.device
        )
        metrics["accuracy"] = score
        metrics["eval_seconds"] = time.perf_counter() - t0
        write_jsonl(rows, out.generations)
        log.info("accuracy %.3f (%d/%d, %d without an answer)", score["accuracy"], score["correct"], score["n"], score["no_answer"])
finally:
    if not p.keep_model:
        shutil.rmtree(model_dir, ignore_errors=True)
metrics.update(method=method, key=key, run_seed=seed, ids_sha256=io.sha256_ids(ids))
io.write_json(out.run, metrics)
