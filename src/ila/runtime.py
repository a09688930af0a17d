"""Process-level settings every job applies before heavy imports: thread
counts (oversubscribed OpenMP on a small machine runs many times slower),
offline mode for the Hugging Face libraries, logging to the rule's log file."""

from __future__ import annotations

import logging
import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def set_threads(n: int) -> int:
    """Pin every thread pool to `n` threads. Call before importing torch where
    possible; torch's own pools are set as well if it is already loaded."""
    n = max(1, int(n))
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set in this process
            pass
    return n


def torch_threads(n: int) -> None:
    """Set torch's thread pools (imports torch)."""
    set_threads(n)
    import torch

    torch.set_num_threads(max(1, int(n)))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def set_offline(offline: bool = True) -> None:
    """Hub access off: the embedded default must never touch the network."""
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def setup_logging(log_path: str | None = None, level: int = logging.INFO) -> logging.Logger:
    """Log to the rule's log file (and stderr); returns the package logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger("ila")
