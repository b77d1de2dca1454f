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
    /// χ²(g, m) − χ²_min of the model (−2 ln L for the Poisson likelihood);
    /// NaN at couplings far above the limit that are not evaluated (the
    /// Poisson scan stops at 100× the threshold) or whose Z' rates exceed
    /// the data so far that χ² is not resolved in double precision.
    pub delta_chi2: f64,
}

/// The Δχ² grid of one model as written: every (mass, coupling) pair,
/// mass-major. (Column blocks rather than one [`ScanPoint`] per row: a
/// 4-model × 1000-mass scan has 292 000 rows.)
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBlock {
    /// Model name.
    pub model: String,
    /// Mediator masses [MeV].
    pub masses_mev: Vec<f64>,
    /// Couplings g of every mass.
    pub couplings: Vec<f64>,
    /// Δχ² per mass and coupling, `delta_chi2[i * couplings.len() + j]`
    /// (see [`ScanPoint::delta_chi2`]).
    pub delta_chi2: Vec<f64>,
}

/// scan.parquet: `model`, `m_zp_mev` [MeV], `g`, `delta_chi2`, one row per
/// (model, mass, coupling) in that order.
pub fn scan_table(blocks: &[ScanBlock]) -> Table {
    let rows: usize = blocks.iter().map(|b| b.delta_chi2.len()).sum();
    let (mut model, mut m, mut g) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let mut d = Vec::with_capacity(rows);
    for b in blocks {
        for &mass in &b.masses_mev {
            for &c in &b.couplings {
                model.push(b.model.as_str());
                m.push(mass);
                g.push(c);
            }
        }
        d.extend_from_slice(&b.delta_chi2);
    }
    Table::new()
        .str_ref("model", model)
        .f64("m_zp_mev", "MeV", m)
        .f64("g", "1", g)
        .f64("delta_chi2", "1", d)
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
