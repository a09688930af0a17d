"""A generic, offline pretraining corpus: the docstrings of the Python
standard library.

The corpus is deterministic for a given Python version: files are visited in
sorted order, each is parsed with :mod:`ast` (never imported), and the
docstrings of modules, classes and functions are cleaned and split into
paragraph-sized documents. Nothing is downloaded.
"""

from __future__ import annotations

import ast
import os
import re
import sysconfig
import textwrap
import warnings
from dataclasses import dataclass, field

#: Folders of the standard library that are not prose about the library
#: itself (test suites, the IDLE GUI, the retired 2to3 tool) or not the
#: standard library at all (installed packages).
SKIPPED_DIRS = frozenset(
    {"test", "tests", "idle_test", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__"}
)

_BLANK_RUN = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


@dataclass
class CorpusStats:
    """What went into a corpus: files read, files skipped because they failed
    to parse (path and reason), docstrings seen, documents skipped as too
    short, documents and characters kept."""

    files_read: int = 0
    files_failed: list[tuple[str, str]] = field(default_factory=list)
    docstrings: int = 0
    short_documents_skipped: int = 0
    documents: int = 0
    chars: int = 0


def clean_docstring(text: str) -> str:
    """Dedent a docstring, strip trailing spaces, collapse runs of blank
    lines into a single blank line and strip the ends."""
    text = textwrap.dedent(text.expandtabs(4))
    # the first line of a docstring is usually not indented: dedent the rest
    lines = text.split("\n")
    if len(lines) > 1:
        rest = textwrap.dedent("\n".join(lines[1:]))
        text = lines[0].strip() + "\n" + rest
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUN.sub("\n\n", text)
    return text.strip()


def split_paragraphs(text: str, max_doc_chars: int = 1200) -> list[str]:
    """Split a cleaned docstring at blank lines and regroup consecutive
    paragraphs into documents of at most ``max_doc_chars`` characters (a
    single longer paragraph stays whole)."""
    docs: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        if current and len(current) + 2 + len(para) > max_doc_chars:
            docs.append(current)
            current = para
        else:
            current = f"{current}\n\n{para}" if current else para
    if current:
        docs.append(current)
    return docs


def _stdlib_files(root: str) -> list[str]:
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            if name.endswith(".py"):
                files.append(os.path.join(dirpath, name))
    return files


def _docstrings(tree: ast.AST) -> list[str]:
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append(doc)
    return out


def generic_corpus(
    max_chars: int = 1_500_000,
    stdlib_dir: str | None = None,
    max_doc_chars: int = 1200,
    min_doc_chars: int = 40,
    stats: CorpusStats | None = None,
) -> list[str]:
    """Docstrings of the Python standard library as a list of paragraph-sized
    documents, up to ``max_chars`` characters in total (the last document is
    cut to fit).

    Files under ``stdlib_dir`` (default ``sysconfig.get_paths()["stdlib"]``)
    are read in sorted order; folders in :data:`SKIPPED_DIRS` are skipped;
    a file that cannot be read or parsed is skipped and recorded in
    ``stats.files_failed``. Documents shorter than ``min_doc_chars`` (one-line
    stubs such as "Return self.") are not kept. Pass a :class:`CorpusStats`
    to learn what was read.
    """
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    root = stdlib_dir or sysconfig.get_paths()["stdlib"]
    if not os.path.isdir(root):
        raise FileNotFoundError(f"standard library folder not found: {root}")
    stats = stats if stats is not None else CorpusStats()
    docs: list[str] = []
    total = 0
    for path in _stdlib_files(root):
        try:
            with open(path, encoding="utf-8") as fh:
                source = fh.read()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escape sequences in old files
                tree = ast.parse(source, filename=path)
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError) as exc:
            stats.files_failed.append((os.path.relpath(path, root), f"{type(exc).__name__}: {exc}"))
            continue
        stats.files_read += 1
        for raw in _docstrings(tree):
            stats.docstrings += 1
            for doc in split_paragraphs(clean_docstring(raw), max_doc_chars):
                if len(doc) < min_doc_chars:
                    stats.short_documents_skipped += 1
                    continue
                if total + len(doc) >= max_chars:
                    doc = doc[: max_chars - total]
                    docs.append(doc)
                    total += len(doc)
                    stats.documents = len(docs)
                    stats.chars = total
                    return docs
                docs.append(doc)
                total += len(doc)
    stats.documents = len(docs)
    stats.chars = total
    return docs
