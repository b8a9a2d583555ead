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

.PHONY: run test lint install system-deps serve pipeline sweep clean help

help:
	@echo "make run   - set up (first time) and run the whole pipeline on the embedded default"
	@echo "make test  - set up (first time) and run the test suite"
	@echo "make lint  - set up (first time) and check style (ruff) and the library's annotations (mypy)"
	@echo "make pipeline - the same pipeline as a Prefect flow (artifacts, retries, gated promotion)"
	@echo "make sweep - reward-configuration sweep (configs/sweeps/reward.yaml) as DVC experiments"
	@echo "make serve - start a local Prefect server and serve the scheduled deployments"

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
