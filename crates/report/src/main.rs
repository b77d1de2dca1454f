//! `report`: the reproduction summary and report — every number the paper
//! states beside ours, with relative differences and verdicts, crossings with
//! other experiments' limits, the calibrated Δ, SM rates and the figures.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, stage_main};
use report::ReportConfig;

/// Write `summary.md` (headline numbers) and `REPORT.md` (the full
/// reproduction report): the paper's limits next to ours (log-log
/// interpolated in m_Z' [MeV]), relative differences and verdicts
/// (reproduced / differs-explained / differs-unexplained), the mass ranges
/// where we beat other experiments' limits, the calibrated Δ
/// [counts kg⁻¹ keVee⁻¹ day⁻¹], the SM rates in the bins [counts kg⁻¹ day⁻¹]
/// and the figures.
#[derive(Debug, Parser)]
#[command(name = "report", version, allow_negative_numbers = true)]
struct Args {
    /// limits.parquet from chi2-scan.
    #[arg(long, value_name = "PARQUET")]
    limits: PathBuf,
    /// binned.parquet from quench-smear.
    #[arg(long, value_name = "PARQUET")]
    binned: PathBuf,
    /// fluxes.parquet from flux-prep (for the flavour fractions).
    #[arg(long, value_name = "PARQUET")]
    fluxes: PathBuf,
    /// The paper's stated numbers (data/paper/demirci2023.yaml).
    #[arg(long, value_name = "YAML")]
    paper: PathBuf,
    /// Our explanations of differences, with their checks.
    #[arg(long, value_name = "YAML")]
    explanations: PathBuf,
    /// Overlay limits (data/overlays/b-l.yaml) for the crossings.
    #[arg(long, value_name = "YAML")]
    overlays: PathBuf,
    /// Output: short summary (Markdown).
    #[arg(long, value_name = "MD")]
    out: PathBuf,
    /// Output: full report (Markdown).
    #[arg(long, value_name = "MD")]
    out_report: PathBuf,
    /// Figures directory as linked from the report (relative to it).
    #[arg(long, default_value = "figures")]
    figures_link: String,
    /// Relative difference within which a number counts as reproduced.
    #[arg(long, default_value_t = 0.10)]
    tolerance: f64,
    #[command(flatten)]
    common: CommonArgs,
}

/// `report --xenonnt-fit FIT [--xenonnt-limits LIMITS] [--prl] --out MD`:
/// the XENONnT section (see `report::xenonnt`).
#[derive(Debug, Parser)]
#[command(name = "report", version)]
struct XenonArgs {
    /// fit.parquet of `chi2-scan --likelihood`.
    #[arg(long, value_name = "PARQUET")]
    xenonnt_fit: PathBuf,
    /// limits.parquet of `chi2-scan --likelihood` (optional).
    #[arg(long, value_name = "PARQUET")]
    xenonnt_limits: Option<PathBuf>,
    /// Put the PRL 133, 191002 numbers beside ours (`--prl true`).
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    prl: bool,
    /// Output markdown.
    #[arg(long, value_name = "MD")]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

fn xenonnt_main() -> anyhow::Result<()> {
    let a = XenonArgs::parse();
    a.common.init()?;
    let mut out = OutputSet::new(&[&a.out])?;
    let md = report::xenonnt::section(&a.xenonnt_fit, a.xenonnt_limits.as_deref(), a.prl)?;
    out.write_bytes(&a.out, md.as_bytes())?;
    out.commit()?;
    a.common.log(format!("report: wrote {}", a.out.display()));
    Ok(())
}

/// `report --channels-limits BOTH --baseline-limits CEVNS --fluxes F --rates R
/// --binned B --baseline-binned B0 --out MD`: the electron-channel section of a
/// two-channel run (see `report::channels`): oscillation probabilities
/// applied per source, SM ν–e rates [events t⁻¹ yr⁻¹ keV⁻¹, counts kg⁻¹
/// day⁻¹] next to CEνNS, and g₉₀ of CEνNS only vs CEνNS + ν–e, labelled with
/// the data kind.
#[derive(Debug, Parser)]
#[command(name = "report", version)]
struct ChannelsArgs {
    /// limits.parquet of the run with both channels.
    #[arg(long, value_name = "PARQUET")]
    channels_limits: PathBuf,
    /// limits.parquet of the same run with CEνNS only.
    #[arg(long, value_name = "PARQUET")]
    baseline_limits: PathBuf,
    /// fluxes.parquet from flux-prep.
    #[arg(long, value_name = "PARQUET")]
    fluxes: PathBuf,
    /// rates.parquet of the two-channel run.
    #[arg(long, value_name = "PARQUET")]
    rates: PathBuf,
    /// binned.parquet of the two-channel run.
    #[arg(long, value_name = "PARQUET")]
    binned: PathBuf,
    /// binned.parquet of the CEνNS-only run.
    #[arg(long, value_name = "PARQUET")]
    baseline_binned: PathBuf,
    /// Output markdown.
    #[arg(long, value_name = "MD")]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

fn channels_main() -> anyhow::Result<()> {
    let a: ChannelsArgs = cevns_io::stage::parse_args();
    let cfg = report::channels::ChannelsConfig {
        limits: a.channels_limits.clone(),
        baseline_limits: a.baseline_limits.clone(),
        fluxes: a.fluxes.clone(),
        rates: a.rates.clone(),
        binned: a.binned.clone(),
        baseline_binned: a.baseline_binned.clone(),
    };
    if a.common.list_inputs {
        return cevns_io::inputs::print_list(&[
            Input::File(&cfg.limits),
            Input::File(&cfg.baseline_limits),
            Input::File(&cfg.fluxes),
            Input::File(&cfg.rates),
            Input::File(&cfg.binned),
            Input::File(&cfg.baseline_binned),
        ]);
    }
    a.common.init()?;
    let mut out = OutputSet::new(&[&a.out])?;
    let md = report::channels::section(&cfg)?;
    out.write_bytes(&a.out, md.as_bytes())?;
    out.commit()?;
    a.common.log(format!("report: wrote {}", a.out.display()));
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--xenonnt-fit" || a.starts_with("--xenonnt-fit=")) {
        return stage_main("report", xenonnt_main);
    }
    if std::env::args().any(|a| a == "--channels-limits" || a.starts_with("--channels-limits=")) {
        return stage_main("report", channels_main);
    }
    stage_main("report", || {
        let args: Args = cevns_io::stage::parse_args();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::File(&args.limits),
                Input::File(&args.binned),
                Input::File(&args.fluxes),
                Input::File(&args.paper),
                Input::File(&args.explanations),
                Input::Overlays(&args.overlays),
            ]);
        }
        args.common.init()?;
        let mut out = OutputSet::new(&[&args.out, &args.out_report])?;
        let res = report::run(&args.config())?;
        out.write_bytes(&args.out, res.summary.as_bytes())?;
        out.write_bytes(&args.out_report, res.report.as_bytes())?;
        out.commit()?;
        args.common.log(format!(
            "report: wrote {} and {}",
            args.out.display(),
            args.out_report.display()
        ));
        Ok(())
    })
}

impl Args {
    /// The flags as one configuration (checked by the library).
    fn config(&self) -> ReportConfig {
        ReportConfig {
            limits: self.limits.clone(),
            binned: self.binned.clone(),
            fluxes: self.fluxes.clone(),
            paper: self.paper.clone(),
            explanations: self.explanations.clone(),
            overlays: self.overlays.clone(),
            figures_link: self.figures_link.clone(),
            tolerance: self.tolerance,
        }
    }
}
