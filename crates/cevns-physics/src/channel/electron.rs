//! Neutrino–electron elastic scattering (ν–e) as a [`Channel`]: Standard
//! Model cross section with flavour-dependent couplings, atomic binding by the
//! stepping approximation, and a vector Z' as a shift of g_V.
//!
//! # Cross section (per electron)
//! dσ/dT = (G_F² m_e / 2π) [(g_V + g_A)² + (g_V − g_A)² (1 − T/E)²
//!          − (g_V² − g_A²) m_e T/E²]
//! (e.g. Vogel & Engel, PRD 39, 3378 (1989); Giunti & Kim, *Fundamentals of
//! Neutrino Physics*, §5.4), with g_V = −½ + 2 sin²θ_W, g_A = −½ for ν_μ, ν_τ
//! (neutral current) and g_V + 1, g_A + 1 for ν_e (charged current, after a
//! Fierz rearrangement). Kinematics: T_max = 2E²/(m_e + 2E), the generic
//! two-body formula with M = m_e.
//!
//! Expanded in 1/E (the [`Channel`] contract, K = G_F² m_e Z_eff(T)/2π):
//! c = (A + B, −2BT, BT² − C m_e T), A = (g_V + g_A)², B = (g_V − g_A)²,
//! C = g_V² − g_A².
//!
//! # Z'
//! A vector Z' with charges Q'_ν, Q'_e adds to the neutral-current amplitude
//! g² Q'_ν Q'_e/(q² − m_Z'²) → −g² Q'_ν Q'_e/(2 m_e T + m_Z'²) at q² = −2 m_e T,
//! with the same sign convention in which the SM Z gives −(G_F/√2) g_V; hence
//! g_V → g_V + x, x = g² Q'_ν Q'_e κ/(2 m_e T + m_Z'²), κ = 1/(√2 G_F)
//! (Bilmis et al., PRD 92, 033009 (2015), eq 3; Lindner, Rodejohann, Xu,
//! JHEP 03 (2018) 097; Bauer, Foldenauer, Jaeckel, JHEP 07 (2018) 094). This
//! is the same normalisation as CEvNS (eq 7: Q_SM → Q_SM + g² Q'_ℓ q_N/√2 G_F D,
//! with Q_SM = Σ g_V of the nucleons), so the two channels share one κ
//! convention. The cross section is quadratic in x:
//! x-term = ∂/∂g_V (2(g_V+g_A), 2(g_V−g_A), 2g_V in A, B, C),
//! x²-term = ½∂²/∂g_V² (1, 1, 1).
//!
//! Sign of the interference: B−L has Q'_ν = Q'_e = −1, so x > 0. For ν_e
//! (g_V = +0.977) the interference is constructive; for ν_μ, ν_τ
//! (g_V = −0.023, g_A = −½) the x-term 2(g_V+g_A) + 2(g_V−g_A)(1−T/E)² −
//! 2g_V m_e T/E² is negative for T ≪ E (≈ −1.05 + 0.95(1−T/E)²): destructive
//! at small x, overtaken by x² at larger couplings. B−3L_e (Q'_ν_e = Q'_e =
//! −3) couples only ν_e: constructive. B−3L_μ and B−3L_τ give the electron no
//! charge: no Z' contribution at tree level (a loop-induced kinetic mixing
//! ε ~ e g/(6π²) ln(m_μ/m_τ)… is not included).

use crate::channel::{Channel, EnergyTerms, Target};
use crate::error::{PhysicsError, Result};
use crate::oscillation::Flavour;
use crate::units::{ELECTRON_MASS_MEV, G_F_MEV2, HBARC_MEV_CM, KEV_PER_MEV};

/// The electrons of an atom that can take recoil energy T: the stepping
/// approximation counts the electrons whose shell binding energy is below T;
/// `Free` counts all Z.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// All Z electrons free (no binding).
    Free,
    /// Shells as (binding energy [keV], electrons).
    Shells(Vec<(f64, u32)>),
}

impl Binding {
    /// Validated shells: binding energies finite and > 0, electrons summing
    /// to `z`.
    pub fn shells(z: u32, shells: Vec<(f64, u32)>) -> Result<Self> {
        let n: u32 = shells.iter().map(|s| s.1).sum();
        if n != z {
            return Err(PhysicsError::InvalidTable {
                name: format!("atomic shells of Z = {z}"),
                reason: format!("{n} electrons in the shells, need {z}"),
            });
        }
        if let Some(s) = shells.iter().find(|s| !(s.0.is_finite() && s.0 > 0.0)) {
            return Err(PhysicsError::InvalidParameter {
                name: format!("binding energy (Z = {z})"),
                value: s.0,
                reason: "must be finite and > 0 keV".into(),
            });
        }
        Ok(Binding::Shells(shells))
    }

    /// Number of electrons that can be freed by recoil `t_kev`.
    pub fn z_eff(&self, z: u32, t_kev: f64) -> f64 {
        match self {
            Binding::Free => f64::from(z),
            Binding::Shells(s) => s
                .iter()
                .filter(|(b, _)| *b <= t_kev)
                .map(|(_, n)| f64::from(*n))
                .sum(),
        }
    }
}

/// SM couplings (g_V, g_A) of a neutrino flavour to electrons.
pub fn couplings(flavour: Flavour, sin2_theta_w: f64) -> (f64, f64) {
    let (gv, ga) = (-0.5 + 2.0 * sin2_theta_w, -0.5);
    match flavour {
        Flavour::E => (gv + 1.0, ga + 1.0),
        Flavour::Mu | Flavour::Tau => (gv, ga),
    }
}

/// G_F² m_e/(2π) in cm² keV⁻¹: the prefactor of dσ/dT per electron.
pub fn prefactor_per_electron_cm2_per_kev() -> f64 {
    G_F_MEV2 * G_F_MEV2 * ELECTRON_MASS_MEV / (2.0 * std::f64::consts::PI)
        * HBARC_MEV_CM
        * HBARC_MEV_CM
        / KEV_PER_MEV
}

/// SM dσ/dT per electron (free), cm² keV⁻¹, for neutrino energy `e_mev`
/// and electron recoil `t_kev`; 0 above T_max.
pub fn dsigma_dt_free(flavour: Flavour, sin2_theta_w: f64, e_mev: f64, t_kev: f64) -> f64 {
    let t = t_kev / KEV_PER_MEV;
    if t > crate::kinematics::t_max_mev(ELECTRON_MASS_MEV, e_mev) {
        return 0.0;
    }
    let (gv, ga) = couplings(flavour, sin2_theta_w);
    let y = 1.0 - t / e_mev;
    prefactor_per_electron_cm2_per_kev()
        * ((gv + ga).powi(2) + (gv - ga).powi(2) * y * y
            - (gv * gv - ga * ga) * ELECTRON_MASS_MEV * t / (e_mev * e_mev))
}

/// ν–e scattering on the electrons of one atom.
#[derive(Debug, Clone, PartialEq)]
pub struct NuElectron {
    /// Proton number of the atom.
    pub z: u32,
    /// Atoms per kg of target material.
    pub atoms_per_kg: f64,
    /// sin²θ_W of the couplings.
    pub sin2_theta_w: f64,
}

impl NuElectron {
    /// K(T) = G_F² m_e Z_eff(T)/(2π) in cm² keV⁻¹ per atom.
    pub fn prefactor_cm2_per_kev(&self, binding: &Binding, t_kev: f64) -> f64 {
        prefactor_per_electron_cm2_per_kev() * binding.z_eff(self.z, t_kev)
    }
}

/// (A + B, −2BT, BT² − C m_e T) for A, B, C of the module doc.
fn poly(a: f64, b: f64, c: f64, t_mev: f64) -> [f64; 3] {
    [
        a + b,
        -2.0 * b * t_mev,
        b * t_mev * t_mev - c * ELECTRON_MASS_MEV * t_mev,
    ]
}

impl Channel for NuElectron {
    fn name(&self) -> &'static str {
        "nu-e"
    }

    fn target(&self) -> Target {
        Target::Electrons {
            z: self.z,
            atoms_per_kg: self.atoms_per_kg,
        }
    }

    /// κ = 1/(√2 G_F), MeV².
    fn kappa_mev2(&self) -> f64 {
        1.0 / (std::f64::consts::SQRT_2 * G_F_MEV2)
    }

    fn energy_terms(&self, flavour: Flavour, t_mev: f64) -> EnergyTerms {
        let (gv, ga) = couplings(flavour, self.sin2_theta_w);
        EnergyTerms {
            sm: poly(
                (gv + ga).powi(2),
                (gv - ga).powi(2),
                gv * gv - ga * ga,
                t_mev,
            ),
            x1: poly(2.0 * (gv + ga), 2.0 * (gv - ga), 2.0 * gv, t_mev),
            x2: poly(1.0, 1.0, 1.0, t_mev),
            x1_nonneg: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SIN2_THETA_W_LOW_Q as S2W;

    fn ch() -> NuElectron {
        NuElectron {
            z: 54,
            atoms_per_kg: 1.0,
            sin2_theta_w: S2W,
        }
    }

    /// Textbook form, written out independently ('t Hooft 1971; Vogel &
    /// Engel 1989): dσ/dT = 2 G_F² m_e/π [g_L² + g_R²(1 − T/E)² − g_L g_R m_e T/E²]
    /// with g_L = (g_V + g_A)/2, g_R = (g_V − g_A)/2; ν_e: g_L = ½ + s²_W, g_R = s²_W.
    fn textbook(flavour: Flavour, e: f64, t_mev: f64) -> f64 {
        let s = S2W;
        let (gl, gr) = match flavour {
            Flavour::E => (0.5 + s, s),
            _ => (-0.5 + s, s),
        };
        let me = 0.51099895;
        let gf = 1.1663788e-11;
        let hc = 1.973269804e-11;
        2.0 * gf * gf * me / std::f64::consts::PI
            * (gl * gl + gr * gr * (1.0 - t_mev / e).powi(2) - gl * gr * me * t_mev / (e * e))
            * hc
            * hc
            * 1e-3
    }

    #[test]
    fn sm_cross_section_matches_textbook() {
        for f in Flavour::ALL {
            for (e, t_kev) in [(0.42, 1.0), (0.862, 100.0), (10.0, 5000.0), (1.44, 0.3)] {
                let lib = dsigma_dt_free(f, S2W, e, t_kev);
                let c = ch();
                let tm = c.energy_terms(f, t_kev * 1e-3).sm;
                let via_terms =
                    prefactor_per_electron_cm2_per_kev() * (tm[0] + tm[1] / e + tm[2] / (e * e));
                let want = textbook(f, e, t_kev * 1e-3);
                assert!((lib / want - 1.0).abs() < 1e-12, "{f:?} {e} {t_kev}");
                assert!((via_terms / want - 1.0).abs() < 1e-12, "{f:?} {e} {t_kev}");
            }
        }
        // Magnitude: ν_e at T ≪ E ≈ 4.31e-48 × 2.41 cm²/keV per electron.
        let v = dsigma_dt_free(Flavour::E, S2W, 10.0, 1.0);
        assert!((v / 1.04e-47 - 1.0).abs() < 0.01, "{v:e}");
    }

    #[test]
    fn total_cross_section_ratio_nue_numu_at_high_energy() {
        // E ≫ m_e: σ ∝ g_L² + g_R²/3, so σ(ν_e)/σ(ν_μ) =
        // ((½+s²)² + s⁴/3)/((−½+s²)² + s⁴/3) = 6.47 at s² = 0.23863 (≈ 6–7,
        // the textbook "ν_e e is about six times ν_μ e").
        let e = 1000.0;
        let tmax = crate::kinematics::t_max_mev(ELECTRON_MASS_MEV, e) * 1e3;
        let n = 200_000;
        let h = tmax / n as f64;
        let sig = |f| {
            (0..n)
                .map(|i| dsigma_dt_free(f, S2W, e, (i as f64 + 0.5) * h) * h)
                .sum::<f64>()
        };
        let s = S2W;
        let want = ((0.5 + s).powi(2) + s * s / 3.0) / ((-0.5 + s).powi(2) + s * s / 3.0);
        let r = sig(Flavour::E) / sig(Flavour::Mu);
        assert!((r / want - 1.0).abs() < 1e-3, "{r} vs {want}");
        assert!((6.4..6.55).contains(&r), "{r}");
    }

    #[test]
    fn kinematic_limits_by_hand() {
        // ⁷Be 0.862 MeV: T_max = 2·0.862²/(0.511 + 1.724) = 0.6648 MeV.
        let c = ch();
        assert!((c.t_max_mev(0.862) - 2.0 * 0.862 * 0.862 / (0.51099895 + 1.724)).abs() < 1e-12);
        assert!((c.t_max_mev(0.862) - 0.66485).abs() < 1e-4);
        // E_min(T = 10 keV) = (T/2)(1 + √(1 + 2 m_e/T)) = 0.005(1 + √103.2) = 0.05580 MeV.
        assert!(
            (c.e_nu_min_mev(0.010) - 0.005 * (1.0 + (1.0f64 + 102.19979).sqrt())).abs() < 1e-12
        );
        assert!((c.e_nu_min_mev(0.010) - 0.05580).abs() < 1e-4);
    }

    #[test]
    fn zprime_ratio_for_b_minus_l_by_hand() {
        // B−L, g = 1e-6, m_Z' = 0.1 MeV, E = 0.862 MeV (ν_e), T = 10 keV:
        // x = g²·(−1)(−1)/(√2 G_F (2 m_e T + m²)) = 1e-12/(1.6495e-11 · 0.0202200)
        //   = 2.9983; g_V: 0.97726 → 3.97556.
        let (g, m, e, t) = (1e-6, 0.1, 0.862, 0.010);
        let d = 2.0 * ELECTRON_MASS_MEV * t + m * m;
        let x = g * g / (std::f64::consts::SQRT_2 * G_F_MEV2 * d);
        assert!((x - 2.9983).abs() < 1e-3, "{x}");
        // Hand: bracket with g_V + x vs g_V.
        let (gv, ga) = (0.5 + 2.0 * S2W, 0.5);
        let br = |gv: f64| {
            (gv + ga).powi(2) + (gv - ga).powi(2) * (1.0 - t / e).powi(2)
                - (gv * gv - ga * ga) * ELECTRON_MASS_MEV * t / (e * e)
        };
        let hand = br(gv + x) / br(gv);
        let c = ch();
        let tm = c.energy_terms(Flavour::E, t);
        let p = |c: [f64; 3]| c[0] + c[1] / e + c[2] / (e * e);
        let lib = (p(tm.sm) + x * p(tm.x1) + x * x * p(tm.x2)) / p(tm.sm);
        assert!((lib / hand - 1.0).abs() < 1e-12, "{lib} vs {hand}");
        assert!(lib > 8.0, "{lib}");
        // ν_μ at small x: destructive.
        let tm = c.energy_terms(Flavour::Mu, t);
        assert!(p(tm.x1) < 0.0);
    }

    #[test]
    fn stepping_counts_shells() {
        let b = Binding::shells(4, vec![(0.1, 2), (0.01, 2)]).unwrap();
        assert_eq!(b.z_eff(4, 0.005), 0.0);
        assert_eq!(b.z_eff(4, 0.05), 2.0);
        assert_eq!(b.z_eff(4, 1.0), 4.0);
        assert_eq!(Binding::Free.z_eff(4, 0.0), 4.0);
        assert!(Binding::shells(4, vec![(0.1, 2)]).is_err());
    }
}
