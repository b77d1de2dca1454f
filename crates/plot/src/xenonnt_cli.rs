//! `plot --xenonnt-bins ...`: the XENONnT figures (see `plot::xenonnt`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Parser;

use cevns_io::OutputSet;
use cevns_io::stage::CommonArgs;

use plot::input::{Overlays, read_limits};
use plot::render::{self, Format, Plot};
use plot::xenonnt;

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
    common: CommonArgs,
}

/// Entry point.
pub fn main() -> Result<()> {
    let cli = Cli::parse();
    cli.common.init()?;
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
    let mut formats = cli.formats.clone();
    formats.sort();
    formats.dedup();
    let dir: &Path = &cli.out_dir;
    let paths: Vec<PathBuf> = figs
        .iter()
        .flat_map(|(stem, _)| {
            formats
                .iter()
                .map(move |f| dir.join(format!("{stem}.{}", f.ext())))
        })
        .collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut out = OutputSet::new(&refs)?;
    for (stem, plot) in &figs {
        for &f in &formats {
            let bytes =
                render::render(plot, f).with_context(|| format!("rendering {stem}.{}", f.ext()))?;
            out.write_bytes(&cli.out_dir.join(format!("{stem}.{}", f.ext())), &bytes)?;
        }
    }
    out.commit()?;
    cli.common.log(format!(
        "plot: wrote {} XENONnT figures to {}",
        paths.len(),
        cli.out_dir.display()
    ));
    Ok(())
}
