"""How a job runs and how its results are traced, kept apart from the
science: the lifetime of a Snakemake job (:func:`job`, the block every script
runs in), provenance sidecars (hashing, provenance, report) and the
``ila-audit`` command (audit, configs, rerun, dryrun). No science module
imports this package."""

from .lifetime import job

__all__ = ["job"]
