"""Glue for Snakemake entry points in scripts/: one call at the top of each
script applies the job's thread count, offline mode and log file, and
arranges for the provenance sidecars of its outputs (ila.provenance).

Science code never imports this module; it only concerns how a job runs."""

from __future__ import annotations

import logging
import os
import sys

from .runtime import set_offline, set_threads, setup_logging


def start(smk, torch: bool = False, provenance: bool = True) -> logging.Logger:
    """Prepare a job: stdout and stderr (progress bars, library warnings)
    go to the rule's log file; thread pools get exactly the job's threads;
    the hub is off when the config says offline. When the job ends without
    an error, every output gets a `<output>.provenance.json` sidecar
    (see ila.provenance); a failed job writes none."""
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
        from .runtime import torch_threads

        torch_threads(threads)
    log = setup_logging(None)
    log.info("rule %s: %d thread(s)", smk.rule, threads)
    if provenance:
        from .provenance import install

        install(smk)
    return log
