//! Physical constants and unit conversions — the one home of every constant.
//!
//! Values: CODATA 2018 / PDG 2022. Natural units with energies in MeV.

/// Fermi constant G_F in MeV⁻² (PDG: 1.1663788e-5 GeV⁻²).
pub const G_F_MEV2: f64 = 1.1663788e-11;
/// ħc in MeV·cm.
pub const HBARC_MEV_CM: f64 = 1.973269804e-11;
/// ħc in MeV·fm.
pub const HBARC_MEV_FM: f64 = 197.3269804;
/// Atomic mass unit u in MeV.
pub const AMU_MEV: f64 = 931.49410242;
/// Electron mass in MeV.
pub const ELECTRON_MASS_MEV: f64 = 0.51099895;
/// Avogadro constant in mol⁻¹.
pub const AVOGADRO: f64 = 6.02214076e23;
/// Seconds per day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// keV per MeV.
pub const KEV_PER_MEV: f64 = 1.0e3;
/// eV per keV.
pub const EV_PER_KEV: f64 = 1.0e3;
/// Grams per kilogram.
pub const GRAMS_PER_KG: f64 = 1.0e3;

/// Weak mixing angle sin²θ_W at low momentum transfer, MS-bar (PDG 2022),
/// the value used in the paper (eq 3). Configurable wherever it is used.
pub const SIN2_THETA_W_LOW_Q: f64 = 0.23863;

/// Δχ² for a 90 % CL region with two degrees of freedom: −2 ln(0.1).
/// Exact, since the χ² CDF for 2 d.o.f. is 1 − e^{−x/2}.
pub fn delta_chi2_90cl_2dof() -> f64 {
    -2.0 * (0.1f64).ln()
}

/// Convert keV to MeV.
#[inline]
pub fn kev_to_mev(t_kev: f64) -> f64 {
    t_kev / KEV_PER_MEV
}

/// Convert MeV to keV.
#[inline]
pub fn mev_to_kev(t_mev: f64) -> f64 {
    t_mev * KEV_PER_MEV
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_chi2_is_4_605() {
        // 90 % CL, 2 dof: 4.60517... (any χ² table).
        assert!((delta_chi2_90cl_2dof() - 4.605_170_186).abs() < 1e-8);
    }

    #[test]
    fn hbarc_units_agree() {
        // 1 fm = 1e-13 cm.
        assert!((HBARC_MEV_FM * 1e-13 / HBARC_MEV_CM - 1.0).abs() < 1e-12);
    }
}
