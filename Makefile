# The two commands: `make up` runs the platform, `make test` runs the tests.
# Each creates .venv and installs what it needs; deploy/bringup.sh finds, starts or
# installs PostgreSQL and RabbitMQ.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: up test bench lint servers venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

servers:
	@deploy/bringup.sh

up: $(STAMP) servers
	$(PY) -m liuhen up

test: $(STAMP) servers lint
	$(PY) -m pytest

bench: $(STAMP) servers
	$(PY) bench/append.py
	$(PY) bench/ledger.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
