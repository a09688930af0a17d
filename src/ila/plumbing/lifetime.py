"""Glue for Snakemake entry points in scripts/: each script's work is the
block of ``with job(snakemake) as log:``, which applies the job's thread
count, offline mode and log file, and writes the provenance sidecars of its
outputs when the block succeeds (ila.plumbing.provenance).

Science code never imports this module; it only concerns how a job runs."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from ..runtime import set_offline, set_threads, setup_logging


def _prepare(smk, torch: bool) -> logging.Logger:
    """stdout and stderr (progress bars, library warnings, a traceback) go to
    the rule's log file; thread pools get exactly the job's threads; the hub
    is off when the config says offline."""
    if smk.log:
        log_path = str(smk.log[0])
        os.makedirs(os.path.dirname(os.path.abspath(log_path)) or ".", exist_ok=True)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    set_offline(bool(smk.config.get("offline", True)))
    threads = set_threads(smk.threads)
    if torch:
        from ..runtime import torch_threads

        torch_threads(threads)
    log = setup_logging(None)
    log.info("rule %s: %d thread(s)", smk.rule, threads)
    return log


@contextmanager
def job(smk, torch: bool = False, provenance: bool = True) -> Iterator[logging.Logger]:
    """The lifetime of one Snakemake job, as the block of its script::

        with job(snakemake) as log:
            ...  # the work

    On entry: logging, threads and offline mode (see :func:`_prepare`), and
    the sidecars of an earlier run of these outputs are removed. When the
    block ends without an error (or with ``sys.exit(0)``) every output gets
    its ``<output>.provenance.json`` sidecar (ila.plumbing.provenance); an exception
    or a non-zero exit leaves none and propagates."""
    log = _prepare(smk, torch)
    if not provenance:
        yield log
        return
    from . import provenance as prov

    prov.clear_sidecars(smk)
    try:
        yield log
    except SystemExit as stop:
        if stop.code in (None, 0):
            prov.finish_job(smk)
        raise
    prov.finish_job(smk)
