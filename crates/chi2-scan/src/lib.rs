//! The `chi2-scan` stage as a library: pull χ² (eq 20) over (g, m_Z') and
//! 90 % CL upper limits on the U(1)' coupling for each model.
//!
//! [`ScanConfig`] is the validated configuration (built by the binary from
//! its flags, or by a test or another stage directly); [`run`] reads the
//! inputs it names and returns the outputs in memory ([`ScanOutputs`]); the
//! binary writes them atomically.

pub mod poisson;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use cevns_io::data::{load_dataset, load_models, select_models};
use cevns_io::schema::{
    AsimovSetup, Calibration, DataKind, LimitsExtra, ModelLimit, NoLimit, ScanBlock, limits_table,
    read_limits, read_rates, read_response, scan_table,
};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{Provenance, Table};
use cevns_physics::model::U1Model;
use cevns_physics::rate::{BinnedModel, DetectorResponse, RecoilGrid, SourceRates};
use cevns_physics::stats::{
    BinnedData, LimitOptions, PullChi2, calibrate_uniform_delta, coupling_grid, upper_limit_on_grid,
};

/// Where the binned data come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// Binned data CSV (`bin_lo_kevee,bin_hi_kevee,r_obs,background,delta`);
    /// an empty `delta` column is filled by [`DeltaSource`].
    Measured { path: PathBuf, delta: DeltaSource },
    /// Asimov pseudo-data equal to the SM expectation, Δ from the
    /// `projection` block of this detector YAML; `threshold_kevee` [keVee]
    /// moves the first bin edge (bins keep their width and upper edge, as
    /// quench-smear's `--threshold-kevee`), `exposure_kg_day` [kg·day]
    /// replaces the file's exposure (threshold and exposure scans).
    Asimov {
        detector: PathBuf,
        threshold_kevee: Option<f64>,
        exposure_kg_day: Option<f64>,
    },
}

impl DataSource {
    /// The file the data come from (recorded as input `data`).
    pub fn path(&self) -> &Path {
        match self {
            DataSource::Measured { path, .. } => path,
            DataSource::Asimov { detector, .. } => detector,
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

/// Most mediator masses per scan (40 per decade over 0.01–1000 MeV is 201).
pub const MAX_M_POINTS: usize = 5001;
/// Most coarse couplings per decade.
pub const MAX_G_PER_DECADE: usize = 100;
/// Most rows of scan.parquet (models × masses × couplings): ~150 MB in memory
/// while it is built (4 models × 5001 masses × the default 73 couplings fit).
pub const MAX_SCAN_ROWS: usize = 2_000_000;

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
        if m.points > MAX_M_POINTS || o.per_decade > MAX_G_PER_DECADE {
            return Err(bad_input(format!(
                "need --m-points <= {MAX_M_POINTS} and --g-per-decade <= {MAX_G_PER_DECADE}"
            )));
        }
        if (o.g_max / o.g_min).log10() > 30.0 {
            return Err(bad_input(format!(
                "--g-min {:e} .. --g-max {:e} spans more than 30 decades",
                o.g_min, o.g_max
            )));
        }
        positive("--delta-chi2", o.delta_chi2)?;
        if let (_, _, Some(g)) = self.calibration_params()
            && !(g.is_finite() && g > o.g_min && g < o.g_max)
        {
            return Err(bad_input(format!(
                "--calibrate-g90 {g:e} is outside the coupling range ({:e}, {:e}) of the scan",
                o.g_min, o.g_max
            )));
        }
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
    /// Δχ² on the (m, g) grid of every model (scan.parquet).
    pub scan: Vec<ScanBlock>,
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

    /// limits.csv: plain CSV, header first, that pandas/polars read with
    /// default options; the provenance is in limits.parquet's metadata.
    pub fn csv_bytes(&self) -> Vec<u8> {
        self.limits_csv.clone().into_bytes()
    }
}

/// Run the scan: read the inputs, build the binned data (Δ given,
/// calibrated, reused or Asimov), scan Δχ² and find g₉₀(m) per model.
pub fn run(cfg: &ScanConfig, ctx: &CommonArgs) -> anyhow::Result<ScanOutputs> {
    cfg.validate()?;
    let opts = cfg.limit;
    let all_models = load_models(&cfg.models).context("loading models")?;
    let models = select_models(&cfg.models, &all_models, &cfg.model_names)?;
    // Bound the work before reading anything large.
    let gs = coupling_grid(&opts);
    let rows = models.len() * cfg.masses.points * gs.len();
    if rows > MAX_SCAN_ROWS {
        return Err(bad_input(format!(
            "the scan would have {rows} rows ({} models × {} masses × {} couplings), \
             more than {MAX_SCAN_ROWS}: lower --m-points or --g-per-decade, or scan fewer models",
            models.len(),
            cfg.masses.points,
            gs.len()
        )));
    }
    let (grid, sources) = read_rates(&cfg.rates).context("reading rates")?;
    let response = read_response(&cfg.response, &grid).context("reading the response")?;
    let inputs = Inputs {
        response: &response,
        sources: &sources,
        grid: &grid,
        all_models: &all_models,
        opts: &opts,
    };
    // The binned data (a calibration scans Δ for one model and mass) and
    // every model's response-folded kernels (independent of the data) side
    // by side.
    let data = || -> anyhow::Result<_> {
        Ok(match &cfg.data {
            DataSource::Measured { path, delta } => {
                let (b, c) = measured(ctx, path, delta, &inputs)?;
                let kind = if c.is_some() {
                    DataKind::Surrogate
                } else {
                    DataKind::UserData
                };
                (b, c, kind, None)
            }
            DataSource::Asimov {
                detector,
                threshold_kevee,
                exposure_kg_day,
            } => {
                let overrides = (*threshold_kevee, *exposure_kg_day);
                let (b, kind, setup) = asimov(ctx, detector, overrides, &response, &sources)?;
                (b, None, kind, Some(setup))
            }
        })
    };
    let (data, bms) = rayon::join(data, || {
        models
            .par_iter()
            .map(|model| BinnedModel::new(&response, &sources, model))
            .collect::<Vec<_>>()
    });
    let (binned, calibration, data_kind, asimov_setup) = data?;
    // The rates on the recoil grid (~6 MB for the paper's Ge target) are
    // folded into `bms` now: freed off the critical path.
    rayon::spawn(move || drop(sources));

    let masses =
        cevns_physics::stats::log_grid(cfg.masses.min_mev, cfg.masses.max_mev, cfg.masses.points);
    check_finite_data(&binned)?;
    let pb = ctx.progress((models.len() * masses.len()) as u64, "chi2-scan");
    let mut limit_curves = Vec::new();
    let mut scan_blocks = Vec::new();
    let mut csv = String::from("model,m_zp_mev,g90\n");
    let mut chi2_mins = std::collections::BTreeMap::new();
    let mut no_limit = std::collections::BTreeMap::new();
    let mut unresolved_points = std::collections::BTreeMap::new();
    let n_m = masses.len();
    // χ²(g) of model `im` at mass `m`: the binned polynomial (checked
    // finite) with its pull products precomputed (no allocation per
    // evaluation).
    let chi2_at = |im: usize, m: f64| -> anyhow::Result<PullChi2> {
        let bm = &bms[im];
        let p = bm.polynomial(&response, &grid, m);
        check_finite_rates(&p, &bm.sigma, &models[im].name, m)?;
        Ok(PullChi2::new(&p, &binned, &bm.sigma))
    };
    // χ²(g = 0) per model: the Z' terms vanish, so every mass gives it (taken
    // at the first). Where no scan point lies below it, it is the model's
    // χ² minimum, and a mass's limit can be found in the same pass as its
    // scan row, without keeping its χ²(g) for a second pass.
    let chi2_0s: Vec<anyhow::Result<f64>> = (0..models.len())
        .into_par_iter()
        .map(|im| Ok(chi2_at(im, masses[0])?.eval(0.0)))
        .collect();
    // (The first failing model in order, as in the rest of the scan.)
    let chi2_0s: Vec<f64> = chi2_0s.into_iter().collect::<anyhow::Result<_>>()?;
    // Per model and mass, in one parallel pass over all of them: χ²(g), the
    // coarse Δχ² row of the scan and (usually) the limit.
    let per_point: Vec<anyhow::Result<Point>> = (0..models.len() * n_m)
        .into_par_iter()
        .map(|at| {
            let (im, m) = (at / n_m, masses[at % n_m]);
            let c = chi2_at(im, m)?;
            let row = scan_row(&c, &gs);
            // A mass whose row lowers the minimum keeps its χ²(g): its limit
            // (and every other mass's) waits for the final minimum.
            let first = if row.iter().any(|&v| v < chi2_0s[im]) {
                FirstPass::Kept(Box::new(c))
            } else {
                FirstPass::Limit(limit_in_range(|g| c.eval(g), &gs, &row, chi2_0s[im], &opts))
            };
            pb.inc(1);
            Ok(Point { row, first })
        })
        .collect();
    let mut per_point = per_point.into_iter();
    for (im, model) in models.iter().enumerate() {
        let mut points = Vec::with_capacity(n_m);
        for r in per_point.by_ref().take(n_m) {
            points.push(r?);
        }
        let scan: Vec<&[f64]> = points.iter().map(|p| p.row.as_slice()).collect();
        let chi2_0 = chi2_0s[im];
        if !chi2_0.is_finite() || scan.iter().copied().flatten().any(|c| c.is_infinite()) {
            anyhow::bail!(
                "model `{}`: χ² is not finite on the scan grid (rates or Δ out of range)",
                model.name
            );
        }
        // NaN marks couplings whose rates exceed the data beyond double
        // precision (PullChi2's Form::Unresolved).
        let chi2_min = scan
            .iter()
            .copied()
            .flatten()
            .copied()
            .filter(|c| !c.is_nan())
            .fold(chi2_0, f64::min);
        // Such points may only lie above the mass's limit: already excluded,
        // they are NaN in scan.parquet. Below it they would hide the limit.
        let mut unresolved = 0;
        for (row, &m) in scan.iter().zip(&masses) {
            let Some(first) = row.iter().position(|c| c.is_nan()) else {
                continue;
            };
            if !row[..first]
                .iter()
                .any(|&c| c - chi2_min >= opts.delta_chi2)
            {
                anyhow::bail!(
                    "model `{}`, m = {m:.4e} MeV: χ² cannot be resolved in double precision \
                     at g = {:e}, below the limit (the Z' rates there exceed the data \
                     by more than 1e10); lower --g-max",
                    model.name,
                    gs[first]
                );
            }
            unresolved += row.iter().filter(|c| c.is_nan()).count();
        }
        if unresolved > 0 {
            unresolved_points.insert(model.name.clone(), unresolved);
            ctx.log(format!(
                "chi2-scan: {:>8}: {unresolved} of {} grid points, all above the limit, have \
                 rates so far beyond the data that χ² is not resolved in double precision \
                 (Δχ² = NaN there in scan.parquet)",
                model.name,
                masses.len() * gs.len()
            ));
        }
        // The minimum must lie inside the range: at g_max the data ask for
        // more new physics than the scan covers, and no limit is meaningful.
        if let Some((i, _)) = scan
            .iter()
            .enumerate()
            .find(|(_, row)| row.last().is_some_and(|&c| c <= chi2_min && c < chi2_0))
        {
            return Err(bad_input(format!(
                "model `{}`: the χ² minimum is at the edge g = --g-max = {:e} (m = {:.4e} MeV): \
                 the data (R_obs − B) ask for a larger rate than the scan covers; \
                 check r_obs and background in {}, or raise --g-max",
                model.name,
                opts.g_max,
                masses[i],
                cfg.data.path().display()
            )));
        }
        chi2_mins.insert(model.name.clone(), chi2_min);
        // The coarse crossing comes from the scan already made; only the
        // root refinement evaluates χ² again. Found in the first pass where
        // the minimum is χ²(0); otherwise again for every mass, with χ²(g)
        // rebuilt where it was not kept.
        let same_min = chi2_min.to_bits() == chi2_0.to_bits();
        let limits: Vec<anyhow::Result<Limit>> = points
            .par_iter()
            .zip(&masses)
            .map(|(p, &m)| {
                Ok(match &p.first {
                    FirstPass::Limit(l) if same_min => *l,
                    FirstPass::Kept(c) => {
                        limit_in_range(|g| c.eval(g), &gs, &p.row, chi2_min, &opts)
                    }
                    FirstPass::Limit(_) => {
                        let c = chi2_at(im, m)?;
                        limit_in_range(|g| c.eval(g), &gs, &p.row, chi2_min, &opts)
                    }
                })
            })
            .collect();
        let limits: Vec<Limit> = limits.into_iter().collect::<anyhow::Result<_>>()?;
        let below = limits.iter().filter(|l| **l == Limit::BelowRange).count();
        let above = limits.iter().filter(|l| **l == Limit::AboveRange).count();
        if below > 0 {
            ctx.log(format!(
                "chi2-scan: warning: {:>8}: {below} of {} masses have Δχ² >= {} already at --g-min = {:e}; \
                 no limit reported there (the data disfavour g = 0, i.e. show an excess: \
                 an upper limit alone does not describe them)",
                model.name,
                masses.len(),
                opts.delta_chi2,
                opts.g_min
            ));
        }
        if above > 0 {
            ctx.log(format!(
                "chi2-scan: {:>8}: {above} of {} masses are not excluded up to --g-max = {:e}; no limit there",
                model.name,
                masses.len(),
                opts.g_max
            ));
        }
        no_limit.insert(
            model.name.clone(),
            NoLimit {
                excluded_already_at_g_min: below,
                not_excluded_up_to_g_max: above,
            },
        );
        let limits: Vec<Option<f64>> = limits.iter().map(|l| l.value()).collect();
        for (i, &m) in masses.iter().enumerate() {
            match limits[i] {
                Some(g) => writeln!(csv, "{},{:.6e},{:.6e}", model.name, m, g)?,
                None => writeln!(csv, "{},{:.6e},", model.name, m)?,
            }
        }
        scan_blocks.push(ScanBlock {
            model: model.name.clone(),
            masses_mev: masses.clone(),
            couplings: gs.clone(),
            delta_chi2: scan
                .iter()
                .copied()
                .flatten()
                .map(|c| c - chi2_min)
                .collect(),
        });
        limit_curves.push(ModelLimit {
            model: model.name.clone(),
            label: model.display().to_string(),
            points: masses.iter().copied().zip(limits.iter().copied()).collect(),
            data: data_kind.clone(),
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
            unresolved_scan_points: unresolved_points,
            chi2_min: chi2_mins,
            no_limit,
            pulls: "one per flux source, c_j^i = sigma_j * R_j^i(g, m) (SM + Z' rate of source j)"
                .into(),
            data_kind,
            calibration,
            asimov: asimov_setup,
        });
    Ok(ScanOutputs {
        limits: limit_curves,
        limits_csv: csv,
        scan: scan_blocks,
        provenance: prov,
    })
}

/// One (model, mass) point of the first pass: its χ² scan row and what the
/// limit needs.
struct Point {
    row: Vec<f64>,
    first: FirstPass,
}

/// The limit found against χ²(0) (final when χ²(0) is the model's minimum),
/// or, where the row goes below χ²(0), the χ²(g) kept for the second pass.
enum FirstPass {
    Limit(Limit),
    Kept(Box<PullChi2>),
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
            verify_calibration(&residual, &poly, &bm.sigma, d, g90, inp.opts, name, m)?;
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
/// Also returns the setup (detector name, threshold, exposure, background)
/// recorded as `asimov` in the outputs' metadata, for tables that gather
/// many projections (`compare --at-mass-mev`).
fn asimov(
    ctx: &CommonArgs,
    det_path: &Path,
    (threshold_kevee, exposure_kg_day): (Option<f64>, Option<f64>),
    response: &DetectorResponse,
    sources: &[SourceRates],
) -> anyhow::Result<(BinnedData, DataKind, AsimovSetup)> {
    let mut det = cevns_io::data::load_detector(det_path).context("loading the detector")?;
    if let Some(t) = threshold_kevee {
        det = det.with_threshold_kevee(det_path, t)?;
    }
    if let Some(e) = exposure_kg_day {
        det = det.with_exposure_kg_day(det_path, e)?;
    }
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
    let setup = AsimovSetup {
        detector: det.name.clone(),
        threshold_kevee: bins.edges()[0],
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
        setup,
    ))
}

/// Where Δχ² crosses the limit threshold relative to the scanned range.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    /// A crossing inside (g_min, g_max]: the limit.
    At(f64),
    /// Δχ² ≥ threshold already at g_min: the edge is not a limit.
    BelowRange,
    /// No crossing up to g_max: not excluded.
    AboveRange,
}

impl Limit {
    fn value(self) -> Option<f64> {
        match self {
            Limit::At(g) => Some(g),
            _ => None,
        }
    }
}

/// The limit of one mass point, with the edges of the coupling range told
/// apart from a crossing inside it.
/// `values[i]` = χ²(`grid[i]`) on the coarse coupling grid (`grid[0]` =
/// g_min), already computed by the scan.
fn limit_in_range(
    chi2: impl Fn(f64) -> f64,
    grid: &[f64],
    values: &[f64],
    chi2_min: f64,
    opts: &LimitOptions,
) -> Limit {
    if values
        .first()
        .is_none_or(|&v| v - chi2_min >= opts.delta_chi2)
    {
        return Limit::BelowRange;
    }
    match upper_limit_on_grid(chi2, grid, values, chi2_min, opts) {
        Some(g) if g.is_finite() && g > opts.g_min && g <= opts.g_max => Limit::At(g),
        Some(_) => Limit::BelowRange,
        None => Limit::AboveRange,
    }
}

/// χ² on the coupling grid `gs` (ascending). From the first coupling whose
/// χ² is not resolved (NaN) up, the rates only grow (their g⁴ term
/// dominates there): the rest of the row is NaN without evaluating it.
/// (Checked on every pipeline: no resolved point ever follows a NaN.)
fn scan_row(c: &PullChi2, gs: &[f64]) -> Vec<f64> {
    let mut row: Vec<f64> = Vec::with_capacity(gs.len());
    for &g in gs {
        let unresolved = row.last().is_some_and(|v| v.is_nan());
        row.push(if unresolved { f64::NAN } else { c.eval(g) });
    }
    row
}

/// R_obs − B and Δ must be finite (Δ > 0) in every bin.
fn check_finite_data(b: &BinnedData) -> anyhow::Result<()> {
    if let Some(i) = b.residual.iter().position(|v| !v.is_finite()) {
        return Err(bad_input(format!(
            "bin {i}: R_obs − B = {} is not finite",
            b.residual[i]
        )));
    }
    if let Some(i) = b.delta.iter().position(|d| !(d.is_finite() && *d > 0.0)) {
        return Err(bad_input(format!(
            "bin {i}: Δ = {} must be finite and > 0",
            b.delta[i]
        )));
    }
    Ok(())
}

/// Rate coefficients R₀, R₁, R₂ (and the pull widths) must be finite.
fn check_finite_rates(
    p: &cevns_physics::stats::Polynomial,
    sigma: &[f64],
    model: &str,
    m: f64,
) -> anyhow::Result<()> {
    let bad = [&p.r0, &p.r1, &p.r2]
        .iter()
        .flat_map(|t| t.iter().flatten())
        .chain(sigma)
        .find(|v| !v.is_finite());
    match bad {
        Some(v) => Err(bad_input(format!(
            "model `{model}`, m = {m:.4e} MeV: a binned rate is {v} (not finite); \
             check the fluxes, cross sections and charges that made rates.parquet / response.parquet"
        ))),
        None => Ok(()),
    }
}

/// Re-derive the limit at the calibration point with the calibrated Δ, the
/// way the scan does (χ² minimum over the whole coupling grid), and refuse a
/// Δ that does not reproduce the target: a calibration that "succeeds"
/// towards a wrong limit is worse than none.
#[allow(clippy::too_many_arguments)]
fn verify_calibration(
    residual: &[f64],
    poly: &cevns_physics::stats::Polynomial,
    sigma: &[f64],
    delta: f64,
    target: f64,
    opts: &LimitOptions,
    model: &str,
    m: f64,
) -> anyhow::Result<()> {
    let data = BinnedData {
        residual: residual.to_vec(),
        delta: vec![delta; residual.len()],
    };
    check_finite_data(&data).context("calibrated Δ")?;
    let chi2 = PullChi2::new(poly, &data, sigma);
    let c = |g: f64| chi2.eval(g);
    let grid = coupling_grid(opts);
    let values: Vec<f64> = grid.iter().map(|&g| c(g)).collect();
    let chi2_min = values.iter().copied().fold(c(0.0), f64::min);
    let got = limit_in_range(c, &grid, &values, chi2_min, opts);
    match got {
        Limit::At(g) if (g / target - 1.0).abs() < 1e-6 => Ok(()),
        _ => {
            let what = match got {
                Limit::At(g) => format!("gives g90 = {g:.6e}"),
                Limit::BelowRange => format!(
                    "leaves no limit: Δχ² >= {} already at --g-min (the data disfavour g = 0)",
                    opts.delta_chi2
                ),
                Limit::AboveRange => "leaves no limit below --g-max".to_string(),
            };
            anyhow::bail!(
                "calibration failed: Δ = {delta:.6e} for {model} at {m} MeV {what}, not the target {target:e}; \
                 the data (R_obs − B) cannot be calibrated to that limit"
            )
        }
    }
}
