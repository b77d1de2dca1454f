//! Gaussian energy resolution and binning in electron-equivalent energy.

use serde::{Deserialize, Serialize};

use crate::error::{PhysicsError, Result};
use crate::units::EV_PER_KEV;

/// σ(E)[eV] = c0 + c_sqrt·√(E/keV) + c_lin·(E/keV), with E the true T_ee.
/// CDEX-10: c0 = 35.8, c_sqrt = 16.6, c_lin = 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// Constant term, eV.
    pub sigma0_ev: f64,
    /// Coefficient of √(E/keV), eV.
    pub sigma_sqrt_ev: f64,
    /// Coefficient of E/keV, eV.
    #[serde(default)]
    pub sigma_lin_ev: f64,
}

impl Resolution {
    /// σ in keV at true electron-equivalent energy `e_kev`.
    pub fn sigma_kev(&self, e_kev: f64) -> f64 {
        let e = e_kev.max(0.0);
        (self.sigma0_ev + self.sigma_sqrt_ev * e.sqrt() + self.sigma_lin_ev * e) / EV_PER_KEV
    }

    /// Validate: σ must be positive at E = 0 and coefficients finite.
    pub fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("resolution.sigma0_ev", self.sigma0_ev),
            ("resolution.sigma_sqrt_ev", self.sigma_sqrt_ev),
            ("resolution.sigma_lin_ev", self.sigma_lin_ev),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(PhysicsError::InvalidParameter {
                    name: n.into(),
                    value: v,
                    reason: "must be finite and >= 0".into(),
                });
            }
        }
        if self.sigma0_ev <= 0.0 {
            return Err(PhysicsError::InvalidParameter {
                name: "resolution.sigma0_ev".into(),
                value: self.sigma0_ev,
                reason: "must be > 0 (a Gaussian needs a width at threshold)".into(),
            });
        }
        Ok(())
    }

    /// Probability that an event of true energy `e_kev` is reconstructed in
    /// [lo, hi) keV: ½[erf((hi−E)/(√2σ)) − erf((lo−E)/(√2σ))].
    pub fn bin_probability(&self, e_kev: f64, lo: f64, hi: f64) -> f64 {
        let s = std::f64::consts::SQRT_2 * self.sigma_kev(e_kev);
        0.5 * (libm::erf((hi - e_kev) / s) - libm::erf((lo - e_kev) / s))
    }

    /// Gaussian density (keV⁻¹) of reconstructing `e_obs` from true `e_kev`.
    pub fn density(&self, e_kev: f64, e_obs: f64) -> f64 {
        let s = self.sigma_kev(e_kev);
        let z = (e_obs - e_kev) / s;
        (-0.5 * z * z).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
    }
}

/// Energy bins in keVee.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    edges: Vec<f64>,
}

impl Bins {
    /// `n` uniform bins of `width` from `start` (keVee).
    pub fn uniform(start: f64, width: f64, n: usize) -> Result<Self> {
        let edges = (0..=n).map(|i| start + width * i as f64).collect();
        Self::from_edges(edges)
    }

    /// From explicit edges (strictly increasing, >= 0).
    pub fn from_edges(edges: Vec<f64>) -> Result<Self> {
        if edges.len() < 2 {
            return Err(PhysicsError::InvalidTable {
                name: "bins".into(),
                reason: "need at least one bin".into(),
            });
        }
        for (i, w) in edges.windows(2).enumerate() {
            if !(w[0].is_finite() && w[1].is_finite() && w[0] >= 0.0 && w[1] > w[0]) {
                return Err(PhysicsError::InvalidTable {
                    name: "bins".into(),
                    reason: format!(
                        "edges {i}..{} = [{}, {}] not increasing and >= 0",
                        i + 1,
                        w[0],
                        w[1]
                    ),
                });
            }
        }
        Ok(Self { edges })
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.edges.len() - 1
    }

    /// Never true for a constructed value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (lo, hi) of bin i.
    pub fn bin(&self, i: usize) -> (f64, f64) {
        (self.edges[i], self.edges[i + 1])
    }

    /// All edges.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdex() -> Resolution {
        Resolution {
            sigma0_ev: 35.8,
            sigma_sqrt_ev: 16.6,
            sigma_lin_ev: 0.0,
        }
    }

    #[test]
    fn sigma_at_1kev() {
        assert!((cdex().sigma_kev(1.0) - 0.0524).abs() < 1e-12);
    }

    #[test]
    fn probabilities_sum_to_one_over_the_line() {
        let r = cdex();
        // Bins starting at 0 covering far beyond E: total probability ≈ 1.
        let b = Bins::uniform(0.0, 0.01, 400).unwrap();
        let p: f64 = (0..b.len())
            .map(|i| {
                let (lo, hi) = b.bin(i);
                r.bin_probability(1.5, lo, hi)
            })
            .sum();
        assert!((p - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_bins_rejected() {
        assert!(Bins::from_edges(vec![0.2, 0.1]).is_err());
        assert!(Bins::from_edges(vec![0.2]).is_err());
    }
}
