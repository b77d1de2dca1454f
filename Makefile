# cevns-pipeline — the two commands a newcomer needs:
#   make all    build (release) and reproduce the paper into outputs/paper/
#   make test   build and run every test (unit, physics validation, CLI, runner)

CARGO    ?= cargo
PIPELINE ?= pipelines/paper.yaml
# Honour CARGO_TARGET_DIR when it is set (cargo builds there, not in target/).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RUNNER   := $(TARGET_DIR)/release/cevns
# Use cargo-nextest when it is installed, plain cargo test otherwise.
NEXTEST  := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: all build compare run test lint fmt bench dry-run dag snakefile clean

all: build run

# `compare` (the only binary linking polars) is left out of the default build:
# polars alone costs ~10 min of a clean release build. `make compare` builds it.
build:
	$(CARGO) build --release --workspace --bins --exclude compare

compare:
	$(CARGO) build --release -p compare

run:
	$(RUNNER) run $(PIPELINE)
	@echo "Done: outputs/paper/ has summary.md, REPORT.md, limits.csv and figures/ (CDEX-10 surrogate data)."


dry-run: build
	$(RUNNER) run --dry-run $(PIPELINE)

dag: build
	$(RUNNER) dag $(PIPELINE)

snakefile: build
	$(RUNNER) export --snakemake -o outputs/Snakefile $(PIPELINE)

test:
	$(CARGO) build --workspace --bins
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif
	$(MAKE) lint

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Timings, not tests: whole pipeline after the build, the 4-model scan, and a
# warm no-op run of the cached pipeline.
bench: build
	bash scripts/bench.sh

clean:
	rm -rf outputs/paper outputs/Snakefile
