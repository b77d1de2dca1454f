//! The `quench-smear` stage as a library: detector response — Lindhard
//! quenching (eq 15–19), Gaussian resolution and binning — as a reusable
//! matrix, the binned SM rates, and fine dR/dT_ee spectra for figures.
//!
//! [`SmearConfig`] is the validated configuration; [`run`] reads the inputs
//! it names and returns the three tables in memory ([`SmearOutputs`]); the
//! binary writes them atomically.

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;

use cevns_io::data::{load_detector, load_models, select_models};
use cevns_io::schema::{BinnedRates, BinnedSource, SpectrumCurve, read_rates, response_table};
pub use cevns_io::schema::{binned_table, spectrum_table};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{Provenance, Table};
use cevns_physics::detector::quenching::Quenching;
use cevns_physics::detector::{DetectorResponse, Response, Smearing, Species, quenched_spectrum};
use cevns_physics::rate::SourceRates;
use cevns_physics::zprime::rate_with_zprime;

/// `Z = 32` for nuclear recoils (the label the provenance has always used).
fn z_label(s: Species) -> String {
    match s {
        Species::Nucleus(z) => format!("Z = {z}"),
        Species::Electron => "electrons".into(),
    }
}

/// Benchmark spectra for figures (paper Fig 2).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumConfig {
    /// Models drawn (empty: all in the models file).
    pub models: Vec<String>,
    /// Coupling g of the benchmark curves (g² = g_q g_ν).
    pub g: f64,
    /// Mediator masses of the benchmark curves [MeV].
    pub masses_mev: Vec<f64>,
    /// Source drawn (`8B`, or `all`).
    pub source: String,
    /// Lowest T_ee [keVee] of the fine grid.
    pub ee_min_kevee: f64,
    /// Highest T_ee [keVee].
    pub ee_max_kevee: f64,
    /// Number of T_ee points.
    pub ee_points: usize,
}

/// The validated configuration of one quench-smear run.
#[derive(Debug, Clone, PartialEq)]
pub struct SmearConfig {
    /// rates.parquet from rate-convolve.
    pub rates: PathBuf,
    /// Detector YAML (quenching, resolution, efficiency, bins).
    pub detector: PathBuf,
    /// U(1)' models YAML (for the benchmark spectra).
    pub models: PathBuf,
    /// Lindhard k overriding the detector file's (None: the detector's).
    pub k: Option<f64>,
    /// Analysis threshold [keVee] replacing the detector file's first bin
    /// edge; the bins keep their width and end at the last whole bin below
    /// the file's upper edge (threshold scans; None: the file's bins).
    pub threshold_kevee: Option<f64>,
    /// The benchmark spectra.
    pub spectrum: SpectrumConfig,
}

impl SmearConfig {
    /// Check the numeric options (bad input, exit 2, naming the flag).
    pub fn validate(&self) -> anyhow::Result<()> {
        let sp = &self.spectrum;
        if !(sp.ee_min_kevee > 0.0 && sp.ee_max_kevee > sp.ee_min_kevee && sp.ee_points >= 2) {
            return Err(bad_input(
                "need 0 < --ee-min-kevee < --ee-max-kevee and --ee-points >= 2",
            ));
        }
        if !(sp.g.is_finite() && sp.g >= 0.0) {
            return Err(bad_input(format!(
                "--benchmark-g {} must be finite and >= 0",
                sp.g
            )));
        }
        if let Some(m) = sp.masses_mev.iter().find(|m| !(m.is_finite() && **m > 0.0)) {
            return Err(bad_input(format!(
                "--benchmark-masses-mev: mass {m} must be finite and > 0"
            )));
        }
        Ok(())
    }
}

/// The outputs of one run, in memory.
#[derive(Debug)]
pub struct SmearOutputs {
    /// response.parquet (matrix W per element Z).
    pub response: Table,
    /// binned.parquet (SM rate per bin and source).
    pub binned: BinnedRates,
    /// spectrum.parquet (fine dR/dT_ee curves).
    pub spectrum: Vec<SpectrumCurve>,
    /// Provenance of response and binned.
    pub provenance: Provenance,
    /// Provenance of the spectrum (adds the benchmark parameters and models).
    pub spectrum_provenance: Provenance,
}

/// Build the detector response, fold the SM rates into the bins and draw the
/// benchmark spectra.
pub fn run(cfg: &SmearConfig, ctx: &CommonArgs) -> anyhow::Result<SmearOutputs> {
    cfg.validate()?;
    let sp = &cfg.spectrum;
    let mut det = load_detector(&cfg.detector).context("loading the detector")?;
    // A Lindhard k on a tabulated curve is bad input naming both, never a
    // silent switch to Lindhard.
    det.check_k_override(&cfg.detector, cfg.k)?;
    if let Some(t) = cfg.threshold_kevee {
        det = det.with_threshold_kevee(&cfg.detector, t)?;
    }
    let bins = det.bins(&cfg.detector)?;
    let all_models = load_models(&cfg.models).context("loading models")?;
    let models = select_models(&cfg.models, &all_models, &sp.models)?;
    let (grid, sources) = read_rates(&cfg.rates).context("reading rates")?;
    // One quenching and one response per recoiling species: per element of
    // the target for nuclear recoils (Lindhard depends on Z; a compound such
    // as CsI has two).
    let species = SourceRates::species(&sources);
    let zs: Vec<u32> = species
        .iter()
        .filter_map(|s| match s {
            Species::Nucleus(z) => Some(*z),
            Species::Electron => None,
        })
        .collect();
    if species.is_empty() {
        return Err(bad_input(format!("{}: no rates", cfg.rates.display())));
    }
    let k_override = cfg.k;
    let efficiency = det.efficiency(&cfg.detector)?;
    let mut quench: Vec<(Species, Quenching)> = Vec::new();
    let mut parts = Vec::new();
    for &sp in &species {
        // Electron recoils are not quenched (T_ee = T_e); nuclear recoils
        // use the detector's quenching for their Z.
        let q = match sp {
            Species::Nucleus(z) => det.quenching(&cfg.detector, z, k_override)?,
            Species::Electron => Quenching::Unquenched,
        };
        let r = Response::build(
            &grid,
            &q,
            &det.resolution,
            &bins,
            &efficiency,
            det.ionization_threshold_ev / 1e3,
        )?;
        parts.push((sp, r));
        quench.push((sp, q));
    }
    let resp = DetectorResponse::new(parts)?;
    let quench_desc = quench
        .iter()
        .map(|(z, q)| match q {
            Quenching::Lindhard(l) => format!("{}: Lindhard k = {}", z_label(*z), l.k),
            Quenching::Table(_) => format!("{}: tabulated Y(T_nr)", z_label(*z)),
            Quenching::Unquenched => format!("{}: not quenched", z_label(*z)),
        })
        .collect::<Vec<_>>()
        .join("; ");
    ctx.log(format!(
        "quench-smear: {} ({quench_desc}), {} bins {:.3}–{:.3} keVee",
        det.name,
        bins.len(),
        bins.edges()[0],
        bins.edges()[bins.len()]
    ));

    // Binned SM rates per source.
    let binned = BinnedRates {
        edges: bins.edges().to_vec(),
        sources: sources
            .iter()
            .map(|s| BinnedSource {
                source: s.source.clone(),
                sigma_frac: s.sigma_frac,
                r_sm: resp.apply_source(s),
            })
            .collect(),
    };

    // Fine spectra.
    let selected: Vec<_> = if sp.source == "all" {
        sources.iter().collect()
    } else {
        let s: Vec<_> = sources.iter().filter(|s| s.source == sp.source).collect();
        if s.is_empty() {
            return Err(bad_input(format!(
                "--spectrum-source `{}` not in {} (have: {}, or `all`)",
                sp.source,
                cfg.rates.display(),
                sources
                    .iter()
                    .map(|s| s.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        s
    };
    let n = sp.ee_points;
    let e_obs: Vec<f64> = (0..n)
        .map(|i| sp.ee_min_kevee + (sp.ee_max_kevee - sp.ee_min_kevee) * i as f64 / (n - 1) as f64)
        .collect();
    let mut curves: Vec<(String, String, f64, f64)> = vec![(
        cevns_io::schema::spectrum::SM.into(),
        cevns_io::schema::spectrum::SM.into(),
        0.0,
        0.0,
    )];
    for &m in &sp.masses_mev {
        for model in &models {
            curves.push((model.name.clone(), model.display().to_string(), sp.g, m));
        }
    }
    // The Gaussian densities of each species, shared by every curve.
    let smearings: Vec<Smearing> = quench
        .iter()
        .map(|(_, q)| Smearing::new(&grid, q, &det.resolution, &e_obs))
        .collect();
    let spectra: Vec<(Vec<f64>, Vec<f64>)> = curves
        .par_iter()
        .map(|(name, _, g, m)| {
            let model = models.iter().find(|x| &x.name == name);
            let (mut smeared, mut raw) = (vec![0.0; n], vec![0.0; n]);
            for ((sp, q), smearing) in quench.iter().zip(&smearings) {
                // dR/dT of this species' recoils, SM or SM + Z'.
                let mut r = vec![0.0; grid.len()];
                for s in &selected {
                    let sm = s.total_for(*sp);
                    let part = match model {
                        Some(mm) if name != "SM" => {
                            let kernels: Vec<_> = s
                                .kernels(mm)
                                .into_iter()
                                .filter(|k| k.species == *sp)
                                .collect();
                            rate_with_zprime(&grid, &sm, &kernels, *g, *m)
                        }
                        _ => sm,
                    };
                    r.iter_mut().zip(part).for_each(|(a, b)| *a += b);
                }
                let sm_ee = smearing.apply(&r);
                let raw_ee = quenched_spectrum(&grid, q, &r, &e_obs);
                smeared.iter_mut().zip(sm_ee).for_each(|(a, b)| *a += b);
                raw.iter_mut().zip(raw_ee).for_each(|(a, b)| *a += b);
            }
            (smeared, raw)
        })
        .collect();
    let spectrum: Vec<SpectrumCurve> = curves
        .iter()
        .zip(spectra)
        .map(|((name, label, g, m), (smeared, raw))| SpectrumCurve {
            curve: name.clone(),
            label: label.clone(),
            g: *g,
            m_zp_mev: *m,
            source: sp.source.clone(),
            smeared: e_obs.iter().copied().zip(smeared).collect(),
            unsmeared: e_obs.iter().copied().zip(raw).collect(),
        })
        .collect();

    let prov = Provenance::new("quench-smear")
        .param("detector", &det.name)
        .param("quenching", &quench_desc)
        .param("z", &zs)
        .param("resolution", det.resolution)
        .param("efficiency", format!("{:?}", det.efficiency))
        .param("ionization_threshold_ev", det.ionization_threshold_ev)
        .param("bin_edges_kevee", bins.edges())
        .input("rates", &cfg.rates)?
        .input("detector", &cfg.detector)?
        .inputs(
            "detector-table",
            det.extra_files(&cfg.detector).iter().map(|p| p.as_path()),
        )?;
    let prov_spec = prov
        .clone()
        .param(
            "benchmark_models",
            models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        )
        .param("benchmark_g", sp.g)
        .param("benchmark_masses_mev", &sp.masses_mev)
        .param("spectrum_source", &sp.source)
        .input("models", &cfg.models)?;
    Ok(SmearOutputs {
        response: response_table(&grid, &resp),
        binned,
        spectrum,
        provenance: prov,
        spectrum_provenance: prov_spec,
    })
}

/// The template detector kind: P(bin | T_nr; t_ly, t_qy) of every science run
/// of a template likelihood configuration (`signal.from: mono`), as
/// template-response.parquet, with its provenance. Stops (bad input) when
/// more than 0.1 % of the `source` rate lies above the last template energy
/// of a run (the response is 0 there).
pub fn template_response(
    config: &std::path::Path,
    rates: &std::path::Path,
    source: &str,
    ctx: &CommonArgs,
) -> anyhow::Result<(Table, Provenance)> {
    use cevns_io::xenonnt::{SignalFrom, TemplateLikelihood};
    let tl = TemplateLikelihood::load(config).context("loading the template detector")?;
    if tl.config.signal.from != SignalFrom::Mono {
        return Err(bad_input(format!(
            "{}: a template detector needs `signal.from: mono` (mono-energetic templates)",
            config.display()
        )));
    }
    let (grid, sources) = read_rates(rates).context("reading rates")?;
    let Some(src) = sources.iter().find(|s| s.source == source) else {
        return Err(bad_input(format!(
            "{}: no source `{source}` (--spectrum-source)",
            rates.display()
        )));
    };
    let sm = src.total();
    let mut runs = Vec::new();
    for (m, r) in tl.mono.iter().zip(&tl.config.runs) {
        let above = m.fraction_above(&grid, &sm);
        if above > 1e-3 {
            return Err(bad_input(format!(
                "run {}: {:.2} % of the {source} rate lies above the last mono-energetic template ({} keV)",
                r.name,
                100.0 * above,
                m.energies()[m.energies().len() - 1]
            )));
        }
        ctx.log(format!(
            "quench-smear: {}: {} energies {}–{} keV, {:.1e} of the {source} rate above",
            r.name,
            m.energies().len(),
            m.energies()[0],
            m.energies()[m.energies().len() - 1],
            above
        ));
        runs.push((r.name.clone(), m));
    }
    let table = cevns_io::schema::template_response_table(&runs);
    let prov = Provenance::new("quench-smear")
        .param("detector_kind", "template")
        .param("spectrum_source", source)
        .input("rates", rates)?
        .input("detector", config)?
        .inputs("detector-files", tl.files.iter().skip(1).map(|p| p.as_path()))?
        .extra(
            "response",
            "P(bin | T_nr; t_ly, t_qy) at the template energies; linear in T_nr between them, 0 outside",
        );
    Ok((table, prov))
}
