# Tally: `make run` starts the whole system with demo data; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/contracts libs/runtime libs/tally-client tools/tally-cli deploy/local \
	services/usage-ingest services/billing services/analytics services/assistant services/gateway
STAMP := $(VENV)/.installed-stamp
# Type-checked sources (each package's tests share module names, so they are linted by ruff only).
SOURCES := libs/contracts/contracts libs/runtime/tally_runtime libs/tally-client/tally_client tools/tally-cli/tally_cli \
	deploy/local/tally_stack \
	services/usage-ingest/usage_ingest services/billing/billing services/analytics/analytics \
	services/assistant/assistant services/gateway/gateway bench

.PHONY: install run up down test unit lint fmt contracts bench clean analytics-rebuild web browser

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

# The dashboard's built assets are committed (gateway/static); rebuild them after changing services/gateway/web.
web:
	cd services/gateway/web && npm ci && npm run build

# The browser tests drive Debian's chromium, never a downloaded one: install it with apt where it is missing.
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: lint browser
	$(BIN)/python -m pytest libs tools services deploy tests

unit: install
	$(BIN)/python -m pytest libs tools services deploy tests -m "not infra"

bench: install
	$(BIN)/python -m bench

# Empty analytics' billing projections and replay billing.events.v1 from its beginning (ANALYTICS_DATABASE_URL and
# KAFKA_BOOTSTRAP_SERVERS as the analytics worker has them).
analytics-rebuild: install
	$(BIN)/python -m analytics rebuild

clean:
	rm -rf $(VENV) .tally
