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
/// Two detector kinds. A binned-spectrum detector (`data/detectors/*.yaml`:
/// quenching, resolution, bins) writes the three outputs below. A template
/// detector (`--detector data/xenonnt/release2026/likelihood.yaml`, the
/// mono-energetic efficiency templates of XENONnT's release) writes only
/// `--out-response` (template-response.parquet: P(bin | T_nr; t_ly, t_qy)
/// per science run at the template energies), which `chi2-scan --likelihood
/// ... --response` folds with the rates.
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
    /// U(1)' models YAML (for the benchmark spectra; binned-spectrum
    /// detectors only).
    #[arg(long, value_name = "YAML")]
    models: Option<PathBuf>,
    /// Output: response matrix.
    #[arg(long, value_name = "PARQUET")]
    out_response: PathBuf,
    /// Output: binned SM rates (binned-spectrum detectors only).
    #[arg(long, value_name = "PARQUET")]
    out_binned: Option<PathBuf>,
    /// Output: fine spectra for figures (binned-spectrum detectors only).
    #[arg(long, value_name = "PARQUET")]
    out_spectrum: Option<PathBuf>,
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
        if cevns_io::xenonnt::is_template_likelihood(&args.detector) {
            return template(&args);
        }
        let (Some(models), Some(out_binned), Some(out_spectrum)) =
            (&args.models, &args.out_binned, &args.out_spectrum)
        else {
            return Err(cevns_io::stage::bad_input(
                "a binned-spectrum detector needs --models, --out-binned and --out-spectrum",
            ));
        };
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::File(&args.rates),
                Input::Detector(&args.detector),
                Input::File(models),
            ]);
        }
        args.common.init()?;
        let mut out = OutputSet::new(&[&args.out_response, out_binned, out_spectrum])?;
        let res = quench_smear::run(&args.config(models)?, &args.common)?;
        out.write_bytes(
            &args.out_response,
            &res.response.to_parquet_bytes(&res.provenance)?,
        )?;
        out.write_bytes(
            out_binned,
            &quench_smear::binned_table(&res.binned).to_parquet_bytes(&res.provenance)?,
        )?;
        out.write_bytes(
            out_spectrum,
            &quench_smear::spectrum_table(&res.spectrum)
                .to_parquet_bytes(&res.spectrum_provenance)?,
        )?;
        out.commit()?;
        args.common
            .log("quench-smear: wrote response, binned rates and spectra");
        Ok(())
    })
}

/// The template detector kind: only the response.
fn template(args: &Args) -> anyhow::Result<()> {
    if args.out_binned.is_some() || args.out_spectrum.is_some() || args.k.is_some() {
        return Err(cevns_io::stage::bad_input(format!(
            "{} is a template detector: it has no --k, and only --out-response is written",
            args.detector.display()
        )));
    }
    if args.common.list_inputs {
        let tl = cevns_io::xenonnt::TemplateLikelihood::load(&args.detector)?;
        let mut inputs = vec![Input::File(&args.rates)];
        inputs.extend(tl.files.iter().map(|p| Input::File(p)));
        return cevns_io::inputs::print_list(&inputs);
    }
    args.common.init()?;
    let mut out = OutputSet::new(&[&args.out_response])?;
    let (table, prov) = quench_smear::template_response(
        &args.detector,
        &args.rates,
        &args.spectrum_source,
        &args.common,
    )?;
    out.write_bytes(&args.out_response, &table.to_parquet_bytes(&prov)?)?;
    out.commit()?;
    args.common.log(format!(
        "quench-smear: wrote template response {}",
        args.out_response.display()
    ));
    Ok(())
}

impl Args {
    /// The flags as one configuration (numbers are checked by the library).
    fn config(&self, models: &std::path::Path) -> anyhow::Result<SmearConfig> {
        Ok(SmearConfig {
            rates: self.rates.clone(),
            detector: self.detector.clone(),
            models: models.to_path_buf(),
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
