# AutoML Advisor — the two commands of the README's quickstart, and their parts.
#   make demo   create .venv, install the package, run the tour on the embedded defaults
#   make test   create .venv, install with the dev tools, start PostgreSQL/Redis if installed
#               and down, lint, type-check and run the tests

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: services demo test lint typecheck pytest install docs-figures bench bench-learners clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,dist]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/advisor demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n auto

# PostgreSQL and Redis (when installed) for the distributed-mode tests.
services:
	scripts/services-up

test: services lint typecheck pytest

# Regenerates the pictures and class-count table of docs/DATASETS.md.
docs-figures: $(STAMP)
	$(BIN)/python -m bench.datasets_doc

# The figures of docs/BENCHMARKS.md: data layer, then meta-features against PyMFE (~20 min).
bench: $(STAMP)
	$(BIN)/python -m bench.data_layer
	$(BIN)/python -m bench.meta_features

# Few-shot accuracy of every learner (hours on 2 cores; see bench/learners.py for options).
bench-learners: $(STAMP)
	$(BIN)/python -m bench.learners

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
