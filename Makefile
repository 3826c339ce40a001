# The two commands a new user needs: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test check lint typecheck pytest install clean bench chromium postgres chaos soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

up: install
	$(BIN)/linkedin-ats up

test: install chromium postgres lint typecheck pytest

# The Temporal UI test needs a browser: Debian's chromium, installed when missing.
# Without root or a package mirror it is skipped, and the test says so.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the UI test…"; \
	  { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	  || echo "chromium could not be installed: the browser test will be skipped"; }

# The credential store tests run a throw-away PostgreSQL cluster of their own (initdb and
# pg_ctl in a temp dir): Debian's postgresql, installed when missing. No cluster is started
# here, and the package's default one is not used.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the credential store tests…"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/dev/null 2>&1 \
	  || echo "postgresql could not be installed: the PostgreSQL tests will fail until it is"; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy domain linkedin activities workflows workers client api linkedin_sandbox cli settings bench

pytest: install
	$(BIN)/pytest

# The inner loop: lint, types, and every test that starts no server (`server` marker).
check: install lint typecheck
	$(BIN)/pytest -q -m "not server"

# Printed tables, no assertions (docs/performance.md). BENCH_ARGS="--idle 2000" for a shorter run;
# HTTP_ARGS="--seconds 60 --profile .data/profile" runs the API under py-spy;
# APPLICATIONS_ARGS="--applications 200 --jobs 5" for a shorter Apply Connect one.
bench: install
	$(BIN)/python -m bench.linkedin_client
	$(BIN)/python -m bench.credential_store
	$(BIN)/python -m bench.jobs $(BENCH_ARGS)
	$(BIN)/python -m bench.http_api $(HTTP_ARGS)
	$(BIN)/python -m bench.linkedin_inbound $(INBOUND_ARGS)
	$(BIN)/python -m bench.applications $(APPLICATIONS_ARGS)

# The whole stack under faults and SIGKILLs, audited: make chaos CHAOS_ARGS="--seconds 600"
chaos: install
	$(BIN)/python -m chaos $(CHAOS_ARGS)

# The job lifecycle's property test, long: random operations, LinkedIn faults and worker
# restarts until JOB_SOAK_SECONDS have passed (20 minutes unless set). `make test` runs it short.
JOB_SOAK_SECONDS ?= 1200
soak: install
	JOB_SOAK_SECONDS=$(JOB_SOAK_SECONDS) $(BIN)/pytest tests/test_job_properties.py -x -q \
	  -k test_job_lifecycle_under_random_operations_faults_and_restarts

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
