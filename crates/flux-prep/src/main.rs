//! `flux-prep`: solar-neutrino fluxes per source and flavour at Earth.
//!
//! Reads a solar model (`data/solar/*.yaml`, with its spectrum tables) and
//! oscillation parameters, applies eq 8–11 and writes `fluxes.parquet`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cevns_io::data::{
    ContinuumOverride, load_oscillation, load_oscillation_setup, load_solar_model_with,
};
use cevns_io::inputs::Input;
use cevns_io::schema::{FluxEntry, fluxes_table};
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, Provenance, stage_main};
use cevns_physics::oscillation::{Flavour, Oscillation};

/// Solar-neutrino fluxes at Earth per source and flavour (paper eq 8–11).
///
/// Output `fluxes.parquet`: one row per source × flavour × spectrum node.
/// Continua in `dphi_de` [cm⁻² s⁻¹ MeV⁻¹] at `e_nu_mev` [MeV]; lines in
/// `line_flux` [cm⁻² s⁻¹]. Spectra are normalised to the model's total flux
/// and multiplied by P(ν_e → ν_ℓ).
#[derive(Debug, Parser)]
#[command(name = "flux-prep", version, allow_negative_numbers = true)]
struct Args {
    /// Solar model YAML (e.g. data/solar/bs05-op.yaml); spectrum tables are
    /// resolved relative to it.
    #[arg(long, value_name = "YAML")]
    solar_model: PathBuf,
    /// Oscillation parameters YAML (sin²θ12, sin²θ13, sin²θ23).
    #[arg(long, value_name = "YAML")]
    oscillation: PathBuf,
    /// Replace the spectrum table of a continuum source, SOURCE=TABLE (E_ν
    /// in MeV in column 0, dN/dE in column 1; the source keeps its total
    /// flux). Repeatable. E.g. `8B=data/solar/spectra/B8_bahcall1996.dat`,
    /// the ⁸B shape of XENONnT's CEνNS spectrum (docs/xenonnt.md). Recorded
    /// in the output's provenance.
    #[arg(long, value_name = "SOURCE=TABLE")]
    continuum: Vec<ContinuumOverride>,
    /// Output Parquet file.
    #[arg(long, value_name = "PARQUET")]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("flux-prep", || {
        let args: Args = cevns_io::stage::parse_args();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::SolarModelWith(&args.solar_model, &args.continuum),
                Input::File(&args.oscillation),
            ]);
        }
        args.common.init()?;
        run(&args)
    })
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = OutputSet::new(&[&args.out])?;
    let model = load_solar_model_with(&args.solar_model, &args.continuum)
        .context("loading the solar model")?;
    let mixing = load_oscillation(&args.oscillation).context("loading oscillation parameters")?;
    let probs = mixing.probabilities()?;
    let names: Vec<String> = model.sources.iter().map(|s| s.name.clone()).collect();
    let setup = load_oscillation_setup(&args.oscillation, &names)
        .context("loading oscillation parameters")?;
    let msw = setup
        .per_source
        .iter()
        .any(|(_, o)| matches!(o, Oscillation::Msw(_)));
    if msw {
        args.common.log(format!(
            "flux-prep: {} ({} sources), adiabatic MSW-LMA averaged over production zones",
            model.name,
            model.sources.len(),
        ));
    } else {
        args.common.log(format!(
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
        args.common
            .log(format!("flux-prep: {s:>4}: flux-weighted P_ee = {p:.4}"));
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
        .input("solar-model", &args.solar_model)?
        .input("oscillation", &args.oscillation)?
        .inputs("spectrum", model.files.iter().skip(1).map(|p| p.as_path()))?
        .inputs("solar-profile", setup.files.iter().map(|p| p.as_path()))?
        .extra("probabilities_e_mu_tau", probs)
        .extra("total_flux_cm2_s", totals)
        .extra("spectrum_table_area_before_normalisation", areas);
    // Only when given, so that outputs without overrides stay byte-identical.
    let prov = if args.continuum.is_empty() {
        prov
    } else {
        prov.param("continuum_override", &args.continuum)
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
    let mut out = out;
    out.write_bytes(&args.out, &fluxes_table(&entries).to_parquet_bytes(&prov)?)?;
    out.commit()?;
    args.common
        .log(format!("flux-prep: wrote {}", args.out.display()));
    Ok(())
}
