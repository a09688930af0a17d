#!/usr/bin/env bash
# GPU check of the real-scale path, for a machine with CUDA GPUs (CI never
# runs it). Two parts, sized for under 8 minutes on one GPU:
#  1. the rehearsal (configs/rehearsal.yaml: paper.yaml on local stand-ins)
#     on device: cuda with bf16 and larger stand-ins (a ~13M-parameter Qwen2,
#     9,000 pool rows), fine-tunes under torchrun with NCCL when there are
#     two or more GPUs (finetune.processes = GPUs; one GPU: one process);
#  2. one fine-tune under torchrun with NCCL and paper.yaml's FSDP arguments
#     (FSDP2 wrapping Qwen2DecoderLayer, activation checkpointing, bf16) on
#     every GPU, one rank each, through ila.finetune.launch.
# It prints the seconds of every stage and tokens/s of scoring (depth, Deita)
# and training.
#   bash bench/gpu_check.sh [WORKDIR]       (default: a new folder under /tmp)
# Environment: PYTHON (default .venv/bin/python, from `make run`, with a CUDA
# build of torch 2.13.0), CORES (default: all).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
WORK=${1:-$(mktemp -d /tmp/ila-gpu-check.XXXXXX)}
CORES=${CORES:-$(nproc)}
mkdir -p "$WORK"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
NAME=rehearsal
R="$WORK/results/$NAME"

NGPU=$("$PY" - <<'EOF'
import torch, torch.distributed as dist
assert torch.cuda.is_available(), "no CUDA device: this check needs a GPU"
assert torch.cuda.is_bf16_supported(), "the GPU does not support bf16"
assert dist.is_nccl_available(), "this torch has no NCCL"
print(torch.cuda.device_count())
EOF
)
echo "GPUs: $NGPU ($("$PY" -c 'import torch; print(torch.cuda.get_device_name(0), "torch", torch.__version__, "CUDA", torch.version.cuda)'))"

# Larger stand-ins and a GPU: only what a GPU changes, plus the sizes. Three
# selectors (ILA, random, Deita) at two pool sizes and no regression study
# keep the 1-GPU run under 8 minutes (allow_short: Deita's diversity filter may
# pass fewer than a budget of these templated problems); FSDP needs torchrun, so with one GPU
# the workflow's fine-tunes use activation checkpointing and part 2 runs FSDP.
if [ "$NGPU" -ge 2 ]; then
  TRAINER_ARGS='{fsdp: true, fsdp_config: {transformer_layer_cls_to_wrap: [Qwen2DecoderLayer], activation_checkpointing: true}}'
else
  TRAINER_ARGS='{activation_checkpointing: true}'
fi
cat >"$WORK/gpu.yaml" <<EOF
device: cuda
rehearsal:
  pool_rows: 3000
  vocab_size: 4096
  base: {hidden: 512, layers: 4, heads: 8, kv_heads: 2, ffn: 1408}
  scorer: {hidden: 256, layers: 2, heads: 4, ffn: 704}
  tasks_per_family: 20
split: {dev_size: 500}
warmup: {size: 1000}
finetune:
  bf16: true
  batch_size: $((16 * NGPU))
  processes: $NGPU
  checkpoint_steps: 50
  trainer_args: $TRAINER_ARGS
regression: {enabled: false}
selection: {methods: [ila, random, deita], allow_short: true}
scaling: {pool_fractions: [0.5, 1.0], budgets: [1000], fixed_budget: 1000}
EOF

t0=$(date +%s)
"$PY" -m snakemake -s "$ROOT/Snakefile" --directory "$WORK" --cores "$CORES" --resources gpu="$NGPU" \
  --configfile "$ROOT/configs/rehearsal.yaml" "$WORK/gpu.yaml" >"$WORK/snakemake.log" 2>&1 \
  || { tail -50 "$WORK/snakemake.log"; echo "part 1 failed: $WORK/snakemake.log, $R/logs/"; exit 1; }
echo "part 1 (rehearsal on cuda): $(( $(date +%s) - t0 )) s"

# Part 2: one scaling selection fine-tuned under torchrun + NCCL with paper.yaml's FSDP arguments.
t0=$(date +%s)
"$PY" - "$WORK" "$R" "$NGPU" "$ROOT" <<'EOF'
import os, subprocess, sys, yaml
from ila.finetune import GroupSpec, RunSpec, recipe
from ila.lm.prompt import PromptTemplate
from ila.lm.train import FinetuneSettings
work, results, ngpu, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.chdir(work)
paper = yaml.safe_load(open(os.path.join(root, "configs/paper.yaml")))
cfg = yaml.safe_load(open(os.path.join(root, "configs/rehearsal.yaml")))
ft = {**cfg["finetune"], "bf16": True, "batch_size": 16 * ngpu, "trainer_args": paper["finetune"]["trainer_args"]}
key = "f1.0-b1000-s0"
spec = GroupSpec(kind="study", base=cfg["model"]["base"], pool=f"{results}/pool/pool.parquet",
                 settings=FinetuneSettings(**recipe(ft, cfg["model"]["max_length"])), template=PromptTemplate(),
                 runs=(RunSpec(name="fsdp", ids=f"{results}/selection/ila/{key}.txt", seed=0,
                               metrics=f"{work}/fsdp/metrics.json", staging=f"{work}/fsdp/staging"),),
                 device="cuda", dev_ids=f"{results}/pool/dev_ids.txt", eval_batch_size=16)
os.makedirs(f"{work}/fsdp", exist_ok=True)
with open(f"{work}/fsdp/spec.json", "w") as fh:
    fh.write(spec.to_json())
cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ngpu}", "-m",
       "ila.finetune.launch", f"{work}/fsdp/spec.json", "8", "50"]
with open(f"{work}/fsdp/log.txt", "w") as log:
    rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
text = open(f"{work}/fsdp/log.txt").read()
if rc != 0:
    print(text[-4000:]); sys.exit(f"part 2 (torchrun + NCCL + FSDP) failed with exit code {rc}")
EOF
echo "part 2 (torchrun, NCCL, FSDP, bf16): $(( $(date +%s) - t0 )) s"

"$PY" - "$WORK" "$R" <<'EOF'
import glob, json, os, re, sys
import pandas as pd
work, results = sys.argv[1], sys.argv[2]
os.chdir(work)
rows = []
for path in glob.glob(f"{results}/benchmarks/**/*.tsv", recursive=True):
    stage = os.path.relpath(path, f"{results}/benchmarks").split(os.sep)[0].removesuffix(".tsv")
    stage = re.sub(r"_g\d+$", "", stage)
    rows.append({"stage": stage, "seconds": float(pd.read_csv(path, sep="\t")["s"].iloc[-1])})
stages = pd.DataFrame(rows).groupby("stage")["seconds"].agg(["count", "sum", "max"]).sort_values("sum", ascending=False)
print("\nper-stage seconds (Snakemake benchmark files; count = jobs):")
print(stages.round(1).to_string())

def rate(tokens, seconds):
    return f"{tokens:,} tokens in {seconds:.1f} s = {tokens / seconds:,.0f} tokens/s" if seconds > 0 else "n/a"

plan = pd.read_parquet(f"{results}/depth/plan.parquet")
score_s = sum(float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) for p in glob.glob(f"{results}/benchmarks/score_shard/*.tsv"))
print("\ndepth scoring (base and warm-up model passes, job time):", rate(2 * int(plan["length"].sum()), score_s))

from ila import io
from ila.selection.scorers import DeitaScorer
cfg = json.load(open(f"{results}/selection/deita_scores.json"))
cands = io.read_parquet(f"{results}/selection/candidates.parquet")
tokens = 0
for kind in ("complexity", "quality"):
    sc = DeitaScorer(cfg[kind]["model"], device="cpu", kind=kind)
    tokens += sum(len(sc._encode(b, t)) for b, t in sc.prompts(cands))
deita_s = float(pd.read_csv(f"{results}/benchmarks/select_deita_scores.tsv", sep="\t")["s"].iloc[-1])
print("Deita scoring (complexity and quality prompts, job time with model loads):", rate(tokens, deita_s))
print(f"Deita unparsable answers: {cfg['complexity']['n_unparsable']} complexity, {cfg['quality']['n_unparsable']} quality")

w = json.load(open(f"{results}/models/warmup.json"))
print(f"training, warm-up ({w['examples']} examples, {w['processes']} process(es)):",
      rate(int(w["tokens"] * w["epochs"]), w["seconds"]))
runs = [json.load(open(p)) for p in glob.glob(f"{results}/scaling/runs/*/*.json")]
epochs = float(json.load(open(f"{results}/models/warmup.json"))["epochs"])
tok = sum(int(r["train_tokens"] * epochs) for r in runs)
print(f"training, {len(runs)} scaling fine-tunes:", rate(tok, sum(r["train_seconds"] for r in runs)))
f = json.load(open(f"{work}/fsdp/metrics.json"))
print(f"training, FSDP + NCCL ({f['processes']} rank(s), {f['train_examples']} examples):",
      rate(int(f["train_tokens"] * epochs), f["train_seconds"]), f"; dev loss {f['dev_loss']:.4f}")
bench = pd.read_csv(f"{results}/tables/benchmarks.csv")
print(f"lm-eval: {len(bench)} benchmark rows, tasks {sorted(bench['task'].unique())}")
EOF
echo "outputs: $WORK"
