//! The paper's stated numbers and our explanations, as read from
//! `data/paper/*.yaml`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use cevns_io::stage::bad_input;

/// `data/paper/demirci2023.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperFile {
    pub citation: String,
    pub limits: Vec<PaperLimit>,
    #[serde(default)]
    pub crossings: Vec<PaperCrossing>,
}

/// One stated limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperLimit {
    pub model: String,
    pub m_zp_mev: f64,
    pub g90: f64,
    #[serde(default)]
    pub calibrated: bool,
    #[serde(default)]
    pub why: Option<String>,
    pub text: String,
}

/// One stated crossing with another experiment's limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperCrossing {
    pub model: String,
    pub experiment: String,
    pub overlay: Option<String>,
    pub paper_mev: Vec<f64>,
    /// `below`, `above` or `between`.
    pub side: String,
    #[serde(default)]
    pub why: Option<String>,
    pub text: String,
}

impl PaperFile {
    /// Check values and names.
    pub fn validate(&self, path: &Path) -> anyhow::Result<()> {
        for p in &self.limits {
            if !(p.m_zp_mev > 0.0 && p.g90 > 0.0) {
                return Err(bad_input(format!(
                    "{}: limits entry for {} needs m_zp_mev > 0 and g90 > 0",
                    path.display(),
                    p.model
                )));
            }
        }
        for c in &self.crossings {
            if !["below", "above", "between"].contains(&c.side.as_str()) {
                return Err(bad_input(format!(
                    "{}: crossing `{}`: side must be below|above|between",
                    path.display(),
                    c.experiment
                )));
            }
            if c.paper_mev.is_empty() || c.paper_mev.iter().any(|m| m.is_nan() || *m <= 0.0) {
                return Err(bad_input(format!(
                    "{}: crossing `{}`: paper_mev must be masses > 0",
                    path.display(),
                    c.experiment
                )));
            }
        }
        Ok(())
    }
}

/// `data/paper/explanations.yaml`: id → explanation.
pub type Explanations = BTreeMap<String, Explanation>;

/// A written explanation with its quantitative check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explanation {
    pub text: String,
    pub check: Check,
}

/// Checks the report can evaluate on our numbers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "kebab-case")]
pub enum Check {
    /// g90(model)/g90(reference_model) at the same mass must lie in
    /// [(P_ref/P_fl)^(1/2), (P_ref/P_fl)^(1/4)] (flavour fractions from fluxes.parquet).
    FlavourRatio {
        reference_model: String,
        flavour: String,
    },
    /// g90(to)/g90(from) of each model must lie in [min, max].
    MassGrowth {
        from_mev: f64,
        to_mev: f64,
        min: f64,
        max: f64,
    },
}
