//! `plot --xenonnt-bins ...` as a library: the XENONnT figures (see
//! [`crate::xenonnt`]); `main.rs` parses and calls [`run`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::CommonArgs;

use crate::input::{Overlays, read_limits};
use crate::render::{Format, Plot};
use crate::xenonnt;

/// Draw the XENONnT 8B CEvNS figures: observed vs expected counts projected
/// on each observable (xenonnt-proj-{cs2,shadow,s1bdt,s2bdt}), the profile
/// likelihood of the 8B flux (xenonnt-flux-profile), and, with
/// `--xenonnt-limits`, the U(1)' limits next to the CDEX-10 surrogate and
/// the DARKCAST overlays (xenonnt-{b-l,b-3le,b-3lmu,b-3ltau}).
#[derive(Debug, Parser)]
#[command(name = "plot", version)]
pub struct Cli {
    /// bins.parquet of `chi2-scan --likelihood`.
    #[arg(long, value_name = "PATH")]
    xenonnt_bins: PathBuf,
    /// profile.parquet of `chi2-scan --likelihood`.
    #[arg(long, value_name = "PATH")]
    xenonnt_profile: PathBuf,
    /// limits.parquet of `chi2-scan --likelihood` (optional).
    #[arg(long, value_name = "PATH")]
    xenonnt_limits: Option<PathBuf>,
    /// The CDEX-10 (surrogate) limits.parquet to compare with (optional).
    #[arg(long, value_name = "PATH")]
    cdex_limits: Option<PathBuf>,
    /// DARKCAST overlays YAML (B−L) (optional).
    #[arg(long, value_name = "PATH")]
    overlays: Option<PathBuf>,
    /// Data description for titles.
    #[arg(long, default_value = "SR0–SR2 (real data)")]
    title_data: String,
    /// Name of the signal component.
    #[arg(long, default_value = "b8")]
    signal: String,
    /// Directory for the figures.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Image formats, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "png,svg")]
    formats: Vec<Format>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl Cli {
    /// `--list-inputs`: the files this invocation reads.
    pub fn list_inputs(&self) -> Result<()> {
        let mut inputs = vec![
            Input::File(&self.xenonnt_bins),
            Input::File(&self.xenonnt_profile),
        ];
        inputs.extend(self.xenonnt_limits.as_deref().map(Input::File));
        inputs.extend(self.cdex_limits.as_deref().map(Input::File));
        inputs.extend(self.overlays.as_deref().map(Input::Overlays));
        cevns_io::inputs::print_list(&inputs)
    }
}

/// Read the fit outputs, draw every XENONnT figure and write them atomically.
pub fn run(cli: &Cli) -> Result<Vec<PathBuf>> {
    let bins = xenonnt::Bins::read(&cli.xenonnt_bins, &cli.signal)?;
    let mut figs: Vec<(String, Plot)> = Vec::new();
    for (i, (stem, _)) in xenonnt::AXES.iter().enumerate() {
        figs.push((
            format!("xenonnt-proj-{stem}"),
            xenonnt::projection(&bins, i, &cli.title_data),
        ));
    }
    figs.push((
        "xenonnt-flux-profile".into(),
        xenonnt::flux_profile(&cli.xenonnt_profile, &cli.title_data)?,
    ));
    if let Some(l) = &cli.xenonnt_limits {
        let xl = read_limits(l)?;
        let cl = cli.cdex_limits.as_deref().map(read_limits).transpose()?;
        let ov = cli.overlays.as_deref().map(Overlays::load).transpose()?;
        for (model, stem) in [
            ("B-L", "b-l"),
            ("B-3Le", "b-3le"),
            ("B-3Lmu", "b-3lmu"),
            ("B-3Ltau", "b-3ltau"),
        ] {
            let p = xenonnt::limits_plot(&xl, cl.as_ref(), ov.as_ref(), model)
                .with_context(|| format!("XENONnT {model} figure"))?;
            figs.push((format!("xenonnt-{stem}"), p));
        }
    }
    let paths = crate::stage::write_figures(&figs, &cli.formats, &cli.out_dir)?;
    cli.common.log(format!(
        "plot: wrote {} XENONnT figures to {}",
        paths.len(),
        cli.out_dir.display()
    ));
    Ok(paths)
}
