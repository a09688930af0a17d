"""Model handles: a small JSON file naming the model a stage should load
through ``from_pretrained``: a folder the workflow trained, or a hub name.
Downstream rules depend on the handle, so the same rules serve the tiny
embedded model and a Llama/Qwen checkpoint."""

from __future__ import annotations

from . import io


def write_handle(path: str, name_or_path: str, kind: str) -> None:
    io.write_json(path, {"name_or_path": name_or_path, "kind": kind})


def read_handle(path: str) -> str:
    data = io.read_json(path)
    if "name_or_path" not in data:
        raise ValueError(f"{path}: not a model handle (no name_or_path)")
    return data["name_or_path"]
