//! Every integration test of the workspace root, in one test binary (issue 9:
//! on 2 cores linking dominates, so one link instead of twelve).
//!
//! Modules by subject:
//! - `stages`, `projections`, `xenonnt`: the stage binaries end to end on
//!   real data (with `stages::stage_faults`, fault injection per stage);
//! - `runner_*`: the `cevns` runner, with fake stages (`runner_support`) and
//!   with the real binaries (`runner_real`), locks and signals
//!   (`runner_concurrency::runner_faults`), sweeps and validation errors;
//! - `snakemake`, `scale`: the exported Snakefile and CWL under the real tools;
//! - `snapshots`: generated text (REPORT.md, summary.md, Snakefile, `cevns dag`,
//!   error messages) pinned with insta (`tests/it/snapshots/`).
//!
//! Physics validation against independent numbers lives with the physics
//! crate: `crates/cevns-physics/tests/validation.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod runner_support;

mod projections;
mod runner_cache;
mod runner_commands;
mod runner_concurrency;
mod runner_real;
mod runner_sweep;
mod runner_validate;
mod scale;
mod snakemake;
mod snapshots;
mod stages;
mod xenonnt;
