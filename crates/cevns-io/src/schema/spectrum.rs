//! spectrum.parquet (stage `quench-smear`): fine dR/dT_ee curves of the SM
//! and the benchmark U(1)' points (paper Fig 2), one row per curve × T_ee.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::bad;
use crate::error::Result;
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "quench-smear";
/// Name of the SM curve in column `curve`.
pub const SM: &str = "SM";

/// Relative tolerance for treating two Z' masses as the same benchmark.
const MASS_RTOL: f64 = 1e-9;

fn same_mass(a: f64, b: f64) -> bool {
    (a - b).abs() <= MASS_RTOL * a.abs().max(b.abs())
}

/// One spectrum curve (one model at one benchmark point, or the SM).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumCurve {
    /// `"SM"` or the model name (`"B-L"`, `"B-3Le"`, ...).
    pub curve: String,
    /// Human label for the legend (e.g. `"B−3L_e"`).
    pub label: String,
    /// Coupling g (dimensionless; 0 for the SM).
    pub g: f64,
    /// Z' mass, MeV (0 for the SM).
    pub m_zp_mev: f64,
    /// Neutrino source (e.g. `"8B"`, or `"all"`).
    pub source: String,
    /// (T_ee [keVee], smeared dR/dT_ee [counts kg⁻¹ keVee⁻¹ day⁻¹]),
    /// sorted by T_ee.
    pub smeared: Vec<(f64, f64)>,
    /// (T_ee [keVee], dR/dT_ee without energy resolution, eq 19, same
    /// units), sorted by T_ee.
    pub unsmeared: Vec<(f64, f64)>,
}

impl SpectrumCurve {
    /// True for the Standard-Model curve.
    pub fn is_sm(&self) -> bool {
        self.curve == SM
    }
}

/// The benchmark spectra of `spectrum.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// The file read.
    pub path: PathBuf,
    /// Curves in order of first appearance in the file.
    pub curves: Vec<SpectrumCurve>,
}

impl Spectrum {
    /// Distinct Z' masses of the model curves (MeV), ascending.
    pub fn masses(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self
            .curves
            .iter()
            .filter(|c| !c.is_sm())
            .map(|c| c.m_zp_mev)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms.dedup_by(|a, b| same_mass(*a, *b));
        ms
    }

    /// The curves of one panel: the SM curve(s) first, then every model
    /// curve at `m_zp_mev`, in file order. Errors if there is no SM curve.
    pub fn panel(&self, m_zp_mev: f64) -> Result<Vec<&SpectrumCurve>> {
        let sm: Vec<&SpectrumCurve> = self.curves.iter().filter(|c| c.is_sm()).collect();
        if sm.is_empty() {
            return Err(bad(&self.path, "column `curve`", "no `SM` curve"));
        }
        let models = self
            .curves
            .iter()
            .filter(|c| !c.is_sm() && same_mass(c.m_zp_mev, m_zp_mev));
        Ok(sm.into_iter().chain(models).collect())
    }
}

/// spectrum.parquet: `curve`, `label`, `g`, `m_zp_mev` [MeV], `source`,
/// `t_ee_kevee` [keVee], `dr_dtee` and `dr_dtee_unsmeared`
/// [counts kg⁻¹ keVee⁻¹ day⁻¹]. Curves must share their T_ee points
/// (smeared and unsmeared on the same grid).
pub fn spectrum_table(curves: &[SpectrumCurve]) -> Table {
    let (mut sc, mut sl, mut sg, mut sm, mut ss, mut se, mut sv, mut su) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for c in curves {
        for (&(t, v), &(_, u)) in c.smeared.iter().zip(&c.unsmeared) {
            sc.push(c.curve.clone());
            sl.push(c.label.clone());
            sg.push(c.g);
            sm.push(c.m_zp_mev);
            ss.push(c.source.clone());
            se.push(t);
            sv.push(v);
            su.push(u);
        }
    }
    Table::new()
        .str("curve", sc)
        .str("label", sl)
        .f64("g", "1", sg)
        .f64("m_zp_mev", "MeV", sm)
        .str("source", ss)
        .f64("t_ee_kevee", "keVee", se)
        .f64("dr_dtee", "counts kg^-1 keVee^-1 day^-1", sv)
        .f64("dr_dtee_unsmeared", "counts kg^-1 keVee^-1 day^-1", su)
}

/// Read and group `spectrum.parquet` by curve.
pub fn read_spectrum(path: &Path) -> Result<Spectrum> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let curve = t.str("curve")?;
    let label = t.str("label")?;
    let g = t.f64("g")?;
    let m = t.f64("m_zp_mev")?;
    let source = t.str("source")?;
    let tee = t.f64("t_ee_kevee")?;
    let dr = t.f64("dr_dtee")?;
    let dr_raw = t.f64("dr_dtee_unsmeared")?;
    if curve.is_empty() {
        return Err(bad(path, "table", "no rows"));
    }
    let mut curves: Vec<SpectrumCurve> = Vec::new();
    let mut index: BTreeMap<(String, String, u64, u64, String), usize> = BTreeMap::new();
    for i in 0..curve.len() {
        let key = (
            curve[i].clone(),
            label[i].clone(),
            g[i].to_bits(),
            m[i].to_bits(),
            source[i].clone(),
        );
        let k = *index.entry(key).or_insert_with(|| {
            curves.push(SpectrumCurve {
                curve: curve[i].clone(),
                label: label[i].clone(),
                g: g[i],
                m_zp_mev: m[i],
                source: source[i].clone(),
                smeared: Vec::new(),
                unsmeared: Vec::new(),
            });
            curves.len() - 1
        });
        curves[k].smeared.push((tee[i], dr[i]));
        curves[k].unsmeared.push((tee[i], dr_raw[i]));
    }
    for c in &mut curves {
        c.smeared.sort_by(|a, b| a.0.total_cmp(&b.0));
        c.unsmeared.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !c.is_sm() && c.m_zp_mev <= 0.0 {
            return Err(bad(
                path,
                format!("curve `{}`", c.curve),
                format!("m_zp_mev = {}; model curves need a Z' mass > 0", c.m_zp_mev),
            ));
        }
    }
    Ok(Spectrum {
        path: path.to_path_buf(),
        curves,
    })
}
