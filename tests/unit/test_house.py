"""House rules of the code base: one lint setting (pyproject's [tool.ruff])
that CI checks, and no import cycle in the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "ila"


def test_the_tree_passes_the_lint_setting_of_pyproject():
    pytest.importorskip("ruff", reason="ruff is in the [test] extra: pip install -e '.[test]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    # the script entry points need no per-line suppressions: pyproject's per-file setting holds them
    marked = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "scripts").glob("*.py"))
              if "# noqa: F821" in p.read_text() or "# noqa: E402" in p.read_text()]
    assert marked == []


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def module_imports(path: Path) -> set[str]:
    """The ila modules that ``path`` imports when it is imported: import
    statements at module level (not inside functions, not under
    ``if TYPE_CHECKING``), relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for sub in getattr(node, block, []) or []:
                        visit(sub.body if isinstance(sub, ast.ExceptHandler) else [sub])
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name.split(".")[0] == "ila")
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "ila":
                    continue
                if not (name + ".").startswith(target + "."):  # a module's own packages are imported before it
                    out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)  # `from pkg import module`

    visit(ast.parse(path.read_text()).body)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    names = {module_name(p) for p in paths}
    graph = {}
    for p in paths:
        me = module_name(p)
        graph[me] = {m for m in module_imports(p) if m in names and m != me}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert "ila.finetune.core" in graph and "ila.io" in graph["ila.finetune.core"]
    found = cycles(graph)
    assert found == [], found


def test_every_path_the_readme_names_exists():
    """Repository paths in the README exist; the result tables and figures it
    cites are products of some rule."""
    import re

    text = (ROOT / "README.md").read_text()
    rules = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    top = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")} - {"results"}
    missing, unmade = [], []
    for path in sorted(set(re.findall(r"`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]*)*)`", text))):
        head = path.split("/", 1)[0]
        if head in top and "/" in path or path in top:
            if not (ROOT / path).exists():
                missing.append(path)
        elif head in ("tables", "figures") and "/" in path:
            stem = path.rsplit(".", 1)[0]
            if not re.search(rf'["/]({re.escape(path)}|{re.escape(stem)}\.)', rules):
                unmade.append(path)
    assert missing == [] and unmade == []


def test_every_selection_method_has_its_test_file_at_the_mirror_path():
    """One method, one module, one test file: src/ila/selection/methods/<name>.py
    is tested in tests/unit/selection/methods/test_<name>.py."""
    methods = sorted(p.stem for p in (PACKAGE / "selection" / "methods").glob("*.py") if p.stem != "__init__")
    tests = ROOT / "tests" / "unit" / "selection" / "methods"
    assert len(methods) >= 13 and "ila_roundrobin" in methods
    missing = [f"tests/unit/selection/methods/test_{name}.py" for name in methods
               if not (tests / f"test_{name}.py").is_file()]
    assert missing == []


def test_rule_files_write_wildcards_plainly():
    """Paths in rules/*.smk are plain strings through the path helpers of
    rules/common.smk (results(), logs(), ...), so a wildcard is written once
    as {method}, never escaped for an f-string or an expand as {{method}}."""
    escaped = [f"{p.name}:{n}" for p in sorted((ROOT / "rules").glob("*.smk"))
               for n, line in enumerate(p.read_text().splitlines(), 1) if "{{" in line or "}}" in line]
    assert escaped == []


def test_no_module_of_the_package_is_over_500_lines():
    """A module that grows past 500 lines has more than one job: it becomes a
    package (like regression/ or pool/toy/)."""
    long = {str(p.relative_to(PACKAGE)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
