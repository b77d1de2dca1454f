//! Helm nuclear form factor (paper §2.1, after eq 3; Helm 1956), in the
//! Lewin & Smith (1996) parameterisation:
//!
//! F(q) = 3 j₁(q r_n)/(q r_n) · exp(−(q s)²/2),
//! r_n² = c² + (7/3) π² a² − 5 s², c = 1.23 A^{1/3} − 0.60 fm, a = 0.52 fm, s = 0.9 fm,
//! with |q|² = 2 m_N T_nr (the paper's convention).

use serde::{Deserialize, Serialize};

use crate::units::{HBARC_MEV_FM, kev_to_mev};

/// Parameters of the Helm form factor in fm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmParams {
    /// Skin thickness s in fm (Lewin–Smith: 0.9).
    pub s_fm: f64,
    /// Surface diffuseness a in fm (Lewin–Smith: 0.52).
    pub a_fm: f64,
    /// c = c1 · A^{1/3} + c0 (Lewin–Smith: c1 = 1.23 fm, c0 = −0.60 fm).
    pub c1_fm: f64,
    /// See `c1_fm`.
    pub c0_fm: f64,
}

impl Default for HelmParams {
    fn default() -> Self {
        Self {
            s_fm: 0.9,
            a_fm: 0.52,
            c1_fm: 1.23,
            c0_fm: -0.60,
        }
    }
}

impl HelmParams {
    /// Effective radius r_n in fm for mass number A.
    pub fn r_n_fm(&self, a: u32) -> f64 {
        let c = self.c1_fm * f64::from(a).cbrt() + self.c0_fm;
        let r2 = c * c + 7.0 / 3.0 * std::f64::consts::PI.powi(2) * self.a_fm.powi(2)
            - 5.0 * self.s_fm.powi(2);
        r2.max(0.0).sqrt()
    }

    /// F(q) for momentum transfer q in fm⁻¹.
    pub fn form_factor_q(&self, a: u32, q_per_fm: f64) -> f64 {
        let x = q_per_fm * self.r_n_fm(a);
        spherical_3j1_over_x(x) * (-(q_per_fm * self.s_fm).powi(2) / 2.0).exp()
    }

    /// F(|q|² = 2 m_N T) for a nucleus of mass `m_n_mev` (MeV) and recoil
    /// `t_kev` (keV). Dimensionless, F(0) = 1.
    pub fn form_factor(&self, a: u32, m_n_mev: f64, t_kev: f64) -> f64 {
        self.form_factor_q(a, momentum_transfer_per_fm(m_n_mev, t_kev))
    }
}

/// |q| in fm⁻¹ for recoil `t_kev` on a nucleus of mass `m_n_mev`: √(2 m_N T)/ħc.
pub fn momentum_transfer_per_fm(m_n_mev: f64, t_kev: f64) -> f64 {
    (2.0 * m_n_mev * kev_to_mev(t_kev)).max(0.0).sqrt() / HBARC_MEV_FM
}

/// 3 j₁(x)/x = 3 (sin x − x cos x)/x³, with its Taylor series for small x
/// (the closed form cancels catastrophically there).
pub fn spherical_3j1_over_x(x: f64) -> f64 {
    let x = x.abs();
    if x < 2e-2 {
        let x2 = x * x;
        // 1 − x²/10 + x⁴/280 − x⁶/15120
        1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2 * x2 * x2 / 15_120.0
    } else {
        3.0 * (x.sin() - x * x.cos()) / (x * x * x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_at_zero_is_one() {
        let h = HelmParams::default();
        assert_eq!(h.form_factor(74, 68_000.0, 0.0), 1.0);
        assert!((h.form_factor(74, 68_000.0, 1e-9) - 1.0).abs() < 1e-10);
    }

    #[test]
    fn series_and_closed_form_agree() {
        for x in [0.019, 0.021, 0.05] {
            let series = {
                let x2: f64 = x * x;
                1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2 * x2 * x2 / 15_120.0
            };
            let closed = 3.0 * (f64::sin(x) - x * f64::cos(x)) / (x * x * x);
            assert!((series - closed).abs() < 1e-9, "{x}");
        }
    }

    #[test]
    fn first_zero_where_j1_vanishes() {
        // j1(x) = 0 first at x = 4.493409457909064 (tan x = x), so F has its
        // first zero at q = 4.4934 / r_n.
        let h = HelmParams::default();
        let q0 = 4.493_409_457_909_064 / h.r_n_fm(74);
        assert!(h.form_factor_q(74, q0).abs() < 1e-12);
        assert!(h.form_factor_q(74, 0.99 * q0) > 0.0);
        assert!(h.form_factor_q(74, 1.01 * q0) < 0.0);
    }

    #[test]
    fn lewin_smith_radius_ge74() {
        // c = 1.23·74^{1/3} − 0.6 = 4.4913 fm; r_n² = c² + 7/3 π² 0.52² − 5·0.81.
        let c = 1.23 * 74f64.cbrt() - 0.6;
        let expected = (c * c + 7.0 / 3.0 * std::f64::consts::PI.powi(2) * 0.2704 - 4.05).sqrt();
        assert!((HelmParams::default().r_n_fm(74) - expected).abs() < 1e-12);
        // By hand: c = 4.5637, r_n² = 20.827 + 6.2284 − 4.05 = 23.006, r_n = 4.7965 fm.
        assert!((expected - 4.7965).abs() < 1e-3, "{expected}");
    }
}
