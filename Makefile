# mou-tracker: `make demo` opens the app on a demo database; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DB ?= $(CURDIR)/demo.db

.PHONY: install system-deps demo test test-fast bench bench-tiny lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e . --group test
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf "$(DEMO_DB)" "$(DEMO_DB)-wal" "$(DEMO_DB)-shm" "$(dir $(DEMO_DB))demo-keys"
	$(VENV)/bin/mou-tracker --db "sqlite:///$(DEMO_DB)" init --demo
	$(VENV)/bin/mou-tracker --db "sqlite:///$(DEMO_DB)"

system-deps:
	bash scripts/system-deps.sh

test: install system-deps
	$(PY) -m pytest -q -n 4

test-fast: install
	MOU_TEST_PG=off $(PY) -m pytest -q -x

lint: install
	$(VENV)/bin/ruff check mou_tracker tests benchmarks migrations

bench: install
	$(PY) -m benchmarks.run

bench-tiny: install
	$(PY) -m benchmarks.run --tiny --skip-postgres

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist demo.db demo.db-wal demo.db-shm demo-keys
