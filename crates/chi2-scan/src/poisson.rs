//! `chi2-scan --likelihood CONFIG` (library part of the stage): the extended binned Poisson template
//! likelihood (XENONnT's public 8B CEvNS release) instead of the pull χ².
//!
//! Always: the 8B flux measurement with the flux free — best fit, Δ(−2 ln L) = 1
//! interval, discovery significance √q₀ (b8 = 0 vs free), expected and
//! observed counts per run and component (`--out-fit`), the profile of the
//! flux (`--out-profile`) and per-bin observed/expected (`--out-bins`).
//! With `--rates` and `--out-limits` (signal from mono-energetic templates):
//! 90 % CL upper limits on g for each U(1)' model and mediator mass, from the
//! profile likelihood ratio at fixed mass, Δ(−2 ln L) = `--delta-nll` (2.706,
//! one-sided... the convention of XENONnT's recasts), all nuisances profiled
//! and the flux constrained as the configuration says.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rayon::prelude::*;

use cevns_io::data::{load_models, select_models};
use cevns_io::schema::{
    DataKind, LimitsExtra, ModelLimit, ScanBlock, limits_table, read_rates, read_template_response,
    scan_table,
};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::xenonnt::{SignalFrom, TemplateLikelihood};
use cevns_io::{OutputSet, Provenance, Table};
use cevns_physics::likelihood::{self, FoldMatrix, MorphGrid, PoissonModel};
use cevns_physics::rate::{RecoilGrid, ZpKernel};
use cevns_physics::units::kev_to_mev;

/// kg per tonne × days per (Julian) year: counts kg⁻¹ day⁻¹ → counts t⁻¹ yr⁻¹.
const KG_DAY_PER_TONNE_YEAR: f64 = 1000.0 * 365.25;

/// Poisson template likelihood mode of chi2-scan.
#[derive(Debug, Parser)]
#[command(name = "chi2-scan", version, allow_negative_numbers = true)]
pub struct Args {
    /// Template-likelihood configuration (data/xenonnt/*/likelihood.yaml).
    #[arg(long, value_name = "YAML")]
    likelihood: PathBuf,
    /// rates.parquet (signal from mono-energetic templates: our spectrum).
    #[arg(long, value_name = "PARQUET")]
    rates: Option<PathBuf>,
    /// template-response.parquet from `quench-smear --detector <this
    /// likelihood>` (P(bin | T_nr) per run). Absent: built from the
    /// configuration's mono-energetic templates (the same numbers).
    #[arg(long, value_name = "PARQUET")]
    response: Option<PathBuf>,
    /// fluxes.parquet (the flux of the signal source, to quote the flux).
    #[arg(long, value_name = "PARQUET")]
    fluxes: Option<PathBuf>,
    /// Source of the signal in rates.parquet.
    #[arg(long, default_value = "8B")]
    signal_source: String,
    /// U(1)' models YAML (limits).
    #[arg(long, value_name = "YAML")]
    models: Option<PathBuf>,
    /// Models to scan (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    model_names: Vec<String>,
    /// Output: fit table.
    #[arg(long, value_name = "PARQUET")]
    out_fit: PathBuf,
    /// Output: profile of Δ(−2 ln L) in the flux.
    #[arg(long, value_name = "PARQUET")]
    out_profile: Option<PathBuf>,
    /// Output: observed and best-fit expected counts per bin.
    #[arg(long, value_name = "PARQUET")]
    out_bins: Option<PathBuf>,
    /// Output: limits (model, label, m_zp_mev, g90; g90 null where no limit).
    #[arg(long, value_name = "PARQUET")]
    out_limits: Option<PathBuf>,
    /// Output: limits CSV.
    #[arg(long, value_name = "CSV")]
    out_csv: Option<PathBuf>,
    /// Output: Δ(−2 ln L) on the (m, g) grid.
    #[arg(long, value_name = "PARQUET")]
    out_scan: Option<PathBuf>,
    /// Lowest mediator mass [MeV].
    #[arg(long, default_value_t = 0.01)]
    m_min_mev: f64,
    /// Highest mediator mass [MeV].
    #[arg(long, default_value_t = 1000.0)]
    m_max_mev: f64,
    /// Number of log-spaced masses.
    #[arg(long, default_value_t = 201)]
    m_points: usize,
    /// Smallest coupling of the scan.
    #[arg(long, default_value_t = 1e-8)]
    g_min: f64,
    /// Largest coupling of the scan.
    #[arg(long, default_value_t = 1e-2)]
    g_max: f64,
    /// Coarse scan points per decade of g.
    #[arg(long, default_value_t = 8)]
    g_per_decade: usize,
    /// Δ(−2 ln L) of the limits (2.706: 90 % CL, one parameter).
    #[arg(long, default_value_t = 2.706)]
    delta_nll: f64,
    /// Δ(−2 ln L) of the flux interval (1: 68 %).
    #[arg(long, default_value_t = 1.0)]
    delta_interval: f64,
    #[command(flatten)]
    common: CommonArgs,
}

/// The signal of every run as g-polynomial templates: S(g) = S₀ + g² S₁ + g⁴ S₂
/// (values[(ix * ny + iy) * bins + bin], events per tonne-year).
struct SignalPoly {
    s0: Vec<MorphGrid>,
    s1: Vec<Vec<f64>>,
    s2: Vec<Vec<f64>>,
}

impl SignalPoly {
    fn at(&self, g: f64) -> anyhow::Result<Vec<MorphGrid>> {
        let g2 = g * g;
        self.s0
            .iter()
            .zip(&self.s1)
            .zip(&self.s2)
            .map(|((s0, s1), s2)| {
                let mut k = 0;
                let grid = s0.map_anchors(|ix, iy| {
                    let v: Vec<f64> = s0
                        .at_anchor(ix, iy)
                        .iter()
                        .map(|a| {
                            let r = a + g2 * s1[k] + g2 * g2 * s2[k];
                            k += 1;
                            r.max(0.0)
                        })
                        .collect();
                    v
                })?;
                Ok(grid)
            })
            .collect()
    }
}

/// Rows of the fit table: item, run, value and interval (lo, hi; = value
/// where no interval applies).
#[derive(Debug, Default)]
struct FitRows {
    item: Vec<String>,
    run: Vec<String>,
    value: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl FitRows {
    fn push(&mut self, item: &str, run: &str, v: f64, lo: f64, hi: f64) {
        self.item.push(item.to_string());
        self.run.push(run.to_string());
        self.value.push(v);
        self.lo.push(lo);
        self.hi.push(hi);
    }

    fn table(self) -> Table {
        Table::new()
            .str("item", self.item)
            .str("run", self.run)
            .f64("value", "see item", self.value)
            .f64("lo", "see item", self.lo)
            .f64("hi", "see item", self.hi)
    }
}

/// Entry point of the mode.
pub fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.common.init()?;
    run(&args)
}

fn run(args: &Args) -> anyhow::Result<()> {
    let t_start = std::time::Instant::now();
    let mut outs: Vec<&std::path::Path> = vec![&args.out_fit];
    for p in [
        &args.out_profile,
        &args.out_bins,
        &args.out_limits,
        &args.out_csv,
        &args.out_scan,
    ]
    .into_iter()
    .flatten()
    {
        outs.push(p);
    }
    let mut out = OutputSet::new(&outs)?;
    if !(args.delta_nll.is_finite() && args.delta_nll > 0.0 && args.delta_interval > 0.0) {
        return Err(bad_input("--delta-nll and --delta-interval must be > 0"));
    }
    let tl = TemplateLikelihood::load(&args.likelihood).context("loading the likelihood")?;
    let cfg = &tl.config;

    // Signal templates.
    let mut prov = Provenance::new("chi2-scan");
    let (model, nominal_flux, poly_ctx) = match cfg.signal.from {
        SignalFrom::Templates => {
            let Some(f) = cfg.signal.nominal_flux_cm2_s else {
                return Err(bad_input(format!(
                    "{}: signal.nominal_flux_cm2_s is required with `from: templates`",
                    args.likelihood.display()
                )));
            };
            (tl.model.clone(), f, None)
        }
        SignalFrom::Mono => {
            let Some(rates) = &args.rates else {
                return Err(bad_input(
                    "the configuration folds our spectrum: give --rates",
                ));
            };
            let (grid, sources) = read_rates(rates).context("reading rates")?;
            let Some(src) = sources.iter().find(|s| s.source == args.signal_source) else {
                return Err(bad_input(format!(
                    "{}: no source `{}`",
                    rates.display(),
                    args.signal_source
                )));
            };
            let flux = match &args.fluxes {
                Some(p) => source_flux(p, &args.signal_source)?,
                None => return Err(bad_input("give --fluxes (the flux of the signal source)")),
            };
            let sm = src.total();
            let mono = match &args.response {
                Some(p) => {
                    let resp =
                        read_template_response(p).context("reading the template response")?;
                    let names: Vec<&str> = resp.iter().map(|(n, _)| n.as_str()).collect();
                    let want: Vec<&str> = cfg.runs.iter().map(|r| r.name.as_str()).collect();
                    if names != want {
                        return Err(bad_input(format!(
                            "{}: runs {names:?}, the likelihood has {want:?} (rerun quench-smear with this configuration)",
                            p.display()
                        )));
                    }
                    prov = prov.input("response", p)?;
                    resp.into_iter().map(|(_, m)| m).collect()
                }
                None => tl.mono.clone(),
            };
            let folds: Vec<FoldMatrix> = mono.iter().map(|m| m.fold_matrix(&grid)).collect();
            for (m, r) in mono.iter().zip(&cfg.runs) {
                let above = m.fraction_above(&grid, &sm);
                if above > 1e-3 {
                    return Err(bad_input(format!(
                        "run {}: {:.2} % of the {} rate lies above the last mono-energetic template ({} keV)",
                        r.name,
                        100.0 * above,
                        args.signal_source,
                        m.energies()[m.energies().len() - 1]
                    )));
                }
            }
            let s0 = folds
                .iter()
                .map(|f| f.fold(&sm, KG_DAY_PER_TONNE_YEAR))
                .collect::<Result<Vec<_>, _>>()?;
            let model = tl.with_signal(s0.clone());
            prov = prov.input("rates", rates)?;
            if let Some(p) = &args.fluxes {
                prov = prov.input("fluxes", p)?;
            }
            (model, flux, Some((grid, src.clone(), folds, s0)))
        }
    };
    prov = prov.input("likelihood", &args.likelihood)?.inputs(
        "likelihood-files",
        tl.files.iter().skip(1).map(|p| p.as_path()),
    )?;

    // ---- measurement: flux free.
    let k = tl.flux_index;
    let mut best = likelihood::fit_polished(&model, &[], None)?;
    // Guard against a stalled best fit: a coarse profile in the flux that
    // finds a lower −2 ln L restarts the best fit from there.
    for i in 0..=20 {
        let v = 0.1 * f64::from(i) * best.theta[k].max(0.5) * 1.5;
        let f = likelihood::profile(&model, k, v, &best.theta)?;
        if f.nll < best.nll - 1e-9 {
            let again = likelihood::fit_polished(&model, &[], Some(&f.theta))?;
            best = if again.nll < f.nll { again } else { f };
        }
    }
    let (q0, z) = likelihood::significance(&model, k, &best)?;
    let (lo, hi) = likelihood::interval(&model, k, &best, args.delta_interval)?;
    let mut rows = FitRows::default();
    let mult = best.theta[k];
    rows.push(
        "flux_cm2_s",
        "all",
        mult * nominal_flux,
        lo * nominal_flux,
        hi * nominal_flux,
    );
    rows.push("flux_multiplier", "all", mult, lo, hi);
    rows.push(
        "nominal_flux_cm2_s",
        "all",
        nominal_flux,
        nominal_flux,
        nominal_flux,
    );
    rows.push("q0", "all", q0, q0, q0);
    rows.push("significance_sigma", "all", z, z, z);
    rows.push("nll_best", "all", best.nll, best.nll, best.nll);
    for (p, v) in model.params.iter().zip(&best.theta) {
        rows.push(&format!("param:{}", p.name), "all", *v, *v, *v);
    }
    let nominal = model.init();
    let exp_nom = model.expected(&nominal);
    let exp_best = model.expected(&best.theta);
    let mut totals: std::collections::BTreeMap<String, [f64; 3]> = Default::default();
    for (ci, ch) in model.channels.iter().enumerate() {
        let n: f64 = ch.observed.iter().sum();
        rows.push("observed", &ch.name, n, n, n);
        totals.entry("observed".into()).or_default()[0] += n;
        let mut bkg_nom = 0.0;
        let mut bkg_best = 0.0;
        for (j, c) in ch.components.iter().enumerate() {
            let a: f64 = exp_nom[ci][j].iter().sum();
            let b: f64 = exp_best[ci][j].iter().sum();
            rows.push(&format!("expected_nominal:{}", c.name), &ch.name, a, a, a);
            rows.push(&format!("expected_bestfit:{}", c.name), &ch.name, b, b, b);
            let e = totals.entry(c.name.clone()).or_default();
            e[0] += a;
            e[1] += b;
            if c.name != cfg.signal.component {
                bkg_nom += a;
                bkg_best += b;
            }
        }
        rows.push(
            "expected_nominal:background",
            &ch.name,
            bkg_nom,
            bkg_nom,
            bkg_nom,
        );
        rows.push(
            "expected_bestfit:background",
            &ch.name,
            bkg_best,
            bkg_best,
            bkg_best,
        );
        let e = totals.entry("background".into()).or_default();
        e[0] += bkg_nom;
        e[1] += bkg_best;
    }
    for (name, v) in &totals {
        if name == "observed" {
            rows.push("observed", "all", v[0], v[0], v[0]);
        } else {
            rows.push(&format!("expected_nominal:{name}"), "all", v[0], v[0], v[0]);
            rows.push(&format!("expected_bestfit:{name}"), "all", v[1], v[1], v[1]);
        }
    }
    args.common.log(format!(
        "chi2-scan: {}: 8B flux = {:.3e} (+{:.3e} / -{:.3e}) cm^-2 s^-1, significance {:.3} sigma (q0 = {q0:.3}); background {:.2}, 8B {:.2} expected (nominal), {} observed",
        cfg.name,
        mult * nominal_flux,
        (hi - mult) * nominal_flux,
        (mult - lo) * nominal_flux,
        z,
        totals.get("background").map_or(0.0, |v| v[0]),
        totals.get(&cfg.signal.component).map_or(0.0, |v| v[0]),
        totals.get("observed").map_or(0.0, |v| v[0]),
    ));

    let data_kind = DataKind::Measured {
        source: format!("XENONnT public data ({})", cfg.name),
    };
    prov = prov
        .param("delta_interval", args.delta_interval)
        .param("delta_nll", args.delta_nll)
        .param("signal_source", &args.signal_source)
        .extra("data_kind", &data_kind)
        .extra(
            "likelihood",
            "extended binned Poisson over all bins of all runs; Gaussian constraints; yields morphed bilinearly; profile likelihood (argmin L-BFGS)",
        )
        .extra("flux_in_measurement", "free");

    // ---- profile of the flux.
    let profile = if args.out_profile.is_some() {
        let top = (hi * 2.0).max(mult * 3.0).max(0.5);
        let n = 61;
        let pts: Vec<f64> = (0..n).map(|i| top * i as f64 / (n - 1) as f64).collect();
        let mut start = best.theta.clone();
        let mut vals = Vec::with_capacity(n);
        for &v in &pts {
            let f = likelihood::profile(&model, k, v, &start)?;
            start = f.theta.clone();
            vals.push((f.nll - best.nll).max(0.0));
        }
        Some(
            Table::new()
                .f64(
                    "flux_cm2_s",
                    "cm^-2 s^-1",
                    pts.iter().map(|v| v * nominal_flux).collect(),
                )
                .f64("flux_multiplier", "1", pts)
                .f64("delta_nll", "1", vals),
        )
    } else {
        None
    };

    // ---- per-bin table.
    let bins = if args.out_bins.is_some() {
        let (mut run, mut bin, mut obs) = (vec![], vec![], vec![]);
        let mut comps: Vec<(String, Vec<f64>)> = Vec::new();
        for (ci, ch) in model.channels.iter().enumerate() {
            for (b, n) in ch.observed.iter().enumerate() {
                run.push(ch.name.clone());
                bin.push(b as u32);
                obs.push(*n);
                for (j, c) in ch.components.iter().enumerate() {
                    match comps.iter_mut().find(|(n, _)| *n == c.name) {
                        Some((_, v)) => v.push(exp_best[ci][j][b]),
                        None => comps.push((c.name.clone(), vec![exp_best[ci][j][b]])),
                    }
                }
            }
        }
        let mut t = Table::new()
            .str("run", run)
            .u32("bin", "1", bin.clone())
            .u32("i_cs2", "1", bin.iter().map(|b| b / 27).collect())
            .u32("i_shadow", "1", bin.iter().map(|b| (b / 9) % 3).collect())
            .u32("i_s1bdt", "1", bin.iter().map(|b| (b / 3) % 3).collect())
            .u32("i_s2bdt", "1", bin.iter().map(|b| b % 3).collect())
            .f64("observed", "counts", obs);
        for (name, v) in comps {
            if v.len() != t.num_rows() {
                return Err(bad_input(
                    "components differ between runs; cannot tabulate per bin",
                ));
            }
            t = t.f64(&format!("expected_{name}"), "counts (best fit)", v);
        }
        Some(t)
    } else {
        None
    };

    // ---- limits.
    let mut limit_tables = None;
    if let Some(out_limits) = &args.out_limits {
        let Some((grid, src, folds, s0)) = &poly_ctx else {
            return Err(bad_input(
                "limits need a configuration with `signal.from: mono` and --rates",
            ));
        };
        let Some(models_path) = &args.models else {
            return Err(bad_input("limits need --models"));
        };
        if args.out_csv.is_none() || args.out_scan.is_none() {
            return Err(bad_input("limits need --out-csv and --out-scan"));
        }
        let all = load_models(models_path).context("loading models")?;
        let models = select_models(models_path, &all, &args.model_names)?;
        prov = prov.input("models", models_path)?;
        // Flux constraint for limits.
        let mut lmodel = model.clone();
        if let Some(fc) = &cfg.signal.flux_constraint {
            let mean = fc.central_cm2_s / nominal_flux;
            lmodel.params[k].constraint = Some((mean, fc.sigma_frac * mean));
            prov = prov.extra(
                "flux_in_limits",
                format!(
                    "constrained: {} +- {} (relative) cm^-2 s^-1 = multiplier {mean:.5} of our flux ({})",
                    fc.central_cm2_s, fc.sigma_frac, fc.source
                ),
            );
        } else {
            prov = prov.extra("flux_in_limits", "free");
        }
        let masses = cevns_physics::stats::log_grid(args.m_min_mev, args.m_max_mev, args.m_points);
        if !(args.m_min_mev > 0.0 && args.m_max_mev > args.m_min_mev && args.m_points >= 2) {
            return Err(bad_input(
                "need 0 < --m-min-mev < --m-max-mev and --m-points >= 2",
            ));
        }
        if !(args.g_min > 0.0 && args.g_max > args.g_min && args.g_per_decade > 0) {
            return Err(bad_input(
                "need 0 < --g-min < --g-max and --g-per-decade >= 1",
            ));
        }
        let gs = cevns_physics::stats::coupling_grid(&cevns_physics::stats::LimitOptions {
            g_min: args.g_min,
            g_max: args.g_max,
            per_decade: args.g_per_decade,
            delta_chi2: args.delta_nll,
        });
        let sm_fit = likelihood::fit(&lmodel, &[], Some(&best.theta))?;
        let pb = args
            .common
            .progress((models.len() * masses.len()) as u64, "chi2-scan");
        let mut limit_curves: Vec<ModelLimit> = Vec::new();
        let mut scan_blocks: Vec<ScanBlock> = Vec::new();
        let mut csv = String::from("model,m_zp_mev,g90\n");
        let mut report = serde_json::Map::new();
        for um in &models {
            let kernels = src.kernels(um);
            let results: Vec<anyhow::Result<(Option<f64>, Vec<f64>)>> = masses
                .par_iter()
                .map(|&m| {
                    let poly = zprime_poly(grid, folds, s0, &kernels, m);
                    let r = limit_at_mass(&tl, &lmodel, &poly, &gs, &sm_fit, args.delta_nll);
                    pb.inc(1);
                    r
                })
                .collect();
            let mut at_ref = serde_json::Map::new();
            let mut points = Vec::with_capacity(masses.len());
            let mut deltas = Vec::with_capacity(masses.len() * gs.len());
            for (&m, r) in masses.iter().zip(results) {
                let (g90, scan) = r?;
                points.push((m, g90));
                match g90 {
                    Some(g) => writeln!(csv, "{},{:.6e},{:.6e}", um.name, m, g)?,
                    None => writeln!(csv, "{},{:.6e},", um.name, m)?,
                }
                deltas.extend_from_slice(&scan);
                for target in [0.01, 1.0, 10.0, 100.0] {
                    if (m / target - 1.0).abs() < 1e-9 {
                        at_ref.insert(format!("{target}"), serde_json::json!(g90));
                    }
                }
            }
            args.common.log(format!(
                "chi2-scan: {:>8}: g90 at 0.01/1/10/100 MeV = {}",
                um.name,
                serde_json::Value::Object(at_ref.clone())
            ));
            report.insert(um.name.clone(), serde_json::Value::Object(at_ref));
            scan_blocks.push(ScanBlock {
                model: um.name.clone(),
                masses_mev: masses.clone(),
                couplings: gs.clone(),
                delta_chi2: deltas,
            });
            limit_curves.push(ModelLimit {
                model: um.name.clone(),
                label: um.display().to_string(),
                points,
                data: data_kind.clone(),
            });
        }
        pb.finish_and_clear();
        prov = prov
            .param("models", models.iter().map(|m| m.name.clone()).collect::<Vec<_>>())
            .param("m_min_mev", args.m_min_mev)
            .param("m_max_mev", args.m_max_mev)
            .param("m_points", args.m_points)
            .param("g_min", args.g_min)
            .param("g_max", args.g_max)
            .param("g_per_decade", args.g_per_decade)
            .param("delta_chi2", args.delta_nll)
            .extra("g90_reference_masses", report)
            .extra(
                "limit_statistic",
                format!(
                    "profile likelihood ratio at fixed m: -2 ln L(g) - min_g -2 ln L = {} (all nuisances profiled)",
                    args.delta_nll
                ),
            );
        let limits = limits_table(&limit_curves);
        let scan = scan_table(&scan_blocks);
        limit_tables = Some((out_limits.clone(), limits, scan, csv));
    }
    let fit_t = rows.table();
    out.write_bytes(&args.out_fit, &fit_t.to_parquet_bytes(&prov)?)?;
    if let (Some(p), Some(t)) = (&args.out_profile, profile) {
        out.write_bytes(p, &t.to_parquet_bytes(&prov)?)?;
    }
    if let (Some(p), Some(t)) = (&args.out_bins, bins) {
        out.write_bytes(p, &t.to_parquet_bytes(&prov)?)?;
    }
    if let Some((pl, limits, scan, csv)) = limit_tables {
        // The limits' typed extras (read back by `read_limits`); χ²_min is
        // per mass here (profiled), so no per-model entry.
        let prov = prov.clone().typed_extra(&LimitsExtra {
            unresolved_scan_points: Default::default(),
            chi2_min: Default::default(),
            no_limit: Default::default(),
            pulls: "Gaussian constraints on every nuisance of the Poisson likelihood, all profiled"
                .into(),
            data_kind: data_kind.clone(),
            calibration: None,
            asimov: None,
        });
        out.write_bytes(&pl, &limits.to_parquet_bytes(&prov)?)?;
        if let Some(p) = &args.out_csv {
            // Plain CSV, header first (provenance is in limits.parquet).
            out.write_bytes(p, csv.as_bytes())?;
        }
        if let Some(p) = &args.out_scan {
            out.write_bytes(p, &scan.to_parquet_bytes(&prov)?)?;
        }
    }
    out.commit()?;
    args.common.log(format!(
        "chi2-scan: wrote {} in {:.1} s",
        args.out_fit.display(),
        t_start.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Total flux of a source (cm⁻² s⁻¹, summed over flavours) from fluxes.parquet.
fn source_flux(path: &std::path::Path, source: &str) -> anyhow::Result<f64> {
    let entries = cevns_io::schema::read_fluxes(path).context("reading fluxes")?;
    let total: f64 = entries
        .iter()
        .filter(|e| e.source == source)
        .map(|e| match &e.spectrum {
            cevns_physics::flux::Spectrum::Continuum(c) => c.integral(),
            cevns_physics::flux::Spectrum::Lines(l) => l.iter().map(|x| x.flux).sum(),
        })
        .sum();
    if total.is_nan() || total <= 0.0 {
        return Err(bad_input(format!(
            "{}: no flux for source `{source}`",
            path.display()
        )));
    }
    Ok(total)
}

/// Binned Z' terms at mass `m_mev` for every run: S₁, S₂ of S(g) = S₀ + g² S₁ + g⁴ S₂.
fn zprime_poly(
    grid: &RecoilGrid,
    folds: &[FoldMatrix],
    s0: &[MorphGrid],
    kernels: &[ZpKernel],
    m_mev: f64,
) -> SignalPoly {
    let n = grid.len();
    let (mut v1, mut v2) = (vec![0.0; n], vec![0.0; n]);
    let m2 = m_mev * m_mev;
    let active = folds.first().map_or(0..0, |f| f.active());
    for k in kernels {
        let two_m = 2.0 * k.mass_mev;
        for j in active.clone() {
            let inv_d = 1.0 / (m2 + two_m * kev_to_mev(grid.points()[j]));
            v1[j] += k.a1[j] * inv_d;
            v2[j] += k.a2[j] * inv_d * inv_d;
        }
    }
    SignalPoly {
        s0: s0.to_vec(),
        s1: folds
            .iter()
            .map(|f| f.fold_signed(&v1, KG_DAY_PER_TONNE_YEAR))
            .collect(),
        s2: folds
            .iter()
            .map(|f| f.fold_signed(&v2, KG_DAY_PER_TONNE_YEAR))
            .collect(),
    }
}

/// Upper limit on g at one mass: profile −2 ln L on the coarse g grid (warm
/// starts), its minimum (including g = 0), and the first upward crossing of
/// min + Δ, bisected in log g to a relative 1e-4. Returns the limit and the
/// scan's Δ(−2 ln L) on the grid.
fn limit_at_mass(
    tl: &TemplateLikelihood,
    base: &PoissonModel,
    poly: &SignalPoly,
    gs: &[f64],
    sm_fit: &likelihood::Fit,
    delta: f64,
) -> anyhow::Result<(Option<f64>, Vec<f64>)> {
    let model_at = |g: f64| -> anyhow::Result<PoissonModel> {
        let mut m = tl.with_signal(poly.at(g)?);
        m.params = base.params.clone();
        Ok(m)
    };
    let mut start = sm_fit.theta.clone();
    let mut nll = Vec::with_capacity(gs.len());
    let mut thetas = Vec::with_capacity(gs.len());
    for &g in gs {
        let f = likelihood::fit_quick(&model_at(g)?, &[], Some(&start))?;
        start = f.theta.clone();
        nll.push(f.nll);
        thetas.push(f.theta);
        // Past the crossing by far: the rest of the grid is not needed.
        if f.nll - sm_fit.nll > 100.0 * delta {
            break;
        }
    }
    let min = nll.iter().copied().fold(sm_fit.nll, f64::min);
    let mut scan: Vec<f64> = nll.iter().map(|v| v - min).collect();
    // The grid points skipped after the early stop (far above the limit)
    // were not evaluated: NaN in scan.parquet, never a made-up value.
    scan.resize(gs.len(), f64::NAN);
    let Some(i) = scan.iter().position(|d| *d >= delta) else {
        return Ok((None, scan));
    };
    if i == 0 {
        // Already excluded at --g-min: the edge of the scan is not a limit.
        return Ok((None, scan));
    }
    let (mut lo, mut hi) = (gs[i - 1], gs[i]);
    let mut th = thetas[i - 1].clone();
    while hi / lo - 1.0 > 1e-4 {
        let mid = (lo * hi).sqrt();
        let f = likelihood::fit_quick(&model_at(mid)?, &[], Some(&th))?;
        if f.nll - min >= delta {
            hi = mid;
        } else {
            lo = mid;
            th = f.theta;
        }
    }
    Ok((Some((lo * hi).sqrt()), scan))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn g_zero_gives_exactly_the_sm_signal_and_g_adds_g2_g4_terms() {
        let s0 = MorphGrid::new(vec![-1.0, 1.0], vec![0.0], 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let poly = SignalPoly {
            s0: vec![s0.clone()],
            s1: vec![vec![0.5, -0.5, 1.0, 0.0]],
            s2: vec![vec![0.25, 0.25, 0.0, 1.0]],
        };
        assert_eq!(poly.at(0.0).unwrap()[0], s0);
        let g = 2.0;
        let at = poly.at(g).unwrap();
        let want = [
            1.0 + 4.0 * 0.5 + 16.0 * 0.25,
            2.0 - 4.0 * 0.5 + 16.0 * 0.25,
            3.0 + 4.0,
            4.0 + 16.0,
        ];
        assert_eq!(at[0].at_anchor(0, 0), &want[..2]);
        assert_eq!(at[0].at_anchor(1, 0), &want[2..]);
    }
}
