//! limits.parquet (stage `chi2-scan`): one row per model × mediator mass,
//! `g90` null where the scan found no limit; typed provenance extras
//! ([`LimitsExtra`]: data kind, calibration, χ²_min).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bad;
use crate::error::Result;
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "chi2-scan";
/// Model name (`B-L`, `B-3Le`, ...).
pub const COL_MODEL: &str = "model";
/// Human label of the model (`B−L`).
pub const COL_LABEL: &str = "label";
/// Mediator mass m_Z' [MeV].
pub const COL_MASS: &str = "m_zp_mev";
/// 90 % CL upper limit on g (dimensionless); null = no limit at that mass.
pub const COL_G90: &str = "g90";

/// What the limits were computed from. Written to `cevns.extra.data_kind`
/// as a sentence a reader of the metadata understands; read back exactly
/// (no guessing from prefixes).
#[derive(Debug, Clone, PartialEq)]
pub enum DataKind {
    /// Surrogate data whose uniform Δ was calibrated (not a measurement).
    Surrogate,
    /// A user dataset that gives its own Δ.
    UserData,
    /// Real measured data (e.g. the XENONnT public data release).
    Measured {
        /// What was measured, e.g. `XENONnT public data (SR0+SR1)`.
        source: String,
    },
    /// Asimov pseudo-data (expected sensitivity, not data).
    Asimov {
        /// Exposure [kg day].
        exposure_kg_day: f64,
        /// Flat background [counts kg⁻¹ keVee⁻¹ day⁻¹].
        background: f64,
        /// Systematic fraction of the background.
        background_syst_frac: f64,
    },
}

const SURROGATE: &str = "surrogate: uniform Delta calibrated, not measured data";
const USER_DATA: &str = "user data with Delta";
const REAL: [&str; 2] = ["measured: ", ", real"];
const ASIMOV: [&str; 3] = [
    "Asimov projection (expected sensitivity, not data): exposure ",
    " kg day, background ",
    " counts/(kg keVee day), background syst ",
];

impl DataKind {
    /// The sentence stored in the metadata.
    pub fn describe(&self) -> String {
        match self {
            DataKind::Surrogate => SURROGATE.to_string(),
            DataKind::UserData => USER_DATA.to_string(),
            DataKind::Measured { source } => format!("{}{source}{}", REAL[0], REAL[1]),
            DataKind::Asimov {
                exposure_kg_day,
                background,
                background_syst_frac,
            } => format!(
                "{}{exposure_kg_day}{}{background}{}{background_syst_frac}",
                ASIMOV[0], ASIMOV[1], ASIMOV[2]
            ),
        }
    }

    /// Parse [`DataKind::describe`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            SURROGATE => Some(DataKind::Surrogate),
            USER_DATA => Some(DataKind::UserData),
            _ if s.starts_with(REAL[0]) => {
                let source = s.strip_prefix(REAL[0])?.strip_suffix(REAL[1])?;
                Some(DataKind::Measured {
                    source: source.to_string(),
                })
            }
            _ => {
                let rest = s.strip_prefix(ASIMOV[0])?;
                let (e, rest) = rest.split_once(ASIMOV[1])?;
                let (b, f) = rest.split_once(ASIMOV[2])?;
                Some(DataKind::Asimov {
                    exposure_kg_day: e.parse().ok()?,
                    background: b.parse().ok()?,
                    background_syst_frac: f.parse().ok()?,
                })
            }
        }
    }

    /// Short text for figure titles and legends.
    pub fn short_label(&self) -> &'static str {
        match self {
            DataKind::Surrogate => "CDEX-10 surrogate data",
            DataKind::UserData => "user data",
            DataKind::Measured { .. } => "real data",
            DataKind::Asimov { .. } => "Asimov projection",
        }
    }
}

impl Serialize for DataKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

impl<'de> Deserialize<'de> for DataKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DataKind::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown data kind `{s}`")))
    }
}

/// The calibrated (or reused) uniform Δ of a surrogate dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The uniform Δ [counts kg⁻¹ keVee⁻¹ day⁻¹].
    pub delta_counts_per_kg_kevee_day: f64,
    /// How it was obtained.
    pub method: String,
    /// Calibration model (absent when reused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Calibration mediator mass [MeV].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_mev: Option<f64>,
    /// Target g₉₀ at that mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g90_target: Option<f64>,
    /// When reused: the calibration of the run it was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Box<Calibration>>,
}

impl Calibration {
    /// `method` of a calibration by bisection.
    pub const BISECTION: &'static str =
        "bisection in log(Delta) on chi2(g90_target) - chi2_min = delta_chi2; largest such Delta";
    /// `method` of a reused calibration.
    pub const REUSED: &'static str = "reused from another run's calibration";
}

/// How many masses of one model have no limit, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoLimit {
    /// Masses where Δχ² ≥ threshold already at `--g-min` (data disfavour g = 0).
    pub excluded_already_at_g_min: usize,
    /// Masses not excluded up to `--g-max`.
    pub not_excluded_up_to_g_max: usize,
}

/// The set-up of an Asimov projection, for tables that gather many
/// projections (compare's sensitivity sweep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsimovSetup {
    /// Detector name.
    pub detector: String,
    /// Analysis threshold (first bin edge) [keVee].
    pub threshold_kevee: f64,
    /// Exposure [kg day].
    pub exposure_kg_day: f64,
    /// Flat background [counts kg⁻¹ keVee⁻¹ day⁻¹].
    pub background: f64,
    /// Systematic fraction of the background.
    pub background_syst_frac: f64,
}

/// The stage-specific facts of limits.parquet and scan.parquet
/// (`cevns.extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitsExtra {
    /// χ²_min of the scan per model (empty for likelihoods that profile
    /// per mass, e.g. the XENONnT Poisson likelihood).
    #[serde(default)]
    pub chi2_min: BTreeMap<String, f64>,
    /// Per model: how many masses have no limit, and why.
    #[serde(default)]
    pub no_limit: BTreeMap<String, NoLimit>,
    /// Per model (pull χ²): how many points of scan.parquet are NaN because
    /// χ² cannot be resolved in double precision there (rates 1e10+ times
    /// the data; all above the limit). Absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unresolved_scan_points: BTreeMap<String, usize>,
    /// How the flux pulls (nuisances) enter χ².
    pub pulls: String,
    /// What the limits were computed from.
    pub data_kind: DataKind,
    /// The calibrated Δ, for surrogate data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// The Asimov set-up, for Asimov projections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asimov: Option<AsimovSetup>,
}

/// The limit of one model along its mass scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLimit {
    /// Model name (`"B-L"`, ...).
    pub model: String,
    /// Human label (e.g. `"B−L"`).
    pub label: String,
    /// (m_Z' [MeV], g₉₀ or `None` where the scan found no limit), sorted by
    /// mass.
    pub points: Vec<(f64, Option<f64>)>,
    /// What the limit was computed from.
    pub data: DataKind,
}

impl ModelLimit {
    /// The masses and limits where a limit exists.
    pub fn with_limit(&self) -> (Vec<f64>, Vec<f64>) {
        self.points
            .iter()
            .filter_map(|&(m, g)| Some((m, g?)))
            .unzip()
    }
}

/// limits.parquet read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The file read.
    pub path: PathBuf,
    /// One entry per model, in order of first appearance.
    pub models: Vec<ModelLimit>,
    /// The typed provenance extras.
    pub extra: LimitsExtra,
}

impl Limits {
    /// The limit of `model`; a bad-input error naming file and model if absent.
    pub fn model(&self, model: &str) -> Result<&ModelLimit> {
        self.models
            .iter()
            .find(|x| x.model == model)
            .ok_or_else(|| {
                let present: Vec<&str> = self.models.iter().map(|x| x.model.as_str()).collect();
                bad(
                    &self.path,
                    format!("model `{model}`"),
                    format!(
                        "not found in column `model` (present: {})",
                        if present.is_empty() {
                            "none".to_string()
                        } else {
                            present.join(", ")
                        }
                    ),
                )
            })
    }
}

/// limits.parquet: `model`, `label`, `m_zp_mev` [MeV], `g90` (nullable).
/// Rows in the order of `models` and their points.
pub fn limits_table(models: &[ModelLimit]) -> Table {
    let (mut lm, mut ll, mut lmass, mut lg) = (vec![], vec![], vec![], vec![]);
    for x in models {
        for &(m, g) in &x.points {
            lm.push(x.model.clone());
            ll.push(x.label.clone());
            lmass.push(m);
            lg.push(g);
        }
    }
    Table::new()
        .str(COL_MODEL, lm)
        .str(COL_LABEL, ll)
        .f64(COL_MASS, "MeV", lmass)
        .f64_opt(COL_G90, "1", lg)
}

/// Read limits.parquet: masses must be > 0 and every limit > 0.
pub fn read_limits(path: &Path) -> Result<Limits> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let extra: LimitsExtra = t.extra()?;
    let model = t.str(COL_MODEL)?;
    let label = t.str(COL_LABEL)?;
    let m = t.f64(COL_MASS)?;
    let g90 = t.f64_opt(COL_G90)?;
    let mut models: Vec<ModelLimit> = Vec::new();
    for i in 0..model.len() {
        if m[i] <= 0.0 {
            return Err(bad(
                path,
                format!("column `{COL_MASS}` row {i}"),
                format!("{} must be > 0 MeV", m[i]),
            ));
        }
        if let Some(g) = g90[i].filter(|g| *g <= 0.0) {
            return Err(bad(
                path,
                format!("column `{COL_G90}` row {i}"),
                format!("{g} must be > 0 (null means no limit)"),
            ));
        }
        match models.iter_mut().find(|x| x.model == model[i]) {
            Some(x) => x.points.push((m[i], g90[i])),
            None => models.push(ModelLimit {
                model: model[i].clone(),
                label: label[i].clone(),
                points: vec![(m[i], g90[i])],
                data: extra.data_kind.clone(),
            }),
        }
    }
    for x in &mut models {
        x.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(Limits {
        path: path.to_path_buf(),
        models,
        extra,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Provenance;

    #[test]
    fn data_kind_roundtrips_exactly() {
        for k in [
            DataKind::Surrogate,
            DataKind::UserData,
            DataKind::Measured {
                source: "XENONnT public data (SR0+SR1)".into(),
            },
            DataKind::Asimov {
                exposure_kg_day: 365000.0,
                background: 0.1,
                background_syst_frac: 0.05,
            },
        ] {
            assert_eq!(DataKind::parse(&k.describe()), Some(k.clone()));
            let v = serde_json::to_value(&k).unwrap();
            assert_eq!(serde_json::from_value::<DataKind>(v).unwrap(), k);
        }
        assert_eq!(DataKind::parse("surrogate something else"), None);
    }

    #[test]
    fn null_g90_roundtrips_and_bad_values_are_named() {
        let extra = LimitsExtra {
            unresolved_scan_points: Default::default(),
            chi2_min: BTreeMap::from([("B-L".to_string(), 0.0)]),
            no_limit: BTreeMap::from([(
                "B-L".to_string(),
                NoLimit {
                    excluded_already_at_g_min: 0,
                    not_excluded_up_to_g_max: 1,
                },
            )]),
            pulls: "p".into(),
            data_kind: DataKind::Surrogate,
            calibration: Some(Calibration {
                delta_counts_per_kg_kevee_day: 2.5,
                method: Calibration::BISECTION.into(),
                model: Some("B-L".into()),
                mass_mev: Some(0.01),
                g90_target: Some(3.93e-5),
                from: None,
            }),
            asimov: None,
        };
        let ml = ModelLimit {
            model: "B-L".into(),
            label: "B−L".into(),
            points: vec![(0.01, Some(3.9e-5)), (1.0, None)],
            data: DataKind::Surrogate,
        };
        let prov = Provenance::new(STAGE).typed_extra(&extra);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("limits.parquet");
        std::fs::write(
            &p,
            limits_table(std::slice::from_ref(&ml))
                .to_parquet_bytes(&prov)
                .unwrap(),
        )
        .unwrap();
        let l = read_limits(&p).unwrap();
        assert_eq!(l.models, vec![ml]);
        assert_eq!(l.extra, extra);
        assert_eq!(
            l.model("B-L").unwrap().with_limit(),
            (vec![0.01], vec![3.9e-5])
        );
        let e = l.model("B-3Le").unwrap_err().to_string();
        assert!(e.contains("B-3Le") && e.contains("present: B-L"), "{e}");

        let bad_g = Table::new()
            .str(COL_MODEL, vec!["B-L".into()])
            .str(COL_LABEL, vec!["B−L".into()])
            .f64(COL_MASS, "MeV", vec![1.0])
            .f64_opt(COL_G90, "1", vec![Some(0.0)]);
        std::fs::write(&p, bad_g.to_parquet_bytes(&prov).unwrap()).unwrap();
        let e = read_limits(&p).unwrap_err().to_string();
        assert!(e.contains("g90") && e.contains("row 0"), "{e}");
    }
}
