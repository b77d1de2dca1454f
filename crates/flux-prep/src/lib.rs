//! `flux-prep` as a library: a solar model (with its spectrum tables) and
//! oscillation parameters → the fluxes at Earth per source and flavour
//! (paper eq 8–11; with `mode: msw`, energy-dependent adiabatic MSW-LMA).
//! The binary (`main.rs`) parses flags into a [`FluxConfig`], calls [`run`]
//! and writes `fluxes.parquet` through the one writer,
//! [`cevns_io::schema::fluxes_table`].

use std::path::PathBuf;

use anyhow::Context;

use cevns_io::Provenance;
use cevns_io::data::{
    ContinuumOverride, load_oscillation, load_oscillation_setup, load_solar_model_with,
};
use cevns_io::schema::FluxEntry;
use cevns_io::stage::CommonArgs;
use cevns_physics::oscillation::{Flavour, Oscillation};

/// What flux-prep reads.
#[derive(Debug, Clone)]
pub struct FluxConfig {
    /// Solar model YAML; spectrum tables are resolved relative to it.
    pub solar_model: PathBuf,
    /// Oscillation YAML (paper's constant probabilities or `mode: msw`).
    pub oscillation: PathBuf,
    /// Replacement spectrum tables of continuum sources (`--continuum`;
    /// empty: the solar model's own tables).
    pub continuum: Vec<ContinuumOverride>,
}

/// The fluxes table's rows and its provenance.
#[derive(Debug)]
pub struct FluxOutputs {
    /// One entry per source × flavour: P(ν_e → ν_ℓ) and the oscillated
    /// spectrum [cm⁻² s⁻¹ MeV⁻¹] (lines: [cm⁻² s⁻¹]).
    pub entries: Vec<FluxEntry>,
    pub provenance: Provenance,
}

/// Load the solar model and oscillation setup and oscillate every source's
/// spectrum into each flavour. Errors name the file that is wrong.
pub fn run(cfg: &FluxConfig, ctx: &CommonArgs) -> anyhow::Result<FluxOutputs> {
    let model = load_solar_model_with(&cfg.solar_model, &cfg.continuum)
        .context("loading the solar model")?;
    let mixing = load_oscillation(&cfg.oscillation).context("loading oscillation parameters")?;
    let probs = mixing.probabilities()?;
    let names: Vec<String> = model.sources.iter().map(|s| s.name.clone()).collect();
    let setup = load_oscillation_setup(&cfg.oscillation, &names)
        .context("loading oscillation parameters")?;
    let msw = setup
        .per_source
        .iter()
        .any(|(_, o)| matches!(o, Oscillation::Msw(_)));
    if msw {
        ctx.log(format!(
            "flux-prep: {} ({} sources), adiabatic MSW-LMA averaged over production zones",
            model.name,
            model.sources.len(),
        ));
    } else {
        ctx.log(format!(
            "flux-prep: {} ({} sources), P_ee = {:.5}, P_eμ = {:.5}, P_eτ = {:.5}",
            model.name,
            model.sources.len(),
            probs[0],
            probs[1],
            probs[2]
        ));
    }
    let mut entries = Vec::new();
    let mut mean_pee = std::collections::BTreeMap::new();
    for (s, (_, osc)) in model.sources.iter().zip(&setup.per_source) {
        for f in Flavour::ALL {
            let (probability, spectrum) = match osc {
                // Paper eq 8–11: one probability for every energy.
                Oscillation::Paper(_) => {
                    let p = probs[f.index()];
                    (vec![p], s.spectrum.scaled(p))
                }
                Oscillation::Msw(m) => {
                    let p: Vec<f64> = s
                        .spectrum
                        .energies()
                        .iter()
                        .map(|&e| m.probabilities(e)[f.index()])
                        .collect();
                    let sp = s
                        .spectrum
                        .weighted(&s.name, |e| m.probabilities(e)[f.index()])?;
                    if f == Flavour::E {
                        mean_pee.insert(s.name.clone(), sp.total() / s.spectrum.total());
                    }
                    (p, sp)
                }
            };
            entries.push(FluxEntry {
                source: s.name.clone(),
                sigma_frac: s.sigma_frac,
                flavour: f,
                probability,
                spectrum,
            });
        }
    }
    for (s, p) in &mean_pee {
        ctx.log(format!("flux-prep: {s:>4}: flux-weighted P_ee = {p:.4}"));
    }
    let totals: std::collections::BTreeMap<String, f64> = model
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.spectrum.total()))
        .collect();
    let areas: std::collections::BTreeMap<String, f64> =
        model.table_areas.iter().cloned().collect();
    let prov = Provenance::new("flux-prep")
        .param("solar_model", &model.name)
        .param("mixing", mixing)
        .input("solar-model", &cfg.solar_model)?
        .input("oscillation", &cfg.oscillation)?
        .inputs("spectrum", model.files.iter().skip(1).map(|p| p.as_path()))?
        .inputs("solar-profile", setup.files.iter().map(|p| p.as_path()))?
        .extra("probabilities_e_mu_tau", probs)
        .extra("total_flux_cm2_s", totals)
        .extra("spectrum_table_area_before_normalisation", areas);
    // Only when given, so that outputs without overrides stay byte-identical.
    let prov = if cfg.continuum.is_empty() {
        prov
    } else {
        prov.param("continuum_override", &cfg.continuum)
    };
    let prov = if msw {
        let params = setup.per_source.iter().find_map(|(_, o)| match o {
            Oscillation::Msw(m) => Some(m.params),
            Oscillation::Paper(_) => None,
        });
        prov.param(
            "oscillation_mode",
            "msw-lma adiabatic, production-zone average",
        )
        .param("msw", params)
        .extra("flux_weighted_p_ee", &mean_pee)
    } else {
        prov
    };
    Ok(FluxOutputs {
        entries,
        provenance: prov,
    })
}
