//! `rate-convolve`: SM CEvNS rates dR/dT_nr per source, flavour and isotope
//! (paper eq 12), the input of every new-physics rate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rayon::prelude::*;

use cevns_io::inputs::Input;
use cevns_io::schema::{rates_table, read_fluxes, read_xsec};
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, Provenance, stage_main};
use cevns_physics::channel::Channel;
use cevns_physics::rate::{RatePart, SourceRates, channel_rates};

/// Convolve fluxes with cross sections (eq 12): SM dR/dT_nr per source,
/// flavour and isotope on the recoil grid of `xsec.parquet`.
///
/// Output `rates.parquet`: `dr_dt` [counts kg⁻¹ keV_nr⁻¹ day⁻¹] per
/// (source, flavour, isotope A, T_nr [keV]), with m_N [MeV], κ [MeV²], Z, N
/// and the source's pull width. The U(1)' rate follows without another
/// convolution: dR = dR_SM (1 + x)², x = g² Q'_ℓ q_N κ/(m_Z'² + 2 m_N T) (eq 7).
/// The energy integral uses the exact cumulative-integral method
/// (∫Φ(1 − m_N T/2E²) = I₀ − m_N T/2 · I₂), no 2-D grid.
#[derive(Debug, Parser)]
#[command(name = "rate-convolve", version, allow_negative_numbers = true)]
struct Args {
    /// fluxes.parquet from flux-prep.
    #[arg(long, value_name = "PARQUET")]
    fluxes: PathBuf,
    /// xsec.parquet from xsec-tables.
    #[arg(long, value_name = "PARQUET")]
    xsec: PathBuf,
    /// Output Parquet file.
    #[arg(long, value_name = "PARQUET")]
    out: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("rate-convolve", || {
        let args: Args = cevns_io::stage::parse_args();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[
                Input::File(&args.fluxes),
                Input::File(&args.xsec),
            ]);
        }
        args.common.init()?;
        run(&args)
    })
}

fn run(args: &Args) -> anyhow::Result<()> {
    let mut out = OutputSet::new(&[&args.out])?;
    let fluxes = read_fluxes(&args.fluxes).context("reading fluxes")?;
    let (grid, isotopes) = read_xsec(&args.xsec).context("reading cross sections")?;
    let jobs: Vec<(usize, usize)> = (0..fluxes.len())
        .flat_map(|f| (0..isotopes.len()).map(move |i| (f, i)))
        .collect();
    let pb = args.common.progress(jobs.len() as u64, "rate-convolve");
    let parts: Vec<(usize, RatePart)> = jobs
        .par_iter()
        .map(|&(f, i)| {
            let fl = &fluxes[f];
            let iso = &isotopes[i];
            let channel = iso.channel();
            let [rate, rate_x1, rate_x2] =
                channel_rates(&channel, grid.points(), &iso.k_sm, fl.flavour, &fl.spectrum);
            pb.inc(1);
            (
                f,
                RatePart {
                    channel: channel.name().into(),
                    target: channel.target(),
                    kappa_mev2: channel.kappa_mev2(),
                    flavour: fl.flavour,
                    rate,
                    rate_x1,
                    rate_x2,
                },
            )
        })
        .collect();
    pb.finish_and_clear();
    let mut sources: Vec<SourceRates> = Vec::new();
    for (f, part) in parts {
        let fl = &fluxes[f];
        match sources.iter_mut().find(|s| s.source == fl.source) {
            Some(s) => s.parts.push(part),
            None => sources.push(SourceRates {
                source: fl.source.clone(),
                sigma_frac: fl.sigma_frac,
                parts: vec![part],
            }),
        }
    }
    let mut totals = std::collections::BTreeMap::new();
    for s in &sources {
        totals.insert(s.source.clone(), grid.integrate(&s.total()));
    }
    for (s, r) in &totals {
        args.common.log(format!(
            "rate-convolve: {s:>4}: ∫dR/dT_nr = {r:.4e} counts/(kg·day)"
        ));
    }
    let prov = Provenance::new("rate-convolve")
        .input("fluxes", &args.fluxes)?
        .input("xsec", &args.xsec)?
        .extra("total_rate_per_kg_day", totals)
        .extra("method", "I0(Emin) - m_N T/2 * I2(Emin), exact for piecewise-linear spectra; lines as delta functions");
    out.write_bytes(
        &args.out,
        &rates_table(&grid, &sources).to_parquet_bytes(&prov)?,
    )?;
    out.commit()?;
    args.common
        .log(format!("rate-convolve: wrote {}", args.out.display()));
    Ok(())
}
