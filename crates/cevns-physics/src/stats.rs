//! Pull χ² of eq 20, minimised over the pulls in closed form, and 90 % CL
//! upper limits on the coupling.
//!
//! χ² = min_ξ Σᵢ ((d_i − R_exp,i − Σⱼ ξⱼ cⱼⁱ)/Δᵢ)² + Σⱼ ξⱼ², with
//! d = R_obs − B and cⱼⁱ = σⱼ Rⱼⁱ (the expected rate of flux source j in bin
//! i, SM plus new physics). With rᵢ = (dᵢ − R_exp,i)/Δᵢ and
//! Cᵢⱼ = σⱼ Rⱼⁱ/Δᵢ the minimum is χ² = rᵀr − bᵀ(I + CᵀC)⁻¹b, b = Cᵀr.

use crate::error::{PhysicsError, Result};

/// Binned data: residual d = R_obs − B and uncertainties Δ (same units as the
/// rates, counts kg⁻¹ keVee⁻¹ day⁻¹).
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedData {
    /// R_obs − B per bin.
    pub residual: Vec<f64>,
    /// Δ per bin (> 0).
    pub delta: Vec<f64>,
}

/// Pull χ² (eq 20) for expected rates per source `per_source[j][i]` and pull
/// widths `sigma[j]`. Sources whose pull width is 0 enter without a pull.
///
/// Solved as a linear least-squares problem in the source normalisations
/// ηⱼ = 1 + σⱼξⱼ: χ² = min_η ‖b − Aη‖² with A = [Rⱼᵢ/Δᵢ ; diag(1/σⱼ)] and
/// b = [dᵢ/Δᵢ − (unpulled rates)/Δᵢ ; 1/σⱼ], by Householder QR; χ² is the
/// norm² of the part of Qᵀb outside the column space. Unlike the normal
/// equations (I + CᵀC)ξ = Cᵀr, this stays accurate when the rates exceed the
/// data by many orders of magnitude (large g): the right-hand side is then
/// O(1) and the pulls that absorb the rates cost the bounded Σ 1/σⱼ², with no
/// cancellation and no NaN.
pub fn pull_chi2(data: &BinnedData, per_source: &[Vec<f64>], sigma: &[f64]) -> f64 {
    let n = data.residual.len();
    let pulled: Vec<usize> = (0..per_source.len())
        .filter(|&j| sigma.get(j).is_some_and(|&s| s > 0.0))
        .collect();
    let k = pulled.len();
    let m = n + k;
    // b: data minus the unpulled sources, then the pull priors.
    let mut b = vec![0.0; m];
    for i in 0..n {
        let fixed: f64 = per_source
            .iter()
            .enumerate()
            .filter(|(j, _)| !pulled.contains(j))
            .map(|(_, s)| s[i])
            .sum();
        b[i] = (data.residual[i] - fixed) / data.delta[i];
    }
    // A, column-major (a[c * m + row]).
    let mut a = vec![0.0; m * k];
    for (c, &j) in pulled.iter().enumerate() {
        for i in 0..n {
            a[c * m + i] = per_source[j][i] / data.delta[i];
        }
        a[c * m + n + c] = 1.0 / sigma[j];
        b[n + c] = 1.0 / sigma[j];
    }
    householder_residual2(&mut a, m, k, &mut b)
}

/// ‖b − A x‖² at the least-squares x, for A (m×k, column-major, m ≥ k,
/// overwritten) by Householder QR: the squared norm of (Qᵀb)ₖ..ₘ.
fn householder_residual2(a: &mut [f64], m: usize, k: usize, b: &mut [f64]) -> f64 {
    for j in 0..k {
        let col = j * m;
        // Scaled norm of a[j.., j], safe from overflow.
        let scale = a[col + j..col + m]
            .iter()
            .fold(0.0f64, |s, v| s.max(v.abs()));
        if scale == 0.0 || !scale.is_finite() {
            continue;
        }
        let norm = scale
            * a[col + j..col + m]
                .iter()
                .map(|v| (v / scale).powi(2))
                .sum::<f64>()
                .sqrt();
        let alpha = if a[col + j] > 0.0 { -norm } else { norm };
        // v = x − α e₁ (stored in place), vᵀv = 2(norm² − α x₀) = 2 norm (norm + |x₀|).
        let x0 = a[col + j];
        a[col + j] = x0 - alpha;
        let vtv = 2.0 * norm * (norm + x0.abs());
        if vtv == 0.0 {
            continue;
        }
        let v: Vec<f64> = a[col + j..col + m].to_vec();
        let reflect = |y: &mut [f64]| {
            let t = 2.0 * v.iter().zip(y.iter()).map(|(p, q)| p * q).sum::<f64>() / vtv;
            for (y, p) in y.iter_mut().zip(&v) {
                *y -= t * p;
            }
        };
        for c in j + 1..k {
            reflect(&mut a[c * m + j..c * m + m]);
        }
        reflect(&mut b[j..m]);
        a[col + j] = alpha;
    }
    b[k..m].iter().map(|v| v * v).sum()
}

/// Expected binned rates of each source as a polynomial in g²:
/// Rⱼ(g) = R₀ⱼ + g² R₁ⱼ + g⁴ R₂ⱼ.
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    /// SM part per source and bin.
    pub r0: Vec<Vec<f64>>,
    /// g² coefficients per source and bin.
    pub r1: Vec<Vec<f64>>,
    /// g⁴ coefficients per source and bin.
    pub r2: Vec<Vec<f64>>,
}

impl Polynomial {
    /// Rates per source at coupling `g`.
    pub fn at(&self, g: f64) -> Vec<Vec<f64>> {
        let g2 = g * g;
        let g4 = g2 * g2;
        self.r0
            .iter()
            .zip(&self.r1)
            .zip(&self.r2)
            .map(|((a, b), c)| {
                a.iter()
                    .zip(b)
                    .zip(c)
                    .map(|((a, b), c)| a + g2 * b + g4 * c)
                    .collect()
            })
            .collect()
    }

    /// χ²(g) of eq 20.
    pub fn chi2(&self, data: &BinnedData, sigma: &[f64], g: f64) -> f64 {
        pull_chi2(data, &self.at(g), sigma)
    }
}

/// Options of the coupling scan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitOptions {
    /// Smallest coupling scanned.
    pub g_min: f64,
    /// Largest coupling scanned.
    pub g_max: f64,
    /// Coarse scan points per decade before bisection.
    pub per_decade: usize,
    /// Δχ² defining the limit (4.605 for 90 % CL, 2 d.o.f.).
    pub delta_chi2: f64,
}

impl Default for LimitOptions {
    fn default() -> Self {
        Self {
            g_min: 1e-9,
            g_max: 1.0,
            per_decade: 8,
            delta_chi2: crate::units::delta_chi2_90cl_2dof(),
        }
    }
}

/// `n >= 2` log-spaced points from `lo` to `hi`, with both ends exact.
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (l0, l1) = (lo.ln(), hi.ln());
    (0..n)
        .map(|i| match i {
            0 => lo,
            _ if i + 1 == n => hi,
            _ => (l0 + (l1 - l0) * i as f64 / (n - 1) as f64).exp(),
        })
        .collect()
}

/// The coarse log grid of couplings used for scans (g = 0 excluded).
pub fn coupling_grid(opts: &LimitOptions) -> Vec<f64> {
    let decades = (opts.g_max / opts.g_min).log10();
    let n = (decades * opts.per_decade as f64).ceil() as usize;
    (0..=n)
        .map(|i| opts.g_min * 10f64.powf(decades * i as f64 / n as f64))
        .collect()
}

/// The smallest g at which χ²(g) − χ²_min reaches `opts.delta_chi2`: a coarse
/// log scan finds the first upward crossing, then bisection in log g to a
/// relative precision of 1e-12. Returns `None` if no crossing below g_max.
pub fn upper_limit(chi2: impl Fn(f64) -> f64, chi2_min: f64, opts: &LimitOptions) -> Option<f64> {
    let f = |g: f64| chi2(g) - chi2_min - opts.delta_chi2;
    let grid = coupling_grid(opts);
    let mut prev = grid[0];
    if f(prev) >= 0.0 {
        return Some(prev);
    }
    for &g in &grid[1..] {
        if f(g) >= 0.0 {
            let (mut lo, mut hi) = (prev, g);
            while hi / lo - 1.0 > 1e-12 {
                let mid = (lo * hi).sqrt();
                if f(mid) >= 0.0 {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Some((lo * hi).sqrt());
        }
        prev = g;
    }
    None
}

/// Find a uniform Δ such that the limit at one mass equals `target_g`: solves
/// χ²(target_g; Δ) − χ²_min(Δ) = Δχ² by bisection in log Δ. The residual and
/// the rates are those of that mass point; `chi2_min` is computed over the
/// coupling grid (and g = 0). Returns Δ in rate units.
pub fn calibrate_uniform_delta(
    residual: &[f64],
    poly: &Polynomial,
    sigma: &[f64],
    target_g: f64,
    opts: &LimitOptions,
) -> Result<f64> {
    if !(target_g.is_finite() && target_g > 0.0) {
        return Err(PhysicsError::InvalidParameter {
            name: "calibrate.g90".into(),
            value: target_g,
            reason: "target coupling must be > 0".into(),
        });
    }
    let grid = coupling_grid(opts);
    let excess = |delta: f64| {
        let data = BinnedData {
            residual: residual.to_vec(),
            delta: vec![delta; residual.len()],
        };
        let c = |g: f64| poly.chi2(&data, sigma, g);
        let cmin = grid
            .iter()
            .filter(|&&g| g <= target_g)
            .map(|&g| c(g))
            .fold(c(0.0), f64::min);
        c(target_g) - cmin - opts.delta_chi2
    };
    // Δχ² vanishes both for Δ → ∞ and for Δ → 0 (there the pulls can absorb
    // any rate change at a bounded cost Σ 1/σⱼ²). Take the largest Δ that
    // gives the target, i.e. the first upward crossing when Δ decreases:
    // that is the solution where the pulls stay moderate.
    let scale = poly
        .r0
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-300);
    let step = 10f64.powf(0.125);
    let mut hi = scale * 1e12;
    if excess(hi) > 0.0 {
        return Err(PhysicsError::Numerical(format!(
            "Δ for g90 = {target_g} exceeds 1e12 × the SM rate"
        )));
    }
    let mut lo = hi / step;
    while excess(lo) <= 0.0 {
        hi = lo;
        lo /= step;
        if lo < scale * 1e-12 {
            return Err(PhysicsError::Numerical(format!(
                "cannot reach g90 = {target_g} with any Δ: the model's rate change is too small"
            )));
        }
    }
    for _ in 0..400 {
        let mid = (lo * hi).sqrt();
        if excess(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi / lo - 1.0 < 1e-13 {
            break;
        }
    }
    Ok((lo * hi).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (BinnedData, Vec<Vec<f64>>, Vec<f64>) {
        let data = BinnedData {
            residual: vec![1.0, 0.5, -0.2, 0.3],
            delta: vec![0.5, 0.4, 0.3, 0.6],
        };
        let src = vec![vec![0.8, 0.6, 0.1, 0.05], vec![0.1, 0.3, 0.2, 0.4]];
        (data, src, vec![0.16, 0.3])
    }

    /// χ² at fixed pulls (the function inside the min of eq 20).
    fn chi2_at(data: &BinnedData, src: &[Vec<f64>], sigma: &[f64], xi: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..data.residual.len() {
            let mut m = data.residual[i];
            for (j, col) in src.iter().enumerate() {
                m -= col[i] + xi[j] * sigma[j] * col[i];
            }
            s += (m / data.delta[i]).powi(2);
        }
        s + xi.iter().map(|x| x * x).sum::<f64>()
    }

    #[test]
    fn closed_form_equals_brute_force_minimum() {
        // Brute force: coordinate descent with golden-section line searches,
        // independent of the linear algebra above.
        let (data, src, sigma) = toy();
        let mut xi = vec![0.0; 2];
        for _ in 0..200 {
            for j in 0..2 {
                let (mut a, mut b) = (-10.0, 10.0);
                for _ in 0..200 {
                    let m1 = a + (b - a) * 0.381_966;
                    let m2 = a + (b - a) * 0.618_034;
                    let mut x1 = xi.clone();
                    x1[j] = m1;
                    let mut x2 = xi.clone();
                    x2[j] = m2;
                    if chi2_at(&data, &src, &sigma, &x1) < chi2_at(&data, &src, &sigma, &x2) {
                        b = m2;
                    } else {
                        a = m1;
                    }
                }
                xi[j] = 0.5 * (a + b);
            }
        }
        let brute = chi2_at(&data, &src, &sigma, &xi);
        let closed = pull_chi2(&data, &src, &sigma);
        assert!((brute - closed).abs() < 1e-9, "{brute} vs {closed}");
    }

    #[test]
    fn no_pulls_is_plain_chi2() {
        let (data, src, _) = toy();
        let plain = chi2_at(&data, &src, &[0.0, 0.0], &[0.0, 0.0]);
        assert!((pull_chi2(&data, &src, &[0.0, 0.0]) - plain).abs() < 1e-12);
    }

    #[test]
    fn limit_of_a_parabola() {
        // χ²(g) = (g/1e-5)⁴ ⇒ limit at g = 1e-5 · 4.605^{1/4}.
        let g90 = upper_limit(|g| (g / 1e-5).powi(4), 0.0, &LimitOptions::default()).unwrap();
        assert!((g90 / (1e-5 * 4.605_170_186f64.powf(0.25)) - 1.0).abs() < 1e-10);
    }

    #[test]
    fn calibration_reproduces_target() {
        // Two sources with different shapes (like ⁸B and hep).
        let poly = Polynomial {
            r0: vec![vec![1.0, 0.5, 0.25], vec![0.01, 0.02, 0.03]],
            r1: vec![vec![2e8, 1e8, 0.0], vec![0.0, 1e6, 1e6]],
            r2: vec![vec![1e18, 1e17, 0.0], vec![0.0, 1e15, 1e16]],
        };
        let sigma = [0.16, 0.3];
        let opts = LimitOptions::default();
        let res = vec![0.0; 3];
        let delta = calibrate_uniform_delta(&res, &poly, &sigma, 3.93e-5, &opts).unwrap();
        let data = BinnedData {
            residual: res,
            delta: vec![delta; 3],
        };
        let c0 = poly.chi2(&data, &sigma, 0.0);
        let g = upper_limit(|g| poly.chi2(&data, &sigma, g), c0, &opts).unwrap();
        assert!((g / 3.93e-5 - 1.0).abs() < 1e-9, "{g}");
    }
}
