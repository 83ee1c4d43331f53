# Tally: `make run` starts the whole system with demo data; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/contracts libs/runtime libs/tally-client deploy/local \
	services/usage-ingest services/billing services/analytics services/assistant services/gateway
STAMP := $(VENV)/.installed-stamp
# Type-checked sources (each package's tests share module names, so they are linted by ruff only).
SOURCES := libs/contracts/contracts libs/runtime/tally_runtime libs/tally-client/tally_client deploy/local/tally_stack \
	services/usage-ingest/usage_ingest services/billing/billing services/analytics/analytics \
	services/assistant/assistant services/gateway/gateway bench

.PHONY: install run up down test unit lint fmt contracts bench clean

install: $(STAMP)

$(STAMP): constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
		$(addprefix -e ,$(PACKAGES))
	@touch $@

run: install
	$(BIN)/python -m tally_stack run

up: install
	$(BIN)/python -m tally_stack up

down: install
	$(BIN)/python -m tally_stack down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(SOURCES)

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contracts: install
	$(BIN)/python -m contracts.schemas

test: lint
	$(BIN)/python -m pytest libs services deploy tests

unit: install
	$(BIN)/python -m pytest libs services deploy tests -m "not infra"

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tally
