# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean qemu-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/clicker demo --headless

test: $(VENV)/.installed
	bash scripts/system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) -s --no-print-directory -C firmware format-check
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python bench/tally.py
	$(BIN)/python bench/wire.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/projectors.py
	$(BIN)/python bench/door.py
	$(BIN)/python bench/federation.py
	$(BIN)/python bench/flood.py
	$(BIN)/python bench/long_session.py

# The firmware images in QEMU (hardware.md): the last line of stdout is the JSON report.
qemu-test: $(VENV)/.installed
	$(MAKE) -s --no-print-directory -C firmware qemu-test

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist
