# Two commands: `make run` sets everything up and runs the product, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT := DEBIAN_FRONTEND=noninteractive apt-get install -y -q

.PHONY: run test lint bench clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); $(APT) python3-venv && $(PYTHON) -m venv $(VENV); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cloudstore up

# Browser tests drive Debian's chromium, the shared-counter tests a redis-server and the benchmark's smoke test
# wrk; install them when we may (root), else those tests are skipped.
SYSTEM_PACKAGES := chromium redis-server wrk
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then apt-get update -q && $(APT) $$missing; fi

test: $(STAMP) system-packages
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The stack benchmark drives the services with wrk (Debian's package); DATABASE_URL=postgresql://... for PostgreSQL.
bench: $(STAMP) system-packages
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
