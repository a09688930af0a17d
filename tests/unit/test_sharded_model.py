"""A model trained in shards (FSDP, as configs/paper.yaml trains) is
gathered before rank 0 saves or evaluates it alone.

Under FSDP each process holds a shard of every weight, so a forward pass or
a state_dict on rank 0 alone waits for the other ranks for ever (that is
how the fine-tunes' rank-0 evaluation would hang on a multi-GPU node).
Here two real gloo processes shard a tiny Llama with torch's FSDP2 on CPU
(each decoder layer wrapped for activation checkpointing, as paper.yaml's
fsdp_config asks), train it two steps, and rank 0 evaluates and saves the gathered model
alone; its loss must equal the loss the sharded model computes with every
rank, and the saved folder must load back to the same loss.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import tiny_base  # noqa: E402

RANK_SCRIPT = r'''
import copy, json, sys
import torch, torch.distributed as dist
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import apply_activation_checkpointing, checkpoint_wrapper
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM, AutoTokenizer

from ila.lm.trainer import gather_full_model, save_atomic

base, out = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)
dist.init_process_group("gloo")
rank = dist.get_rank()
template = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
model = copy.deepcopy(template)
# as paper.yaml's fsdp_config has it: each decoder layer checkpointed and sharded
apply_activation_checkpointing(model, checkpoint_wrapper_fn=checkpoint_wrapper,
                               check_fn=lambda m: type(m).__name__ == "LlamaDecoderLayer")
for layer in model.model.layers:
    fully_shard(layer)
fully_shard(model)
assert any("_checkpoint_wrapped_module" in name for name, _ in model.named_parameters())
g = torch.Generator().manual_seed(0)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
for _ in range(2):  # the same batch on every rank
    ids = torch.randint(3, 250, (4, 16), generator=g)
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    opt.zero_grad()
probe = torch.randint(3, 250, (3, 20), generator=g)
with torch.no_grad():
    sharded_loss = model(input_ids=probe, labels=probe).loss.item()  # every rank takes part
plain = gather_full_model(model, lambda: copy.deepcopy(template))
if rank == 0:
    plain.eval()
    with torch.no_grad():
        alone = plain(input_ids=probe, labels=probe).loss.item()  # rank 0 alone
    save_atomic(plain, AutoTokenizer.from_pretrained(base), out + "/model")
    back = AutoModelForCausalLM.from_pretrained(out + "/model", dtype=torch.float32).eval()
    with torch.no_grad():
        reloaded = back(input_ids=probe, labels=probe).loss.item()
    base_loss = template(input_ids=probe, labels=probe).loss.item()
    tied = plain.lm_head.weight.data_ptr() == plain.model.embed_tokens.weight.data_ptr()
    kinds = sorted({type(p).__name__ for p in plain.parameters()})
    json.dump({"sharded": sharded_loss, "alone": alone, "reloaded": reloaded, "base": base_loss,
               "tied": tied, "kinds": kinds}, open(out + "/losses.json", "w"))
else:
    assert plain is None
dist.barrier()
dist.destroy_process_group()
'''


def test_rank_zero_evaluates_and_saves_the_gathered_model_alone(tmp_path):
    base, _, _ = tiny_base(tmp_path / "base")
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), base,
           str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads((tmp_path / "losses.json").read_text())
    assert got["alone"] != got["base"]  # the trained weights, not the template's
    assert abs(got["alone"] - got["sharded"]) < 1e-5 * got["sharded"], got
    assert got["reloaded"] == got["alone"], got
    assert got["tied"] and got["kinds"] == ["Parameter"], got  # plain tensors, the tied head kept tied


def _flags(fsdp: bool, deepspeed: bool):
    """The two switches of a transformers Trainer that :func:`sharded` reads
    (a Trainer with FSDP or DeepSpeed needs GPUs or DeepSpeed to build)."""
    from types import SimpleNamespace

    return SimpleNamespace(is_fsdp_enabled=fsdp, is_deepspeed_enabled=deepspeed)


def test_an_unsharded_trainer_hands_over_its_own_model(tmp_path):
    from transformers import Trainer

    from ila.lm.model import load_causal_lm
    from ila.lm.trainer import ListDataset, sharded, training_args, tuned_model

    base, _, _ = tiny_base(tmp_path / "base")
    args = training_args(str(tmp_path / "out"), seed=0, lr=1e-3, batch_size=2, weight_decay=0.0,
                         lr_scheduler="constant", warmup_steps=0.0, logging_steps=1, device="cpu")
    trainer = Trainer(model=load_causal_lm(base), args=args, train_dataset=ListDataset([]))
    assert not sharded(trainer)
    assert tuned_model(trainer) is trainer.model  # no copy: the one-process runs' results are untouched
    assert sharded(_flags(fsdp=True, deepspeed=False))


def test_only_zero3_counts_as_sharded():
    """ZeRO-1 and ZeRO-2 shard the optimizer state and gradients, not the
    weights: their model is whole on every process and needs no gather."""
    pytest.importorskip("deepspeed", reason="the deepspeed extra is not installed")
    from transformers.integrations.deepspeed import HfDeepSpeedConfig, unset_hf_deepspeed_config

    from ila.lm.trainer import sharded

    try:
        for stage, expected in ((1, False), (2, False), (3, True)):
            config = HfDeepSpeedConfig({"zero_optimization": {"stage": stage}, "train_micro_batch_size_per_gpu": 1})
            assert sharded(_flags(fsdp=False, deepspeed=True)) is expected, (stage, config)
    finally:
        unset_hf_deepspeed_config()
