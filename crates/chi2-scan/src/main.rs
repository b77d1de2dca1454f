//! `chi2-scan`: pull χ² (eq 20) over (g, m_Z') and 90 % CL upper limits on
//! the U(1)' coupling for each model.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{OutputSet, stage_main};
use cevns_physics::stats::LimitOptions;
use chi2_scan::{DataSource, DeltaSource, MassGrid, ScanConfig};

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
/// scan.parquet (model, m_zp_mev, g, delta_chi2). limits.csv is plain CSV
/// (header first); its provenance is in limits.parquet's metadata.
///
/// A limit is only reported where Δχ² crosses the threshold inside
/// [--g-min, --g-max]: where Δχ² is already above it at --g-min, or never
/// reaches it below --g-max, g90 is empty (none) and the log and the
/// provenance (`no_limit`) say how many masses. A χ² minimum at --g-max,
/// a calibration that does not reproduce its target and non-finite rates
/// or χ² are errors.
///
/// Bounds on work: --m-points <= 5001, --g-per-decade <= 100 and at most
/// 2·10⁶ scan rows (models × masses × couplings).
///
/// With `--likelihood CONFIG` chi2-scan uses the extended binned Poisson
/// template likelihood of XENONnT's public 8B release instead (other flags;
/// see `chi2-scan --likelihood x --help`).
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
    /// Asimov only: analysis threshold [keVee] replacing the detector file's
    /// first bin edge (bins keep their width; give quench-smear the same
    /// value so the response has the same bins).
    #[arg(long, value_name = "KEVEE", requires = "asimov_detector")]
    threshold_kevee: Option<f64>,
    /// Asimov only: exposure [kg·day] replacing the detector file's
    /// `projection.exposure_kg_day`.
    #[arg(long, value_name = "KG_DAY", requires = "asimov_detector")]
    exposure_kg_day: Option<f64>,
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
    /// Number of log-spaced masses (201 puts 40 per decade, hitting 1, 10,
    /// 100 MeV); at most 5001.
    #[arg(long, default_value_t = 201, value_parser = clap::value_parser!(u64).range(2..=chi2_scan::MAX_M_POINTS as u64))]
    m_points: u64,
    /// Smallest coupling of the scan.
    #[arg(long, default_value_t = 1e-9)]
    g_min: f64,
    /// Largest coupling of the scan.
    #[arg(long, default_value_t = 1.0)]
    g_max: f64,
    /// Coarse scan points per decade of g (limits are then bisected to
    /// 1e-12); at most 100.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=chi2_scan::MAX_G_PER_DECADE as u64))]
    g_per_decade: u64,
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
    // `--likelihood CONFIG` selects the Poisson template likelihood (XENONnT),
    // with its own flags (see poisson.rs / `chi2-scan --likelihood x --help`).
    if std::env::args().any(|a| a == "--likelihood" || a.starts_with("--likelihood=")) {
        return stage_main("chi2-scan", chi2_scan::poisson::main);
    }
    stage_main("chi2-scan", || {
        let args: Args = cevns_io::stage::parse_args();
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
        let mut out = OutputSet::new(&[&args.out_limits, &args.out_csv, &args.out_scan])?;
        let res = chi2_scan::run(&args.config()?, &args.common)?;
        let prov = &res.provenance;
        // The two tables are encoded side by side.
        let (limits, scan) = rayon::join(
            || res.limits_table().to_parquet_bytes(prov),
            || res.scan_table().to_parquet_bytes(prov),
        );
        out.write_bytes(&args.out_limits, &limits?)?;
        out.write_bytes(&args.out_csv, &res.csv_bytes())?;
        out.write_bytes(&args.out_scan, &scan?)?;
        out.commit()?;
        args.common
            .log(format!("chi2-scan: wrote {}", args.out_limits.display()));
        Ok(())
    })
}

impl Args {
    /// The flags as one configuration (numbers are checked by the library).
    fn config(&self) -> anyhow::Result<ScanConfig> {
        let calibrate = match (
            &self.calibrate_model,
            self.calibrate_mass_mev,
            self.calibrate_g90,
        ) {
            (None, None, None) => None,
            (Some(model), Some(mass_mev), Some(g90)) => Some(DeltaSource::Calibrate {
                model: model.clone(),
                mass_mev,
                g90,
            }),
            _ => {
                return Err(bad_input(
                    "give all three of --calibrate-model, --calibrate-mass-mev and --calibrate-g90, or none",
                ));
            }
        };
        let data = match (&self.data, &self.asimov_detector) {
            (Some(path), None) => DataSource::Measured {
                path: path.clone(),
                delta: match (calibrate, &self.delta_from) {
                    (Some(c), _) => c,
                    (None, Some(p)) => DeltaSource::Reuse(p.clone()),
                    (None, None) => DeltaSource::FromData,
                },
            },
            (None, Some(det)) if calibrate.is_none() && self.delta_from.is_none() => {
                DataSource::Asimov {
                    detector: det.clone(),
                    threshold_kevee: self.threshold_kevee,
                    exposure_kg_day: self.exposure_kg_day,
                }
            }
            (None, Some(_)) => {
                return Err(bad_input(
                    "--calibrate-* and --delta-from are for --data without Δ, not --asimov-detector",
                ));
            }
            _ => return Err(bad_input("give exactly one of --data or --asimov-detector")),
        };
        Ok(ScanConfig {
            rates: self.rates.clone(),
            response: self.response.clone(),
            data,
            models: self.models.clone(),
            model_names: self.model_names.clone(),
            masses: MassGrid {
                min_mev: self.m_min_mev,
                max_mev: self.m_max_mev,
                points: usize::try_from(self.m_points).unwrap_or(usize::MAX),
            },
            limit: LimitOptions {
                g_min: self.g_min,
                g_max: self.g_max,
                per_decade: usize::try_from(self.g_per_decade).unwrap_or(usize::MAX),
                delta_chi2: self.delta_chi2,
            },
        })
    }
}
