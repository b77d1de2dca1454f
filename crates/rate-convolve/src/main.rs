//! `rate-convolve`: SM CEvNS rates dR/dT_nr per source, flavour and isotope
//! (paper eq 12), the input of every new-physics rate.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, stage_main};
use rate_convolve::RatesConfig;

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
        let mut out = OutputSet::new(&[&args.out])?;
        let cfg = RatesConfig {
            fluxes: args.fluxes.clone(),
            xsec: args.xsec.clone(),
        };
        let res = rate_convolve::run(&cfg, &args.common)?;
        out.write_bytes(&args.out, &res.rates.to_parquet_bytes(&res.provenance)?)?;
        out.commit()?;
        args.common
            .log(format!("rate-convolve: wrote {}", args.out.display()));
        Ok(())
    })
}
