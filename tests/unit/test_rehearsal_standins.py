"""The rehearsal's model stand-ins come from the one builder of
ila.lm.model: a pretrained Qwen2 base and an untrained Llama scorer, saved
and loaded by path."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import TOKENIZER_TEXTS, tiny_tokenizer  # noqa: E402

from ila import rehearsal  # noqa: E402
from ila.lm.model import ModelShape  # noqa: E402


def test_build_lm_gives_a_pretrained_qwen2_base_and_an_untrained_llama_scorer(tmp_path):
    from transformers import AutoModelForCausalLM

    tiny_tokenizer(tmp_path / "tok")
    base = ModelShape(arch="qwen2", hidden=32, layers=1, heads=4, kv_heads=2, ffn=64, max_position=128)
    scorer = ModelShape(hidden=16, layers=1, heads=2, ffn=32, max_position=128)
    b = rehearsal.build_lm(tmp_path / "tok", base, 5, tmp_path / "base", texts=TOKENIZER_TEXTS * 10, pretrain_steps=3)
    s = rehearsal.build_lm(tmp_path / "tok", scorer, 6, tmp_path / "scorer")
    assert b["architecture"] == "Qwen2ForCausalLM" and s["architecture"] == "LlamaForCausalLM"
    assert b["vocab_size"] == s["vocab_size"] == 300 and (b["seed"], s["seed"]) == (5, 6)
    assert b["pretrain"]["steps"] == 3 and b["pretrain"]["tokens"] == 3 * 16 * 128 and "pretrain" not in s
    for info, folder in ((b, "base"), (s, "scorer")):
        config = json.loads((tmp_path / folder / "config.json").read_text())
        assert config["architectures"] == [info["architecture"]]
        model = AutoModelForCausalLM.from_pretrained(str(tmp_path / folder))
        assert sum(p.numel() for p in model.parameters()) == info["n_parameters"]
    config = json.loads((tmp_path / "base" / "config.json").read_text())
    assert (config["model_type"], config["num_attention_heads"], config["num_key_value_heads"]) == ("qwen2", 4, 2)
    assert not list(tmp_path.glob(".base.*")) and not list(tmp_path.glob(".scorer.*"))  # no temporary folder left
