# tufkit: `make demo` runs the main job end to end, `make test` runs the whole suite.
# Both create .venv on first use; neither needs a manual step.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit suite bench clean system-deps

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,sigstore]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: venv
	$(BIN)/tufkit demo

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy --strict src
	MYPY=$(BIN)/mypy bash scripts/typecheck-tests.sh

# Fast feedback: no test that starts real processes or servers, no slow test.
unit: venv
	$(BIN)/pytest -q -m "not integration and not slow"

# The whole suite with branch coverage; fails under the floor in pyproject.toml.
suite: venv
	$(BIN)/pytest -q --cov --cov-report=term

test: venv system-deps lint typecheck suite

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
