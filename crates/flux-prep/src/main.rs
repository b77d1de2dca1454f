//! `flux-prep`: solar-neutrino fluxes per source and flavour at Earth.
//!
//! Reads a solar model (`data/solar/*.yaml`, with its spectrum tables) and
//! oscillation parameters, applies eq 8–11 and writes `fluxes.parquet`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::schema::fluxes_table;
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, stage_main};
use flux_prep::FluxConfig;

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
    continuum: Vec<cevns_io::data::ContinuumOverride>,
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
        let mut out = OutputSet::new(&[&args.out])?;
        let cfg = FluxConfig {
            solar_model: args.solar_model.clone(),
            oscillation: args.oscillation.clone(),
            continuum: args.continuum.clone(),
        };
        let res = flux_prep::run(&cfg, &args.common)?;
        out.write_bytes(
            &args.out,
            &fluxes_table(&res.entries).to_parquet_bytes(&res.provenance)?,
        )?;
        out.commit()?;
        args.common
            .log(format!("flux-prep: wrote {}", args.out.display()));
        Ok(())
    })
}
