//! The extended binned Poisson likelihood over several channels (science
//! runs) with rate multipliers, Gaussian constraints and yield morphing.
//!
//! −2 ln L(θ) = 2 Σ_runs Σ_bins [μ_i − n_i + n_i ln(n_i/μ_i)]
//!              + Σ_constrained ((θ_k − c_k)/σ_k)²,
//! μ_i = Σ_components s_c · Π_{k ∈ mult(c)} θ_k · T_{c,i}(t_ly, t_qy),
//! the saturated form of the Poisson log-likelihood (it differs from
//! −2 Σ ln Pois(n_i | μ_i) by a constant, so likelihood ratios are unchanged;
//! at the saturated point it is 0).

use crate::error::{PhysicsError, Result};
use crate::likelihood::template::MorphGrid;

/// A parameter of the likelihood: bounds (the fit stays inside), starting
/// value and an optional Gaussian constraint N(mean, sigma).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name (used in outputs).
    pub name: String,
    /// Starting value of fits.
    pub init: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Gaussian constraint (mean, sigma), or free.
    pub constraint: Option<(f64, f64)>,
}

/// One component of one channel: s_c · Π θ_k · T(t_ly, t_qy).
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Name (e.g. "ac", "b8").
    pub name: String,
    /// The template (events per unit exposure per bin, or efficiency).
    pub template: MorphGrid,
    /// Scale s_c (e.g. exposure in tonne-years).
    pub scale: f64,
    /// Indices of the multiplying parameters.
    pub multipliers: Vec<usize>,
}

/// One science run: observed counts and components on the same bins.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Name (e.g. "sr0").
    pub name: String,
    /// Observed counts per bin.
    pub observed: Vec<f64>,
    /// Components.
    pub components: Vec<Component>,
}

/// One component evaluated at θ: (multiplier product × scale, template,
/// ∂template/∂t_ly, ∂template/∂t_qy); the derivatives are empty when not needed.
type EvaluatedComponent = (f64, Vec<f64>, Vec<f64>, Vec<f64>);

/// The full likelihood.
#[derive(Debug, Clone, PartialEq)]
pub struct PoissonModel {
    /// Parameters.
    pub params: Vec<Param>,
    /// Channels.
    pub channels: Vec<Channel>,
    /// Indices of the (t_ly, t_qy) parameters that morph the templates.
    pub yields: Option<(usize, usize)>,
}

impl PoissonModel {
    /// Check shapes, indices, bounds and constraints.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| PhysicsError::InvalidTable {
            name: "likelihood".into(),
            reason,
        };
        for p in &self.params {
            if !(p.lo.is_finite()
                && p.hi.is_finite()
                && p.lo < p.hi
                && p.init >= p.lo
                && p.init <= p.hi)
            {
                return Err(bad(format!(
                    "parameter `{}`: need lo < hi and lo <= init <= hi (got {}, {}, {})",
                    p.name, p.lo, p.hi, p.init
                )));
            }
            if let Some((m, s)) = p.constraint
                && !(m.is_finite() && s.is_finite() && s > 0.0)
            {
                return Err(bad(format!(
                    "parameter `{}`: constraint ({m}, {s})",
                    p.name
                )));
            }
        }
        let np = self.params.len();
        if let Some((a, b)) = self.yields
            && (a >= np || b >= np || a == b)
        {
            return Err(bad("yield parameter indices out of range".into()));
        }
        for ch in &self.channels {
            let nb = ch.observed.len();
            if ch.observed.iter().any(|n| !(n.is_finite() && *n >= 0.0)) {
                return Err(bad(format!("{}: observed counts must be >= 0", ch.name)));
            }
            for c in &ch.components {
                if c.template.n_bins() != nb {
                    return Err(bad(format!(
                        "{}/{}: {} template bins, {nb} observed bins",
                        ch.name,
                        c.name,
                        c.template.n_bins()
                    )));
                }
                if c.multipliers.iter().any(|&k| k >= np)
                    || !(c.scale.is_finite() && c.scale >= 0.0)
                {
                    return Err(bad(format!(
                        "{}/{}: bad multiplier index or scale",
                        ch.name, c.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Index of a parameter by name.
    pub fn index(&self, name: &str) -> Result<usize> {
        self.params
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| PhysicsError::Unknown {
                kind: "likelihood parameter".into(),
                name: name.into(),
                known: self
                    .params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Initial parameter values.
    pub fn init(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.init).collect()
    }

    fn yields_of(&self, theta: &[f64]) -> (f64, f64) {
        self.yields
            .map_or((0.0, 0.0), |(a, b)| (theta[a], theta[b]))
    }

    /// Expected counts per bin of every component of every channel at θ:
    /// result[channel][component][bin].
    pub fn expected(&self, theta: &[f64]) -> Vec<Vec<Vec<f64>>> {
        let (tx, ty) = self.yields_of(theta);
        self.channels
            .iter()
            .map(|ch| {
                ch.components
                    .iter()
                    .map(|c| {
                        let mut t = vec![0.0; ch.observed.len()];
                        c.template.eval(tx, ty, &mut t, None, None);
                        let f = c.scale * c.multipliers.iter().map(|&k| theta[k]).product::<f64>();
                        t.iter().map(|v| v * f).collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// −2 ln L at θ, and its gradient if `grad` is given.
    pub fn nll(&self, theta: &[f64], mut grad: Option<&mut [f64]>) -> f64 {
        let (tx, ty) = self.yields_of(theta);
        if let Some(g) = grad.as_deref_mut() {
            g.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut total = 0.0;
        for ch in &self.channels {
            let nb = ch.observed.len();
            let mut mu = vec![0.0; nb];
            // Per component: value and yield derivatives (only if needed).
            let mut parts: Vec<EvaluatedComponent> = Vec::with_capacity(ch.components.len());
            for c in &ch.components {
                let mut t = vec![0.0; nb];
                let f = c.scale * c.multipliers.iter().map(|&k| theta[k]).product::<f64>();
                if grad.is_some() && c.template.morphs() {
                    let (mut dx, mut dy) = (vec![0.0; nb], vec![0.0; nb]);
                    c.template
                        .eval(tx, ty, &mut t, Some(&mut dx), Some(&mut dy));
                    parts.push((f, t, dx, dy));
                } else {
                    c.template.eval(tx, ty, &mut t, None, None);
                    parts.push((f, t, vec![], vec![]));
                }
            }
            for (f, t, _, _) in &parts {
                for (m, v) in mu.iter_mut().zip(t) {
                    *m += f * v;
                }
            }
            for (m, n) in mu.iter().zip(&ch.observed) {
                total += if *m <= 0.0 {
                    if *n > 0.0 { f64::INFINITY } else { 0.0 }
                } else if *n > 0.0 {
                    2.0 * (m - n + n * (n / m).ln())
                } else {
                    2.0 * m
                };
            }
            if let Some(g) = grad.as_deref_mut() {
                // d(−2lnL)/dμ_i = 2 (1 − n_i/μ_i)
                let dmu: Vec<f64> = mu
                    .iter()
                    .zip(&ch.observed)
                    .map(|(m, n)| if *m > 0.0 { 2.0 * (1.0 - n / m) } else { 2.0 })
                    .collect();
                for (c, (f, t, dx, dy)) in ch.components.iter().zip(&parts) {
                    let s: f64 = t.iter().zip(&dmu).map(|(a, b)| a * b).sum();
                    for (pos, &k) in c.multipliers.iter().enumerate() {
                        let others: f64 = c
                            .multipliers
                            .iter()
                            .enumerate()
                            .filter(|(p, _)| *p != pos)
                            .map(|(_, &j)| theta[j])
                            .product();
                        g[k] += c.scale * others * s;
                    }
                    if let (Some((a, b)), false) = (self.yields, dx.is_empty()) {
                        g[a] += f * dx.iter().zip(&dmu).map(|(x, d)| x * d).sum::<f64>();
                        g[b] += f * dy.iter().zip(&dmu).map(|(x, d)| x * d).sum::<f64>();
                    }
                }
            }
        }
        for (k, p) in self.params.iter().enumerate() {
            if let Some((m, s)) = p.constraint {
                let z = (theta[k] - m) / s;
                total += z * z;
                if let Some(g) = grad.as_deref_mut() {
                    g[k] += 2.0 * z / s;
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn toy(n: Vec<f64>, b: Vec<f64>, s: Vec<f64>) -> PoissonModel {
        PoissonModel {
            params: vec![
                Param {
                    name: "mu".into(),
                    init: 1.0,
                    lo: 0.0,
                    hi: 100.0,
                    constraint: None,
                },
                Param {
                    name: "b".into(),
                    init: 1.0,
                    lo: 0.01,
                    hi: 10.0,
                    constraint: Some((1.0, 0.1)),
                },
            ],
            channels: vec![Channel {
                name: "c".into(),
                observed: n,
                components: vec![
                    Component {
                        name: "bkg".into(),
                        template: MorphGrid::fixed(b).unwrap(),
                        scale: 1.0,
                        multipliers: vec![1],
                    },
                    Component {
                        name: "sig".into(),
                        template: MorphGrid::fixed(s).unwrap(),
                        scale: 1.0,
                        multipliers: vec![0],
                    },
                ],
            }],
            yields: None,
        }
    }

    #[test]
    fn nll_is_saturated_poisson_plus_constraint_and_gradient_is_right() {
        let m = toy(vec![3.0, 0.0], vec![1.0, 2.0], vec![2.0, 0.5]);
        m.validate().unwrap();
        let th = [0.7, 1.2];
        let mu = [1.2 + 1.4, 2.4 + 0.35];
        let want = 2.0 * (mu[0] - 3.0 + 3.0 * (3.0f64 / mu[0]).ln()) + 2.0 * mu[1] + 4.0;
        let mut g = [0.0; 2];
        let v = m.nll(&th, Some(&mut g));
        assert!((v - want).abs() < 1e-12);
        for k in 0..2 {
            let mut a = th;
            let mut b = th;
            a[k] += 1e-6;
            b[k] -= 1e-6;
            let num = (m.nll(&a, None) - m.nll(&b, None)) / 2e-6;
            assert!((num - g[k]).abs() < 1e-6, "{k}: {num} vs {}", g[k]);
        }
    }
}
