//! `xsec-tables`: CEvNS cross sections per isotope on a recoil grid
//! (paper eq 1–3, 5–7, 13).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cevns_io::inputs::Input;
use cevns_io::stage::CommonArgs;
use cevns_io::{OutputSet, stage_main};
use xsec_tables::XsecConfig;

/// CEvNS cross sections on a recoil grid for every isotope of a target.
///
/// `--out` (xsec.parquet): per isotope and recoil point T_nr [keV]: Helm |F|²,
/// K(T) = dσ_SM/dT ÷ (1 − m_N T/2E²) [cm² keV⁻¹] (eq 1, the E_ν dependence is
/// analytic), E_ν,min [MeV] (eq 13), Q_SM (eq 2) and the Z' scale
/// κ = 1/(√2 G_F Q_SM) [MeV²] (eq 7). The recoil grid (log-spaced, odd number
/// of points, Simpson weights) is the grid every later stage integrates on.
///
/// `--grid-out` (xsec_grid.parquet): the SM dσ/dT [cm² keV⁻¹] on an explicit
/// (E_ν, T_nr) grid, for inspection and independent checks.
#[derive(Debug, Parser)]
#[command(name = "xsec-tables", version, allow_negative_numbers = true)]
struct Args {
    /// Target YAML (isotopes; e.g. data/targets/ge-nat.yaml).
    #[arg(long, value_name = "YAML")]
    target: PathBuf,
    /// Output: per-isotope tables on the recoil grid.
    #[arg(long, value_name = "PARQUET")]
    out: PathBuf,
    /// Output: SM dσ/dT on an (E_ν, T_nr) grid.
    #[arg(long, value_name = "PARQUET")]
    grid_out: PathBuf,
    /// Lowest recoil energy of the grid [keV].
    #[arg(long, default_value_t = 1.0e-4)]
    t_min_kev: f64,
    /// Highest recoil energy of the grid [keV] (hep on Ge ends at 10.4 keV).
    #[arg(long, default_value_t = 12.0)]
    t_max_kev: f64,
    /// Number of log-spaced recoil points (odd).
    #[arg(long, default_value_t = 2001)]
    t_points: usize,
    /// Weak mixing angle sin²θ_W (eq 3; paper: 0.23863, MS-bar at low Q).
    #[arg(long, default_value_t = cevns_physics::units::SIN2_THETA_W_LOW_Q)]
    sin2_theta_w: f64,
    /// Helm skin thickness s [fm] (Lewin–Smith 0.9).
    #[arg(long, default_value_t = 0.9)]
    helm_s_fm: f64,
    /// Helm diffuseness a [fm] (Lewin–Smith 0.52).
    #[arg(long, default_value_t = 0.52)]
    helm_a_fm: f64,
    /// (E_ν, T) grid: lowest E_ν [MeV].
    #[arg(long, default_value_t = 0.1)]
    grid_e_min_mev: f64,
    /// (E_ν, T) grid: highest E_ν [MeV].
    #[arg(long, default_value_t = 20.0)]
    grid_e_max_mev: f64,
    /// (E_ν, T) grid: number of log-spaced E_ν points.
    #[arg(long, default_value_t = 200)]
    grid_e_points: usize,
    /// Add the ν–e channel on the target's electrons: an atomic-data YAML
    /// with shell binding energies (stepping approximation, e.g.
    /// data/atomic/binding-energies.yaml) or `free` (all Z electrons free).
    /// Default: CEvNS only.
    #[arg(long, value_name = "YAML|free")]
    electrons: Option<String>,
    /// (E_ν, T) grid: keep every N-th recoil point.
    #[arg(long, default_value_t = 20)]
    grid_t_stride: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    stage_main("xsec-tables", || {
        let args: Args = cevns_io::stage::parse_args();
        if args.common.list_inputs {
            return cevns_io::inputs::print_list(&[Input::File(&args.target)]);
        }
        args.common.init()?;
        let mut out = OutputSet::new(&[&args.out, &args.grid_out])?;
        let res = xsec_tables::run(&args.config(), &args.common)?;
        out.write_bytes(&args.out, &res.xsec.to_parquet_bytes(&res.xsec_provenance)?)?;
        out.write_bytes(
            &args.grid_out,
            &res.grid.to_parquet_bytes(&res.grid_provenance)?,
        )?;
        out.commit()?;
        args.common.log(format!(
            "xsec-tables: wrote {} and {}",
            args.out.display(),
            args.grid_out.display()
        ));
        Ok(())
    })
}

impl Args {
    /// The flags as one configuration (numbers are checked by the library).
    fn config(&self) -> XsecConfig {
        XsecConfig {
            target: self.target.clone(),
            t_min_kev: self.t_min_kev,
            t_max_kev: self.t_max_kev,
            t_points: self.t_points,
            sin2_theta_w: self.sin2_theta_w,
            helm_s_fm: self.helm_s_fm,
            helm_a_fm: self.helm_a_fm,
            grid_e_min_mev: self.grid_e_min_mev,
            grid_e_max_mev: self.grid_e_max_mev,
            grid_e_points: self.grid_e_points,
            grid_t_stride: self.grid_t_stride,
            electrons: self.electrons.clone(),
        }
    }
}
