# Two commands for a fresh machine (Python 3.11, no GPU, offline but PyPI):
#   make run    create .venv, install pinned dependencies, run the default pipeline
#   make test   create the same environment and run the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?=
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: run test test-rehearsal test-cluster lint report clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first and exactly pinned: a loose requirement pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG)) $(SNAKEMAKE_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# configs/rehearsal.yaml end to end on local stand-ins, then the GPU check's
# script with CPU stand-ins (bench/gpu_check.sh --cpu); ~25 minutes on 2 cores.
test-rehearsal: $(STAMP)
	$(BIN)/python -m pytest tests/workflow/test_rehearsal_workflow.py tests/workflow/test_gpu_check.py -m rehearsal $(PYTEST_ARGS)

CLUSTER_SITE := $(VENV)/cluster-plugins

# The SLURM executor plugin in a side folder, on PYTHONPATH only for
# test-cluster: the default environment (and `make test`) never loads it.
$(CLUSTER_SITE)/.installed: | $(STAMP)
	$(BIN)/pip install --quiet --no-deps --target $(CLUSTER_SITE) snakemake-executor-plugin-slurm==2.8.0 snakemake-executor-plugin-slurm-jobstep==0.6.1
	touch $@

# Starts a one-node SLURM cluster here (root, apt), runs configs/smoke.yaml
# locally and on it, and compares the outputs.
test-cluster: $(STAMP) $(CLUSTER_SITE)/.installed
	PYTHONPATH=$(abspath $(CLUSTER_SITE)) $(BIN)/python -m pytest tests/cluster -m cluster $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/snakemake --lint

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html $(if $(CONFIG),--configfile $(CONFIG))

clean-venv:
	rm -rf $(VENV)
