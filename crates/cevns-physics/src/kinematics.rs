//! CEvNS kinematics (paper eq 13–14). Energies in MeV unless stated.

/// Minimum neutrino energy able to give recoil `t_mev` on a nucleus of mass
/// `m_n_mev` (eq 13): E_min = (T/2)(1 + √(1 + 2 m_N / T)). MeV.
pub fn e_nu_min_mev(m_n_mev: f64, t_mev: f64) -> f64 {
    if t_mev <= 0.0 {
        return 0.0;
    }
    0.5 * t_mev * (1.0 + (1.0 + 2.0 * m_n_mev / t_mev).sqrt())
}

/// Maximum recoil for neutrino energy `e_nu_mev` (eq 14):
/// T_max = 2E²/(2E + m_N). MeV.
pub fn t_max_mev(m_n_mev: f64, e_nu_mev: f64) -> f64 {
    2.0 * e_nu_mev * e_nu_mev / (2.0 * e_nu_mev + m_n_mev)
}

/// The kinematic factor of eq 1 and eq 5: 1 − m_N T/(2E²), clamped at 0.
pub fn kinematic_factor(m_n_mev: f64, t_mev: f64, e_nu_mev: f64) -> f64 {
    (1.0 - m_n_mev * t_mev / (2.0 * e_nu_mev * e_nu_mev)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_min_inverts_t_max() {
        for e in [0.4, 1.44, 10.0, 18.0] {
            let m = 68_000.0;
            let t = t_max_mev(m, e);
            assert!((e_nu_min_mev(m, t) / e - 1.0).abs() < 1e-10);
        }
    }

    #[test]
    fn b8_endpoint_recoil_on_ge() {
        // 15 MeV on m_N = 68 GeV: T_max ≈ 2E²/m_N = 6.6 keV.
        let t = t_max_mev(68_000.0, 15.0) * 1e3;
        assert!((t - 6.615).abs() < 0.01, "{t}");
    }
}
