# `make demo`, `make test` and `make bench` each build their own virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint typecheck unit system-deps clean

# setuptools explains every editable install of a package mapped to another folder (here
# templates/ → fairwarning_templates) with an information-only "Editable installation."
# warning; only that one is silenced, every other warning and error still shows.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation:UserWarning' $(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fairwarning demo --dir demo

test: lint typecheck unit

# A benchmark, not a test: results go into docs/benchmarks.md (about 15 minutes).
bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps
	$(BIN)/pytest -q

# Debian packages the tests need (chromium, systemd, e2fsprogs, util-linux, postgresql); installed when
# missing and running as root, else it stops and says how.
system-deps:
	.ci/system-deps

clean:
	rm -rf $(VENV) demo build *.egg-info
