# One command to set up and run the pipeline (`make run`), one to set up and test (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DVC runs stage commands through the shell: `python` must be the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint bench dashboard plots-offline clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: set up .venv and run the whole pipeline (dvc repro)
run: $(STAMP)
	$(BIN)/dvc repro

## make test: set up .venv with the dev extra and run the test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

## make bench: training-speed benchmark (minutes; not a test)
bench: $(STAMP)
	$(BIN)/python -m bench.train_speed

dashboard: $(STAMP)
	$(BIN)/python -m tui

## make plots-offline: dvc_plots/index.html that opens without internet (vega scripts fetched once
## with npm into build/vega/ and inlined); PLOTS="diff HEAD~1" compares revisions instead
PLOTS ?= show
plots-offline: $(STAMP)
	$(BIN)/python -m tools.offline_html build/vega
	$(BIN)/dvc plots $(PLOTS) --html-template build/vega/offline.html

clean-venv:
	rm -rf $(VENV)
