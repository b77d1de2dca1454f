//! The detector response: recoil spectrum on the grid → binned rates. One
//! matrix per recoiling [`Species`] (quenching depends on what recoils: Z for
//! nuclei; electrons are not quenched), all with the same bins and grid.

use crate::detector::efficiency::Efficiency;
use crate::detector::grid::RecoilGrid;
use crate::detector::quenching::Quenching;
use crate::detector::resolution::{Bins, Resolution};
use crate::error::{PhysicsError, Result};
use crate::numerics::interp_loglog;

/// What recoils, as far as the detector is concerned: it selects the
/// quenching (and hence the response matrix) a recoil goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Species {
    /// A nucleus of proton number Z (Lindhard quenching depends on Z).
    Nucleus(u32),
    /// An electron: T_ee = T_e, no quenching.
    Electron,
}

impl std::fmt::Display for Species {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Species::Nucleus(z) => write!(f, "nuclear recoils Z = {z}"),
            Species::Electron => write!(f, "electron recoils"),
        }
    }
}

/// Detector response as a dense matrix W (bins × recoil points) such that the
/// binned rate is Rᵢ = Σₜ Wᵢₜ dR/dT_nr(Tₜ) in counts kg⁻¹ keVee⁻¹ day⁻¹:
/// Wᵢₜ = wₜ · ∫_bin ε(E) G(E | Y(Tₜ)Tₜ) dE / (bin width), with Y the
/// quenching (Lindhard eq 15–18 or a table), G the Gaussian resolution and ε
/// the efficiency as a function of reconstructed energy (constant, or a table
/// integrated over 10 sub-bins per bin). Integrating over T_nr directly
/// removes the need for eq 19's Jacobian.
///
/// Recoils whose ionisation energy T_ee is below `e_signal_min_kevee` (one
/// electron–hole pair: 2.96 eV in Ge) make no charge and hence no signal;
/// without this cut the Gaussian tail of the huge sub-eV light-mediator rate
/// of pp/⁷Be recoils would leak 4–5σ into the first bins, an artefact of
/// extrapolating the resolution function to deposits that cannot be seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Bins in keVee.
    pub bins: Bins,
    /// Row-major bins × grid points.
    pub w: Vec<f64>,
    /// Number of recoil points per row.
    pub n_t: usize,
    /// Columns outside this range are zero in every row (recoils that
    /// cannot reach any bin); products skip them.
    active: std::ops::Range<usize>,
    /// Per row, the columns from its first to its last non-zero weight
    /// (empty for a row of zeros).
    rows: Vec<std::ops::Range<usize>>,
}

impl Response {
    /// Build the matrix.
    pub fn build(
        grid: &RecoilGrid,
        q: &Quenching,
        res: &Resolution,
        bins: &Bins,
        efficiency: &Efficiency,
        e_signal_min_kevee: f64,
    ) -> Result<Self> {
        res.validate()?;
        crate::error::non_negative("ionization_threshold", e_signal_min_kevee)?;
        efficiency.validate()?;
        let n_t = grid.len();
        let t_ee: Vec<f64> = grid.points().iter().map(|&t| q.t_ee(t)).collect();
        let mut w = vec![0.0; bins.len() * n_t];
        for i in 0..bins.len() {
            let (lo, hi) = bins.bin(i);
            let width = hi - lo;
            for (j, (&e, &wt)) in t_ee.iter().zip(grid.weights()).enumerate() {
                if e < e_signal_min_kevee {
                    continue;
                }
                w[i * n_t + j] = wt * efficiency.bin_probability(res, e, lo, hi) / width;
            }
        }
        Self::from_parts(bins.clone(), w, n_t)
    }

    /// From a stored matrix.
    pub fn from_parts(bins: Bins, w: Vec<f64>, n_t: usize) -> Result<Self> {
        if w.len() != bins.len() * n_t {
            return Err(PhysicsError::InvalidTable {
                name: "response".into(),
                reason: format!("{} entries for {} bins × {n_t} points", w.len(), bins.len()),
            });
        }
        let nonzero = |j: usize| (0..bins.len()).any(|i| w[i * n_t + j] != 0.0);
        let first = (0..n_t).find(|&j| nonzero(j)).unwrap_or(n_t);
        let last = (0..n_t)
            .rev()
            .find(|&j| nonzero(j))
            .map_or(first, |j| j + 1);
        let rows = w
            .chunks(n_t.max(1))
            .take(bins.len())
            .map(|row| {
                let lo = row.iter().position(|v| *v != 0.0).unwrap_or(0);
                let hi = row.iter().rposition(|v| *v != 0.0).map_or(lo, |j| j + 1);
                lo..hi
            })
            .collect();
        Ok(Self {
            bins,
            w,
            n_t,
            active: first..last,
            rows,
        })
    }

    /// The recoil-grid columns that can contribute to some bin.
    pub fn active(&self) -> std::ops::Range<usize> {
        self.active.clone()
    }

    /// Per row, the columns from its first to its last non-zero weight
    /// (empty for a row of zeros).
    pub fn row_spans(&self) -> &[std::ops::Range<usize>] {
        &self.rows
    }

    /// Apply to a rate sampled on the recoil grid: binned rates.
    pub fn apply(&self, rate: &[f64]) -> Vec<f64> {
        let r = self.active.clone();
        self.w
            .chunks(self.n_t)
            .map(|row| {
                row[r.clone()]
                    .iter()
                    .zip(&rate[r.clone()])
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect()
    }
}

/// The response of a detector to every species that recoils in it: one
/// [`Response`] per nuclear proton number Z (quenching depends on Z) and one
/// for electron recoils if a channel produces them, all with the same bins
/// and recoil grid.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorResponse {
    parts: Vec<(Species, Response)>,
}

impl DetectorResponse {
    /// Combine per-species responses (at least one; same bins and grid; each
    /// species once).
    pub fn new(parts: Vec<(Species, Response)>) -> Result<Self> {
        let Some((_, first)) = parts.first() else {
            return Err(PhysicsError::InvalidTable {
                name: "response".into(),
                reason: "no element".into(),
            });
        };
        if parts
            .iter()
            .any(|(_, r)| r.bins != first.bins || r.n_t != first.n_t)
        {
            return Err(PhysicsError::InvalidTable {
                name: "response".into(),
                reason: "elements have different bins or recoil grids".into(),
            });
        }
        for (i, (sp, _)) in parts.iter().enumerate() {
            if parts[..i].iter().any(|(s, _)| s == sp) {
                return Err(PhysicsError::InvalidTable {
                    name: "response".into(),
                    reason: format!("{sp} appears twice"),
                });
            }
        }
        Ok(Self { parts })
    }

    /// The analysis bins.
    pub fn bins(&self) -> &Bins {
        &self.parts[0].1.bins
    }

    /// (species, response) pairs.
    pub fn parts(&self) -> &[(Species, Response)] {
        &self.parts
    }
}

/// Smeared spectrum dR/dT_ee at observed energies `e_obs` (keVee):
/// ∫ dT_nr dR/dT_nr · G(e_obs; Y(T)T, σ). Counts kg⁻¹ keVee⁻¹ day⁻¹.
/// (One spectrum; for several on the same grid build a [`Smearing`] once.)
pub fn smeared_spectrum(
    grid: &RecoilGrid,
    q: &Quenching,
    res: &Resolution,
    rate: &[f64],
    e_obs: &[f64],
) -> Vec<f64> {
    Smearing::new(grid, q, res, e_obs).apply(rate)
}

/// The smearing of recoils on a grid to observed energies:
/// dR/dT_ee(e_obs) = Σ_t w_t dR/dT_nr(t) G(e_obs; Y(t)t, σ) with quadrature
/// weights w_t [keV]. The Gaussian densities G [keVee⁻¹] depend on the grid,
/// quenching and resolution only, so they are computed once and every
/// spectrum (SM and each Z' benchmark) is a matrix–vector product.
#[derive(Debug, Clone, PartialEq)]
pub struct Smearing {
    /// Quadrature weights of the grid, keV.
    weights: Vec<f64>,
    /// G(e_obs; Y(t)t, σ), row-major `e_obs × t`, keVee⁻¹.
    density: Vec<f64>,
}

impl Smearing {
    /// The densities for recoils on `grid` quenched by `q`, observed at
    /// `e_obs` (keVee) with resolution `res`.
    pub fn new(grid: &RecoilGrid, q: &Quenching, res: &Resolution, e_obs: &[f64]) -> Self {
        let t_ee: Vec<f64> = grid.points().iter().map(|&t| q.t_ee(t)).collect();
        let mut density = Vec::with_capacity(e_obs.len() * t_ee.len());
        for &eo in e_obs {
            density.extend(t_ee.iter().map(|&e| res.density(e, eo)));
        }
        Self {
            weights: grid.weights().to_vec(),
            density,
        }
    }

    /// dR/dT_ee [counts kg⁻¹ keVee⁻¹ day⁻¹] at the observed energies of
    /// the smearing, for `rate` = dR/dT_nr on its grid.
    pub fn apply(&self, rate: &[f64]) -> Vec<f64> {
        let n = self.weights.len();
        if n == 0 {
            return vec![0.0; self.density.len()];
        }
        self.density
            .chunks_exact(n)
            .map(|g| {
                self.weights
                    .iter()
                    .zip(rate)
                    .zip(g)
                    .map(|((&w, &r), &d)| w * r * d)
                    .sum()
            })
            .collect()
    }
}

/// Unsmeared spectrum in T_ee via eq 19: dR/dT_ee = dR/dT_nr / (Y + T dY/dT),
/// evaluated at T_nr = T_nr(T_ee), with log-log interpolation of the rate
/// between grid points (linear where the rate vanishes).
pub fn quenched_spectrum(grid: &RecoilGrid, q: &Quenching, rate: &[f64], e_ee: &[f64]) -> Vec<f64> {
    e_ee.iter()
        .map(|&e| {
            let t = q.t_nr(e);
            interp_loglog(grid.points(), rate, t) / q.jacobian(t)
        })
        .collect()
}
