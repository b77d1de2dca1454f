//! Event rates: the flux convolution of eq 12 on a recoil grid, the detector
//! response (quenching eq 15–18, Gaussian resolution, binning) as a fixed
//! matrix, the eq 19 spectrum in T_ee, and the g² / g⁴ decomposition of the
//! U(1)' rate.
//!
//! Units: T in keV, rates dR/dT_nr in counts kg⁻¹ keV_nr⁻¹ day⁻¹, binned rates
//! in counts kg⁻¹ keVee⁻¹ day⁻¹.

use crate::error::{PhysicsError, Result};
use crate::flux::Spectrum;
use crate::model::U1Model;
use crate::nucleus::Nucleus;
use crate::oscillation::Flavour;
use crate::quenching::Quenching;
use crate::resolution::{Bins, Resolution};
use crate::units::{SECONDS_PER_DAY, kev_to_mev};

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

/// SM differential rate of eq 12 on a recoil grid, counts kg⁻¹ keV⁻¹ day⁻¹:
/// dR/dT = N_T · K(T) · J(T) · 86400, with K from
/// [`crate::xsec::sm_prefactor_cm2_per_kev`] tabulated in `k_sm_cm2_per_kev`
/// and J the kinematic flux integral of `spectrum` (cm⁻² s⁻¹).
pub fn sm_rate(
    nucleus: &Nucleus,
    t_kev: &[f64],
    k_sm_cm2_per_kev: &[f64],
    spectrum: &Spectrum,
) -> Vec<f64> {
    t_kev
        .iter()
        .zip(k_sm_cm2_per_kev)
        .map(|(&t, &k)| {
            nucleus.targets_per_kg
                * k
                * spectrum.kinematic_integral(nucleus.mass_mev, kev_to_mev(t))
                * SECONDS_PER_DAY
        })
        .collect()
}

/// Signal efficiency as a function of reconstructed electron-equivalent
/// energy.
#[derive(Debug, Clone, PartialEq)]
pub enum Efficiency {
    /// Constant in (0, 1].
    Constant(f64),
    /// ε(E [keVee]) tabulated, linear interpolation, 0 outside the table.
    Table(crate::flux::PiecewiseLinear),
}

impl Efficiency {
    fn validate(&self) -> Result<()> {
        match self {
            Efficiency::Constant(e) if !(e.is_finite() && *e > 0.0 && *e <= 1.0) => {
                Err(PhysicsError::InvalidParameter {
                    name: "efficiency".into(),
                    value: *e,
                    reason: "must lie in (0, 1]".into(),
                })
            }
            Efficiency::Table(t) => match t.values().iter().find(|v| **v > 1.0) {
                Some(v) => Err(PhysicsError::InvalidParameter {
                    name: "efficiency table".into(),
                    value: *v,
                    reason: "efficiencies must lie in [0, 1]".into(),
                }),
                None => Ok(()),
            },
            Efficiency::Constant(_) => Ok(()),
        }
    }

    /// ∫_lo^hi ε(E) G(E | e_true) dE.
    pub fn bin_probability(&self, res: &Resolution, e_true: f64, lo: f64, hi: f64) -> f64 {
        match self {
            Efficiency::Constant(c) => c * res.bin_probability(e_true, lo, hi),
            Efficiency::Table(t) => {
                const SUB: usize = 10;
                let h = (hi - lo) / SUB as f64;
                (0..SUB)
                    .map(|k| {
                        let (a, b) = (lo + h * k as f64, lo + h * (k + 1) as f64);
                        t.eval(0.5 * (a + b)) * res.bin_probability(e_true, a, b)
                    })
                    .sum()
            }
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
        Ok(Self {
            bins,
            w,
            n_t,
            active: first..last,
        })
    }

    /// The recoil-grid columns that can contribute to some bin.
    pub fn active(&self) -> std::ops::Range<usize> {
        self.active.clone()
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

/// The response of a detector whose target may hold several elements: one
/// [`Response`] per proton number Z (quenching depends on Z), all with the
/// same bins and recoil grid.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorResponse {
    parts: Vec<(u32, Response)>,
}

impl DetectorResponse {
    /// Combine per-element responses (at least one; same bins and grid).
    pub fn new(parts: Vec<(u32, Response)>) -> Result<Self> {
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
        Ok(Self { parts })
    }

    /// The analysis bins.
    pub fn bins(&self) -> &Bins {
        &self.parts[0].1.bins
    }

    /// (Z, response) pairs.
    pub fn parts(&self) -> &[(u32, Response)] {
        &self.parts
    }

    /// Binned SM rate of a source: each element's isotopes through its own
    /// response, summed. Parts of an element without a response are an error
    /// upstream (quench-smear builds one per Z of the rates table).
    pub fn apply_source(&self, s: &SourceRates) -> Vec<f64> {
        let mut out = vec![0.0; self.bins().len()];
        for (z, r) in &self.parts {
            for (o, v) in out.iter_mut().zip(r.apply(&s.total_for_z(*z))) {
                *o += v;
            }
        }
        out
    }
}

/// Smeared spectrum dR/dT_ee at observed energies `e_obs` (keVee):
/// ∫ dT_nr dR/dT_nr · G(e_obs; Y(T)T, σ). Counts kg⁻¹ keVee⁻¹ day⁻¹.
pub fn smeared_spectrum(
    grid: &RecoilGrid,
    q: &Quenching,
    res: &Resolution,
    rate: &[f64],
    e_obs: &[f64],
) -> Vec<f64> {
    let t_ee: Vec<f64> = grid.points().iter().map(|&t| q.t_ee(t)).collect();
    e_obs
        .iter()
        .map(|&eo| {
            t_ee.iter()
                .zip(grid.weights())
                .zip(rate)
                .map(|((&e, &w), &r)| w * r * res.density(e, eo))
                .sum()
        })
        .collect()
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

/// Log-log interpolation of (x, y) at `x0`, 0 outside the table; falls back to
/// linear interpolation when an endpoint value is 0.
pub fn interp_loglog(x: &[f64], y: &[f64], x0: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    // Tolerate round-off at the ends (grids built with exp/ln).
    let x0 = if (x0 / x[0] - 1.0).abs() < 1e-9 {
        x[0]
    } else if (x0 / x[n - 1] - 1.0).abs() < 1e-9 {
        x[n - 1]
    } else {
        x0
    };
    if !(x0 >= x[0] && x0 <= x[n - 1]) {
        return 0.0;
    }
    if n == 1 {
        return y[0];
    }
    let p = x.partition_point(|&v| v <= x0).clamp(1, n - 1);
    let (xa, xb, ya, yb) = (x[p - 1], x[p], y[p - 1], y[p]);
    if ya > 0.0 && yb > 0.0 {
        let f = (x0 / xa).ln() / (xb / xa).ln();
        (ya.ln() + f * (yb.ln() - ya.ln())).exp()
    } else {
        ya + (yb - ya) * (x0 - xa) / (xb - xa)
    }
}

/// One isotope's share of the SM rate of one source, summed over flavours
/// with the model's lepton charges, ready for the Z' expansion
/// (1 + x)² = 1 + 2x + x² with x = g² Q'_ℓ q_N κ/(m² + 2 m_N T) (eq 7).
#[derive(Debug, Clone, PartialEq)]
pub struct IsotopeKernel {
    /// Proton number (selects the detector response of its element).
    pub z: u32,
    /// Nuclear mass, MeV.
    pub mass_mev: f64,
    /// 2 q_N κ Σ_ℓ Q'_ℓ dR_ℓ/dT, rate × MeV² (coefficient of g²/D).
    pub a1: Vec<f64>,
    /// (q_N κ)² Σ_ℓ Q'_ℓ² dR_ℓ/dT, rate × MeV⁴ (coefficient of g⁴/D²).
    pub a2: Vec<f64>,
}

/// SM rate of one source, one flavour, one isotope on the recoil grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePart {
    /// The isotope.
    pub nucleus: Nucleus,
    /// κ = 1/(√2 G_F Q_SM) of this isotope, MeV² (see [`crate::xsec::kappa_mev2`]).
    pub kappa_mev2: f64,
    /// Neutrino flavour at Earth.
    pub flavour: Flavour,
    /// dR/dT_nr on the grid, counts kg⁻¹ keV⁻¹ day⁻¹.
    pub rate: Vec<f64>,
}

/// SM rates of one source on the recoil grid, per isotope and flavour.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRates {
    /// Source name.
    pub source: String,
    /// Pull width σ_j.
    pub sigma_frac: f64,
    /// Per isotope and flavour.
    pub parts: Vec<RatePart>,
}

impl SourceRates {
    /// Total SM rate on the grid.
    pub fn total(&self) -> Vec<f64> {
        self.total_where(|_| true)
    }

    /// SM rate on the grid of the isotopes of element `z`.
    pub fn total_for_z(&self, z: u32) -> Vec<f64> {
        self.total_where(|p| p.nucleus.z == z)
    }

    fn total_where(&self, keep: impl Fn(&RatePart) -> bool) -> Vec<f64> {
        let n = self.parts.first().map_or(0, |p| p.rate.len());
        let mut out = vec![0.0; n];
        for p in self.parts.iter().filter(|p| keep(p)) {
            for (o, v) in out.iter_mut().zip(&p.rate) {
                *o += v;
            }
        }
        out
    }

    /// The g²/g⁴ kernels of this source for `model` (flavours combined with
    /// their lepton charges Q'_ℓ, one kernel per isotope).
    pub fn kernels(&self, model: &U1Model) -> Vec<IsotopeKernel> {
        let mut out: Vec<((u32, u32), IsotopeKernel)> = Vec::new();
        for p in &self.parts {
            let ql = model.lepton_charge(p.flavour);
            if ql == 0.0 {
                continue;
            }
            let nuc = &p.nucleus;
            let c = model.nuclear_charge(nuc.z, nuc.n) * p.kappa_mev2 * ql;
            let idx = match out.iter().position(|(key, _)| *key == (nuc.z, nuc.a)) {
                Some(i) => i,
                None => {
                    let n = p.rate.len();
                    out.push((
                        (nuc.z, nuc.a),
                        IsotopeKernel {
                            z: nuc.z,
                            mass_mev: nuc.mass_mev,
                            a1: vec![0.0; n],
                            a2: vec![0.0; n],
                        },
                    ));
                    out.len() - 1
                }
            };
            let k = &mut out[idx].1;
            for ((a1, a2), v) in k.a1.iter_mut().zip(k.a2.iter_mut()).zip(&p.rate) {
                *a1 += 2.0 * c * v;
                *a2 += c * c * v;
            }
        }
        out.into_iter().map(|(_, k)| k).collect()
    }
}

/// dR/dT_nr on the grid for coupling `g` and mass `m_mev` from the kernels:
/// SM + g² Σ a1/D + g⁴ Σ a2/D².
pub fn rate_with_zprime(
    grid: &RecoilGrid,
    sm: &[f64],
    kernels: &[IsotopeKernel],
    g: f64,
    m_mev: f64,
) -> Vec<f64> {
    let g2 = g * g;
    let mut out = sm.to_vec();
    for k in kernels {
        for (j, &t) in grid.points().iter().enumerate() {
            let d = m_mev * m_mev + 2.0 * k.mass_mev * kev_to_mev(t);
            out[j] += g2 * k.a1[j] / d + g2 * g2 * k.a2[j] / (d * d);
        }
    }
    out
}

/// Binned new-physics coefficients of one source at mediator mass `m_mev`:
/// (R₁, R₂) with Rᵢ(g) = R₀ᵢ + g² R₁ᵢ + g⁴ R₂ᵢ.
pub fn binned_zprime(
    response: &Response,
    grid: &RecoilGrid,
    kernels: &[IsotopeKernel],
    m_mev: f64,
) -> (Vec<f64>, Vec<f64>) {
    let n = grid.len();
    let mut v1 = vec![0.0; n];
    let mut v2 = vec![0.0; n];
    let m2 = m_mev * m_mev;
    let active = response.active();
    for k in kernels {
        let two_m = 2.0 * k.mass_mev;
        for (j, &t) in grid
            .points()
            .iter()
            .enumerate()
            .take(active.end)
            .skip(active.start)
        {
            let inv_d = 1.0 / (m2 + two_m * kev_to_mev(t));
            v1[j] += k.a1[j] * inv_d;
            v2[j] += k.a2[j] * inv_d * inv_d;
        }
    }
    (response.apply(&v1), response.apply(&v2))
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

    #[test]
    fn interp_loglog_exact_for_power_laws() {
        let x = [1.0, 2.0, 4.0];
        let y = [1.0, 8.0, 64.0];
        assert!((interp_loglog(&x, &y, 3.0) - 27.0).abs() < 1e-12);
        assert_eq!(interp_loglog(&x, &y, 5.0), 0.0);
    }
}

/// A model's binned rates per flux source, ready to be evaluated at any
/// mediator mass: R₀ per source plus the g²/g⁴ kernels.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedModel {
    /// SM binned rate per source.
    pub r0: Vec<Vec<f64>>,
    /// Pull width per source.
    pub sigma: Vec<f64>,
    kernels: Vec<Vec<IsotopeKernel>>,
}

impl BinnedModel {
    /// Fold every source through the response once.
    pub fn new(response: &DetectorResponse, sources: &[SourceRates], model: &U1Model) -> Self {
        Self {
            r0: sources.iter().map(|s| response.apply_source(s)).collect(),
            sigma: sources.iter().map(|s| s.sigma_frac).collect(),
            kernels: sources.iter().map(|s| s.kernels(model)).collect(),
        }
    }

    /// Rᵢ(g) = R₀ᵢ + g² R₁ᵢ(m) + g⁴ R₂ᵢ(m) per source at mediator mass `m_mev`.
    pub fn polynomial(
        &self,
        response: &DetectorResponse,
        grid: &RecoilGrid,
        m_mev: f64,
    ) -> crate::stats::Polynomial {
        let nb = response.bins().len();
        let (mut r1, mut r2) = (Vec::new(), Vec::new());
        for (k, r0) in self.kernels.iter().zip(&self.r0) {
            // A source with no SM rate in any bin has no Z' rate there either
            // (both are the same recoils times (1 + x)²).
            if k.is_empty() || r0.iter().all(|v| *v == 0.0) {
                r1.push(vec![0.0; nb]);
                r2.push(vec![0.0; nb]);
            } else {
                let (mut a, mut b) = (vec![0.0; nb], vec![0.0; nb]);
                for (z, resp) in response.parts() {
                    let kz: Vec<IsotopeKernel> = k.iter().filter(|x| x.z == *z).cloned().collect();
                    if kz.is_empty() {
                        continue;
                    }
                    let (x, y) = binned_zprime(resp, grid, &kz, m_mev);
                    a.iter_mut().zip(x).for_each(|(u, v)| *u += v);
                    b.iter_mut().zip(y).for_each(|(u, v)| *u += v);
                }
                r1.push(a);
                r2.push(b);
            }
        }
        crate::stats::Polynomial {
            r0: self.r0.clone(),
            r1,
            r2,
        }
    }
}
