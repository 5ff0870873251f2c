# make demo  - create .venv, install, run the demo against the local org emulator
# make test  - create .venv, install with test extras, lint, type-check, run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit e2e bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,reports,learn]'
	touch $(STAMP)

# The HTML report test opens the report in a real headless Chromium: install
# Debian's package when it is missing and apt works here (root or sudo without a
# password); elsewhere the test skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ command -v apt-get >/dev/null 2>&1 && \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "chromium: not installed and no root for apt-get; its test will skip"; exit 0; fi && \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium >/dev/null || \
	    echo "chromium: apt-get could not install it; its test will skip"; }; } || \
	echo "chromium: no apt-get here; its test will skip"


demo: $(STAMP)
	$(BIN)/connector demo

lint: $(STAMP)
	$(BIN)/ruff check connector tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n auto -m "not e2e" -q

e2e: $(STAMP)
	$(BIN)/pytest -n auto -m e2e -q

test: lint typecheck chromium $(STAMP)
	$(BIN)/pytest -n auto -q

bench: $(STAMP)
	$(BIN)/python scripts/bench_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
