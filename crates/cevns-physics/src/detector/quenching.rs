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

    /// Invert eq 18: the T_nr (keV) whose T_ee is `t_ee_kev`.
    pub fn t_nr(&self, t_ee_kev: f64) -> f64 {
        invert(|t| self.t_ee(t), t_ee_kev)
    }
}

/// Invert a strictly increasing T_ee(T_nr) by bisection in log T.
fn invert(t_ee: impl Fn(f64) -> f64, target: f64) -> f64 {
    if target <= 0.0 {
        return 0.0;
    }
    let (mut lo, mut hi) = (target, target);
    let mut guard = 0;
    while t_ee(hi) < target && guard < 200 {
        hi *= 2.0;
        guard += 1;
    }
    while t_ee(lo) > target && guard < 400 {
        lo *= 0.5;
        guard += 1;
    }
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if t_ee(mid) < target {
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

/// A measured quenching curve Y(T_nr), interpolated log-log between the
/// table's points and held constant beyond its ends.
#[derive(Debug, Clone, PartialEq)]
pub struct QuenchingTable {
    t_kev: Vec<f64>,
    y: Vec<f64>,
}

impl QuenchingTable {
    /// From (T_nr [keV], Y) points: T strictly increasing and > 0, 0 < Y <= 1,
    /// and T·Y increasing (otherwise T_ee would not determine T_nr).
    pub fn new(t_kev: Vec<f64>, y: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| PhysicsError::InvalidTable {
            name: "quenching table".into(),
            reason,
        };
        if t_kev.len() != y.len() || t_kev.len() < 2 {
            return Err(bad("need at least two (T_nr, Y) rows".into()));
        }
        for i in 0..t_kev.len() {
            if !(t_kev[i].is_finite()
                && t_kev[i] > 0.0
                && y[i].is_finite()
                && y[i] > 0.0
                && y[i] <= 1.0)
            {
                return Err(bad(format!(
                    "row {i}: need T_nr > 0 and 0 < Y <= 1, got ({}, {})",
                    t_kev[i], y[i]
                )));
            }
            if i > 0 && (t_kev[i] <= t_kev[i - 1] || t_kev[i] * y[i] <= t_kev[i - 1] * y[i - 1]) {
                return Err(bad(format!("row {i}: T_nr and T_nr·Y must increase")));
            }
        }
        Ok(Self { t_kev, y })
    }

    /// Y(T_nr).
    pub fn y(&self, t_nr_kev: f64) -> f64 {
        let n = self.t_kev.len();
        if t_nr_kev <= self.t_kev[0] {
            return self.y[0];
        }
        if t_nr_kev >= self.t_kev[n - 1] {
            return self.y[n - 1];
        }
        crate::numerics::interp_loglog(&self.t_kev, &self.y, t_nr_kev)
    }
}

/// The quenching model of a detector: Lindhard (eq 15–17) or a measured table.
#[derive(Debug, Clone, PartialEq)]
pub enum Quenching {
    /// Lindhard with constant k.
    Lindhard(Lindhard),
    /// Tabulated Y(T_nr).
    Table(QuenchingTable),
    /// No quenching, Y = 1: electron recoils (T_ee = T_e).
    Unquenched,
}

impl Quenching {
    /// Y(T_nr).
    pub fn y(&self, t_nr_kev: f64) -> f64 {
        match self {
            Quenching::Lindhard(l) => l.y(t_nr_kev),
            Quenching::Table(t) => t.y(t_nr_kev),
            Quenching::Unquenched => 1.0,
        }
    }

    /// T_ee = Y(T_nr)·T_nr (eq 18), keV.
    pub fn t_ee(&self, t_nr_kev: f64) -> f64 {
        self.y(t_nr_kev) * t_nr_kev
    }

    /// dT_ee/dT_nr (eq 19's denominator): analytic for Lindhard, a central
    /// difference in ln T for tables.
    pub fn jacobian(&self, t_nr_kev: f64) -> f64 {
        match self {
            Quenching::Lindhard(l) => l.jacobian(t_nr_kev),
            Quenching::Unquenched => 1.0,
            Quenching::Table(_) => {
                let h = 1e-4;
                let (a, b) = (t_nr_kev * (1.0 - h), t_nr_kev * (1.0 + h));
                (self.t_ee(b) - self.t_ee(a)) / (b - a)
            }
        }
    }

    /// T_nr whose T_ee is `t_ee_kev`.
    pub fn t_nr(&self, t_ee_kev: f64) -> f64 {
        match self {
            Quenching::Lindhard(l) => l.t_nr(t_ee_kev),
            Quenching::Unquenched => t_ee_kev,
            Quenching::Table(_) => invert(|t| self.t_ee(t), t_ee_kev),
        }
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
    fn table_interpolates_and_inverts() {
        // A table sampled from Lindhard reproduces it between the nodes.
        let l = Lindhard::new(0.162, 32).unwrap();
        let ts: Vec<f64> = (0..60).map(|i| 0.01 * 1.2f64.powi(i)).collect();
        let tab = QuenchingTable::new(ts.clone(), ts.iter().map(|&t| l.y(t)).collect()).unwrap();
        let q = Quenching::Table(tab);
        for t in [0.05, 0.7, 3.3] {
            assert!((q.y(t) / l.y(t) - 1.0).abs() < 1e-3, "{t}");
            assert!((q.jacobian(t) / l.jacobian(t) - 1.0).abs() < 2e-2, "{t}");
            assert!((q.t_ee(q.t_nr(t)) / t - 1.0).abs() < 1e-12);
        }
        assert!(QuenchingTable::new(vec![1.0, 0.5], vec![0.2, 0.2]).is_err());
        assert!(QuenchingTable::new(vec![1.0, 2.0], vec![0.2, 1.5]).is_err());
    }

    #[test]
    fn rejects_bad_k() {
        assert!(Lindhard::new(-0.1, 32).is_err());
        assert!(Lindhard::new(f64::NAN, 32).is_err());
    }
}
