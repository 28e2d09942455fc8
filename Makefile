# kabar: `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pytest workers (pytest-xdist): the suite waits on fake servers and the database as much as it
# computes, so two workers finish it in about half the time even on two cores.
JOBS ?= 2
PYTEST := $(BIN)/pytest -n $(JOBS) --dist worksteal
SOURCES := bot handlers models tests bench

.PHONY: install test quick lint typecheck pytest bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy $(SOURCES)

pytest: install
	$(PYTEST)

test: lint typecheck pytest

# Everything but the tests marked slow (over about 5 s each): for the edit-test loop.
quick: lint typecheck
	$(PYTEST) -m "not slow"

# Figures, not pass/fail: see docs/benchmarks.md. Set KABAR_TEST_DATABASE_URL to add PostgreSQL.
bench: install
	$(BIN)/python -m bench

# Try kabar in the terminal: a throwaway shop, chat as customer, staff or reseller.
demo: install
	$(BIN)/kabar demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
