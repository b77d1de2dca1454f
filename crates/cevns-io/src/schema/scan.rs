//! scan.parquet (stage `chi2-scan`): Δχ² on the (m_Z', g) grid of each
//! model.

use std::path::Path;

use arrow::array::StringArray;

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
    // Each block repeats its mass per coupling and its couplings per mass.
    let masses = || {
        let mut v = Vec::with_capacity(rows);
        for b in blocks {
            for &m in &b.masses_mev {
                v.extend(std::iter::repeat_n(m, b.couplings.len()));
            }
        }
        v
    };
    let couplings = || {
        let mut v = Vec::with_capacity(rows);
        for b in blocks {
            for _ in &b.masses_mev {
                v.extend_from_slice(&b.couplings);
            }
        }
        v
    };
    // The columns are independent: built side by side (292 000 rows for
    // 4 models × 1000 masses).
    let ((model, d), (m, g)) = rayon::join(
        || {
            let names = blocks.iter().flat_map(|b| {
                std::iter::repeat_n(b.model.as_str(), b.masses_mev.len() * b.couplings.len())
            });
            let d: Vec<f64> = blocks
                .iter()
                .flat_map(|b| b.delta_chi2.iter().copied())
                .collect();
            (StringArray::from_iter_values(names), d)
        },
        || rayon::join(masses, couplings),
    );
    Table::new()
        .str_array("model", model)
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
