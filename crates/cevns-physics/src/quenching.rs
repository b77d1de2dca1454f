//! Lindhard quenching (paper eq 15–19): conversion of nuclear recoil energy
//! T_nr (keV) to electron-equivalent energy T_ee (keV).

use serde::{Deserialize, Serialize};

use crate::error::{PhysicsError, Result};

/// Lindhard model with constant `k` for a target of proton number `z`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lindhard {
    /// Lindhard k (paper: 0.162 for Ge, Bonhomme et al. 2022).
    pub k: f64,
    /// Proton number Z of the target.
    pub z: u32,
}

impl Lindhard {
    /// Validated constructor.
    pub fn new(k: f64, z: u32) -> Result<Self> {
        if !(k.is_finite() && k > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "quenching.k".into(),
                value: k,
                reason: "Lindhard k must be finite and > 0".into(),
            });
        }
        Ok(Self { k, z })
    }

    /// ε = 11.5 Z^{−7/3} T_nr[keV] (eq 17).
    pub fn epsilon(&self, t_nr_kev: f64) -> f64 {
        11.5 * f64::from(self.z).powf(-7.0 / 3.0) * t_nr_kev
    }

    /// Y(T_nr) = k g(ε)/(1 + k g(ε)), g = 3ε^0.15 + 0.7ε^0.6 + ε (eq 15–16).
    pub fn y(&self, t_nr_kev: f64) -> f64 {
        if t_nr_kev <= 0.0 {
            return 0.0;
        }
        let e = self.epsilon(t_nr_kev);
        let g = 3.0 * e.powf(0.15) + 0.7 * e.powf(0.6) + e;
        self.k * g / (1.0 + self.k * g)
    }

    /// dY/dT_nr in keV⁻¹.
    pub fn dy_dt(&self, t_nr_kev: f64) -> f64 {
        if t_nr_kev <= 0.0 {
            return 0.0;
        }
        let e = self.epsilon(t_nr_kev);
        let g = 3.0 * e.powf(0.15) + 0.7 * e.powf(0.6) + e;
        let dg_de = 0.45 * e.powf(-0.85) + 0.42 * e.powf(-0.4) + 1.0;
        let de_dt = e / t_nr_kev;
        self.k * dg_de * de_dt / (1.0 + self.k * g).powi(2)
    }

    /// T_ee = Y(T_nr)·T_nr (eq 18), keV.
    pub fn t_ee(&self, t_nr_kev: f64) -> f64 {
        self.y(t_nr_kev) * t_nr_kev
    }

    /// dT_ee/dT_nr = Y + T_nr dY/dT_nr, the Jacobian of eq 19.
    pub fn jacobian(&self, t_nr_kev: f64) -> f64 {
        self.y(t_nr_kev) + t_nr_kev * self.dy_dt(t_nr_kev)
    }

    /// Invert eq 18: the T_nr (keV) whose T_ee is `t_ee_kev` (bisection in
    /// log T; T_ee(T_nr) is strictly increasing).
    pub fn t_nr(&self, t_ee_kev: f64) -> f64 {
        if t_ee_kev <= 0.0 {
            return 0.0;
        }
        let (mut lo, mut hi) = (t_ee_kev, t_ee_kev);
        while self.t_ee(hi) < t_ee_kev {
            hi *= 2.0;
        }
        while self.t_ee(lo) > t_ee_kev {
            lo *= 0.5;
        }
        for _ in 0..200 {
            let mid = (lo * hi).sqrt();
            if self.t_ee(mid) < t_ee_kev {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi / lo - 1.0 < 1e-15 {
                break;
            }
        }
        (lo * hi).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_at_1kev_in_ge() {
        // Hand evaluation: ε = 11.5·32^{−7/3}·1 = 11.5/3253.8 = 3.5343e-3;
        // g = 3ε^0.15 + 0.7ε^0.6 + ε = 1.28631 + 0.02367 + 0.00353 = 1.31351;
        // Y = 0.21279/1.21279 = 0.17546.
        let l = Lindhard::new(0.162, 32).unwrap();
        let eps = 11.5 * 32f64.powf(-7.0 / 3.0);
        let g = 3.0 * eps.powf(0.15) + 0.7 * eps.powf(0.6) + eps;
        assert!((l.y(1.0) - 0.162 * g / (1.0 + 0.162 * g)).abs() < 1e-15);
        assert!((l.y(1.0) - 0.17546).abs() < 1e-4, "{}", l.y(1.0));
    }

    #[test]
    fn derivative_matches_finite_difference() {
        let l = Lindhard::new(0.162, 32).unwrap();
        for t in [0.05, 0.7, 3.0, 9.0] {
            let h = t * 1e-6;
            let fd = (l.y(t + h) - l.y(t - h)) / (2.0 * h);
            assert!((l.dy_dt(t) / fd - 1.0).abs() < 1e-6, "{t}");
        }
    }

    #[test]
    fn inverse_roundtrip() {
        let l = Lindhard::new(0.162, 32).unwrap();
        for t in [0.01, 0.16, 1.0, 2.16] {
            assert!((l.t_ee(l.t_nr(t)) / t - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_k() {
        assert!(Lindhard::new(-0.1, 32).is_err());
        assert!(Lindhard::new(f64::NAN, 32).is_err());
    }
}
