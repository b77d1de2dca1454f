//! scan.parquet (stage `chi2-scan`): Δχ² on the (m_Z', g) grid of each
//! model.

use std::path::Path;

use crate::error::Result;
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "chi2-scan";

/// One grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPoint {
    /// Model name.
    pub model: String,
    /// Mediator mass [MeV].
    pub m_zp_mev: f64,
    /// Coupling g.
    pub g: f64,
    /// χ²(g, m) − χ²_min of the model; NaN at couplings (always above the
    /// limit) whose Z' rates exceed the data so far that χ² is not resolved
    /// in double precision.
    pub delta_chi2: f64,
}

/// scan.parquet: `model`, `m_zp_mev` [MeV], `g`, `delta_chi2`.
pub fn scan_table(points: &[ScanPoint]) -> Table {
    Table::new()
        .str("model", points.iter().map(|p| p.model.clone()).collect())
        .f64(
            "m_zp_mev",
            "MeV",
            points.iter().map(|p| p.m_zp_mev).collect(),
        )
        .f64("g", "1", points.iter().map(|p| p.g).collect())
        .f64(
            "delta_chi2",
            "1",
            points.iter().map(|p| p.delta_chi2).collect(),
        )
}

/// Read scan.parquet.
pub fn read_scan(path: &Path) -> Result<Vec<ScanPoint>> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let (model, m, g, d) = (
        t.str("model")?,
        t.f64("m_zp_mev")?,
        t.f64("g")?,
        t.f64_nonnull("delta_chi2")?,
    );
    Ok((0..model.len())
        .map(|i| ScanPoint {
            model: model[i].clone(),
            m_zp_mev: m[i],
            g: g[i],
            delta_chi2: d[i],
        })
        .collect())
}
