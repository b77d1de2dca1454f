//! Typed errors of the physics library.

use thiserror::Error;

/// Everything that can go wrong when physics inputs are inconsistent.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PhysicsError {
    /// A parameter is outside its physical domain (negative mass, NaN, ...).
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        name: String,
        value: f64,
        reason: String,
    },
    /// A tabulated function is malformed (unsorted, too short, negative, ...).
    #[error("invalid table `{name}`: {reason}")]
    InvalidTable { name: String, reason: String },
    /// A named thing (model, flavour, source) is unknown.
    #[error("unknown {kind} `{name}` (known: {known})")]
    Unknown {
        kind: String,
        name: String,
        known: String,
    },
    /// A root finder or minimiser did not converge or could not bracket.
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PhysicsError>;

/// Check that `value` is finite and strictly positive.
pub fn positive(name: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name: name.to_string(),
            value,
            reason: "must be finite and > 0".into(),
        })
    }
}

/// Check that `value` is finite and >= 0.
pub fn non_negative(name: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name: name.to_string(),
            value,
            reason: "must be finite and >= 0".into(),
        })
    }
}

/// Check that `value` is finite.
pub fn finite(name: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PhysicsError::InvalidParameter {
            name: name.to_string(),
            value,
            reason: "must be finite".into(),
        })
    }
}
