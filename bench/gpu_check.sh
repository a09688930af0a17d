#!/usr/bin/env bash
# GPU check of the real-scale path, for a machine with CUDA GPUs (CI never
# needs one). Two parts, sized for under 8 minutes on one GPU:
#  1. the rehearsal (configs/rehearsal.yaml: paper.yaml on local stand-ins)
#     on device: cuda with bf16 and larger stand-ins (a ~13M-parameter Qwen2,
#     9,000 pool rows), fine-tunes under torchrun with NCCL when there are
#     two or more GPUs (finetune.processes = GPUs; one GPU: one process);
#  2. one fine-tune under torchrun with NCCL and paper.yaml's FSDP arguments
#     (FSDP2 wrapping Qwen2DecoderLayer, activation checkpointing, bf16) on
#     every GPU, one rank each, through ila.finetune.launch.
# It prints the seconds of every stage and tokens/s of scoring (depth, Deita)
# and training.
#   bash bench/gpu_check.sh [--cpu] [WORKDIR]   (WORKDIR default: a new folder under /tmp)
#   bash bench/gpu_check.sh --print-config GPUS [WORKDIR]   (writes and prints part 1's config overlay for GPUS GPUs)
# --cpu runs the same two parts without a GPU, to check the script itself
# (tests/workflow/test_gpu_check.py): device cpu, 2 torchrun processes on
# gloo, float32, the rehearsal's own small stand-ins, and in part 2 DDP with
# activation checkpointing in place of FSDP (which needs GPUs). Its seconds
# and tokens/s say nothing about a GPU.
# Environment: PYTHON (default .venv/bin/python, from `make run`, with a CUDA
# build of torch 2.13.0 for a GPU), CORES (default: all).
set -euo pipefail
CPU=0 PRINT=0
case "${1:-}" in
  --cpu) CPU=1; shift ;;
  --print-config) PRINT=1; GPUS=${2:?--print-config needs a GPU count}; shift 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
WORK=${1:-$(mktemp -d /tmp/ila-gpu-check.XXXXXX)}
CORES=${CORES:-$(nproc)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
NAME=rehearsal
R="$WORK/results/$NAME"

if [ "$CPU" = 1 ]; then
  # the rehearsal's stand-ins, sizes and checkpoint interval; 2 gloo processes
  DEVICE=cpu GPUS=0 NPROC=2 BATCH=16 BF16=false BUDGET=40 CHECKPOINT=3
  TRAINER_ARGS='{activation_checkpointing: true}'
  SIZES=""
  echo "CPU mode (--cpu): the script's own check; no GPU, no NCCL, no FSDP, no bf16"
elif [ "$PRINT" = 0 ]; then
  GPUS=$("$PY" - <<'EOF'
import torch, torch.distributed as dist
assert torch.cuda.is_available(), "no CUDA device: this check needs a GPU (or --cpu to check the script)"
assert torch.cuda.is_bf16_supported(), "the GPU does not support bf16"
assert dist.is_nccl_available(), "this torch has no NCCL"
print(torch.cuda.device_count())
EOF
)
  echo "GPUs: $GPUS ($("$PY" -c 'import torch; print(torch.cuda.get_device_name(0), "torch", torch.__version__, "CUDA", torch.version.cuda)'))"
fi
if [ "$CPU" = 0 ]; then
  DEVICE=cuda NPROC=$GPUS BATCH=$((16 * GPUS)) BF16=true BUDGET=1000 CHECKPOINT=50
  # FSDP needs torchrun, so with one GPU the workflow's fine-tunes use
  # activation checkpointing and part 2 runs FSDP
  if [ "$GPUS" -ge 2 ]; then
    TRAINER_ARGS='{fsdp: true, fsdp_config: {transformer_layer_cls_to_wrap: [Qwen2DecoderLayer], activation_checkpointing: true}}'
  else
    TRAINER_ARGS='{activation_checkpointing: true}'
  fi
  # larger stand-ins: only what a GPU changes, plus the sizes
  SIZES='rehearsal:
  pool_rows: 3000
  vocab_size: 4096
  base: {hidden: 512, layers: 4, heads: 8, kv_heads: 2, ffn: 1408}
  scorer: {hidden: 256, layers: 2, heads: 4, ffn: 704}
  tasks_per_family: 20
split: {dev_size: 500}
warmup: {size: 1000}'
fi

# Three selectors (ILA, random, Deita) at two pool sizes keep the 1-GPU run
# under 8 minutes (allow_short: Deita's diversity filter may pass fewer than
# a budget of these templated problems). The regression study stays, at the
# rehearsal's size (6 subsets of 30): ILA's dev-loss model needs at least 5
# dev-evaluated runs and the rehearsal's 3 calibration runs alone are too few.
cat >"$WORK/gpu.yaml" <<EOF
device: $DEVICE
$SIZES
finetune:
  bf16: $BF16
  batch_size: $BATCH
  processes: $NPROC
  checkpoint_steps: $CHECKPOINT
  trainer_args: $TRAINER_ARGS
selection: {methods: [ila, random, deita], allow_short: true}
scaling: {pool_fractions: [0.5, 1.0], budgets: [$BUDGET], fixed_budget: $BUDGET}
EOF
if [ "$PRINT" = 1 ]; then cat "$WORK/gpu.yaml"; exit 0; fi

t0=$(date +%s)
"$PY" -m snakemake -s "$ROOT/Snakefile" --directory "$WORK" --cores "$CORES" --resources gpu="$GPUS" \
  --configfile "$ROOT/configs/rehearsal.yaml" "$WORK/gpu.yaml" >"$WORK/snakemake.log" 2>&1 \
  || { tail -50 "$WORK/snakemake.log"; echo "part 1 failed: $WORK/snakemake.log, $R/logs/"; exit 1; }
echo "part 1 (rehearsal on $DEVICE): $(( $(date +%s) - t0 )) s"

# Part 2: the ILA selection at the whole pool fine-tuned under torchrun
# (NCCL and paper.yaml's FSDP arguments on GPUs; gloo and DDP with
# --cpu), outside the workflow, through the launcher the workflow uses.
t0=$(date +%s)
"$PY" - "$WORK" "$R" "$ROOT" "$NPROC" "$DEVICE" "$CORES" "$CPU" <<'EOF'
import os, subprocess, sys
from pathlib import Path
import yaml
from ila import scaling
from ila.plumbing.configs import resolve_config
from ila.finetune import GroupSpec, RunSpec, recipe
from ila.lm.prompt import PromptTemplate
from ila.lm.train import FinetuneSettings
work, results, root, nproc, device, cores, cpu = sys.argv[1:8]
nproc, cpu = int(nproc), cpu == "1"

# the config part 1's workflow ran: config.yaml, rehearsal.yaml, gpu.yaml and the schema's defaults
cfg = resolve_config(Path(root), [os.path.join(root, "configs/rehearsal.yaml"), os.path.join(work, "gpu.yaml")])
os.chdir(work)
ft = dict(cfg["finetune"])
if not cpu:  # paper.yaml's FSDP arguments; on CPU the launcher would refuse them (FSDP needs GPUs)
    ft["trainer_args"] = yaml.safe_load(open(os.path.join(root, "configs/paper.yaml")))["finetune"]["trainer_args"]
s = cfg["scaling"]
keys = [p.key for p in scaling.grid(s["pool_fractions"], s["budgets"], s["fixed_budget"], s["replicates"], "axes")]
key = next(k for k in keys if scaling.parse_key(k).fraction == 1.0)
out = f"{work}/part2"
spec = GroupSpec(kind="study", base=cfg["model"]["base"], pool=f"{results}/pool/pool.parquet",
                 settings=FinetuneSettings(**recipe(ft, cfg["model"]["max_length"])),
                 template=PromptTemplate(**cfg["model"]["prompt"]),
                 runs=(RunSpec(name="part2", ids=f"{results}/selection/ila/{key}.txt", seed=0,
                               metrics=f"{out}/metrics.json", timing=f"{out}/timing.json", staging=f"{out}/staging"),),
                 device=device, eval_sets={"dev": f"{results}/pool/dev_ids.txt"},
                 eval_batch_size=cfg["model"]["eval_batch_size"])
os.makedirs(out, exist_ok=True)
with open(f"{out}/spec.json", "w") as fh:
    fh.write(spec.to_json())
cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m",
       "ila.finetune.launch", f"{out}/spec.json", cores, str(cfg["finetune"]["checkpoint_steps"])]
env = dict(os.environ, OMP_NUM_THREADS=str(max(1, int(cores) // nproc)))
with open(f"{out}/log.txt", "w") as log:
    rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
if rc != 0:
    print(open(f"{out}/log.txt").read()[-4000:])
    sys.exit(f"part 2 (torchrun, {nproc} process(es)) failed with exit code {rc}")
EOF
if [ "$CPU" = 1 ]; then PART2="torchrun, gloo, DDP + activation checkpointing"; else PART2="torchrun, NCCL, FSDP, bf16"; fi
echo "part 2 ($PART2): $(( $(date +%s) - t0 )) s"

"$PY" - "$WORK" "$R" <<'EOF'
import glob, os, re, sys
import pandas as pd
from ila import io
from ila.selection.scorers import DeitaScorer
work, results = sys.argv[1], sys.argv[2]
os.chdir(work)

def products(pattern):  # the workflow's JSON products, without their provenance sidecars
    return sorted(p for p in glob.glob(pattern) if not p.endswith(".provenance.json"))

def timing(product):  # a product's seconds live apart from it, under timings/ (ila.timing)
    return io.read_json(os.path.join(results, "timings", os.path.relpath(product, results)))

rows = []
for path in glob.glob(f"{results}/benchmarks/**/*.tsv", recursive=True):
    stage = re.sub(r"_g\d+$", "", os.path.relpath(path, f"{results}/benchmarks").split(os.sep)[0].removesuffix(".tsv"))
    rows.append({"stage": stage, "seconds": float(pd.read_csv(path, sep="\t")["s"].iloc[-1])})
stages = pd.DataFrame(rows).groupby("stage")["seconds"].agg(["count", "sum", "max"]).sort_values("sum", ascending=False)
print("\nper-stage seconds (Snakemake benchmark files; count = jobs):")
print(stages.round(1).to_string())

def rate(tokens, seconds):
    return f"{tokens:,} tokens in {seconds:.1f} s = {tokens / seconds:,.0f} tokens/s" if seconds > 0 else "n/a"

plan = pd.read_parquet(f"{results}/depth/plan.parquet")
score_s = sum(float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) for p in glob.glob(f"{results}/benchmarks/score_shard/*.tsv"))
print("\ndepth scoring (base and warm-up model passes, job time):", rate(2 * int(plan["length"].sum()), score_s))

info = io.read_json(f"{results}/selection/deita_scores.json")
cands = io.read_parquet(f"{results}/selection/candidates.parquet")
tokens = 0
for kind in ("complexity", "quality"):
    sc = DeitaScorer(info[kind]["model"], device="cpu", kind=kind)
    tokens += sum(len(sc._encode(b, t)) for b, t in sc.prompts(cands))
deita_s = float(pd.read_csv(f"{results}/benchmarks/select_deita_scores.tsv", sep="\t")["s"].iloc[-1])
print("Deita scoring (complexity and quality prompts, job time with model loads):", rate(tokens, deita_s))
print(f"Deita unparsable answers: {info['complexity']['n_unparsable']} complexity, {info['quality']['n_unparsable']} quality")

w = io.read_json(f"{results}/models/warmup.json")
epochs = float(w["epochs"])  # one recipe: every fine-tune trains as many epochs as the warm-up
print(f"training, warm-up ({w['examples']} examples, {w['processes']} process(es)):",
      rate(int(w["tokens"] * epochs), timing(f"{results}/models/warmup.json")["seconds"]))
runs = products(f"{results}/scaling/runs/*/*.json")
tok = sum(int(io.read_json(p)["train_tokens"] * epochs) for p in runs)
print(f"training, {len(runs)} scaling fine-tunes ({io.read_json(runs[0])['processes']} process(es) each):",
      rate(tok, sum(timing(p)["train_seconds"] for p in runs)))
f = io.read_json(f"{work}/part2/metrics.json")
print(f"training, part 2 ({f['processes']} rank(s), {f['train_examples']} examples):",
      rate(int(f["train_tokens"] * epochs), io.read_json(f"{work}/part2/timing.json")["train_seconds"]),
      f"; dev loss {f['dev_loss']:.4f}")
bench = pd.read_csv(f"{results}/tables/benchmarks.csv")
print(f"lm-eval: {len(bench)} benchmark rows, tasks {sorted(bench['task'].unique())}")
EOF
echo "outputs: $WORK"
