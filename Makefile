# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run serve test check lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# With no config of your own this is the built-in demo config (demo SIP target in a child process,
# SQLite under ~/.local/share/callmeter-tui, so history accumulates between runs). RUN_ARGS=--demo for
# a throw-away database, RUN_ARGS="--config my.toml" for your own.
RUN_ARGS ?=
run: $(STAMP)
	$(BIN)/callmeter-tui run $(RUN_ARGS)

serve: $(STAMP)
	$(BIN)/callmeter-tui serve $(RUN_ARGS)

check: $(STAMP)
	$(BIN)/callmeter-tui check

# Lint gates (CI runs them before the tests): lint, formatting, types, the import contracts in pyproject.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -p no:cacheprovider $(PYTEST_ARGS)

# Each script records its figures in bench/results.json; the README's figures table is regenerated from it.
bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done
	$(BIN)/python bench/readme_table.py

clean:
	rm -rf $(VENV) build dist *.egg-info
