//! `quench-smear`: detector response — Lindhard quenching (eq 15–19),
//! Gaussian resolution and binning — as a reusable matrix, the binned SM
//! rates, and fine dR/dT_ee spectra for figures.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, stage_main};
use quench_smear::{SmearConfig, SpectrumConfig};

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
    /// Analysis threshold [keVee] replacing the detector file's first bin
    /// edge; the bins keep their width and end at the last whole bin below
    /// the file's upper edge (for threshold scans; give chi2-scan the same).
    #[arg(long, value_name = "KEVEE")]
    threshold_kevee: Option<f64>,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("quench-smear", || {
        let args: Args = cevns_io::stage::parse_args();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::File(&args.rates),
                Input::Detector(&args.detector),
                Input::File(&args.models),
            ]);
        }
        args.common.init()?;
        let mut out = OutputSet::new(&[&args.out_response, &args.out_binned, &args.out_spectrum])?;
        let res = quench_smear::run(&args.config()?, &args.common)?;
        out.write_bytes(
            &args.out_response,
            &res.response.to_parquet_bytes(&res.provenance)?,
        )?;
        out.write_bytes(
            &args.out_binned,
            &quench_smear::binned_table(&res.binned).to_parquet_bytes(&res.provenance)?,
        )?;
        out.write_bytes(
            &args.out_spectrum,
            &quench_smear::spectrum_table(&res.spectrum)
                .to_parquet_bytes(&res.spectrum_provenance)?,
        )?;
        out.commit()?;
        args.common
            .log("quench-smear: wrote response, binned rates and spectra");
        Ok(())
    })
}

impl Args {
    /// The flags as one configuration (numbers are checked by the library).
    fn config(&self) -> anyhow::Result<SmearConfig> {
        Ok(SmearConfig {
            rates: self.rates.clone(),
            detector: self.detector.clone(),
            models: self.models.clone(),
            k: self.k,
            threshold_kevee: self.threshold_kevee,
            spectrum: SpectrumConfig {
                models: self.benchmark_models.clone(),
                g: self.benchmark_g,
                masses_mev: self.benchmark_masses_mev.clone(),
                source: self.spectrum_source.clone(),
                ee_min_kevee: self.ee_min_kevee,
                ee_max_kevee: self.ee_max_kevee,
                ee_points: self.ee_points,
            },
        })
    }
}
