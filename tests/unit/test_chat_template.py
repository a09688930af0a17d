"""model.prompt.chat_template: every stage conditions on the model's own chat
template of the record's conversation before its last assistant turn, with
the loss on that turn and eos; the default stays the prompt template."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import make_record, tiny_base, tiny_tokenizer, toy_records  # noqa: E402

from ila import accuracy  # noqa: E402
from ila.lm.data import IGNORE_INDEX, tokenize_records  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.pool.formats import messages_json, parse_row, record_turns  # noqa: E402
from ila.pool.toy.choices import answer_rows, mc_rows  # noqa: E402

# ChatML-like, as Qwen2 and Tulu ship it
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CHAT = PromptTemplate(chat_template=True)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return tiny_tokenizer(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    t = tiny_tokenizer(tmp_path_factory.mktemp("chat"))
    t.chat_template = CHATML
    return t


def enc(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def chat_text(tok, turns):
    return tok.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)


def pool_record(row: dict) -> dict:
    """A pool row as the ingest keeps it: canonical columns and the whole conversation."""
    conv = parse_row(row, "auto", {k: k for k in ("instruction", "input", "output", "system", "history", "messages",
                                                 "conversations", "prompt", "completion")})
    return {"id": "r", "instruction": conv.instruction, "input": conv.input, "output": conv.output,
            "domain": "", "messages": messages_json(conv.messages)}


def labelled(ex):
    return [x for x in ex.labels if x != IGNORE_INDEX]


def test_single_turn_prompt_is_the_chat_template_text_and_the_loss_is_on_the_response(tok):
    rec = make_record("Return the sum of the two numbers.", "2 and 3", "2 + 3 = 5")
    [ex] = tokenize_records([rec], tok, CHAT).examples
    text = chat_text(tok, [{"role": "user", "content": "Return the sum of the two numbers.\n\n2 and 3"}])
    assert text == "<|im_start|>user\nReturn the sum of the two numbers.\n\n2 and 3<|im_end|>\n<|im_start|>assistant\n"
    prompt = [tok.bos_token_id] + enc(tok, text)
    response = enc(tok, "2 + 3 = 5") + [tok.eos_token_id]
    assert ex.input_ids == prompt + response
    assert ex.labels == [IGNORE_INDEX] * len(prompt) + response and ex.T == len(response)
    # the prompt template gives another prompt for the same response
    [plain_ex] = tokenize_records([rec], tok, PromptTemplate()).examples
    assert plain_ex.input_ids[: len(prompt)] != prompt and labelled(plain_ex) == response


def test_multi_turn_messages_use_every_context_turn_and_the_loss_is_on_the_last_assistant_turn(tok):
    turns = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Sort the words."},
        {"role": "assistant", "content": "Which words?"},
        {"role": "user", "content": "fox dog"},
        {"role": "assistant", "content": "dog fox"},
    ]
    rec = pool_record({"messages": turns})
    assert rec["instruction"].startswith("<|system|>\nBe brief.") and rec["output"] == "dog fox"
    [ex] = tokenize_records([rec], tok, CHAT).examples
    text = chat_text(tok, turns[:-1])
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n") and "Which words?" in text
    prompt = [tok.bos_token_id] + enc(tok, text)
    response = enc(tok, "dog fox") + [tok.eos_token_id]
    assert ex.input_ids == prompt + response
    assert ex.labels == [IGNORE_INDEX] * len(prompt) + response
    # an earlier assistant turn is context: none of its tokens carries a loss
    assert ex.T == len(response) == len(labelled(ex))


def test_an_alpaca_record_is_one_user_turn_and_a_system_prompt_is_kept(tok):
    rec = make_record("Sort the words.", "fox dog", "dog fox")
    assert record_turns(rec) == [{"role": "user", "content": "Sort the words.\n\nfox dog"},
                                 {"role": "assistant", "content": "dog fox"}]
    assert record_turns({**rec, "input": ""})[0] == {"role": "user", "content": "Sort the words."}
    assert record_turns({**rec, "system": "Be brief."})[0] == {"role": "system", "content": "Be brief."}
    # the same row through the ingest (its messages column) renders the same prompt
    ingested = pool_record({"instruction": "Sort the words.", "input": "fox dog", "output": "dog fox"})
    assert (ingested["instruction"], ingested["input"]) == ("Sort the words.", "fox dog")
    assert CHAT.render(ingested, tok) == CHAT.render(rec, tok) == chat_text(tok, record_turns(rec)[:1])


def test_a_leading_bos_of_the_chat_template_is_not_doubled(tok, tmp_path):
    llama = tiny_tokenizer(tmp_path)
    llama.chat_template = "{{ bos_token }}" + CHATML
    rec = make_record("Sort the words.", "", "a b")
    [ex] = tokenize_records([rec], llama, CHAT).examples
    [chatml] = tokenize_records([rec], tok, CHAT).examples
    assert ex.input_ids == chatml.input_ids and ex.input_ids.count(llama.bos_token_id) == 1


def test_messages_that_disagree_with_the_output_fail_naming_the_record(tok):
    rec = pool_record({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
    with pytest.raises(ValueError, match="record 'r': the last assistant turn"):
        CHAT.render({**rec, "output": "c"}, tok)


def test_a_tokenizer_without_a_chat_template_fails_naming_the_key_and_the_model(plain):
    plain.name_or_path = "models/plain-base"
    with pytest.raises(ValueError, match=r"model\.prompt\.chat_template is true, but the tokenizer of "
                                         r"'models/plain-base' has no chat template"):
        tokenize_records(toy_records(2), plain, CHAT)
    with pytest.raises(ValueError, match="model.prompt.chat_template"):
        CHAT.render(toy_records(1)[0])  # a stage that forgot the tokenizer


def test_the_default_renders_the_prompt_template_without_a_tokenizer():
    rec = make_record("Do {x}.", "a {b}", "c", "d")
    assert PromptTemplate().render(rec) == PromptTemplate().format("Do {x}.", "a {b}")
    assert PromptTemplate().render({**rec, "input": None}) == PromptTemplate().format("Do {x}.")


def test_generation_and_multiple_choice_prompts_use_the_chat_template(tok):
    problems = [{**make_record("Sort the words.", "fox dog", "dog fox"), "answer": "dog fox"}]
    assert accuracy.prompts_for(problems, CHAT, tok) == [CHAT.render(problems[0], tok)]
    assert accuracy.prompts_for(problems, PromptTemplate()) == [PromptTemplate().format("Sort the words.", "fox dog")]
    item = {"id": "m", "family": "sort", "instruction": "Sort the words.", "input": "fox dog", "label": 0,
            "choices": ["Step 1: x\nAnswer: 1", "Step 1: x\nAnswer: 2", "Step 1: x\nAnswer: 3", "Step 1: x\nAnswer: 4"],
            "distractors": ["gold", "wrong_answer", "flipped_task", "other_problem"]}
    [row] = mc_rows([item], CHAT, tok)
    assert row["prompt"] == CHAT.render(item, tok) and row["prompt"].endswith("<|im_start|>assistant\n")
    [answer], _ = answer_rows([item], CHAT, tokenizer=tok)
    assert answer["prompt"] == CHAT.render(item, tok) + "Step 1: x\n"


def test_a_fine_tune_in_chat_mode_trains_and_scores_dev_and_generates(tmp_path):
    from transformers import AutoTokenizer

    from ila.lm.train import FinetuneSettings, finetune

    path, model, tok = tiny_base(tmp_path / "base")
    tok.chat_template = CHATML
    tok.save_pretrained(path)
    assert AutoTokenizer.from_pretrained(path).chat_template == CHATML
    records, dev = toy_records(8), toy_records(12, seed=1)[-4:]
    settings = FinetuneSettings(max_steps=3, lr=1e-2, batch_size=4, max_length=128, warmup_ratio=0.0,
                                logging_steps=1)
    m = finetune(path, records, settings, CHAT, seed=0, out_dir=str(tmp_path / "tuned"), dev_records=dev,
                 dev_batch_size=4)
    assert m["steps"] == 3 and m["examples"] == 8 and not m["untrainable_ids"]
    assert m["dev"]["n_examples"] == 4 and math.isfinite(m["dev"]["token_mean"])
    plain = finetune(path, records, settings, PromptTemplate(), seed=0, save_model=False, dev_records=dev,
                     dev_batch_size=4)
    assert plain["dev"]["token_mean"] != m["dev"]["token_mean"]  # another prompt, another model and loss
    problems = [{**r, "answer": "0"} for r in dev]
    score, rows = accuracy.evaluate_model(str(tmp_path / "tuned"), problems, CHAT, max_new_tokens=4)
    assert score["n"] == 4 and [r["id"] for r in rows] == [r["id"] for r in dev]



def test_depth_scores_are_the_response_loss_after_the_chat_template_prompt(tmp_path):
    import torch

    from ila.lm.scoring import response_losses

    _, model, tok = tiny_base(tmp_path)
    tok.chat_template = CHATML
    records = toy_records(3)
    frame, _ = response_losses(model, tok, records, CHAT, progress=False)
    for rec, T, loss in zip(records, frame["T"], frame["loss_sum"]):
        prompt = [tok.bos_token_id] + enc(tok, CHAT.render(rec, tok))
        ids = prompt + enc(tok, rec["output"]) + [tok.eos_token_id]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)
        manual = -sum(float(logp[i - 1, ids[i]]) for i in range(len(prompt), len(ids)))
        assert T == len(ids) - len(prompt) and loss == pytest.approx(manual, rel=1e-4)


def test_lm_eval_benchmarks_render_requests_with_the_chat_template(tmp_path):
    """A tiny model taught one answer under the chat-rendered prompt answers
    lm-eval's request when lm-eval renders it with the chat template
    (benchmarks.evaluate(chat_template=True), what the benchmark rule passes
    for model.prompt.chat_template), and not from the bare prompt."""
    from ila import benchmarks
    from ila.lm.train import FinetuneSettings, finetune

    base, _, tok = tiny_base(tmp_path / "model")
    tok.chat_template = CHATML
    tok.save_pretrained(base)
    taught = {"instruction": "Add the numbers.", "input": "20 + 6", "output": "Answer: 26", "domain": "add"}
    records = [dict(taught, id=f"copy{i}") for i in range(16)]
    finetune(base, records, FinetuneSettings(epochs=8, lr=2e-2, batch_size=4, max_length=128, warmup_ratio=0.0),
             CHAT, seed=0, out_dir=str(tmp_path / "tuned"), threads=1)
    user = taught["instruction"] + "\n\n" + taught["input"]  # the user turn record_turns builds
    benchmarks.write_generation_task(tmp_path / "tasks", "chat_local", [{"prompt": user, "answer": "26"}], max_gen_toks=12)
    run = {"include_path": str(tmp_path / "tasks"), "batch_size": 1}
    chat = benchmarks.evaluate(str(tmp_path / "tuned"), ["chat_local"], chat_template=True, **run)
    bare = benchmarks.evaluate(str(tmp_path / "tuned"), ["chat_local"], chat_template=False, **run)
    assert chat["tasks"]["chat_local"]["exact_match,final_answer"] == 1.0
    assert bare["tasks"]["chat_local"]["exact_match,final_answer"] == 0.0
