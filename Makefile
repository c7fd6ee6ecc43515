# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run serve test check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/callmeter-tui --demo

serve: $(STAMP)
	$(BIN)/callmeter-tui serve --demo

check: $(STAMP)
	$(BIN)/callmeter-tui check

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info
