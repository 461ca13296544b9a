# The two set-up commands of the README: `make demo` and `make test`. Each creates the virtual
# environment on first use (and again when a requirements file changes).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dnaf-installed
CORES ?= all
# rules call the `dnaf` CLI of this environment
RUN := PATH="$(abspath $(BIN)):$$PATH"

.PHONY: install demo test lint texture-study

install: $(STAMP)

$(STAMP): envs/requirements.txt envs/requirements-test.txt envs/requirements-pose.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r envs/requirements.txt -r envs/requirements-test.txt
	# mediapipe without its numpy<2 pin (envs/requirements-pose.txt says why)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r envs/requirements-pose.txt
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	touch $@

demo: $(STAMP)
	$(RUN) snakemake --cores $(CORES) demo

# the texture study (docs/texture-study.md): about half an hour on 2 cores, not part of the demo
texture-study: $(STAMP)
	$(RUN) snakemake --cores $(CORES) --configfile config/texture-study.yaml -- texture_study

test: $(STAMP)
	$(RUN) pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check dnaf tests benchmarks
	$(BIN)/ruff format --check dnaf tests benchmarks
	$(RUN) snakemake --lint
