//! `report`: the reproduction summary — our limits beside every number the
//! paper states, the calibrated Δ of the surrogate data and the SM rates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use serde::Deserialize;

use cevns_io::data::load_yaml;
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{OutputSet, TableReader, stage_main};
use cevns_physics::rate::interp_loglog;

/// Write `summary.md`: the paper's headline limits next to ours (log-log
/// interpolated in m_Z'), their relative difference and a verdict, our limits
/// at 0.01, 1, 10, 100 and 1000 MeV, the calibrated Δ, and the SM rate in the
/// detector bins [counts kg⁻¹ day⁻¹].
#[derive(Debug, Parser)]
#[command(name = "report", version, allow_negative_numbers = true)]
struct Args {
    /// limits.parquet from chi2-scan.
    #[arg(long, value_name = "PARQUET")]
    limits: PathBuf,
    /// binned.parquet from quench-smear.
    #[arg(long, value_name = "PARQUET")]
    binned: PathBuf,
    /// The paper's stated numbers (data/paper/demirci2023.yaml).
    #[arg(long, value_name = "YAML")]
    paper: PathBuf,
    /// Output Markdown file.
    #[arg(long, value_name = "MD")]
    out: PathBuf,
    /// Relative difference within which a number counts as reproduced.
    #[arg(long, default_value_t = 0.10)]
    tolerance: f64,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperFile {
    citation: String,
    limits: Vec<PaperLimit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperLimit {
    model: String,
    m_zp_mev: f64,
    g90: f64,
    #[serde(default)]
    calibrated: bool,
    text: String,
}

fn main() -> ExitCode {
    stage_main("report", || {
        let args = Args::parse();
        args.common.init()?;
        run(&args)
    })
}

/// Our limit curves: model → (masses, g90) for the masses that have a limit.
type Curves = BTreeMap<String, (Vec<f64>, Vec<f64>)>;

fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = OutputSet::new(&[&args.out])?;
    let paper: PaperFile = load_yaml(&args.paper).context("loading the paper's numbers")?;
    let lim = TableReader::open(&args.limits).context("reading limits")?;
    lim.expect_stage("chi2-scan")?;
    let (model, m, g, has) = (
        lim.str("model")?,
        lim.f64("m_zp_mev")?,
        lim.f64("g90")?,
        lim.u32("has_limit")?,
    );
    let mut curves: Curves = BTreeMap::new();
    for i in 0..model.len() {
        if has[i] == 1 {
            let e = curves.entry(model[i].clone()).or_default();
            e.0.push(m[i]);
            e.1.push(g[i]);
        }
    }
    let extra = lim.meta_json("cevns.extra")?;
    let binned = TableReader::open(&args.binned).context("reading binned rates")?;
    binned.expect_stage("quench-smear")?;
    let (src, lo, hi, r) = (
        binned.str("source")?,
        binned.f64("bin_lo_kevee")?,
        binned.f64("bin_hi_kevee")?,
        binned.f64("r_sm")?,
    );

    let ours = |model: &str, mass: f64| -> Option<f64> {
        let (x, y) = curves.get(model)?;
        let v = interp_loglog(x, y, mass);
        (v > 0.0).then_some(v)
    };

    let mut md = String::new();
    writeln!(md, "# Reproduction summary: {}\n", paper.citation)?;
    writeln!(
        md,
        "> **Surrogate data.** The CDEX-10 spectrum of Geng et al. (2023) is not public. These limits use the\n\
         > labelled surrogate in `data/cdex10/` (residual R_obs − B = 0, one uniform Δ calibrated so that the\n\
         > B−L limit at 0.01 MeV equals the paper's 3.93e-5). They are **not** measured CDEX-10 limits.\n"
    )?;
    match extra.get("calibration") {
        Some(c) => writeln!(
            md,
            "Calibrated Δ = {:.6e} counts kg⁻¹ keVee⁻¹ day⁻¹ (model {}, m_Z' = {} MeV, target g90 = {}).\n",
            c["delta_counts_per_kg_kevee_day"]
                .as_f64()
                .unwrap_or(f64::NAN),
            c["model"].as_str().unwrap_or("?"),
            c["mass_mev"],
            c["g90_target"]
        )?,
        None => writeln!(md, "Δ taken from the dataset (no calibration).\n")?,
    }

    writeln!(md, "## The paper's numbers beside ours\n")?;
    writeln!(
        md,
        "Verdict: `reproduced` within ±{:.0} %, otherwise `differs` (see docs/physics.md).\n",
        args.tolerance * 100.0
    )?;
    writeln!(
        md,
        "| model | m_Z' [MeV] | paper g90 | ours g90 | ours/paper − 1 | verdict | paper's statement |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
    for p in &paper.limits {
        if !(p.m_zp_mev > 0.0 && p.g90 > 0.0) {
            return Err(bad_input(format!(
                "{}: limits entry for {} needs m_zp_mev > 0 and g90 > 0",
                args.paper.display(),
                p.model
            )));
        }
        let (o, d, v) = match ours(&p.model, p.m_zp_mev) {
            Some(o) => {
                let d = o / p.g90 - 1.0;
                let v = if p.calibrated {
                    "input (calibration)"
                } else if d.abs() <= args.tolerance {
                    "reproduced"
                } else {
                    "differs"
                };
                (format!("{o:.3e}"), format!("{:+.1} %", 100.0 * d), v)
            }
            None => ("—".into(), "—".into(), "not computed"),
        };
        writeln!(
            md,
            "| {} | {} | {:.2e} | {} | {} | {} | {} |",
            p.model, p.m_zp_mev, p.g90, o, d, v, p.text
        )?;
    }

    writeln!(md, "\n## Our 90 % CL limits (2 d.o.f.)\n")?;
    let masses = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0];
    write!(md, "| model |")?;
    for m in masses {
        write!(md, " {m} MeV |")?;
    }
    writeln!(md, "\n|---|{}", "---|".repeat(masses.len()))?;
    for name in curves.keys() {
        write!(md, "| {name} |")?;
        for m in masses {
            match ours(name, m) {
                Some(v) => write!(md, " {v:.3e} |")?,
                None => write!(md, " — |")?,
            }
        }
        writeln!(md)?;
    }

    writeln!(md, "\n## SM CEvNS rate in the analysis window\n")?;
    let (e0, e1) = (
        lo.iter().copied().fold(f64::INFINITY, f64::min),
        hi.iter().copied().fold(0.0, f64::max),
    );
    writeln!(
        md,
        "Integrated over {e0:.2}–{e1:.2} keVee [counts kg⁻¹ day⁻¹]:\n"
    )?;
    writeln!(md, "| source | rate |\n|---|---|")?;
    let mut per_src: BTreeMap<&str, f64> = BTreeMap::new();
    for i in 0..src.len() {
        *per_src.entry(src[i].as_str()).or_default() += r[i] * (hi[i] - lo[i]);
    }
    for (s, v) in &per_src {
        writeln!(md, "| {s} | {v:.4e} |")?;
    }
    writeln!(md, "| total | {:.4e} |", per_src.values().sum::<f64>())?;
    writeln!(
        md,
        "\n_Generated by `report` (cevns-pipeline {}); inputs: {}, {}, {}._",
        cevns_io::TOOL_VERSION,
        args.limits.display(),
        args.binned.display(),
        args.paper.display()
    )?;

    out.write_bytes(&args.out, md.as_bytes())?;
    out.commit()?;
    args.common
        .log(format!("report: wrote {}", args.out.display()));
    Ok(())
}
