//! `chi2-scan`: pull χ² (eq 20) over (g, m_Z') and 90 % CL upper limits on
//! the U(1)' coupling for each model.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rayon::prelude::*;

use cevns_io::data::{load_dataset, load_models, select_models};
use cevns_io::inputs::Input;
use cevns_io::schema::{read_rates, read_response};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{OutputSet, Provenance, Table, stage_main};
use cevns_physics::rate::BinnedModel;
use cevns_physics::stats::{
    BinnedData, LimitOptions, calibrate_uniform_delta, coupling_grid, upper_limit,
};

/// Scan Δχ² over coupling g and mediator mass m_Z' and find the 90 % CL
/// (Δχ² = 4.605, 2 d.o.f.) upper limit g₉₀(m) for each U(1)' model.
///
/// χ² is eq 20 with one pull per flux source (cⱼⁱ = σⱼ Rⱼⁱ), minimised in
/// closed form. Rates are R₀ + g²R₁(m) + g⁴R₂(m) per bin, so no flux
/// convolution is redone. If the dataset leaves Δ empty (the surrogate), one
/// uniform Δ is calibrated so that g₉₀ of `--calibrate-model` at
/// `--calibrate-mass-mev` equals `--calibrate-g90`; the value is recorded in
/// the outputs' metadata.
///
/// Outputs: limits.parquet / limits.csv (model, m_zp_mev [MeV], g90), and
/// scan.parquet (model, m_zp_mev, g, delta_chi2).
#[derive(Debug, Parser)]
#[command(name = "chi2-scan", version, allow_negative_numbers = true)]
struct Args {
    /// rates.parquet from rate-convolve.
    #[arg(long, value_name = "PARQUET")]
    rates: PathBuf,
    /// response.parquet from quench-smear.
    #[arg(long, value_name = "PARQUET")]
    response: PathBuf,
    /// Binned data CSV: bin_lo_kevee,bin_hi_kevee,r_obs,background,delta
    /// [keVee; counts kg⁻¹ keVee⁻¹ day⁻¹]; empty delta = calibrate.
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present = "asimov_detector",
        conflicts_with = "asimov_detector"
    )]
    data: Option<PathBuf>,
    /// Expected sensitivity instead of data: Asimov pseudo-data equal to the SM
    /// expectation, with Δᵢ² = (R_SM,ᵢ + B)/(exposure·width) + (f_B·B)² from
    /// this detector file's `projection` block (exposure [kg·day], flat
    /// background B [counts kg⁻¹ keVee⁻¹ day⁻¹], systematic fraction f_B).
    #[arg(long, value_name = "YAML")]
    asimov_detector: Option<PathBuf>,
    /// U(1)' models YAML.
    #[arg(long, value_name = "YAML")]
    models: PathBuf,
    /// Output: limits as Parquet.
    #[arg(long, value_name = "PARQUET")]
    out_limits: PathBuf,
    /// Output: limits as CSV (model,m_zp_mev,g90).
    #[arg(long, value_name = "CSV")]
    out_csv: PathBuf,
    /// Output: Δχ² on the (m, g) grid.
    #[arg(long, value_name = "PARQUET")]
    out_scan: PathBuf,
    /// Models to scan (comma-separated; default: all in --models).
    #[arg(long, value_delimiter = ',')]
    model_names: Vec<String>,
    /// Lowest mediator mass [MeV].
    #[arg(long, default_value_t = 0.01)]
    m_min_mev: f64,
    /// Highest mediator mass [MeV].
    #[arg(long, default_value_t = 1000.0)]
    m_max_mev: f64,
    /// Number of log-spaced masses (201 puts 40 per decade, hitting 1, 10, 100 MeV).
    #[arg(long, default_value_t = 201)]
    m_points: usize,
    /// Smallest coupling of the scan.
    #[arg(long, default_value_t = 1e-9)]
    g_min: f64,
    /// Largest coupling of the scan.
    #[arg(long, default_value_t = 1.0)]
    g_max: f64,
    /// Coarse scan points per decade of g (limits are then bisected to 1e-12).
    #[arg(long, default_value_t = 8)]
    g_per_decade: usize,
    /// Δχ² of the limit (default 4.605 = 90 % CL, 2 d.o.f.).
    #[arg(long, default_value_t = cevns_physics::units::delta_chi2_90cl_2dof())]
    delta_chi2: f64,
    /// For data without Δ: reuse the uniform Δ calibrated by another run,
    /// read from that run's limits.parquet metadata (e.g. the paper pipeline's),
    /// so that changing a flux model or detector is not re-calibrated away.
    #[arg(long, value_name = "PARQUET", conflicts_with_all = ["calibrate_model", "calibrate_mass_mev", "calibrate_g90"])]
    delta_from: Option<PathBuf>,
    /// Calibration (only for data without Δ): model name.
    #[arg(long)]
    calibrate_model: Option<String>,
    /// Calibration: mediator mass [MeV].
    #[arg(long)]
    calibrate_mass_mev: Option<f64>,
    /// Calibration: target g₉₀ at that mass.
    #[arg(long)]
    calibrate_g90: Option<f64>,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("chi2-scan", || {
        let args = Args::parse();
        if args.common.list_inputs {
            let mut inputs = vec![
                Input::File(&args.rates),
                Input::File(&args.response),
                Input::File(&args.models),
            ];
            // The Asimov detector's YAML only (its projection block; no tables).
            let optional = [&args.data, &args.asimov_detector, &args.delta_from];
            inputs.extend(optional.into_iter().flatten().map(|p| Input::File(p)));
            return cevns_io::inputs::print_list(&inputs);
        }
        args.common.init()?;
        run(&args)
    })
}

fn positive(name: &str, v: f64) -> anyhow::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad_input(format!("{name} = {v} must be finite and > 0")))
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = OutputSet::new(&[&args.out_limits, &args.out_csv, &args.out_scan])?;
    let m_min = positive("--m-min-mev", args.m_min_mev)?;
    let m_max = positive("--m-max-mev", args.m_max_mev)?;
    if m_max <= m_min || args.m_points < 2 {
        return Err(bad_input(
            "need --m-max-mev > --m-min-mev and --m-points >= 2",
        ));
    }
    let g_min = positive("--g-min", args.g_min)?;
    let g_max = positive("--g-max", args.g_max)?;
    if g_max <= g_min || args.g_per_decade == 0 {
        return Err(bad_input("need --g-max > --g-min and --g-per-decade >= 1"));
    }
    let opts = LimitOptions {
        g_min,
        g_max,
        per_decade: args.g_per_decade,
        delta_chi2: positive("--delta-chi2", args.delta_chi2)?,
    };

    let all_models = load_models(&args.models).context("loading models")?;
    let models = select_models(&args.models, &all_models, &args.model_names)?;
    let (grid, sources) = read_rates(&args.rates).context("reading rates")?;
    let response = read_response(&args.response, &grid).context("reading the response")?;
    let (binned, calibration, data_kind, data_path) = match (&args.data, &args.asimov_detector) {
        (Some(path), None) => {
            let (b, c) = measured(args, path, &response, &sources, &grid, &all_models, &opts)?;
            let kind = if c.is_some() {
                "surrogate: uniform Delta calibrated, not measured data".to_string()
            } else {
                "user data with Delta".to_string()
            };
            (b, c, kind, path.clone())
        }
        (None, Some(det)) => {
            let (b, kind) = asimov(args, det, &response, &sources)?;
            (b, None, kind, det.clone())
        }
        _ => return Err(bad_input("give exactly one of --data or --asimov-detector")),
    };

    let masses = cevns_physics::stats::log_grid(m_min, m_max, args.m_points);
    let gs = coupling_grid(&opts);
    let pb = args
        .common
        .progress((models.len() * masses.len()) as u64, "chi2-scan");
    let (mut lm, mut ll, mut lmass, mut lg, mut lhas) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut sm, mut smass, mut sg, mut sd) = (vec![], vec![], vec![], vec![]);
    let mut csv = String::from("model,m_zp_mev,g90\n");
    let mut chi2_mins = serde_json::Map::new();
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
        chi2_mins.insert(model.name.clone(), serde_json::json!(chi2_min));
        let limits: Vec<Option<f64>> = polys
            .par_iter()
            .map(|p| {
                let l = upper_limit(|g| p.chi2(&binned, &bm.sigma, g), chi2_min, &opts);
                pb.inc(1);
                l
            })
            .collect();
        for (i, &m) in masses.iter().enumerate() {
            lm.push(model.name.clone());
            ll.push(model.display().to_string());
            lmass.push(m);
            lg.push(limits[i].unwrap_or(0.0));
            lhas.push(u32::from(limits[i].is_some()));
            match limits[i] {
                Some(g) => writeln!(csv, "{},{:.6e},{:.6e}", model.name, m, g)?,
                None => writeln!(csv, "{},{:.6e},", model.name, m)?,
            }
            for (j, &g) in gs.iter().enumerate() {
                sm.push(model.name.clone());
                smass.push(m);
                sg.push(g);
                sd.push(scan[i][j] - chi2_min);
            }
        }
        let at = |target: f64| {
            masses.iter().zip(&limits).min_by(|a, b| {
                (a.0.ln() - target.ln())
                    .abs()
                    .total_cmp(&(b.0.ln() - target.ln()).abs())
            })
        };
        if let Some((m, Some(g))) = at(1.0) {
            args.common.log(format!(
                "chi2-scan: {:>8}: g90({m:.3} MeV) = {g:.4e}",
                model.name
            ));
        }
    }
    pb.finish_and_clear();

    let mut prov = Provenance::new("chi2-scan")
        .param(
            "models",
            models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        )
        .param("m_min_mev", m_min)
        .param("m_max_mev", m_max)
        .param("m_points", args.m_points)
        .param("g_min", g_min)
        .param("g_max", g_max)
        .param("g_per_decade", args.g_per_decade)
        .param("delta_chi2", opts.delta_chi2)
        .param("calibrate_model", &args.calibrate_model)
        .param("calibrate_mass_mev", args.calibrate_mass_mev)
        .param("calibrate_g90", args.calibrate_g90)
        .input("rates", &args.rates)?
        .input("response", &args.response)?
        .input("data", &data_path)?
        .inputs("delta-from", args.delta_from.iter().map(|p| p.as_path()))?
        .input("models", &args.models)?
        .extra("chi2_min", chi2_mins)
        .extra(
            "pulls",
            "one per flux source, c_j^i = sigma_j * R_j^i(g, m) (SM + Z' rate of source j)",
        );
    prov = prov.extra("data_kind", &data_kind);
    if let Some(c) = &calibration {
        prov = prov.extra("calibration", c);
    }
    let limits = Table::new()
        .str("model", lm)
        .str("label", ll)
        .f64("m_zp_mev", "MeV", lmass)
        .f64("g90", "1", lg)
        .u32("has_limit", "1", lhas);
    let scan = Table::new()
        .str("model", sm)
        .f64("m_zp_mev", "MeV", smass)
        .f64("g", "1", sg)
        .f64("delta_chi2", "1", sd);
    let header = format!(
        "# cevns-pipeline chi2-scan provenance: {}\n",
        prov.to_json()
    );
    out.write_bytes(&args.out_limits, &limits.to_parquet_bytes(&prov)?)?;
    out.write_bytes(&args.out_csv, format!("{header}{csv}").as_bytes())?;
    out.write_bytes(&args.out_scan, &scan.to_parquet_bytes(&prov)?)?;
    out.commit()?;
    args.common
        .log(format!("chi2-scan: wrote {}", args.out_limits.display()));
    Ok(())
}

/// Binned data from a CSV, with Δ given or calibrated (surrogate).
#[allow(clippy::too_many_arguments)]
fn measured(
    args: &Args,
    path: &std::path::Path,
    response: &cevns_physics::rate::DetectorResponse,
    sources: &[cevns_physics::rate::SourceRates],
    grid: &cevns_physics::rate::RecoilGrid,
    all_models: &[cevns_physics::model::U1Model],
    opts: &LimitOptions,
) -> anyhow::Result<(BinnedData, Option<serde_json::Value>)> {
    let (response, sources, grid, all_models, opts) = (response, sources, grid, all_models, *opts);
    let data = load_dataset(path).context("loading the dataset")?;
    let edges = response.bins().edges();
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
    let calib = (
        &args.calibrate_model,
        args.calibrate_mass_mev,
        args.calibrate_g90,
    );
    let (delta, calibration) = match (&data.delta, calib) {
        (Some(d), (None, None, None)) => (d.clone(), None),
        (Some(_), _) => {
            return Err(bad_input(format!(
                "{} gives Δ in every row; remove the --calibrate-* options (they are for data without Δ)",
                path.display()
            )));
        }
        (None, (None, None, None)) if args.delta_from.is_some() => {
            let src = args.delta_from.as_deref().unwrap_or(path);
            let t = cevns_io::TableReader::open(src).context("reading --delta-from")?;
            t.expect_stage("chi2-scan")?;
            let extra = t.meta_json("cevns.extra")?;
            let Some(d) = extra["calibration"]["delta_counts_per_kg_kevee_day"].as_f64() else {
                return Err(bad_input(format!(
                    "{}: no calibrated Δ in its metadata (was it a calibrated run?)",
                    src.display()
                )));
            };
            let d = positive("calibrated Δ", d)?;
            args.common.log(format!(
                "chi2-scan: uniform Δ = {d:.6e} counts/(kg·keVee·day) taken from {}",
                src.display()
            ));
            (
                vec![d; residual.len()],
                Some(serde_json::json!({
                    "delta_counts_per_kg_kevee_day": d,
                    "method": "reused from another run's calibration",
                    "from": extra["calibration"].clone(),
                })),
            )
        }
        (None, (Some(name), Some(m), Some(g90))) => {
            let model = cevns_physics::model::find(all_models, name)?;
            let m = positive("--calibrate-mass-mev", m)?;
            let g90 = positive("--calibrate-g90", g90)?;
            let bm = BinnedModel::new(response, sources, model);
            let poly = bm.polynomial(response, grid, m);
            let d = calibrate_uniform_delta(&residual, &poly, &bm.sigma, g90, &opts)?;
            args.common.log(format!("chi2-scan: calibrated uniform Δ = {d:.6e} counts/(kg·keVee·day) so that g90({name}, {m} MeV) = {g90:e}"));
            (
                vec![d; residual.len()],
                Some(serde_json::json!({
                    "delta_counts_per_kg_kevee_day": d,
                    "model": name, "mass_mev": m, "g90_target": g90,
                    "method": "bisection in log(Delta) on chi2(g90_target) - chi2_min = delta_chi2; largest such Delta",
                })),
            )
        }
        (None, _) => {
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
    args: &Args,
    det_path: &std::path::Path,
    response: &cevns_physics::rate::DetectorResponse,
    sources: &[cevns_physics::rate::SourceRates],
) -> anyhow::Result<(BinnedData, String)> {
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
    args.common.log(format!(
        "chi2-scan: Asimov projection, exposure {exposure} kg·day, background {} /(kg·keVee·day)",
        p.background
    ));
    let kind = format!(
        "Asimov projection (expected sensitivity, not data): exposure {exposure} kg day, background {} counts/(kg keVee day), background syst {}",
        p.background, p.background_syst_frac
    );
    Ok((
        BinnedData {
            residual: sm,
            delta,
        },
        kind,
    ))
}
