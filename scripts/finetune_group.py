"""Fine-tune a group of runs (the warm-up model, regression subsets or
scaling selections) in one process, or under torchrun; one metrics file per run."""
from ila.plumbing import job

# No torch=True: ila.finetune.core.run_group sets torch's threads in whichever
# process trains (this one, or each torchrun rank); a job that only launches
# torchrun would import torch for nothing (~1.2 s).
with job(snakemake) as log:
    from ila import models
    from ila.finetune import Execution, GroupSpec, RunSpec, launch
    from ila.lm.prompt import PromptTemplate
    from ila.lm.train import FinetuneSettings

    p, inp = snakemake.params, snakemake.input
    spec = GroupSpec(
        kind=p.kind,
        base=models.read_handle(inp.base),
        pool=inp.pool,
        heldout=inp.get("heldout"),
        eval_sets={name: inp[name] for name in p.get("eval_sets", [])},
        mc_sets={name: inp[name][0] for name in ("mc", "mc_answer") if inp.get(name)},
        problems=inp.problems[0] if inp.get("problems") else None,
        settings=FinetuneSettings(**p.recipe),
        template=PromptTemplate(**p.prompt),
        runs=tuple(RunSpec(**r) for r in p.runs),
        device=p.device,
        clip=p.get("clip"),
        eval_batch_size=p.get("eval_batch_size", 16),
        max_new_tokens=p.get("max_new_tokens", 64),
        generate_batch_size=p.get("generate_batch_size", 32),
    )
    launch.run(spec, Execution.from_config(snakemake.config["finetune"], snakemake.threads))
