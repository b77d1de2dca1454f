//! `report --xenonnt-fit FIT`: the XENONnT report section (real data) — the
//! 8B flux, its interval and significance, expected and observed counts per
//! run, optionally next to the published PRL 133, 191002 numbers, and the
//! U(1)' limits at the reference masses.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use cevns_io::TableReader;
use cevns_io::schema::{DataKind, read_limits};

/// PRL 133, 191002 (2024): flux, interval edges (10⁶ cm⁻² s⁻¹), significance,
/// expected background and 8B events, observed events.
pub const PRL_133_191002: [(&str, f64); 7] = [
    ("flux", 4.7),
    ("flux_lo", 2.4),
    ("flux_hi", 8.3),
    ("significance", 2.73),
    ("background", 26.4),
    ("b8", 11.9),
    ("observed", 37.0),
];

fn value(items: &[String], runs: &[String], v: &[f64], item: &str, run: &str) -> Option<f64> {
    (0..items.len())
        .find(|&i| items[i] == item && runs[i] == run)
        .map(|i| v[i])
}

/// The markdown section for a fit table (and optionally its limits).
pub fn section(fit: &Path, limits: Option<&Path>, prl: bool) -> anyhow::Result<String> {
    let t = TableReader::open(fit).context("reading the fit table")?;
    t.expect_stage("chi2-scan")?;
    let (items, runs, v, lo, hi) = (
        t.str("item")?,
        t.str("run")?,
        t.f64("value")?,
        t.f64("lo")?,
        t.f64("hi")?,
    );
    let get = |item: &str, run: &str| {
        value(&items, &runs, &v, item, run)
            .ok_or_else(|| anyhow::anyhow!("{}: no `{item}` for `{run}`", fit.display()))
    };
    let i = (0..items.len())
        .find(|&i| items[i] == "flux_cm2_s")
        .ok_or_else(|| anyhow::anyhow!("{}: no flux_cm2_s row", fit.display()))?;
    let (f, fl, fh) = (v[i] / 1e6, lo[i] / 1e6, hi[i] / 1e6);
    let z = get("significance_sigma", "all")?;
    let kind = serde_json::from_value::<DataKind>(t.meta_json("cevns.extra")?["data_kind"].clone())
        .with_context(|| format!("{}: metadata `cevns.extra.data_kind`", fit.display()))?
        .describe();
    let mut md = String::new();
    writeln!(md, "## XENONnT ⁸B CEνNS ({kind})\n")?;
    writeln!(
        md,
        "| quantity | this pipeline |{}",
        if prl { " PRL 133, 191002 |" } else { "" }
    )?;
    writeln!(md, "|---|---|{}", if prl { "---|" } else { "" })?;
    let p = |k: &str| {
        PRL_133_191002
            .iter()
            .find(|x| x.0 == k)
            .map_or(f64::NAN, |x| x.1)
    };
    let row = |md: &mut String, name: &str, ours: String, theirs: String| -> std::fmt::Result {
        if prl {
            writeln!(md, "| {name} | {ours} | {theirs} |")
        } else {
            writeln!(md, "| {name} | {ours} |")
        }
    };
    row(
        &mut md,
        "⁸B flux [10⁶ cm⁻² s⁻¹]",
        format!("{f:.2} (+{:.2} / −{:.2})", fh - f, f - fl),
        format!(
            "{} (+{:.1} / −{:.1})",
            p("flux"),
            p("flux_hi") - p("flux"),
            p("flux") - p("flux_lo")
        ),
    )?;
    row(
        &mut md,
        "significance (√q₀)",
        format!("{z:.2}σ"),
        format!("{}σ", p("significance")),
    )?;
    row(
        &mut md,
        "expected background (nominal)",
        format!("{:.2}", get("expected_nominal:background", "all")?),
        format!("{}", p("background")),
    )?;
    row(
        &mut md,
        "expected ⁸B (nominal flux)",
        format!("{:.2}", get("expected_nominal:b8", "all")?),
        format!("{}", p("b8")),
    )?;
    row(
        &mut md,
        "observed",
        format!("{:.0}", get("observed", "all")?),
        format!("{}", p("observed")),
    )?;
    let mut run_names: Vec<&String> = runs.iter().filter(|r| *r != "all").collect();
    run_names.dedup();
    run_names.sort();
    run_names.dedup();
    writeln!(
        md,
        "\n| run | observed | background | ⁸B (nominal) | ⁸B (best fit) |"
    )?;
    writeln!(md, "|---|---|---|---|---|")?;
    for r in run_names {
        writeln!(
            md,
            "| {r} | {:.0} | {:.2} | {:.2} | {:.2} |",
            get("observed", r)?,
            get("expected_nominal:background", r)?,
            get("expected_nominal:b8", r)?,
            get("expected_bestfit:b8", r)?
        )?;
    }
    if let Some(l) = limits {
        let lim = read_limits(l).context("reading the limits")?;
        writeln!(
            md,
            "\n90 % CL limits on g (Δ(−2 ln L) = 2.706, ⁸B flux constrained to SNO):\n"
        )?;
        writeln!(md, "| model | 0.01 MeV | 1 MeV | 10 MeV | 100 MeV |")?;
        writeln!(md, "|---|---|---|---|---|")?;
        for x in &lim.models {
            let mut cells = Vec::new();
            for target in [0.01f64, 1.0, 10.0, 100.0] {
                let best = x.points.iter().min_by(|a, b| {
                    (a.0.ln() - target.ln())
                        .abs()
                        .total_cmp(&(b.0.ln() - target.ln()).abs())
                });
                cells.push(match best {
                    Some((_, Some(g))) => format!("{g:.3e}"),
                    _ => "–".into(),
                });
            }
            writeln!(md, "| {} | {} |", x.model, cells.join(" | "))?;
        }
    }
    Ok(md)
}
