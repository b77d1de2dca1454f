//! The `chi2-scan` stage as a library: pull χ² (eq 20) over (g, m_Z') and
//! 90 % CL upper limits on the U(1)' coupling for each model.
//!
//! [`ScanConfig`] is the validated configuration (built by the binary from
//! its flags, or by a test or another stage directly); [`run`] reads the
//! inputs it names and returns the outputs in memory ([`ScanOutputs`]); the
//! binary writes them atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use cevns_io::data::{load_dataset, load_models, select_models};
use cevns_io::schema::{
    Calibration, DataKind, LimitsExtra, ModelLimit, ScanPoint, limits_table, read_limits,
    read_rates, read_response, scan_table,
};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{Provenance, Table};
use cevns_physics::model::U1Model;
use cevns_physics::rate::{BinnedModel, DetectorResponse, RecoilGrid, SourceRates};
use cevns_physics::stats::{
    BinnedData, LimitOptions, calibrate_uniform_delta, coupling_grid, upper_limit,
};

/// Where the binned data come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// Binned data CSV (`bin_lo_kevee,bin_hi_kevee,r_obs,background,delta`);
    /// an empty `delta` column is filled by [`DeltaSource`].
    Measured { path: PathBuf, delta: DeltaSource },
    /// Asimov pseudo-data equal to the SM expectation, Δ from the
    /// `projection` block of this detector YAML.
    Asimov { detector: PathBuf },
}

impl DataSource {
    /// The file the data come from (recorded as input `data`).
    pub fn path(&self) -> &Path {
        match self {
            DataSource::Measured { path, .. } => path,
            DataSource::Asimov { detector } => detector,
        }
    }
}

/// How Δ is obtained when the dataset leaves it empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DeltaSource {
    /// The dataset must give Δ in every row.
    #[default]
    FromData,
    /// Calibrate one uniform Δ so that g₉₀(`model`, `mass_mev`) = `g90`.
    Calibrate {
        model: String,
        mass_mev: f64,
        g90: f64,
    },
    /// Reuse the uniform Δ calibrated by another run (its limits.parquet).
    Reuse(PathBuf),
}

/// Log-spaced mediator masses [MeV].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassGrid {
    pub min_mev: f64,
    pub max_mev: f64,
    pub points: usize,
}

/// The validated configuration of one scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// rates.parquet from rate-convolve.
    pub rates: PathBuf,
    /// response.parquet from quench-smear.
    pub response: PathBuf,
    /// The data (measured CSV or Asimov detector).
    pub data: DataSource,
    /// U(1)' models YAML.
    pub models: PathBuf,
    /// Models to scan (empty: all in `models`).
    pub model_names: Vec<String>,
    /// Mediator masses.
    pub masses: MassGrid,
    /// Coupling scan and Δχ² of the limit.
    pub limit: LimitOptions,
}

fn positive(name: &str, v: f64) -> anyhow::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad_input(format!("{name} = {v} must be finite and > 0")))
    }
}

impl ScanConfig {
    /// Check the numeric options (bad input, exit 2, naming the flag).
    pub fn validate(&self) -> anyhow::Result<()> {
        let m = &self.masses;
        positive("--m-min-mev", m.min_mev)?;
        positive("--m-max-mev", m.max_mev)?;
        if m.max_mev <= m.min_mev || m.points < 2 {
            return Err(bad_input(
                "need --m-max-mev > --m-min-mev and --m-points >= 2",
            ));
        }
        let o = &self.limit;
        positive("--g-min", o.g_min)?;
        positive("--g-max", o.g_max)?;
        if o.g_max <= o.g_min || o.per_decade == 0 {
            return Err(bad_input("need --g-max > --g-min and --g-per-decade >= 1"));
        }
        positive("--delta-chi2", o.delta_chi2)?;
        Ok(())
    }

    fn calibration_params(&self) -> (Option<&str>, Option<f64>, Option<f64>) {
        match &self.data {
            DataSource::Measured {
                delta:
                    DeltaSource::Calibrate {
                        model,
                        mass_mev,
                        g90,
                    },
                ..
            } => (Some(model.as_str()), Some(*mass_mev), Some(*g90)),
            _ => (None, None, None),
        }
    }

    fn delta_from(&self) -> Option<&Path> {
        match &self.data {
            DataSource::Measured {
                delta: DeltaSource::Reuse(p),
                ..
            } => Some(p),
            _ => None,
        }
    }
}

/// The outputs of a scan, in memory.
#[derive(Debug)]
pub struct ScanOutputs {
    /// The limit curve of every model (limits.parquet).
    pub limits: Vec<ModelLimit>,
    /// limits.csv body (header line `model,m_zp_mev,g90`, no provenance).
    pub limits_csv: String,
    /// Δχ² on the (m, g) grid (scan.parquet).
    pub scan: Vec<ScanPoint>,
    /// Provenance of all three files.
    pub provenance: Provenance,
}

impl ScanOutputs {
    /// limits.parquet as a table.
    pub fn limits_table(&self) -> Table {
        limits_table(&self.limits)
    }

    /// scan.parquet as a table.
    pub fn scan_table(&self) -> Table {
        scan_table(&self.scan)
    }

    /// limits.csv: a `#` provenance line, then the table.
    pub fn csv_bytes(&self) -> Vec<u8> {
        format!(
            "# cevns-pipeline chi2-scan provenance: {}\n{}",
            self.provenance.to_json(),
            self.limits_csv
        )
        .into_bytes()
    }
}

/// Run the scan: read the inputs, build the binned data (Δ given,
/// calibrated, reused or Asimov), scan Δχ² and find g₉₀(m) per model.
pub fn run(cfg: &ScanConfig, ctx: &CommonArgs) -> anyhow::Result<ScanOutputs> {
    cfg.validate()?;
    let opts = cfg.limit;
    let all_models = load_models(&cfg.models).context("loading models")?;
    let models = select_models(&cfg.models, &all_models, &cfg.model_names)?;
    let (grid, sources) = read_rates(&cfg.rates).context("reading rates")?;
    let response = read_response(&cfg.response, &grid).context("reading the response")?;
    let inputs = Inputs {
        response: &response,
        sources: &sources,
        grid: &grid,
        all_models: &all_models,
        opts: &opts,
    };
    let (binned, calibration, data_kind) = match &cfg.data {
        DataSource::Measured { path, delta } => {
            let (b, c) = measured(ctx, path, delta, &inputs)?;
            let kind = if c.is_some() {
                DataKind::Surrogate
            } else {
                DataKind::Measured
            };
            (b, c, kind)
        }
        DataSource::Asimov { detector } => {
            let (b, kind) = asimov(ctx, detector, &response, &sources)?;
            (b, None, kind)
        }
    };

    let masses =
        cevns_physics::stats::log_grid(cfg.masses.min_mev, cfg.masses.max_mev, cfg.masses.points);
    let gs = coupling_grid(&opts);
    let pb = ctx.progress((models.len() * masses.len()) as u64, "chi2-scan");
    let mut limit_curves = Vec::new();
    let mut scan_points = Vec::new();
    let mut csv = String::from("model,m_zp_mev,g90\n");
    let mut chi2_mins = std::collections::BTreeMap::new();
    for model in &models {
        let bm = BinnedModel::new(&response, &sources, model);
        let polys: Vec<_> = masses
            .par_iter()
            .map(|&m| bm.polynomial(&response, &grid, m))
            .collect();
        let chi2_0 = polys[0].chi2(&binned, &bm.sigma, 0.0);
        let scan: Vec<Vec<f64>> = polys
            .par_iter()
            .map(|p| gs.iter().map(|&g| p.chi2(&binned, &bm.sigma, g)).collect())
            .collect();
        let chi2_min = scan.iter().flatten().copied().fold(chi2_0, f64::min);
        chi2_mins.insert(model.name.clone(), chi2_min);
        let limits: Vec<Option<f64>> = polys
            .par_iter()
            .map(|p| {
                let l = upper_limit(|g| p.chi2(&binned, &bm.sigma, g), chi2_min, &opts);
                pb.inc(1);
                l
            })
            .collect();
        for (i, &m) in masses.iter().enumerate() {
            match limits[i] {
                Some(g) => writeln!(csv, "{},{:.6e},{:.6e}", model.name, m, g)?,
                None => writeln!(csv, "{},{:.6e},", model.name, m)?,
            }
            for (j, &g) in gs.iter().enumerate() {
                scan_points.push(ScanPoint {
                    model: model.name.clone(),
                    m_zp_mev: m,
                    g,
                    delta_chi2: scan[i][j] - chi2_min,
                });
            }
        }
        limit_curves.push(ModelLimit {
            model: model.name.clone(),
            label: model.display().to_string(),
            points: masses.iter().copied().zip(limits.iter().copied()).collect(),
            data: data_kind,
        });
        let at = |target: f64| {
            masses.iter().zip(&limits).min_by(|a, b| {
                (a.0.ln() - target.ln())
                    .abs()
                    .total_cmp(&(b.0.ln() - target.ln()).abs())
            })
        };
        if let Some((m, Some(g))) = at(1.0) {
            ctx.log(format!(
                "chi2-scan: {:>8}: g90({m:.3} MeV) = {g:.4e}",
                model.name
            ));
        }
    }
    pb.finish_and_clear();

    let (cal_model, cal_mass, cal_g90) = cfg.calibration_params();
    let prov = Provenance::new("chi2-scan")
        .param(
            "models",
            models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        )
        .param("m_min_mev", cfg.masses.min_mev)
        .param("m_max_mev", cfg.masses.max_mev)
        .param("m_points", cfg.masses.points)
        .param("g_min", opts.g_min)
        .param("g_max", opts.g_max)
        .param("g_per_decade", opts.per_decade)
        .param("delta_chi2", opts.delta_chi2)
        .param("calibrate_model", cal_model)
        .param("calibrate_mass_mev", cal_mass)
        .param("calibrate_g90", cal_g90)
        .input("rates", &cfg.rates)?
        .input("response", &cfg.response)?
        .input("data", cfg.data.path())?
        .inputs("delta-from", cfg.delta_from())?
        .input("models", &cfg.models)?
        .typed_extra(&LimitsExtra {
            chi2_min: chi2_mins,
            pulls: "one per flux source, c_j^i = sigma_j * R_j^i(g, m) (SM + Z' rate of source j)"
                .into(),
            data_kind,
            calibration,
        });
    Ok(ScanOutputs {
        limits: limit_curves,
        limits_csv: csv,
        scan: scan_points,
        provenance: prov,
    })
}

/// The tables every data path needs.
struct Inputs<'a> {
    response: &'a DetectorResponse,
    sources: &'a [SourceRates],
    grid: &'a RecoilGrid,
    all_models: &'a [U1Model],
    opts: &'a LimitOptions,
}

/// Binned data from a CSV, with Δ given, calibrated (surrogate) or reused.
fn measured(
    ctx: &CommonArgs,
    path: &Path,
    delta_source: &DeltaSource,
    inp: &Inputs<'_>,
) -> anyhow::Result<(BinnedData, Option<Calibration>)> {
    let data = load_dataset(path).context("loading the dataset")?;
    let edges = inp.response.bins().edges();
    if edges.len() != data.edges.len()
        || edges
            .iter()
            .zip(&data.edges)
            .any(|(a, b)| (a - b).abs() > 1e-6)
    {
        return Err(bad_input(format!(
            "bins of {} ({} bins from {:.4} keVee) differ from the detector response's ({} bins from {:.4} keVee)",
            path.display(),
            data.edges.len() - 1,
            data.edges[0],
            edges.len() - 1,
            edges[0]
        )));
    }
    let residual: Vec<f64> = data
        .r_obs
        .iter()
        .zip(&data.background)
        .map(|(o, b)| o - b)
        .collect();

    // Δ: from the data, or calibrated (surrogate).
    let (delta, calibration) = match (&data.delta, delta_source) {
        (Some(d), DeltaSource::FromData) => (d.clone(), None),
        (Some(_), DeltaSource::Calibrate { .. }) => {
            return Err(bad_input(format!(
                "{} gives Δ in every row; remove the --calibrate-* options (they are for data without Δ)",
                path.display()
            )));
        }
        // A reused Δ is ignored when the data give their own (as before).
        (Some(d), DeltaSource::Reuse(_)) => (d.clone(), None),
        (None, DeltaSource::Reuse(src)) => {
            let prev = read_limits(src).context("reading --delta-from")?;
            let Some(from) = prev.extra.calibration else {
                return Err(bad_input(format!(
                    "{}: no calibrated Δ in its metadata (was it a calibrated run?)",
                    src.display()
                )));
            };
            let d = positive("calibrated Δ", from.delta_counts_per_kg_kevee_day)?;
            ctx.log(format!(
                "chi2-scan: uniform Δ = {d:.6e} counts/(kg·keVee·day) taken from {}",
                src.display()
            ));
            (
                vec![d; residual.len()],
                Some(Calibration {
                    delta_counts_per_kg_kevee_day: d,
                    method: Calibration::REUSED.into(),
                    model: None,
                    mass_mev: None,
                    g90_target: None,
                    from: Some(Box::new(from)),
                }),
            )
        }
        (
            None,
            DeltaSource::Calibrate {
                model: name,
                mass_mev,
                g90,
            },
        ) => {
            let model = cevns_physics::model::find(inp.all_models, name)?;
            let m = positive("--calibrate-mass-mev", *mass_mev)?;
            let g90 = positive("--calibrate-g90", *g90)?;
            let bm = BinnedModel::new(inp.response, inp.sources, model);
            let poly = bm.polynomial(inp.response, inp.grid, m);
            let d = calibrate_uniform_delta(&residual, &poly, &bm.sigma, g90, inp.opts)?;
            ctx.log(format!("chi2-scan: calibrated uniform Δ = {d:.6e} counts/(kg·keVee·day) so that g90({name}, {m} MeV) = {g90:e}"));
            (
                vec![d; residual.len()],
                Some(Calibration {
                    delta_counts_per_kg_kevee_day: d,
                    method: Calibration::BISECTION.into(),
                    model: Some(name.clone()),
                    mass_mev: Some(m),
                    g90_target: Some(g90),
                    from: None,
                }),
            )
        }
        (None, DeltaSource::FromData) => {
            return Err(bad_input(format!(
                "{} leaves Δ empty: give --calibrate-model, --calibrate-mass-mev and --calibrate-g90, or --delta-from",
                path.display()
            )));
        }
    };
    Ok((BinnedData { residual, delta }, calibration))
}

/// Asimov pseudo-data: R_obs − B = R_SM (all sources), Δ from exposure,
/// background and its systematic fraction.
fn asimov(
    ctx: &CommonArgs,
    det_path: &Path,
    response: &DetectorResponse,
    sources: &[SourceRates],
) -> anyhow::Result<(BinnedData, DataKind)> {
    let det = cevns_io::data::load_detector(det_path).context("loading the detector")?;
    let Some(p) = det.projection.as_ref() else {
        return Err(bad_input(format!(
            "{}: no `projection` block (exposure_kg_day, background, background_syst_frac)",
            det_path.display()
        )));
    };
    let exposure = positive("projection.exposure_kg_day", p.exposure_kg_day)?;
    if !(p.background.is_finite()
        && p.background >= 0.0
        && p.background_syst_frac.is_finite()
        && p.background_syst_frac >= 0.0)
    {
        return Err(bad_input(format!(
            "{}: projection.background and background_syst_frac must be >= 0",
            det_path.display()
        )));
    }
    let bins = det.bins(det_path)?;
    if bins.edges().len() != response.bins().edges().len()
        || bins
            .edges()
            .iter()
            .zip(response.bins().edges())
            .any(|(a, b)| (a - b).abs() > 1e-6)
    {
        return Err(bad_input(format!(
            "{}: bins differ from the response's (was quench-smear run with this detector?)",
            det_path.display()
        )));
    }
    let mut sm = vec![0.0; bins.len()];
    for s in sources {
        for (a, b) in sm.iter_mut().zip(response.apply_source(s)) {
            *a += b;
        }
    }
    let delta: Vec<f64> = (0..bins.len())
        .map(|i| {
            let (lo, hi) = bins.bin(i);
            let counts_rate = sm[i] + p.background;
            (counts_rate / (exposure * (hi - lo)) + (p.background_syst_frac * p.background).powi(2))
                .sqrt()
        })
        .collect();
    if let Some(i) = delta.iter().position(|d| d.is_nan() || *d <= 0.0) {
        return Err(bad_input(format!(
            "bin {i}: Δ = 0 (no signal and no background); widen the bins or add background"
        )));
    }
    ctx.log(format!(
        "chi2-scan: Asimov projection, exposure {exposure} kg·day, background {} /(kg·keVee·day)",
        p.background
    ));
    let kind = DataKind::Asimov {
        exposure_kg_day: exposure,
        background: p.background,
        background_syst_frac: p.background_syst_frac,
    };
    Ok((
        BinnedData {
            residual: sm,
            delta,
        },
        kind,
    ))
}
