//! `report --channels-limits LIMITS ...`: the electron-channel section of a
//! two-channel run (`pipelines/paper-with-electrons.yaml`) — the oscillation
//! probabilities actually applied per source (energy dependent under MSW),
//! the SM ν–e electron-recoil rate next to CEνNS, and the g₉₀ limits of
//! CEνNS alone next to CEνNS + ν–e, each labelled with what the limits were
//! computed from (surrogate, Asimov, measured).
//!
//! Nothing here re-derives physics: probabilities are read back from
//! fluxes.parquet (flux-weighted per source, P̄_eα = Φ_α/Σ_β Φ_β, exact for the
//! per-node P(E) that flux-prep applied), rates from rates.parquet and the two
//! binned.parquet files (ν–e in the window = combined − CEνNS-only, after
//! resolution, threshold and efficiency), limits from the two limits.parquet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use cevns_io::schema::{DataKind, read_binned, read_fluxes, read_limits, read_rates};
use cevns_io::stage::bad_input;
use cevns_physics::oscillation::Flavour;

use crate::checks::{Curves, ours};

/// Inputs of the electron-channel section.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelsConfig {
    /// limits.parquet of the run with both channels.
    pub limits: PathBuf,
    /// limits.parquet of the same run with CEνNS only.
    pub baseline_limits: PathBuf,
    /// fluxes.parquet (probabilities per node).
    pub fluxes: PathBuf,
    /// rates.parquet of the two-channel run (dR/dT per channel).
    pub rates: PathBuf,
    /// binned.parquet of the two-channel run.
    pub binned: PathBuf,
    /// binned.parquet of the CEνNS-only run.
    pub baseline_binned: PathBuf,
}

/// Recoil energies [keV] at which the unsmeared ν–e rate is tabulated.
pub const T_E_KEV: [f64; 5] = [0.5, 1.0, 2.0, 5.0, 10.0];
/// Masses [MeV] of the limits table.
pub const MASSES_MEV: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 100.0];
/// counts kg⁻¹ day⁻¹ → events t⁻¹ yr⁻¹ (Julian year).
const KG_DAY_TO_T_YR: f64 = 1e3 * 365.25;

/// Flux-weighted probabilities per source and flavour, and the spread of P_ee
/// over the source's nodes: (P̄ per flavour, min P_ee, max P_ee).
pub type SourceProbs = BTreeMap<String, ([f64; 3], f64, f64)>;

/// Flux-weighted P(ν_e → α) per source from fluxes.parquet: each entry's
/// spectrum already carries P_α(E), so P̄_α = Φ_α/Σ_β Φ_β.
pub fn source_probabilities(
    entries: &[cevns_io::schema::FluxEntry],
) -> anyhow::Result<SourceProbs> {
    let mut flux: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    let mut spread: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for f in entries {
        flux.entry(f.source.clone()).or_default()[f.flavour.index()] += f.spectrum.total();
        if f.flavour == Flavour::E {
            let s = spread
                .entry(f.source.clone())
                .or_insert((f64::INFINITY, f64::NEG_INFINITY));
            for &p in &f.probability {
                s.0 = s.0.min(p);
                s.1 = s.1.max(p);
            }
        }
    }
    let mut out = SourceProbs::new();
    for (source, phi) in flux {
        let total: f64 = phi.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(bad_input(format!(
                "fluxes: source `{source}` has no flux at Earth"
            )));
        }
        let (lo, hi) = spread.get(&source).copied().unwrap_or((f64::NAN, f64::NAN));
        out.insert(source, (phi.map(|v| v / total), lo, hi));
    }
    Ok(out)
}

fn curves(path: &std::path::Path) -> anyhow::Result<(Curves, DataKind)> {
    let lim = read_limits(path).with_context(|| format!("reading {}", path.display()))?;
    let mut c = Curves::new();
    for x in &lim.models {
        let (m, g) = x.with_limit();
        if !m.is_empty() {
            c.insert(x.model.clone(), (m, g));
        }
    }
    Ok((c, lim.extra.data_kind))
}

/// Linear interpolation of `y(x)` on increasing `x`; `None` outside.
fn interp(x: &[f64], y: &[f64], x0: f64) -> Option<f64> {
    let i = x.partition_point(|v| *v <= x0);
    if i == 0 || i >= x.len() {
        return (x.last() == Some(&x0)).then(|| y[y.len() - 1]);
    }
    let w = (x0 - x[i - 1]) / (x[i] - x[i - 1]);
    Some(y[i - 1] + w * (y[i] - y[i - 1]))
}

fn data_kind_line(kind: &DataKind) -> String {
    match kind {
        DataKind::Surrogate => "**SURROGATE DATA** (CDEX-10 surrogate, uniform Δ calibrated on the paper run): these limits are **not** measurements".into(),
        DataKind::Asimov { .. } => format!("**ASIMOV PROJECTION** (expected sensitivity, not data): {}", kind.describe()),
        DataKind::UserData => "user-supplied data".into(),
        DataKind::Measured { source } => format!("measured data: {source}"),
    }
}

/// The markdown section.
pub fn section(cfg: &ChannelsConfig) -> anyhow::Result<String> {
    let (both, kind) = curves(&cfg.limits)?;
    let (cevns, kind0) = curves(&cfg.baseline_limits)?;
    let probs = source_probabilities(&read_fluxes(&cfg.fluxes).context("reading fluxes")?)?;
    let (grid, rates) = read_rates(&cfg.rates).context("reading rates")?;
    let binned = read_binned(&cfg.binned).context("reading binned rates")?;
    let binned0 = read_binned(&cfg.baseline_binned).context("reading CEvNS-only binned rates")?;
    if binned.edges != binned0.edges {
        return Err(bad_input(
            "the two binned.parquet files have different bins; they must come from the same detector",
        ));
    }
    let has_electrons = rates
        .iter()
        .any(|s| s.parts.iter().any(|p| p.channel == "nu-e"));
    if !has_electrons {
        return Err(bad_input(format!(
            "{} has no nu-e rows: run xsec-tables with --electrons",
            cfg.rates.display()
        )));
    }

    let mut md = String::new();
    writeln!(md, "## Electron channel (ν–e) next to CEνNS\n")?;
    writeln!(
        md,
        "> Limits with both channels: {}.",
        data_kind_line(&kind)
    )?;
    if kind0 != kind {
        writeln!(md, "> CEνNS-only limits: {}.", data_kind_line(&kind0))?;
    }
    writeln!(md)?;

    // Oscillation probabilities.
    let energy_dependent = probs.values().any(|(_, lo, hi)| hi - lo > 1e-12);
    writeln!(
        md,
        "### Oscillation probabilities applied (from `fluxes.parquet`)\n"
    )?;
    writeln!(
        md,
        "{}. Flux-weighted per source (P̄_eα = Φ_α/Σ_β Φ_β at Earth); the last column is the range of P_ee(E) over the source's spectrum nodes or lines.\n",
        if energy_dependent {
            "Energy-dependent P(E) (MSW): the rates use P at each node, the averages below are only a summary"
        } else {
            "Energy-independent probabilities (the paper's eq 8–11)"
        }
    )?;
    writeln!(
        md,
        "| source | P̄_ee | P̄_eμ | P̄_eτ | P_ee range |\n|---|---|---|---|---|"
    )?;
    for (s, (p, lo, hi)) in &probs {
        writeln!(
            md,
            "| {s} | {:.4} | {:.4} | {:.4} | {lo:.4}–{hi:.4} |",
            p[0], p[1], p[2]
        )?;
    }

    // Unsmeared SM ν–e rate.
    writeln!(
        md,
        "\n### SM ν–e electron-recoil rate (unsmeared, from `rates.parquet`)\n"
    )?;
    writeln!(
        md,
        "dR/dT_e of the whole target (electrons are not quenched, T_ee = T_e), per source group:\n"
    )?;
    writeln!(
        md,
        "| T_e [keV] | pp + ⁷Be [events t⁻¹ yr⁻¹ keV⁻¹] | all sources [events t⁻¹ yr⁻¹ keV⁻¹] | all sources [counts kg⁻¹ day⁻¹ keV⁻¹] |\n|---|---|---|---|"
    )?;
    let pts = grid.points();
    for t in T_E_KEV {
        let (mut all, mut low) = (0.0, 0.0);
        let mut inside = true;
        for s in &rates {
            for p in s.parts.iter().filter(|p| p.channel == "nu-e") {
                match interp(pts, &p.rate, t) {
                    Some(v) => {
                        all += v;
                        if s.source == "pp" || s.source == "7Be" {
                            low += v;
                        }
                    }
                    None => inside = false,
                }
            }
        }
        if inside {
            writeln!(
                md,
                "| {t} | {:.3} | {:.3} | {all:.4e} |",
                low * KG_DAY_TO_T_YR,
                all * KG_DAY_TO_T_YR
            )?;
        } else {
            writeln!(md, "| {t} | outside the recoil grid | — | — |")?;
        }
    }

    // Window rates per channel.
    let (lo, hi) = binned.window();
    let r_both = binned.integrated();
    let r_cevns = binned0.integrated();
    writeln!(
        md,
        "\n### SM rate in the analysis window {lo:.3}–{hi:.3} keVee (after resolution, threshold and efficiency)\n"
    )?;
    writeln!(
        md,
        "ν–e = (both channels) − (CEνNS only), per source [counts kg⁻¹ day⁻¹]:\n"
    )?;
    writeln!(md, "| source | CEνNS | ν–e | both |\n|---|---|---|---|")?;
    let (mut tc, mut te) = (0.0, 0.0);
    for (s, b) in &r_both {
        let c = r_cevns.get(s).copied().unwrap_or(0.0);
        tc += c;
        te += b - c;
        writeln!(md, "| {s} | {c:.4e} | {:.4e} | {b:.4e} |", b - c)?;
    }
    writeln!(md, "| total | {tc:.4e} | {te:.4e} | {:.4e} |", tc + te)?;

    // Limits.
    writeln!(
        md,
        "\n### 90 % CL limits g₉₀ (2 d.o.f.): CEνNS only vs CEνNS + ν–e\n"
    )?;
    writeln!(md, "> {}.\n", data_kind_line(&kind))?;
    write!(md, "| model | channels |")?;
    for m in MASSES_MEV {
        write!(md, " {m} MeV |")?;
    }
    writeln!(md, "\n|---|---|{}", "---|".repeat(MASSES_MEV.len()))?;
    let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.3e}"));
    for model in both.keys() {
        write!(md, "| {model} | CEνNS only |")?;
        for m in MASSES_MEV {
            write!(md, " {} |", fmt(ours(&cevns, model, m)))?;
        }
        write!(md, "\n| {model} | CEνNS + ν–e |")?;
        for m in MASSES_MEV {
            write!(md, " {} |", fmt(ours(&both, model, m)))?;
        }
        write!(md, "\n| {model} | ratio (both/CEνNS) |")?;
        for m in MASSES_MEV {
            match (ours(&both, model, m), ours(&cevns, model, m)) {
                (Some(a), Some(b)) => write!(md, " {:.3} |", a / b)?,
                _ => write!(md, " — |")?,
            }
        }
        writeln!(md)?;
    }
    writeln!(
        md,
        "\nModels without a tree-level electron charge (B−3L_μ, B−3L_τ) get no ν–e Z' term; for them the two rows differ only through the SM ν–e events added to the expectation."
    )?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cevns_io::schema::FluxEntry;
    use cevns_physics::flux::{Line, Spectrum};

    #[test]
    fn interp_is_linear_and_none_outside() {
        let x = [1.0, 2.0, 4.0];
        let y = [10.0, 20.0, 0.0];
        assert_eq!(interp(&x, &y, 1.5), Some(15.0));
        assert_eq!(interp(&x, &y, 3.0), Some(10.0));
        assert_eq!(interp(&x, &y, 4.0), Some(0.0));
        assert_eq!(interp(&x, &y, 0.5), None);
        assert_eq!(interp(&x, &y, 5.0), None);
    }

    fn line_entry(source: &str, flavour: Flavour, p: &[f64], e: &[f64]) -> FluxEntry {
        // Source flux 1 per line before oscillation; P applied per line.
        FluxEntry {
            source: source.into(),
            sigma_frac: 0.1,
            flavour,
            probability: p.to_vec(),
            spectrum: Spectrum::Lines(
                e.iter()
                    .zip(p)
                    .map(|(&energy_mev, &pr)| Line {
                        energy_mev,
                        flux: pr,
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn probabilities_are_flux_weighted_per_source_with_their_spread() {
        // Two equal lines with P_ee = 0.6 and 0.4 (P_eμ = 0.1/0.3, P_eτ =
        // 0.3/0.3): P̄ = (0.5, 0.2, 0.3), P_ee range 0.4–0.6.
        let e = [0.4, 0.9];
        let v = vec![
            line_entry("7Be", Flavour::E, &[0.6, 0.4], &e),
            line_entry("7Be", Flavour::Mu, &[0.1, 0.3], &e),
            line_entry("7Be", Flavour::Tau, &[0.3, 0.3], &e),
        ];
        let p = source_probabilities(&v).unwrap();
        let (avg, lo, hi) = p["7Be"];
        for (a, b) in avg.iter().zip([0.5, 0.2, 0.3]) {
            assert!((a - b).abs() < 1e-12, "{avg:?}");
        }
        assert_eq!((lo, hi), (0.4, 0.6));
        // No flux at Earth is an input error, not a NaN in the report.
        let zero = vec![line_entry("pep", Flavour::E, &[0.0], &[1.44])];
        assert!(source_probabilities(&zero).is_err());
    }

    #[test]
    fn data_kind_lines_say_what_the_limits_are() {
        assert!(data_kind_line(&DataKind::Surrogate).contains("SURROGATE"));
        let a = DataKind::Asimov {
            exposure_kg_day: 1.0,
            background: 2.0,
            background_syst_frac: 0.1,
        };
        assert!(data_kind_line(&a).contains("ASIMOV"));
    }
}
