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

.PHONY: all build build-tests compare run test lint fmt bench dry-run dag snakefile clean

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

# One compile serves both the tests and the lint. cargo hands every workspace
# crate (not the dependencies) to clippy-driver instead of rustc
# (RUSTC_WORKSPACE_WRAPPER), which lints and compiles in the same pass; with
# `-D warnings` in CLIPPY_ARGS a lint fails the build just as `make lint`
# does. Running `cargo clippy` after the test build instead type-checks every
# crate again, dependencies included (about a minute on 2 cores, issue 9).
# Without clippy-driver (a toolchain lacking the clippy component) the tests
# build with plain rustc and `make lint` runs afterwards.
CLIPPY_DRIVER := $(shell command -v clippy-driver 2>/dev/null)
ifneq ($(CLIPPY_DRIVER),)
LINTED := RUSTC_WORKSPACE_WRAPPER=$(CLIPPY_DRIVER) CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
endif

# Every target of the workspace (stage binaries, libraries, test binaries),
# linted: what `make test` runs on. CI calls it while it installs Python tools.
build-tests:
	$(LINTED) $(CARGO) build --workspace --all-targets

test: build-tests
	$(CARGO) fmt --all -- --check
ifeq ($(NEXTEST),yes)
	$(LINTED) $(CARGO) nextest run --workspace --no-fail-fast
else
	$(LINTED) $(CARGO) test --workspace --no-fail-fast
endif
ifeq ($(CLIPPY_DRIVER),)
	$(MAKE) lint
endif

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
