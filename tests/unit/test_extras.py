"""Each optional extra of pyproject.toml imports at its pinned version where
it is installed, and is skipped, saying how to install it, where not."""

import importlib
import importlib.metadata as md
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]

#: what each extra is for: the modules its features import
MODULES = {
    "test": ["pytest"],
    "cluster": ["snakemake_executor_plugin_slurm", "snakemake_executor_plugin_slurm_jobstep"],
    "deepspeed": ["deepspeed", "hjson", "cpuinfo"],
}


def test_every_extra_is_checked_and_pinned():
    assert sorted(EXTRAS) == sorted(MODULES), "name the modules of a new extra in MODULES"
    for extra, reqs in EXTRAS.items():
        for req in reqs:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.]*", req), f"[{extra}] {req} is not pinned"


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_extra_imports_at_its_pins_when_installed(extra):
    pins = dict(req.split("==") for req in EXTRAS[extra])
    missing = []
    for dist in pins:
        try:
            md.version(dist)
        except md.PackageNotFoundError:
            missing.append(dist)
    if missing:
        flag = " --no-build-isolation" if extra == "deepspeed" else ""
        pytest.skip(f"extra [{extra}] not installed ({', '.join(missing)}): pip install{flag} -e '.[{extra}]'")
    for dist, version in pins.items():
        assert md.version(dist) == version, f"[{extra}] {dist} is {md.version(dist)}, pinned {version}"
    for module in MODULES[extra]:
        importlib.import_module(module)
