//! I/O for cevns-pipeline: Parquet tables carrying provenance metadata,
//! atomic and deterministic writes, content fingerprints, strict YAML and CSV
//! loaders for the files under `data/`, and the plumbing every stage binary
//! shares (exit codes, logging, progress).
//!
//! Physics lives in `cevns-physics`; this crate turns files into its types
//! and back.

pub mod data;
pub mod error;
pub mod fingerprint;
pub mod inputs;
pub mod output;
pub mod schema;
pub mod stage;
pub mod table;
pub mod xenonnt;

#[cfg(test)]
mod proptests;

pub use error::IoError;
pub use output::OutputSet;
pub use stage::{Provenance, stage_main};
pub use table::{Table, TableReader};

/// Version of the tool, recorded in every output's provenance.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
