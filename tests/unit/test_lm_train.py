"""Pretraining and supervised fine-tuning with the transformers Trainer on a
tiny model: learning, determinism, checkpoint resume, response-only loss."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import TOKENIZER_TEXTS, make_record, tiny_base, tiny_tokenizer, toy_records  # noqa: E402

from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.lm.pretrain import PretrainSettings, pack_corpus, pretrain  # noqa: E402
from ila.lm.train import (  # noqa: E402
    FinetuneSettings,
    finetune,
    finetune_model,
    latest_checkpoint,
)

T = PromptTemplate()
TINY = FinetuneSettings(epochs=5, lr=2e-2, batch_size=4, max_length=128, warmup_ratio=0.1, logging_steps=1)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tiny_base(tmp_path_factory.mktemp("base"))


def weights(path):
    from safetensors.torch import load_file

    return load_file(os.path.join(path, "model.safetensors"))


def same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and (a[k] == b[k]).all() for k in a)


def test_pretrain_learns_and_saves_loadable_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ila.lm.model import ModelShape

    tiny_tokenizer(tmp_path / "tok")
    shape = ModelShape(hidden=32, layers=2, heads=2, ffn=64, max_position=64)
    settings = PretrainSettings(steps=30, batch_size=8, seq_len=32, lr=1e-2, warmup_steps=3, logging_steps=5)
    m = pretrain(str(tmp_path / "tok"), TOKENIZER_TEXTS, shape, settings, seed=0, out_dir=tmp_path / "base", threads=1)
    assert m["steps"] == 30 and m["tokens"] == 30 * 8 * 32
    assert m["loss_curve"][0][0] == 1 and m["loss_curve"][-1][0] == 30
    assert m["last_loss"] < m["first_loss"] - 1.0, m["loss_curve"]
    model = AutoModelForCausalLM.from_pretrained(str(tmp_path / "base"))
    tok = AutoTokenizer.from_pretrained(str(tmp_path / "base"))
    assert model.config.hidden_size == 32 and model.config.num_hidden_layers == 2
    assert sum(p.numel() for p in model.parameters()) == m["n_parameters"]
    assert len(tok) == 300 and not list(tmp_path.glob(".base.*"))  # no temporary folder left behind


def test_pretraining_weights_do_not_depend_on_the_thread_count(tmp_path):
    """The default runs pretraining on one thread; a site that gives it more
    gets the same base model up to float rounding (the reduction order of a
    matrix product depends on the thread count on some CPUs: seen here as
    9e-8 after 4 steps); at a fixed thread count the weights are identical."""
    from ila.lm.model import ModelShape
    from ila.runtime import torch_threads

    tiny_tokenizer(tmp_path / "tok")
    shape = ModelShape(hidden=64, layers=2, heads=4, ffn=256, max_position=128)  # the default width
    settings = PretrainSettings(steps=4, batch_size=16, seq_len=128, warmup_steps=1, logging_steps=1)
    try:
        for n in (1, 2):
            pretrain(str(tmp_path / "tok"), TOKENIZER_TEXTS * 40, shape, settings, seed=0, out_dir=tmp_path / f"t{n}", threads=n)
    finally:
        torch_threads(1)
    one, two = weights(tmp_path / "t1"), weights(tmp_path / "t2")
    assert one.keys() == two.keys()
    assert max(float((one[k] - two[k]).abs().max()) for k in one) < 1e-6


def test_pack_corpus_blocks(tmp_path):
    tok = tiny_tokenizer(tmp_path)
    blocks, info = pack_corpus(tok, ["ab", "cd"], seq_len=3)
    stream = [1] + tok("ab", add_special_tokens=False)["input_ids"] + [2]
    stream += [1] + tok("cd", add_special_tokens=False)["input_ids"] + [2]
    assert sum(blocks, []) == stream[: 3 * len(blocks)]
    assert info["tail_tokens_unused"] == len(stream) % 3 and info["corpus_tokens"] == len(stream)


def test_finetune_lowers_training_loss_and_reports_untrainable(base, tmp_path):
    from ila.lm.scoring import load_model, response_losses

    path, _, _ = base
    recs = toy_records(12)
    bad = make_record("Return the sum " * 60, "", "5")  # prompt alone exceeds max_length
    before, _ = response_losses(*load_model(path), recs, T, max_length=128, progress=False)
    m = finetune(path, recs + [bad], TINY, T, seed=1, out_dir=str(tmp_path / "sft"), threads=1,
                 dev_records=recs, dev_clip=4.0)
    after, _ = response_losses(*load_model(str(tmp_path / "sft")), recs, T, max_length=128, progress=False)
    assert m["untrainable_ids"] == [bad["id"]] and m["examples"] == 12 and m["records"] == 13
    assert m["steps"] == 15 and m["response_tokens"] == int(before["T"].sum())
    tok_before = before["loss_sum"].sum() / before["T"].sum()
    tok_after = after["loss_sum"].sum() / after["T"].sum()
    assert tok_after < tok_before - 1.0, (tok_before, tok_after)
    assert m["dev"]["token_mean"] == pytest.approx(tok_after, rel=1e-6)


def test_recipe_trains_in_length_grouped_order_of_the_global_batch(base):
    from dataclasses import replace

    from ila.lm.sampling import LengthGroupedEpochSampler

    path, _, _ = base
    recs = toy_records(12)
    trainer, _, _ = finetune_model(path, recs, replace(TINY, epochs=1), T, seed=1, threads=1)
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, LengthGroupedEpochSampler) and sampler.batch_size == 4 and sampler.seed == 1
    plain, _, _ = finetune_model(path, recs, replace(TINY, epochs=1, group_by_length=False), T, seed=1, threads=1)
    assert not isinstance(plain._get_train_sampler(), LengthGroupedEpochSampler)


def test_trainer_loss_is_response_tokens_only(base):
    """The model's loss on a collated batch is the mean cross-entropy of the
    response tokens: the prompt positions carry label -100 and add nothing."""
    import torch

    from ila.lm.data import PaddingCollator, tokenize_records
    from ila.lm.scoring import response_losses

    _, model, tok = base
    recs = toy_records(6)
    ts = tokenize_records(recs, tok, T)
    batch = PaddingCollator(tok.pad_token_id)(ts.examples)
    assert (batch["labels"] != -100).sum().item() == sum(e.T for e in ts.examples)
    with torch.no_grad():
        loss = model(**batch).loss.item()
    frame, _ = response_losses(model, tok, recs, T, progress=False)
    assert loss == pytest.approx(frame["loss_sum"].sum() / frame["T"].sum(), rel=1e-5)


def test_finetune_is_deterministic_per_seed(base, tmp_path):
    path, _, _ = base
    recs = toy_records(8)
    s = FinetuneSettings(max_steps=4, lr=3e-3, batch_size=4, max_length=128)
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        finetune(path, recs, s, T, seed=seed, out_dir=str(tmp_path / name), threads=1)
    assert same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert not same_weights(weights(tmp_path / "a"), weights(tmp_path / "c"))
    assert not same_weights(weights(tmp_path / "a"), weights(path))


def test_stopped_run_resumes_to_the_same_weights(base, tmp_path):
    from transformers import TrainerCallback

    path, _, _ = base
    recs = toy_records(8)
    s = FinetuneSettings(max_steps=6, lr=3e-3, batch_size=2, max_length=128, warmup_ratio=0.2, logging_steps=1)
    finetune(path, recs, s, T, seed=3, out_dir=str(tmp_path / "full"), threads=1)

    class StopAfter(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step >= 3:
                control.should_training_stop = True

    class StepsSeen(TrainerCallback):
        def __init__(self):
            self.steps = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(state.global_step)

    ck = tmp_path / "ck"
    _, _, m1 = finetune_model(path, recs, s, T, seed=3, threads=1, checkpoint_dir=str(ck), checkpoint_steps=2,
                              callbacks=[StopAfter()])
    assert m1["steps"] == 3 and latest_checkpoint(ck) == str(ck / "checkpoint-2")
    (ck / "checkpoint-4").mkdir()  # a half-written checkpoint: no trainer_state.json
    seen = StepsSeen()
    trainer, _, m2 = finetune_model(path, recs, s, T, seed=3, threads=1, checkpoint_dir=str(ck),
                                    checkpoint_steps=2, callbacks=[seen])
    assert m2["resumed_from"] == str(ck / "checkpoint-2") and m2["steps"] == 6
    assert seen.steps == [3, 4, 5, 6]  # steps 1-2 came from the checkpoint
    full = weights(tmp_path / "full")
    resumed = {k: v for k, v in trainer.model.state_dict().items() if k in full}
    assert same_weights(full, resumed)

    with pytest.raises(ValueError, match="different run"):
        finetune(path, recs, s, T, seed=4, out_dir=None, threads=1, checkpoint_dir=str(ck), checkpoint_steps=2)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="lr_scheduler"):
        FinetuneSettings(lr_scheduler="step")
    with pytest.raises(ValueError, match="warmup_ratio"):
        FinetuneSettings(warmup_ratio=1.5)
    with pytest.raises(ValueError, match="steps"):
        PretrainSettings(steps=0)


def test_trainer_args_pass_through_for_large_models_and_cannot_override_the_recipe(tmp_path):
    """FSDP settings from the config reach the Trainer's arguments (built on
    CPU here; the real config runs them on GPUs); recipe keys are refused."""
    from ila.lm.trainer import training_args

    settings = FinetuneSettings(trainer_args={"fsdp": True, "fsdp_config": {"transformer_layer_cls_to_wrap": ["LlamaDecoderLayer"]}})
    args = training_args(str(tmp_path), seed=1, lr=1e-3, batch_size=4, weight_decay=0.0, lr_scheduler="cosine",
                          warmup_steps=0.0, logging_steps=1, device="cpu", extra=settings.trainer_args)
    assert args.fsdp and args.fsdp_config["transformer_layer_cls_to_wrap"] == ["LlamaDecoderLayer"]
    assert args.learning_rate == 1e-3 and args.seed == 1
    with pytest.raises(ValueError, match="learning_rate"):
        FinetuneSettings(trainer_args={"learning_rate": 1.0})
