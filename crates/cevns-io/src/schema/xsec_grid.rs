//! xsec_grid.parquet (stage `xsec-tables`): the SM dσ/dT on an explicit
//! (E_ν, T_nr) grid per isotope, for inspection and independent checks.

use std::path::Path;

use crate::error::Result;
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "xsec-tables";

/// One grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XsecGridPoint {
    /// Isotope mass number A.
    pub a: u32,
    /// Neutrino energy [MeV].
    pub e_nu_mev: f64,
    /// Nuclear recoil energy [keV].
    pub t_nr_kev: f64,
    /// SM dσ/dT (eq 1) [cm² keV⁻¹].
    pub dsigma_dt_cm2_per_kev: f64,
}

/// xsec_grid.parquet: `a`, `e_nu_mev` [MeV], `t_nr_kev` [keV],
/// `dsigma_dt_cm2_per_kev` [cm² keV⁻¹].
pub fn xsec_grid_table(points: &[XsecGridPoint]) -> Table {
    Table::new()
        .u32("a", "1", points.iter().map(|p| p.a).collect())
        .f64(
            "e_nu_mev",
            "MeV",
            points.iter().map(|p| p.e_nu_mev).collect(),
        )
        .f64(
            "t_nr_kev",
            "keV",
            points.iter().map(|p| p.t_nr_kev).collect(),
        )
        .f64(
            "dsigma_dt_cm2_per_kev",
            "cm^2 keV^-1",
            points.iter().map(|p| p.dsigma_dt_cm2_per_kev).collect(),
        )
}

/// Read xsec_grid.parquet.
pub fn read_xsec_grid(path: &Path) -> Result<Vec<XsecGridPoint>> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let (a, e, tk, s) = (
        t.u32("a")?,
        t.f64("e_nu_mev")?,
        t.f64("t_nr_kev")?,
        t.f64("dsigma_dt_cm2_per_kev")?,
    );
    Ok((0..a.len())
        .map(|i| XsecGridPoint {
            a: a[i],
            e_nu_mev: e[i],
            t_nr_kev: tk[i],
            dsigma_dt_cm2_per_kev: s[i],
        })
        .collect())
}
