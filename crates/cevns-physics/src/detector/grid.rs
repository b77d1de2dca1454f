//! The recoil grid: log-spaced recoil energies T (keV) with Simpson weights,
//! shared by every stage from the cross sections to the response matrix.
//! T is the kinetic energy of whatever recoils (nucleus or electron).

use crate::error::{PhysicsError, Result};

/// A log-spaced recoil grid with Simpson weights in ln T, so that
/// ∫ f(T) dT ≈ Σ wᵢ f(Tᵢ).
#[derive(Debug, Clone, PartialEq)]
pub struct RecoilGrid {
    t_kev: Vec<f64>,
    weights: Vec<f64>,
}

impl RecoilGrid {
    /// `n` (odd, >= 3) log-spaced points from `t_min_kev` to `t_max_kev`.
    pub fn log(t_min_kev: f64, t_max_kev: f64, n: usize) -> Result<Self> {
        if !(t_min_kev.is_finite()
            && t_min_kev > 0.0
            && t_max_kev.is_finite()
            && t_max_kev > t_min_kev)
        {
            return Err(PhysicsError::InvalidParameter {
                name: "t_grid".into(),
                value: t_min_kev,
                reason: format!("need 0 < t_min ({t_min_kev}) < t_max ({t_max_kev}) keV"),
            });
        }
        if n < 3 || n.is_multiple_of(2) {
            return Err(PhysicsError::InvalidParameter {
                name: "t_grid.n".into(),
                value: n as f64,
                reason: "Simpson's rule needs an odd number of points >= 3".into(),
            });
        }
        let (l0, l1) = (t_min_kev.ln(), t_max_kev.ln());
        let h = (l1 - l0) / (n - 1) as f64;
        let t_kev: Vec<f64> = (0..n).map(|i| (l0 + h * i as f64).exp()).collect();
        Self::from_points_simpson(t_kev, h)
    }

    fn from_points_simpson(t_kev: Vec<f64>, h: f64) -> Result<Self> {
        let n = t_kev.len();
        let weights = t_kev
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let c = if i == 0 || i == n - 1 {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                c * h / 3.0 * t
            })
            .collect();
        Ok(Self { t_kev, weights })
    }

    /// Rebuild from stored points (must be log-spaced with odd length, as
    /// written by [`RecoilGrid::log`]); used when reading a table back.
    pub fn from_points(t_kev: Vec<f64>) -> Result<Self> {
        let n = t_kev.len();
        if n < 3 || n.is_multiple_of(2) {
            return Err(PhysicsError::InvalidTable {
                name: "t_nr_kev".into(),
                reason: format!("recoil grid must have an odd number >= 3 of points, got {n}"),
            });
        }
        let h = (t_kev[n - 1].ln() - t_kev[0].ln()) / (n - 1) as f64;
        for (i, w) in t_kev.windows(2).enumerate() {
            let step = w[1].ln() - w[0].ln();
            if !(step.is_finite() && (step / h - 1.0).abs() < 1e-6) {
                return Err(PhysicsError::InvalidTable {
                    name: "t_nr_kev".into(),
                    reason: format!("recoil grid is not log-uniform at row {i}"),
                });
            }
        }
        Self::from_points_simpson(t_kev, h)
    }

    /// Grid points, keV.
    pub fn points(&self) -> &[f64] {
        &self.t_kev
    }

    /// Quadrature weights, keV.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.t_kev.len()
    }

    /// Never true for a constructed grid.
    pub fn is_empty(&self) -> bool {
        self.t_kev.is_empty()
    }

    /// ∫ f dT for samples `f` on this grid.
    pub fn integrate(&self, f: &[f64]) -> f64 {
        self.weights.iter().zip(f).map(|(w, v)| w * v).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simpson_log_grid_integrates_power_law() {
        // ∫_1^10 T² dT = 333; Simpson in ln T on 201 points.
        let g = RecoilGrid::log(1.0, 10.0, 201).unwrap();
        let f: Vec<f64> = g.points().iter().map(|t| t * t).collect();
        assert!((g.integrate(&f) / 333.0 - 1.0).abs() < 1e-7);
        assert_eq!(RecoilGrid::from_points(g.points().to_vec()).unwrap(), g);
    }

    #[test]
    fn grid_rejects_even_n() {
        assert!(RecoilGrid::log(1.0, 10.0, 200).is_err());
        assert!(RecoilGrid::log(0.0, 10.0, 201).is_err());
    }
}
