# Two entry points: `make run` (set up + run the whole pipeline) and `make test`; `make lint` checks the style.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: fonts for the synthetic reports (Latin + CJK), tesseract for OCR text hints and the OCR baseline.
APT_PACKAGES := fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito fonts-wqy-microhei tesseract-ocr tesseract-ocr-chi-sim
export OMP_NUM_THREADS ?= 1
# dvc.yaml runs `python -m stages.<name>`: the project's environment must come first on PATH
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: run test lint install system-deps serve pipeline sweep clean help stack stack-down stack-status stack-test stack-load stack-faults stack-deps

help:
	@echo "make run   - set up (first time) and run the whole pipeline on the embedded default"
	@echo "make test  - set up (first time) and run the test suite"
	@echo "make lint  - set up (first time) and check style (ruff) and the library's annotations (mypy)"
	@echo "make pipeline - the same pipeline as a Prefect flow (artifacts, retries, gated promotion)"
	@echo "make sweep - reward-configuration sweep (configs/sweeps/reward.yaml) as DVC experiments"
	@echo "make serve - start a local Prefect server and serve the scheduled deployments"
	@echo "make stack - the team stack on 127.0.0.1 (PostgreSQL, MLflow with auth, Prefect server + worker, DVC remote); state in .stack/"
	@echo "make stack-down - stop the team stack (state kept in .stack/); make stack-status - what runs"
	@echo "make stack-test - bring the stack up, run the pipeline deployment through it, check it over the network, tear down"
	@echo "make stack-load - 20 concurrent MLflow clients log metrics for a minute; prints the figures"
	@echo "make stack-faults - bring the stack up, kill the worker, stop MLflow mid-training, restart PostgreSQL; one line each; tear down"

run: install
	$(BIN)/dvc repro
	@$(BIN)/medvie where

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy medvie

install: system-deps $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	@touch $(STAMP)

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages with sudo: $$missing"; \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages: $$missing (on Debian/Ubuntu: apt-get install $$missing; elsewhere install the Liberation, Carlito and WenQuanYi Micro Hei fonts)"; \
	    exit 1; \
	  fi; \
	fi

serve: install
	$(BIN)/python -m flows.deploy serve

pipeline: install
	$(BIN)/python -m flows.pipeline

sweep: install
	$(BIN)/python -m flows.sweep

clean:
	rm -rf $(VENV) data models metrics plots reports build mlflow.db

# ---- the team stack (docs/team.md): optional, `make run` and `make test` need none of it
STACK_STAMP := $(VENV)/.stack-installed

$(STACK_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,stack]"
	@touch $(STACK_STAMP)

stack-deps:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian package: postgresql-15"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	  else \
	    echo "missing PostgreSQL 15 server binaries (on Debian/Ubuntu: apt-get install postgresql-15)"; exit 1; \
	  fi; \
	fi

stack: install stack-deps $(STACK_STAMP)
	$(BIN)/python -m stack up

stack-down:
	$(BIN)/python -m stack down

stack-status:
	$(BIN)/python -m stack status

stack-test: stack
	$(BIN)/python -m stack.check main; rc=$$?; $(BIN)/python -m stack down; exit $$rc

stack-load: stack
	$(BIN)/python -m stack.load

stack-faults: stack
	$(BIN)/python -m stack.faults; rc=$$?; $(BIN)/python -m stack down; exit $$rc
