"""Fixtures that run the real workflow (snakemake on configs/smoke.yaml) in a
temporary working directory, once per test session."""

import pytest
from workflow_support import snakemake


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A complete run of the smoke config; returns the working directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    snakemake(workdir)
    return workdir
