//! `quench-smear`: detector response — Lindhard quenching (eq 15–19),
//! Gaussian resolution and binning — as a reusable matrix, the binned SM
//! rates, and fine dR/dT_ee spectra for figures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rayon::prelude::*;

use cevns_io::data::{load_detector, load_models, select_models};
use cevns_io::inputs::Input;
use cevns_io::schema::{read_rates, response_table};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{OutputSet, Provenance, Table, stage_main};
use cevns_physics::quenching::Quenching;
use cevns_physics::rate::{
    DetectorResponse, Response, quenched_spectrum, rate_with_zprime, smeared_spectrum,
};

/// Detector response of a CEvNS experiment.
///
/// `--out-response` (response.parquet): matrix W [keV_nr keVee⁻¹] with
/// Rᵢ = Σₜ W(i, t) · dR/dT_nr(t): Simpson weight × P(T_ee = Y(T_nr)·T_nr lands
/// in bin i) × efficiency ÷ bin width. Integrating in T_nr avoids eq 19.
///
/// `--out-binned` (binned.parquet): SM rate per bin and source
/// [counts kg⁻¹ keVee⁻¹ day⁻¹].
///
/// `--out-spectrum` (spectrum.parquet): dR/dT_ee [counts kg⁻¹ keVee⁻¹ day⁻¹]
/// on a fine T_ee [keVee] grid, smeared and unsmeared (eq 19), for the SM
/// and the benchmark U(1)' points (paper Fig 2: g = 1.5e-5, m_Z' = 1, 5 MeV).
#[derive(Debug, Parser)]
#[command(name = "quench-smear", version, allow_negative_numbers = true)]
struct Args {
    /// rates.parquet from rate-convolve.
    #[arg(long, value_name = "PARQUET")]
    rates: PathBuf,
    /// Detector YAML (quenching, resolution, efficiency, bins).
    #[arg(long, value_name = "YAML")]
    detector: PathBuf,
    /// U(1)' models YAML (for the benchmark spectra).
    #[arg(long, value_name = "YAML")]
    models: PathBuf,
    /// Output: response matrix.
    #[arg(long, value_name = "PARQUET")]
    out_response: PathBuf,
    /// Output: binned SM rates.
    #[arg(long, value_name = "PARQUET")]
    out_binned: PathBuf,
    /// Output: fine spectra for figures.
    #[arg(long, value_name = "PARQUET")]
    out_spectrum: PathBuf,
    /// Lindhard k (dimensionless), overriding the detector file's k (e.g.
    /// `--k 0.15`). Absent: the detector file's quenching. An error on a
    /// detector whose quenching is a tabulated curve.
    #[arg(long, value_name = "K")]
    k: Option<f64>,
    /// Models drawn in the benchmark spectra (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    benchmark_models: Vec<String>,
    /// Coupling g of the benchmark spectra (g² = g_q g_ν).
    #[arg(long, default_value_t = 1.5e-5)]
    benchmark_g: f64,
    /// Mediator masses of the benchmark spectra [MeV], comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1.0, 5.0])]
    benchmark_masses_mev: Vec<f64>,
    /// Source drawn in the spectra (`8B` as in the paper's Fig 2, or `all`).
    #[arg(long, default_value = "8B")]
    spectrum_source: String,
    /// Fine spectrum: lowest T_ee [keVee].
    #[arg(long, default_value_t = 0.05)]
    ee_min_kevee: f64,
    /// Fine spectrum: highest T_ee [keVee].
    #[arg(long, default_value_t = 2.5)]
    ee_max_kevee: f64,
    /// Fine spectrum: number of points.
    #[arg(long, default_value_t = 246)]
    ee_points: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("quench-smear", || {
        let args = Args::parse();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::File(&args.rates),
                Input::Detector(&args.detector),
                Input::File(&args.models),
            ]);
        }
        args.common.init()?;
        run(&args)
    })
}

fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = OutputSet::new(&[&args.out_response, &args.out_binned, &args.out_spectrum])?;
    if !(args.ee_min_kevee > 0.0 && args.ee_max_kevee > args.ee_min_kevee && args.ee_points >= 2) {
        return Err(bad_input(
            "need 0 < --ee-min-kevee < --ee-max-kevee and --ee-points >= 2",
        ));
    }
    if !(args.benchmark_g.is_finite() && args.benchmark_g >= 0.0) {
        return Err(bad_input(format!(
            "--benchmark-g {} must be finite and >= 0",
            args.benchmark_g
        )));
    }
    if let Some(m) = args
        .benchmark_masses_mev
        .iter()
        .find(|m| !(m.is_finite() && **m > 0.0))
    {
        return Err(bad_input(format!(
            "--benchmark-masses-mev: mass {m} must be finite and > 0"
        )));
    }
    let det = load_detector(&args.detector).context("loading the detector")?;
    det.check_k_override(&args.detector, args.k)?;
    let bins = det.bins(&args.detector)?;
    let all_models = load_models(&args.models).context("loading models")?;
    let models = select_models(&args.models, &all_models, &args.benchmark_models)?;
    let (grid, sources) = read_rates(&args.rates).context("reading rates")?;
    // One quenching and one response per element of the target (Lindhard
    // depends on Z; a compound such as CsI has two).
    let mut zs: Vec<u32> = sources
        .iter()
        .flat_map(|s| s.parts.iter().map(|p| p.nucleus.z))
        .collect();
    zs.sort_unstable();
    zs.dedup();
    if zs.is_empty() {
        return Err(bad_input(format!("{}: no rates", args.rates.display())));
    }
    let k_override = args.k;
    let efficiency = det.efficiency(&args.detector)?;
    let mut quench: Vec<(u32, Quenching)> = Vec::new();
    let mut parts = Vec::new();
    for &z in &zs {
        let q = det.quenching(&args.detector, z, k_override)?;
        let r = Response::build(
            &grid,
            &q,
            &det.resolution,
            &bins,
            &efficiency,
            det.ionization_threshold_ev / 1e3,
        )?;
        parts.push((z, r));
        quench.push((z, q));
    }
    let resp = DetectorResponse::new(parts)?;
    let quench_desc = quench
        .iter()
        .map(|(z, q)| match q {
            Quenching::Lindhard(l) => format!("Z = {z}: Lindhard k = {}", l.k),
            Quenching::Table(_) => format!("Z = {z}: tabulated Y(T_nr)"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    args.common.log(format!(
        "quench-smear: {} ({quench_desc}), {} bins {:.3}–{:.3} keVee",
        det.name,
        bins.len(),
        bins.edges()[0],
        bins.edges()[bins.len()]
    ));

    // Binned SM rates per source.
    let (mut bb, mut blo, mut bhi, mut bsrc, mut brate, mut bsig) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for s in &sources {
        let r = resp.apply_source(s);
        for (i, v) in r.iter().enumerate() {
            let (lo, hi) = bins.bin(i);
            bb.push(i as u32);
            blo.push(lo);
            bhi.push(hi);
            bsrc.push(s.source.clone());
            brate.push(*v);
            bsig.push(s.sigma_frac);
        }
    }
    let binned = Table::new()
        .u32("bin", "1", bb)
        .f64("bin_lo_kevee", "keVee", blo)
        .f64("bin_hi_kevee", "keVee", bhi)
        .str("source", bsrc)
        .f64("r_sm", "counts kg^-1 keVee^-1 day^-1", brate)
        .f64("sigma_frac", "1", bsig);

    // Fine spectra.
    let selected: Vec<_> = if args.spectrum_source == "all" {
        sources.iter().collect()
    } else {
        let s: Vec<_> = sources
            .iter()
            .filter(|s| s.source == args.spectrum_source)
            .collect();
        if s.is_empty() {
            return Err(bad_input(format!(
                "--spectrum-source `{}` not in {} (have: {}, or `all`)",
                args.spectrum_source,
                args.rates.display(),
                sources
                    .iter()
                    .map(|s| s.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        s
    };
    let n = args.ee_points;
    let e_obs: Vec<f64> = (0..n)
        .map(|i| {
            args.ee_min_kevee + (args.ee_max_kevee - args.ee_min_kevee) * i as f64 / (n - 1) as f64
        })
        .collect();
    let mut curves: Vec<(String, String, f64, f64)> = vec![("SM".into(), "SM".into(), 0.0, 0.0)];
    for &m in &args.benchmark_masses_mev {
        for model in &models {
            curves.push((
                model.name.clone(),
                model.display().to_string(),
                args.benchmark_g,
                m,
            ));
        }
    }
    let spectra: Vec<(Vec<f64>, Vec<f64>)> = curves
        .par_iter()
        .map(|(name, _, g, m)| {
            let model = models.iter().find(|x| &x.name == name);
            let (mut smeared, mut raw) = (vec![0.0; n], vec![0.0; n]);
            for (z, q) in &quench {
                // dR/dT_nr of this element's isotopes, SM or SM + Z'.
                let mut r = vec![0.0; grid.len()];
                for s in &selected {
                    let sm = s.total_for_z(*z);
                    let part = match model {
                        Some(mm) if name != "SM" => {
                            let kernels: Vec<_> =
                                s.kernels(mm).into_iter().filter(|k| k.z == *z).collect();
                            rate_with_zprime(&grid, &sm, &kernels, *g, *m)
                        }
                        _ => sm,
                    };
                    r.iter_mut().zip(part).for_each(|(a, b)| *a += b);
                }
                let sm_ee = smeared_spectrum(&grid, q, &det.resolution, &r, &e_obs);
                let raw_ee = quenched_spectrum(&grid, q, &r, &e_obs);
                smeared.iter_mut().zip(sm_ee).for_each(|(a, b)| *a += b);
                raw.iter_mut().zip(raw_ee).for_each(|(a, b)| *a += b);
            }
            (smeared, raw)
        })
        .collect();
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
    for ((name, label, g, m), (smeared, raw)) in curves.iter().zip(&spectra) {
        for i in 0..n {
            sc.push(name.clone());
            sl.push(label.clone());
            sg.push(*g);
            sm.push(*m);
            ss.push(args.spectrum_source.clone());
            se.push(e_obs[i]);
            sv.push(smeared[i]);
            su.push(raw[i]);
        }
    }
    let spectrum = Table::new()
        .str("curve", sc)
        .str("label", sl)
        .f64("g", "1", sg)
        .f64("m_zp_mev", "MeV", sm)
        .str("source", ss)
        .f64("t_ee_kevee", "keVee", se)
        .f64("dr_dtee", "counts kg^-1 keVee^-1 day^-1", sv)
        .f64("dr_dtee_unsmeared", "counts kg^-1 keVee^-1 day^-1", su);

    let prov = Provenance::new("quench-smear")
        .param("detector", &det.name)
        .param("quenching", &quench_desc)
        .param("z", &zs)
        .param("resolution", det.resolution)
        .param("efficiency", format!("{:?}", det.efficiency))
        .param("ionization_threshold_ev", det.ionization_threshold_ev)
        .param("bin_edges_kevee", bins.edges())
        .input("rates", &args.rates)?
        .input("detector", &args.detector)?
        .inputs(
            "detector-table",
            det.extra_files(&args.detector).iter().map(|p| p.as_path()),
        )?;
    let prov_spec = prov
        .clone()
        .param(
            "benchmark_models",
            models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        )
        .param("benchmark_g", args.benchmark_g)
        .param("benchmark_masses_mev", &args.benchmark_masses_mev)
        .param("spectrum_source", &args.spectrum_source)
        .input("models", &args.models)?;
    out.write_bytes(
        &args.out_response,
        &response_table(&grid, &resp).to_parquet_bytes(&prov)?,
    )?;
    out.write_bytes(&args.out_binned, &binned.to_parquet_bytes(&prov)?)?;
    out.write_bytes(&args.out_spectrum, &spectrum.to_parquet_bytes(&prov_spec)?)?;
    out.commit()?;
    args.common
        .log("quench-smear: wrote response, binned rates and spectra");
    Ok(())
}
