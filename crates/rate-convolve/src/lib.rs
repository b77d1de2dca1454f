//! `rate-convolve` as a library: fluxes × cross sections → the SM rate
//! dR/dT per source, flavour and target (paper eq 12) and the two Z'
//! moments the U(1)' polynomial needs, for every channel in the xsec table.
//! The binary parses flags into a [`RatesConfig`], calls [`run`] and writes
//! `rates.parquet`.

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;

use cevns_io::schema::{rates_table, read_fluxes, read_xsec};
use cevns_io::stage::CommonArgs;
use cevns_io::{Provenance, Table};
use cevns_physics::channel::Channel;
use cevns_physics::rate::{RatePart, SourceRates, channel_rates};

/// What rate-convolve reads.
#[derive(Debug, Clone)]
pub struct RatesConfig {
    /// fluxes.parquet from flux-prep.
    pub fluxes: PathBuf,
    /// xsec.parquet from xsec-tables.
    pub xsec: PathBuf,
}

/// The rates table [counts kg⁻¹ keV⁻¹ day⁻¹] and its provenance.
#[derive(Debug)]
pub struct RatesOutputs {
    pub rates: Table,
    pub provenance: Provenance,
}

/// Convolve every flux with every channel's cross section on the recoil grid.
pub fn run(cfg: &RatesConfig, ctx: &CommonArgs) -> anyhow::Result<RatesOutputs> {
    let fluxes = read_fluxes(&cfg.fluxes).context("reading fluxes")?;
    let (grid, isotopes) = read_xsec(&cfg.xsec).context("reading cross sections")?;
    let jobs: Vec<(usize, usize)> = (0..fluxes.len())
        .flat_map(|f| (0..isotopes.len()).map(move |i| (f, i)))
        .collect();
    let pb = ctx.progress(jobs.len() as u64, "rate-convolve");
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
        ctx.log(format!(
            "rate-convolve: {s:>4}: ∫dR/dT_nr = {r:.4e} counts/(kg·day)"
        ));
    }
    let prov = Provenance::new("rate-convolve")
        .input("fluxes", &cfg.fluxes)?
        .input("xsec", &cfg.xsec)?
        .extra("total_rate_per_kg_day", totals)
        .extra("method", "I0(Emin) - m_N T/2 * I2(Emin), exact for piecewise-linear spectra; lines as delta functions");
    Ok(RatesOutputs {
        rates: rates_table(&grid, &sources),
        provenance: prov,
    })
}
