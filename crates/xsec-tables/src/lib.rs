//! `xsec-tables` as a library: a target → per-isotope cross-section tables on
//! the recoil grid every later stage integrates on (paper eq 1–3, 5–7, 13),
//! optionally with the ν–e channel on the target's electrons, and the SM
//! dσ/dT on an explicit (E_ν, T) grid. The binary (`main.rs`) parses flags
//! into an [`XsecConfig`], calls [`run`] and writes the two tables.

use std::path::PathBuf;

use anyhow::Context;

use cevns_io::Provenance;
use cevns_io::Table;
use cevns_io::data::{load_binding, load_target};
use cevns_io::schema::{XsecGridPoint, XsecIsotope, xsec_grid_table, xsec_table};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_physics::channel::Channel;
use cevns_physics::channel::electron::{Binding, NuElectron};
use cevns_physics::detector::RecoilGrid;
use cevns_physics::form_factor::HelmParams;
use cevns_physics::nucleus::Nucleus;
use cevns_physics::xsec::{dsigma_dt_sm, kappa_mev2, sm_prefactor_cm2_per_kev};

/// hep endpoint, the highest solar-neutrino energy (Bahcall 1997), MeV.
pub const HEP_ENDPOINT_MEV: f64 = 18.784;

/// Everything xsec-tables needs; numbers are checked by [`run`] (exit 2).
#[derive(Debug, Clone)]
pub struct XsecConfig {
    /// Target YAML (isotopes).
    pub target: PathBuf,
    /// Recoil grid: lowest, highest T_nr [keV], number of log-spaced points (odd).
    pub t_min_kev: f64,
    pub t_max_kev: f64,
    pub t_points: usize,
    /// sin²θ_W (eq 3).
    pub sin2_theta_w: f64,
    /// Helm skin thickness s and diffuseness a [fm].
    pub helm_s_fm: f64,
    pub helm_a_fm: f64,
    /// (E_ν, T) grid: E_ν range [MeV], number of log-spaced E_ν points, and
    /// every N-th recoil point kept.
    pub grid_e_min_mev: f64,
    pub grid_e_max_mev: f64,
    pub grid_e_points: usize,
    pub grid_t_stride: usize,
    /// ν–e channel: an atomic binding-energy YAML or `free`; `None`: CEvNS only.
    pub electrons: Option<String>,
}

/// The two tables with their provenance.
#[derive(Debug)]
pub struct XsecOutputs {
    pub xsec: Table,
    pub xsec_provenance: Provenance,
    pub grid: Table,
    pub grid_provenance: Provenance,
}

/// Build the per-isotope (and per-element ν–e) tables and the (E_ν, T) grid.
pub fn run(cfg: &XsecConfig, ctx: &CommonArgs) -> anyhow::Result<XsecOutputs> {
    if !(cfg.sin2_theta_w.is_finite() && cfg.sin2_theta_w > 0.0 && cfg.sin2_theta_w < 1.0) {
        return Err(bad_input(format!(
            "--sin2-theta-w {} must lie in (0, 1)",
            cfg.sin2_theta_w
        )));
    }
    if !(cfg.grid_e_min_mev > 0.0
        && cfg.grid_e_max_mev > cfg.grid_e_min_mev
        && cfg.grid_e_points >= 2
        && cfg.grid_t_stride >= 1)
    {
        return Err(bad_input(
            "need 0 < --grid-e-min-mev < --grid-e-max-mev, --grid-e-points >= 2, --grid-t-stride >= 1",
        ));
    }
    let target = load_target(&cfg.target).context("loading the target")?;
    let nuclei = target.nuclei()?;
    let grid = RecoilGrid::log(cfg.t_min_kev, cfg.t_max_kev, cfg.t_points)?;
    // Solar neutrinos end at the hep endpoint (18.8 MeV): say so if the grid
    // cuts recoils that light isotopes can reach (e.g. Si, Ar need ~27 keV).
    let lightest = nuclei
        .iter()
        .map(|n| n.mass_mev)
        .fold(f64::INFINITY, f64::min);
    let t_reach = cevns_physics::units::mev_to_kev(cevns_physics::kinematics::t_max_mev(
        lightest,
        HEP_ENDPOINT_MEV,
    ));
    if cfg.t_max_kev < t_reach {
        ctx.log(format!(
            "xsec-tables: warning: --t-max-kev {} is below the largest solar-neutrino recoil on {} ({t_reach:.1} keV at E = {HEP_ENDPOINT_MEV} MeV); rates above it are dropped",
            cfg.t_max_kev, target.name
        ));
    }
    let helm = HelmParams {
        s_fm: cfg.helm_s_fm,
        a_fm: cfg.helm_a_fm,
        ..HelmParams::default()
    };
    let s2w = cfg.sin2_theta_w;
    let isotopes: Vec<XsecIsotope> = nuclei
        .iter()
        .map(|n| XsecIsotope {
            nucleus: *n,
            q_sm: n.q_sm(s2w),
            kappa_mev2: kappa_mev2(n, s2w),
            ff2: grid
                .points()
                .iter()
                .map(|&t| helm.form_factor(n.a, n.mass_mev, t).powi(2))
                .collect(),
            k_sm: grid
                .points()
                .iter()
                .map(|&t| sm_prefactor_cm2_per_kev(n, &helm, s2w, t))
                .collect(),
            channel: "cevns".into(),
            sin2_theta_w: s2w,
        })
        .collect();
    let mut isotopes = isotopes;
    let mut electron_files = Vec::new();
    if let Some(spec) = &cfg.electrons {
        // ν–e on the electrons of each element: K(T) = G_F² m_e Z_eff(T)/2π.
        for el in &target.elements {
            let binding = if spec == "free" {
                Binding::Free
            } else {
                let path = PathBuf::from(spec);
                let b = load_binding(&path, el.z).context("loading atomic binding energies")?;
                if !electron_files.contains(&path) {
                    electron_files.push(path);
                }
                b
            };
            let atoms_per_kg = f64::from(el.count)
                * cevns_physics::units::GRAMS_PER_KG
                * cevns_physics::units::AVOGADRO
                / target.molar_mass_g_per_mol;
            let ch = NuElectron {
                z: el.z,
                atoms_per_kg,
                sin2_theta_w: s2w,
            };
            isotopes.push(XsecIsotope {
                nucleus: Nucleus {
                    z: el.z,
                    n: 0,
                    a: 0,
                    mass_mev: cevns_physics::units::ELECTRON_MASS_MEV,
                    targets_per_kg: atoms_per_kg,
                    abundance: 1.0,
                },
                q_sm: 0.0,
                kappa_mev2: ch.kappa_mev2(),
                ff2: grid
                    .points()
                    .iter()
                    .map(|&t| binding.z_eff(el.z, t))
                    .collect(),
                k_sm: grid
                    .points()
                    .iter()
                    .map(|&t| ch.prefactor_cm2_per_kev(&binding, t))
                    .collect(),
                channel: ch.name().into(),
                sin2_theta_w: s2w,
            });
        }
    }
    ctx.log(format!(
        "xsec-tables: {} with {} isotopes, {} recoil points",
        target.name,
        nuclei.len(),
        grid.len()
    ));

    // Explicit (E, T) grid.
    let (l0, l1) = (cfg.grid_e_min_mev.ln(), cfg.grid_e_max_mev.ln());
    let es: Vec<f64> = (0..cfg.grid_e_points)
        .map(|i| (l0 + (l1 - l0) * i as f64 / (cfg.grid_e_points - 1) as f64).exp())
        .collect();
    let ts: Vec<f64> = grid
        .points()
        .iter()
        .copied()
        .step_by(cfg.grid_t_stride)
        .collect();
    let mut grid_points = Vec::new();
    for n in &nuclei {
        for &e in &es {
            for &t in &ts {
                grid_points.push(XsecGridPoint {
                    a: n.a,
                    e_nu_mev: e,
                    t_nr_kev: t,
                    dsigma_dt_cm2_per_kev: dsigma_dt_sm(n, &helm, s2w, e, t),
                });
            }
        }
    }
    let grid_table = xsec_grid_table(&grid_points);

    let prov = Provenance::new("xsec-tables")
        .param("target", &target.name)
        .param("t_min_kev", cfg.t_min_kev)
        .param("t_max_kev", cfg.t_max_kev)
        .param("t_points", cfg.t_points)
        .param("sin2_theta_w", s2w)
        .param("helm", helm)
        .param("helm_convention", "Lewin & Smith 1996: c = 1.23 A^1/3 - 0.60 fm, a = 0.52 fm, s = 0.9 fm, |q|^2 = 2 m_N T")
        .input("target", &cfg.target)?
        .inputs("atomic", electron_files.iter().map(|p| p.as_path()))?;
    let prov = match &cfg.electrons {
        Some(e) => prov.param("electrons", e),
        None => prov,
    };
    let grid_provenance = prov
        .clone()
        .param("grid_e_min_mev", cfg.grid_e_min_mev)
        .param("grid_e_max_mev", cfg.grid_e_max_mev)
        .param("grid_e_points", cfg.grid_e_points)
        .param("grid_t_stride", cfg.grid_t_stride);
    Ok(XsecOutputs {
        xsec: xsec_table(&grid, &isotopes),
        xsec_provenance: prov,
        grid: grid_table,
        grid_provenance,
    })
}
