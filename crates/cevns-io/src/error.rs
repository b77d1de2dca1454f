//! Typed I/O errors. Every variant names the file and, where it applies, the
//! column, key or row at fault.

use std::path::PathBuf;

use thiserror::Error;

/// Errors reading or writing pipeline files.
#[derive(Debug, Error)]
pub enum IoError {
    /// A file could not be opened or read.
    #[error("cannot read `{path}`: {err}")]
    Read { path: PathBuf, err: std::io::Error },
    /// A file could not be written (an environment failure, not bad input).
    #[error("cannot write `{path}`: {msg}")]
    Write { path: PathBuf, msg: String },
    /// A Parquet file is malformed.
    #[error("`{path}` is not a readable Parquet table: {msg}")]
    Parquet { path: PathBuf, msg: String },
    /// A required column is absent.
    #[error("`{path}`: missing column `{column}` (present: {present})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        present: String,
    },
    /// A column has the wrong type.
    #[error("`{path}`: column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
    },
    /// A value is invalid (NaN, negative, out of range, ...).
    #[error("`{path}`: {what}: {reason}")]
    BadValue {
        path: PathBuf,
        what: String,
        reason: String,
    },
    /// A YAML file does not parse or does not match its schema.
    #[error("`{path}`: {msg}")]
    Yaml { path: PathBuf, msg: String },
    /// A CSV/text table does not parse.
    #[error("`{path}` line {line}: {msg}")]
    Csv {
        path: PathBuf,
        line: usize,
        msg: String,
    },
    /// Physics validation of a file's content failed.
    #[error("`{path}`: {err}")]
    Physics {
        path: PathBuf,
        err: cevns_physics::PhysicsError,
    },
}

impl IoError {
    /// True when the error is the user's input (exit code 2), false for an
    /// environment failure such as a full disk (exit code 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, IoError::Write { .. })
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, IoError>;
