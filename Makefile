# Hilo: `make run` starts everything on embedded defaults; `make test` runs every check.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(VENV)/bin
RASA := $(BIN)/rasa

export HILO_RASA_PORT ?= 5005
export HILO_ACTIONS_PORT ?= 5055
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup lock train migrate seed run run-cluster shell actions lint format types validate unit test-deps e2e conversations test crossval bench bench-channels bench-cluster bench-desk bench-reports bench-facts nlu-report channels-status telegram-webhook clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## Create .venv (Python 3.10) with the pinned dependencies; fast when up to date
	@scripts/setup.sh

lock: ## Re-resolve requirements.in into requirements.lock
	@scripts/lock.sh

train: setup ## Train the model when data, domain, config or components changed
	@$(BIN)/python -m components.training

migrate: setup ## Bring the commerce database (DATABASE_URL, default var/commerce.db) up to date
	@$(BIN)/python -m actions.commerce.database upgrade

seed: setup ## Reset the commerce database to the demo store (docs/demo-store.md)
	@$(BIN)/python -m actions.commerce.seed

run: setup train ## Start the action server and the Rasa server (SQLite under var/)
	@scripts/run.sh

run-cluster: setup train ## HILO_REPLICAS (2) Rasa servers behind HAProxy on PostgreSQL + Redis (docs/deployment.md)
	@scripts/run-cluster.sh

shell: setup ## Chat with the running bot from the terminal (start `make run` first)
	@$(BIN)/python scripts/chat.py

actions: setup ## Start only the action server
	@$(BIN)/python -m actions.commerce.seed --if-empty
	@$(BIN)/python -m actions.server --port $(HILO_ACTIONS_PORT)

lint: setup ## ruff (style, imports, docstrings, security checks)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: setup ## Apply ruff's formatting and safe fixes
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

types: setup ## mypy on actions/, components/, connectors/, handoff/
	@$(BIN)/mypy

validate: setup ## rasa data validate --fail-on-warnings
	@$(RASA) data validate --fail-on-warnings --quiet

unit: setup train test-deps ## pytest: unit tests and in-process model tests
	@$(BIN)/pytest

test-deps: ## What the tests need outside Python (Chromium; installed with apt-get on Debian)
	@scripts/test-deps.sh

e2e: setup train ## rasa test: end-to-end test stories, failing on any prediction error
	@scripts/e2e.sh

conversations: setup train ## Multi-turn customer conversations through the sandbox: pass rate per language and flow
	@$(BIN)/python -m tests.conversations --transcripts --out results/conversations.txt

test: lint types validate unit e2e ## Everything CI runs (unit includes the conversation suite)
	@echo "make test: all checks passed"

crossval: setup ## Cross-validate the NLU pipelines compared in docs/nlu.md
	@$(BIN)/python -m bench.crossval

bench: setup train ## Benchmarks against stock Rasa; writes docs/benchmarks.md
	@$(BIN)/python -m bench.run

bench-channels: setup train ## Webhook ack under 2x load and exactly-once through kill -9; docs/channels-benchmark.md
	@$(BIN)/python -m bench.channels

bench-cluster: setup train ## Replicas on PostgreSQL + Redis: 1 vs 2 throughput, ack at 2x, kill -9 and a PG restart; docs/scale-benchmark.md
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m bench.cluster --no-pinned  # threads as make run-cluster sets them

nlu-report: setup train ## The model before the last training vs the newest, per label (designer's loop)
	@$(BIN)/python -m bench.nlu_report

bench-reports: setup ## Overview report p95 and reports page at 1,000,000 messages (PostgreSQL); docs/reports-benchmark.md
	@$(BIN)/python -m bench.reports

bench-facts: setup ## What the reports' record adds to each turn, SQLite and PostgreSQL; docs/facts-benchmark.md
	@$(BIN)/python -m bench.facts

bench-desk: setup train ## Customer message -> desk p95, claim-next p99 at 100,000 cases (PostgreSQL); docs/desk-benchmark.md
	@$(BIN)/python -m bench.desk

channels-status: setup ## Inbox and outbound counts, and the latest messages that could not be sent
	@$(BIN)/python -m connectors.status

telegram-webhook: setup ## Register the Telegram webhook at HILO_PUBLIC_URL (needs TELEGRAM_* set)
	@$(BIN)/python -m connectors.telegram set-webhook

clean: ## Remove trained models, test results and local databases
	rm -rf models results var .rasa
