//! CEvNS: coherent elastic neutrino–nucleus scattering, the paper's channel.
//! Differential cross sections: Standard Model (eq 1–3) and the U(1)'
//! vector Z' with full interference (eq 5–7), and [`Cevns`], the
//! [`Channel`] implementation the generic rate code uses.
//!
//! All cross sections are in cm² keV⁻¹ and factorise as
//! dσ/dT(E, T) = K(T) · (1 − m_N T/(2E²)), with the recoil-only prefactor K
//! from [`sm_prefactor_cm2_per_kev`]. The flux convolution exploits this (see
//! [`crate::flux`]). The Z' multiplies the SM cross section by (1 + x)²
//! (eq 7), so the interference and pure-Z' terms are 2× and 1× the SM
//! polynomial.

use crate::channel::{Channel, EnergyTerms, Target};
use crate::form_factor::HelmParams;
use crate::kinematics::kinematic_factor;
use crate::nucleus::Nucleus;
use crate::oscillation::Flavour;
use crate::units::{G_F_MEV2, HBARC_MEV_CM, KEV_PER_MEV, kev_to_mev};

/// CEvNS on one isotope, as a [`Channel`]: flavour-blind SM cross section
/// K(T)(1 − m_N T/2E²) and the Z' factor (1 + x)², x = g² Q'_ℓ q_N κ/(m_Z'² +
/// 2 m_N T) (eq 7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cevns {
    /// The isotope.
    pub nucleus: Nucleus,
    /// κ = 1/(√2 G_F Q_SM), MeV² ([`kappa_mev2`]).
    pub kappa_mev2: f64,
}

impl Cevns {
    /// The channel for `nucleus` at weak mixing angle `sin2_theta_w`.
    pub fn new(nucleus: Nucleus, sin2_theta_w: f64) -> Self {
        Self {
            nucleus,
            kappa_mev2: kappa_mev2(&nucleus, sin2_theta_w),
        }
    }
}

impl Cevns {
    /// The interference rate R₁ = 2 R₀ of eq 7's (1 + x)² from the SM rate
    /// (what [`Channel::energy_terms`] gives, without a second convolution).
    pub fn interference_rate(sm: &[f64]) -> Vec<f64> {
        sm.iter().map(|v| 2.0 * v).collect()
    }
}

impl Channel for Cevns {
    fn name(&self) -> &'static str {
        "cevns"
    }

    fn target(&self) -> Target {
        Target::Nucleus(self.nucleus)
    }

    fn kappa_mev2(&self) -> f64 {
        self.kappa_mev2
    }

    /// Eq 1: 1 − m_N T/(2E²); eq 7: (1 + x)² = 1 + 2x + x².
    fn energy_terms(&self, _flavour: Flavour, t_mev: f64) -> EnergyTerms {
        let half_mt = 0.5 * self.nucleus.mass_mev * t_mev;
        let sm = [1.0, 0.0, -half_mt];
        EnergyTerms {
            sm,
            x1: [2.0, 0.0, -(2.0 * half_mt)],
            x2: sm,
            x1_nonneg: true,
        }
    }
}

/// Recoil-dependent prefactor of eq 1 in cm² keV⁻¹:
/// K(T) = G_F² m_N Q_SM² |F(q²)|² / π · (ħc)², so that
/// dσ_SM/dT = K(T) · (1 − m_N T/(2E²)).
pub fn sm_prefactor_cm2_per_kev(
    nucleus: &Nucleus,
    helm: &HelmParams,
    sin2_theta_w: f64,
    t_kev: f64,
) -> f64 {
    let q = nucleus.q_sm(sin2_theta_w);
    let f = helm.form_factor(nucleus.a, nucleus.mass_mev, t_kev);
    let per_mev = G_F_MEV2 * G_F_MEV2 * nucleus.mass_mev * q * q * f * f / std::f64::consts::PI
        * HBARC_MEV_CM
        * HBARC_MEV_CM;
    per_mev / KEV_PER_MEV
}

/// SM differential cross section of eq 1 in cm² keV⁻¹.
pub fn dsigma_dt_sm(
    nucleus: &Nucleus,
    helm: &HelmParams,
    sin2_theta_w: f64,
    e_nu_mev: f64,
    t_kev: f64,
) -> f64 {
    sm_prefactor_cm2_per_kev(nucleus, helm, sin2_theta_w, t_kev)
        * kinematic_factor(nucleus.mass_mev, kev_to_mev(t_kev), e_nu_mev)
}

/// The Z' coupling scale of eq 7 per unit coupling and charge:
/// κ = 1 / (√2 G_F Q_SM), in MeV². With the nuclear Z' charge
/// Q_Z' = g² Q'_ℓ q_N (eq 6), the interference variable is
/// x = Q_Z' κ / (m_Z'² + 2 m_N T) and dσ = (1 + x)² dσ_SM (eq 7).
pub fn kappa_mev2(nucleus: &Nucleus, sin2_theta_w: f64) -> f64 {
    1.0 / (std::f64::consts::SQRT_2 * G_F_MEV2 * nucleus.q_sm(sin2_theta_w))
}

/// The propagator denominator of eq 5 and 7: m_Z'² + 2 m_N T, in MeV².
pub fn propagator_mev2(nucleus: &Nucleus, m_zp_mev: f64, t_kev: f64) -> f64 {
    m_zp_mev * m_zp_mev + 2.0 * nucleus.mass_mev * kev_to_mev(t_kev)
}

/// Interference variable x of eq 7 for coupling `g` (g² = g_q g_ν), lepton
/// charge `q_lepton`, nuclear quark charge `q_nucleus` (= A for universal
/// quark charge 1/3), mediator mass `m_zp_mev` and recoil `t_kev`.
pub fn zprime_x(
    nucleus: &Nucleus,
    sin2_theta_w: f64,
    g: f64,
    q_lepton: f64,
    q_nucleus: f64,
    m_zp_mev: f64,
    t_kev: f64,
) -> f64 {
    g * g * q_lepton * q_nucleus * kappa_mev2(nucleus, sin2_theta_w)
        / propagator_mev2(nucleus, m_zp_mev, t_kev)
}

/// Full SM + Z' differential cross section of eq 7 in cm² keV⁻¹.
#[allow(clippy::too_many_arguments)]
pub fn dsigma_dt_sm_zprime(
    nucleus: &Nucleus,
    helm: &HelmParams,
    sin2_theta_w: f64,
    g: f64,
    q_lepton: f64,
    q_nucleus: f64,
    m_zp_mev: f64,
    e_nu_mev: f64,
    t_kev: f64,
) -> f64 {
    let x = zprime_x(
        nucleus,
        sin2_theta_w,
        g,
        q_lepton,
        q_nucleus,
        m_zp_mev,
        t_kev,
    );
    (1.0 + x).powi(2) * dsigma_dt_sm(nucleus, helm, sin2_theta_w, e_nu_mev, t_kev)
}

/// Pure Z' cross section of eq 5 in cm² keV⁻¹ (used to cross-check eq 7).
#[allow(clippy::too_many_arguments)]
pub fn dsigma_dt_zprime_only(
    nucleus: &Nucleus,
    helm: &HelmParams,
    g: f64,
    q_lepton: f64,
    q_nucleus: f64,
    m_zp_mev: f64,
    e_nu_mev: f64,
    t_kev: f64,
) -> f64 {
    let q_zp = g * g * q_lepton * q_nucleus;
    let f = helm.form_factor(nucleus.a, nucleus.mass_mev, t_kev);
    let d = propagator_mev2(nucleus, m_zp_mev, t_kev);
    let per_mev = q_zp * q_zp * nucleus.mass_mev * f * f / (2.0 * std::f64::consts::PI * d * d)
        * kinematic_factor(nucleus.mass_mev, kev_to_mev(t_kev), e_nu_mev)
        * HBARC_MEV_CM
        * HBARC_MEV_CM;
    per_mev / KEV_PER_MEV
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SIN2_THETA_W_LOW_Q as S2W;

    fn ge74() -> Nucleus {
        let m = 73.921 * 931.49410242 - 32.0 * 0.51099895;
        Nucleus {
            z: 32,
            n: 42,
            a: 74,
            mass_mev: m,
            targets_per_kg: 1.0,
            abundance: 1.0,
        }
    }

    #[test]
    fn total_cross_section_matches_textbook_formula() {
        // Independent check: with F = 1 and T ≪ E, σ_tot = G_F² Q_W² E²/(4π) with
        // Q_W = N − (1 − 4 s²) Z (Freedman 1974; e.g. PDG "neutrino cross sections").
        // Integrate dσ/dT from 0 to T_max numerically with F switched off via
        // a tiny nucleus radius.
        let n = ge74();
        let helm = HelmParams {
            s_fm: 0.0,
            a_fm: 0.0,
            c1_fm: 0.0,
            c0_fm: 0.0,
        };
        let e = 10.0;
        let tmax_kev = crate::kinematics::t_max_mev(n.mass_mev, e) * 1e3;
        let steps = 20_000;
        let h = tmax_kev / steps as f64;
        let mut s = 0.0;
        for i in 0..steps {
            let t = (i as f64 + 0.5) * h;
            s += dsigma_dt_sm(&n, &helm, S2W, e, t) * h;
        }
        let qw = 42.0 - (1.0 - 4.0 * S2W) * 32.0;
        // ∫(1 − m T/2E²) dT to T_max ≈ E²·2/m·(1 − 1/2) · corrections of O(E/m)
        let expected = 1.1663788e-11f64.powi(2) * qw * qw * e * e / (4.0 * std::f64::consts::PI)
            * 1.973269804e-11f64.powi(2);
        assert!((s / expected - 1.0).abs() < 1e-3, "{s} vs {expected}");
    }

    #[test]
    fn eq5_is_the_square_of_eq7_excess() {
        // (1+x)² dσ_SM = dσ_SM + 2x dσ_SM + dσ_Z'; check that x² dσ_SM = dσ_Z' (eq 5).
        let n = ge74();
        let h = HelmParams::default();
        let (g, ql, qn, m, e, t) = (3e-5, -1.0, 74.0, 5.0, 12.0, 1.3);
        let x = zprime_x(&n, S2W, g, ql, qn, m, t);
        let lhs = x * x * dsigma_dt_sm(&n, &h, S2W, e, t);
        let rhs = dsigma_dt_zprime_only(&n, &h, g, ql, qn, m, e, t);
        assert!((lhs / rhs - 1.0).abs() < 1e-12);
    }

    #[test]
    fn b_minus_l_interferes_constructively() {
        // Q_SM < 0 and Q'_ℓ q_N = −A < 0: x > 0.
        let x = zprime_x(&ge74(), S2W, 1e-5, -1.0, 74.0, 1.0, 1.0);
        assert!(x > 0.0);
    }

    #[test]
    fn channel_terms_are_eq1_and_eq7() {
        // K(T)·Σ cₖ E⁻ᵏ must be eq 1, and sm + x x1 + x² x2 must be (1 + x)² sm.
        let n = ge74();
        let c = Cevns::new(n, S2W);
        let (e, t_kev, x) = (9.0, 1.7, 0.37);
        let t = kev_to_mev(t_kev);
        let tm = c.energy_terms(Flavour::Mu, t);
        let poly = |p: [f64; 3]| p[0] + p[1] / e + p[2] / (e * e);
        assert!((poly(tm.sm) - kinematic_factor(n.mass_mev, t, e)).abs() < 1e-15);
        let full = poly(tm.sm) + x * poly(tm.x1) + x * x * poly(tm.x2);
        assert!((full / ((1.0 + x).powi(2) * poly(tm.sm)) - 1.0).abs() < 1e-14);
        assert_eq!(c.target().recoil_mass_mev(), n.mass_mev);
        assert!((c.e_nu_min_mev(c.t_max_mev(e)) / e - 1.0).abs() < 1e-12);
    }

    #[test]
    fn g_zero_is_sm() {
        let n = ge74();
        let h = HelmParams::default();
        let sm = dsigma_dt_sm(&n, &h, S2W, 10.0, 1.0);
        let full = dsigma_dt_sm_zprime(&n, &h, S2W, 0.0, -3.0, 74.0, 1.0, 10.0, 1.0);
        assert_eq!(sm, full);
    }
}
