"""The conda environments in envs/ pin the same versions as pyproject.toml,
and every rule names one of them."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pyproject_pins():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for d in deps:
        name, _, version = d.partition("==")
        name = name.split("[")[0]
        assert version, f"pyproject dependency {d!r} is not pinned exactly"
        pins[name.lower()] = version
    return pins


def env_pins(path):
    env = yaml.safe_load(path.read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for item in dep.get("pip", []):
                if "==" in item:
                    name, version = item.split("==")
                    pins[name.split("[")[0].lower()] = version
        elif isinstance(dep, str) and dep.startswith("python="):
            pins["python"] = dep.split("=", 1)[1]
    return pins


def test_every_env_pins_the_same_versions_as_pyproject():
    pins = pyproject_pins()
    envs = sorted((ROOT / "envs").glob("*.yaml"))
    assert {p.stem for p in envs} == {"data", "embed", "train", "analysis", "evaluate"}
    for path in envs:
        got = env_pins(path)
        assert got.pop("python") == "3.11", path.name
        assert got, f"{path.name} pins nothing"
        for name, version in got.items():
            assert name in pins, f"{path.name}: {name} is not a dependency in pyproject.toml"
            assert version == pins[name], f"{path.name}: {name}=={version} but pyproject pins {pins[name]}"


def test_every_rule_declares_a_conda_env_that_exists():
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        text = smk.read_text()
        # `rule name:`, and `rule:` with a name: directive for the rules a loop defines (one per group of runs)
        rules = re.findall(r"^\s*rule(?: (\w+))?:", text, flags=re.M)
        envs = re.findall(r'conda:\s*\n\s*"\.\./envs/(\w+)\.yaml"', text)
        assert len(envs) == len(rules), f"{smk.name}: {len(rules)} rules but {len(envs)} conda directives"
        for e in envs:
            assert (ROOT / "envs" / f"{e}.yaml").exists()
