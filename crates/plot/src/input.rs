//! Reading the plot stage's inputs: the benchmark spectra written by
//! `quench-smear`, the limits written by `chi2-scan`, and the overlay list
//! (`data/overlays/*.yaml`) with its DARKCAST `.lmt` tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use cevns_io::TableReader;
use cevns_io::stage::bad_input;

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
    /// Neutrino source (e.g. `"8B"`).
    pub source: String,
    /// (T_ee in keVee, smeared dR/dT_ee in counts kg⁻¹ keVee⁻¹ day⁻¹),
    /// sorted by T_ee.
    pub smeared: Vec<(f64, f64)>,
    /// (T_ee in keVee, dR/dT_ee without energy resolution, same units),
    /// sorted by T_ee.
    pub unsmeared: Vec<(f64, f64)>,
}

impl SpectrumCurve {
    /// True for the Standard-Model curve.
    pub fn is_sm(&self) -> bool {
        self.curve == "SM"
    }
}

/// The benchmark spectra of `spectrum.parquet` (stage `quench-smear`).
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// The file read.
    pub path: PathBuf,
    /// Curves in order of first appearance in the file.
    pub curves: Vec<SpectrumCurve>,
}

impl Spectrum {
    /// Read and group `spectrum.parquet` by curve.
    pub fn read(path: &Path) -> Result<Self> {
        let t = TableReader::open(path)?;
        t.expect_stage("quench-smear")?;
        let curve = t.str("curve")?;
        let label = t.str("label")?;
        let g = t.f64("g")?;
        let m = t.f64("m_zp_mev")?;
        let source = t.str("source")?;
        let tee = t.f64("t_ee_kevee")?;
        let dr = t.f64("dr_dtee")?;
        let dr_raw = t.f64("dr_dtee_unsmeared")?;
        if curve.is_empty() {
            return Err(bad_input(format!("`{}`: no rows", path.display())));
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
                return Err(bad_input(format!(
                    "`{}`: curve `{}` has m_zp_mev = {}; model curves need a Z' mass > 0",
                    path.display(),
                    c.curve,
                    c.m_zp_mev
                )));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            curves,
        })
    }

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
            return Err(bad_input(format!(
                "`{}`: no `SM` curve (column `curve`)",
                self.path.display()
            )));
        }
        let models = self
            .curves
            .iter()
            .filter(|c| !c.is_sm() && same_mass(c.m_zp_mev, m_zp_mev));
        Ok(sm.into_iter().chain(models).collect())
    }
}

/// The 90 % CL limit of one model along its mass scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLimit {
    /// Model name (`"B-L"`, ...).
    pub model: String,
    /// Human label (e.g. `"B−L"`).
    pub label: String,
    /// (m_Z' in MeV, upper limit g90 or `None` where the scan found no
    /// limit), sorted by mass.
    pub points: Vec<(f64, Option<f64>)>,
    /// What the limit was computed from, for titles: "CDEX-10 surrogate
    /// data", "Asimov projection" or "user data" (from chi2-scan's
    /// `data_kind` metadata).
    pub data: String,
}

/// The limits of `limits.parquet` (stage `chi2-scan`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The file read.
    pub path: PathBuf,
    /// One entry per model, in order of first appearance.
    pub models: Vec<ModelLimit>,
}

impl Limits {
    /// Read `limits.parquet`.
    pub fn read(path: &Path) -> Result<Self> {
        let t = TableReader::open(path)?;
        t.expect_stage("chi2-scan")?;
        let kind = t.meta_json("cevns.extra")?["data_kind"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let data = if kind.starts_with("surrogate") {
            "CDEX-10 surrogate data"
        } else if kind.starts_with("Asimov") {
            "Asimov projection"
        } else if kind.starts_with("measured") {
            "real data"
        } else {
            "user data"
        }
        .to_string();
        let model = t.str("model")?;
        let label = t.str("label")?;
        let m = t.f64("m_zp_mev")?;
        let g90 = t.f64("g90")?;
        let has = t.u32("has_limit")?;
        let mut models: Vec<ModelLimit> = Vec::new();
        for i in 0..model.len() {
            if m[i] <= 0.0 {
                return Err(bad_input(format!(
                    "`{}`: m_zp_mev row {i}: {} must be > 0 MeV",
                    path.display(),
                    m[i]
                )));
            }
            let g = match has[i] {
                0 => None,
                _ if g90[i] > 0.0 => Some(g90[i]),
                _ => {
                    return Err(bad_input(format!(
                        "`{}`: g90 row {i}: {} must be > 0 where has_limit = {}",
                        path.display(),
                        g90[i],
                        has[i]
                    )));
                }
            };
            match models.iter_mut().find(|x| x.model == model[i]) {
                Some(x) => x.points.push((m[i], g)),
                None => models.push(ModelLimit {
                    model: model[i].clone(),
                    label: label[i].clone(),
                    points: vec![(m[i], g)],
                    data: data.clone(),
                }),
            }
        }
        for x in &mut models {
            x.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Ok(Self {
            path: path.to_path_buf(),
            models,
        })
    }

    /// The limit of `model`; a bad-input error naming the model if absent.
    pub fn model(&self, model: &str) -> Result<&ModelLimit> {
        self.models
            .iter()
            .find(|x| x.model == model)
            .ok_or_else(|| {
                let present: Vec<&str> = self.models.iter().map(|x| x.model.as_str()).collect();
                bad_input(format!(
                    "`{}`: model `{model}` not found in column `model` (present: {})",
                    self.path.display(),
                    if present.is_empty() {
                        "none".to_string()
                    } else {
                        present.join(", ")
                    }
                ))
            })
    }
}

pub use cevns_io::data::{OverlayGroup as Group, Overlays};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn overlay_yaml_is_strict_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(
            dir.path().join("d/a.lmt"),
            "#  mass lower\n 1.0e-3 2.0e-5\n 2.0e-3 1.0e+05\n 3.0e-3 3.0e-5\n",
        )
        .unwrap();
        let y = dir.path().join("o.yaml");
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: nu-scattering}\n",
        )
        .unwrap();
        let o = Overlays::load(&y).unwrap();
        assert_eq!(o.model, "B-L");
        assert_eq!(o.overlays[0].group, Group::NuScattering);
        assert_eq!(o.overlays[0].curve.mass_mev, vec![1.0, 2.0, 3.0]);
        assert_eq!(
            o.overlays[0].curve.lower,
            vec![Some(2.0e-5), None, Some(3.0e-5)]
        );

        std::fs::write(&y, "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: nu-scattering, colour: red}\n").unwrap();
        let e = format!("{:#}", Overlays::load(&y).unwrap_err());
        assert!(e.contains("colour"), "{e}");
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: other}\n",
        )
        .unwrap();
        assert!(Overlays::load(&y).is_err());
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/missing.lmt, group: nu-scattering}\n",
        )
        .unwrap();
        let e = format!("{:#}", Overlays::load(&y).unwrap_err());
        assert!(e.contains("missing.lmt"), "{e}");
    }

    #[test]
    fn shipped_overlays_load() {
        let y = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/overlays/b-l.yaml");
        let o = Overlays::load(&y).unwrap();
        assert_eq!(o.model, "B-L");
        assert_eq!(o.overlays.len(), 9);
        for ov in &o.overlays {
            assert!(
                ov.curve.lower.iter().flatten().all(|&g| g > 0.0 && g < 1.0),
                "{}",
                ov.label
            );
            assert!(ov.curve.mass_mev.iter().all(|&m| m > 0.0), "{}", ov.label);
        }
        // BaBar has "no limit" (1e5) rows: they must come through as gaps.
        let babar = o
            .overlays
            .iter()
            .find(|x| x.label.starts_with("BaBar"))
            .unwrap();
        assert!(babar.curve.lower.iter().any(Option::is_none));
    }
}
