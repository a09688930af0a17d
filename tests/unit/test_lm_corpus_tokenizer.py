"""Generic corpus and byte-level BPE tokenizer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import TOKENIZER_TEXTS, tiny_tokenizer  # noqa: E402

from ila.lm.corpus import CorpusStats, clean_docstring, generic_corpus, split_paragraphs  # noqa: E402


def test_stdlib_corpus_is_deterministic_and_sized():
    s1, s2 = CorpusStats(), CorpusStats()
    a = generic_corpus(max_chars=30_000, stats=s1)
    b = generic_corpus(max_chars=30_000, stats=s2)
    assert a == b
    assert sum(map(len, a)) == 30_000
    assert len(a) > 20 and all(doc.strip() for doc in a)
    assert not any("\n\n\n" in doc for doc in a)
    assert s1.files_read > 0 and s1.chars == 30_000 and s1.documents == len(a)


def test_corpus_walks_sorted_skips_tests_and_reports_broken_files(tmp_path):
    (tmp_path / "b_mod.py").write_text('"""Second module.\n\n\n\n    Indented detail line that is long enough."""\n')
    (tmp_path / "a_mod.py").write_text(
        'def f():\n    """First function docstring, long enough to keep.\n\n    More text follows here."""\n'
    )
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "t.py").write_text('"""A test-suite docstring that must never be read."""\n')
    stats = CorpusStats()
    docs = generic_corpus(max_chars=10_000, stdlib_dir=str(tmp_path), min_doc_chars=10, stats=stats)
    assert docs == [
        "First function docstring, long enough to keep.\n\nMore text follows here.",
        "Second module.\n\nIndented detail line that is long enough.",
    ]
    assert [p for p, _ in stats.files_failed] == ["broken.py"]
    assert stats.files_read == 2
    # cut at max_chars
    cut = generic_corpus(max_chars=20, stdlib_dir=str(tmp_path), min_doc_chars=10)
    assert cut == ["First function docst"]


def test_clean_and_split():
    raw = "Summary line.\n\n\n        Body   \n          indented\n\n\n\n        End."
    assert clean_docstring(raw) == "Summary line.\n\nBody\n  indented\n\nEnd."
    assert split_paragraphs("aaaa\n\nbbbb\n\ncccc", max_doc_chars=10) == ["aaaa\n\nbbbb", "cccc"]


def test_tokenizer_round_trip_digits_and_reload(tmp_path):
    from transformers import AutoTokenizer

    tok = tiny_tokenizer(tmp_path / "tok")
    text = "Return 2024 items,  naïve café ✓\n\tdone {x}"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    digit_ids = tok("2024", add_special_tokens=False)["input_ids"]
    assert tok.convert_ids_to_tokens(digit_ids) == ["2", "0", "2", "4"]
    assert len(tok) == 300
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2)

    again = AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    assert again(text, add_special_tokens=False)["input_ids"] == ids
    assert again(text)["input_ids"] == [again.bos_token_id] + ids  # Llama-style bos
    assert again.eos_token == tok.eos_token and again.pad_token == tok.pad_token


def test_tokenizer_training_is_deterministic(tmp_path):
    tiny_tokenizer(tmp_path / "a")
    tiny_tokenizer(tmp_path / "b")
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()


def test_tokenizer_rejects_too_small_vocab(tmp_path):
    from ila.lm.tokenizer import train_tokenizer

    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(TOKENIZER_TEXTS, 200, tmp_path)
