//! Profile-likelihood fits of a [`PoissonModel`] with argmin's L-BFGS
//! (More–Thuente line search) on analytic gradients.
//!
//! Bounds are imposed by the smooth map θ = lo + (hi − lo)/(1 + e^{−u}) of an
//! unbounded u: the minimum of −2 ln L inside the bounds is unchanged by the
//! reparametrisation (only the path of the minimiser is). Because the yield
//! morphing is piecewise bilinear (kinks at the anchors), every fit is
//! restarted once from its result with a fresh L-BFGS memory, and falls back
//! to Nelder–Mead if the line search fails.

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;

use crate::error::{PhysicsError, Result};
use crate::likelihood::model::PoissonModel;

/// Result of one (profile) fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// All parameters at the minimum (fixed ones at their fixed values).
    pub theta: Vec<f64>,
    /// −2 ln L at the minimum.
    pub nll: f64,
}

struct Problem<'a> {
    model: &'a PoissonModel,
    base: Vec<f64>,
    free: Vec<usize>,
}

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

impl Problem<'_> {
    fn theta(&self, u: &[f64]) -> Vec<f64> {
        let mut t = self.base.clone();
        for (&k, &v) in self.free.iter().zip(u) {
            let p = &self.model.params[k];
            t[k] = p.lo + (p.hi - p.lo) * sigmoid(v);
        }
        t
    }

    fn to_u(&self, theta: &[f64]) -> Vec<f64> {
        self.free
            .iter()
            .map(|&k| {
                let p = &self.model.params[k];
                let eps = 1e-9 * (p.hi - p.lo);
                let t = theta[k].clamp(p.lo + eps, p.hi - eps);
                ((t - p.lo) / (p.hi - t)).ln()
            })
            .collect()
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Self::Param) -> std::result::Result<f64, ArgminError> {
        Ok(self.model.nll(&self.theta(u), None))
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, u: &Self::Param) -> std::result::Result<Vec<f64>, ArgminError> {
        let t = self.theta(u);
        let mut g = vec![0.0; t.len()];
        self.model.nll(&t, Some(&mut g));
        Ok(self
            .free
            .iter()
            .map(|&k| {
                let p = &self.model.params[k];
                g[k] * (t[k] - p.lo) * (p.hi - t[k]) / (p.hi - p.lo)
            })
            .collect())
    }
}

fn lbfgs(
    p: &Problem<'_>,
    u0: Vec<f64>,
    tol_grad: f64,
) -> std::result::Result<(Vec<f64>, f64), ArgminError> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tol_grad)?
        .with_tolerance_cost(1e-13)?;
    let res = Executor::new(
        Problem {
            model: p.model,
            base: p.base.clone(),
            free: p.free.clone(),
        },
        solver,
    )
    .configure(|s| s.param(u0).max_iters(400))
    .run()?;
    let st = res.state();
    let best = st.get_best_param().cloned().unwrap_or_default();
    Ok((best, st.get_best_cost()))
}

fn nelder_mead(
    p: &Problem<'_>,
    u0: Vec<f64>,
    step: f64,
) -> std::result::Result<(Vec<f64>, f64), ArgminError> {
    let mut simplex = vec![u0.clone()];
    for i in 0..u0.len() {
        let mut v = u0.clone();
        v[i] += step;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10)?;
    let res = Executor::new(
        Problem {
            model: p.model,
            base: p.base.clone(),
            free: p.free.clone(),
        },
        solver,
    )
    .configure(|s| s.max_iters(20_000))
    .run()?;
    let st = res.state();
    let best = st.get_best_param().cloned().unwrap_or_default();
    Ok((best, st.get_best_cost()))
}

/// Minimise −2 ln L over all parameters except `fixed` (index, value),
/// starting from `start` (or the parameters' `init`).
pub fn fit(model: &PoissonModel, fixed: &[(usize, f64)], start: Option<&[f64]>) -> Result<Fit> {
    fit_with(model, fixed, start, false)
}

/// As [`fit`], then polished by Nelder–Mead from the L-BFGS result: the
/// bilinear yield morphing has kinks at the anchors where a quasi-Newton
/// step can stall (by up to ~0.05 in −2 ln L); the polish costs ~10 ms and
/// is used for the measurement (best fit, q₀, interval, profile), not for
/// every point of a limit scan.
pub fn fit_polished(
    model: &PoissonModel,
    fixed: &[(usize, f64)],
    start: Option<&[f64]>,
) -> Result<Fit> {
    fit_with(model, fixed, start, true)
}

/// As [`fit`] without the L-BFGS restart: for the many warm-started fits of
/// a limit scan, where each start is already the previous coupling's optimum.
pub fn fit_quick(
    model: &PoissonModel,
    fixed: &[(usize, f64)],
    start: Option<&[f64]>,
) -> Result<Fit> {
    fit_opts(model, fixed, start, false, false)
}

fn fit_with(
    model: &PoissonModel,
    fixed: &[(usize, f64)],
    start: Option<&[f64]>,
    polish: bool,
) -> Result<Fit> {
    fit_opts(model, fixed, start, polish, true)
}

fn fit_opts(
    model: &PoissonModel,
    fixed: &[(usize, f64)],
    start: Option<&[f64]>,
    polish: bool,
    restart: bool,
) -> Result<Fit> {
    let mut base = start.map_or_else(|| model.init(), <[f64]>::to_vec);
    if base.len() != model.params.len() {
        return Err(PhysicsError::Numerical(
            "fit: start has the wrong length".into(),
        ));
    }
    for &(k, v) in fixed {
        if k >= base.len() || !v.is_finite() {
            return Err(PhysicsError::Numerical(format!(
                "fit: bad fixed parameter {k} = {v}"
            )));
        }
        base[k] = v;
    }
    let free: Vec<usize> = (0..model.params.len())
        .filter(|k| !fixed.iter().any(|(j, _)| j == k))
        .collect();
    let p = Problem { model, base, free };
    if p.free.is_empty() {
        let nll = model.nll(&p.base, None);
        return Ok(Fit { theta: p.base, nll });
    }
    let u0 = p.to_u(&p.base);
    let mut best: Option<(Vec<f64>, f64)> = None;
    let n_free = p.free.len();
    let consider = |best: &mut Option<(Vec<f64>, f64)>, cand: (Vec<f64>, f64)| {
        if cand.1.is_finite()
            && cand.0.len() == n_free
            && best.as_ref().is_none_or(|b| cand.1 < b.1)
        {
            *best = Some(cand);
        }
    };
    // The scan's warm-started fits stop at |∇| < 1e-5 (a change of −2 ln L
    // of order |∇|² ≈ 1e-10); the others at 1e-7.
    let tol_grad = if restart { 1e-7 } else { 1e-5 };
    match lbfgs(&p, u0.clone(), tol_grad) {
        Ok(first) => {
            let again = restart.then(|| lbfgs(&p, first.0.clone(), tol_grad));
            consider(&mut best, first);
            if let Some(Ok(r)) = again {
                consider(&mut best, r);
            }
        }
        Err(_) => {
            if let Ok(r) = nelder_mead(&p, u0, 0.5) {
                consider(&mut best, r);
            }
        }
    }
    if polish {
        for step in [0.3, 0.05] {
            let Some(from) = best.as_ref().map(|b| b.0.clone()) else {
                break;
            };
            if let Ok(r) = nelder_mead(&p, from, step) {
                consider(&mut best, r);
            }
        }
    }
    let Some((u, nll)) = best else {
        return Err(PhysicsError::Numerical(
            "profile fit failed (L-BFGS and Nelder-Mead)".into(),
        ));
    };
    Ok(Fit {
        theta: p.theta(&u),
        nll,
    })
}

/// Discovery test statistic q₀ = −2 ln [L(θ_k = 0, θ̂̂)/L(θ̂)] for a
/// non-negative parameter k (q₀ = 0 if θ̂_k = 0), and Z = √q₀.
pub fn significance(model: &PoissonModel, k: usize, best: &Fit) -> Result<(f64, f64)> {
    let null = fit_polished(model, &[(k, 0.0)], Some(&best.theta))?;
    let q0 = (null.nll - best.nll).max(0.0);
    Ok((q0, q0.sqrt()))
}

/// Profile −2 ln L with parameter k fixed at `v` (warm-started at `start`;
/// polished, see [`fit_polished`]).
pub fn profile(model: &PoissonModel, k: usize, v: f64, start: &[f64]) -> Result<Fit> {
    fit_polished(model, &[(k, v)], Some(start))
}

/// Interval of parameter k where the profile −2 ln L rises by less than
/// `delta` above the best fit (Δ = 1: the 68 % interval). Each edge is found
/// by stepping away from θ̂_k until the rise exceeds `delta`, then bisection
/// to a relative 1e-5. An edge that the parameter's bound reaches first is
/// returned as the bound.
pub fn interval(model: &PoissonModel, k: usize, best: &Fit, delta: f64) -> Result<(f64, f64)> {
    let p = &model.params[k];
    let c = best.theta[k];
    let scale = (c.abs()).max(1e-3 * (p.hi - p.lo));
    let rise = |v: f64, start: &[f64]| -> Result<(f64, Vec<f64>)> {
        let f = profile(model, k, v, start)?;
        Ok((f.nll - best.nll - delta, f.theta))
    };
    let mut edges = [p.lo, p.hi];
    for (side, dir) in [(0usize, -1.0f64), (1, 1.0)] {
        let bound = if dir < 0.0 { p.lo } else { p.hi };
        let mut inner = c;
        let mut start = best.theta.clone();
        let mut step = 0.25 * scale;
        let mut outer = None;
        for _ in 0..200 {
            let v = (inner + dir * step).clamp(p.lo, p.hi);
            let (r, th) = rise(v, &start)?;
            if r >= 0.0 {
                outer = Some(v);
                break;
            }
            if v == bound {
                break;
            }
            inner = v;
            start = th;
            step *= 1.5;
        }
        let Some(mut out) = outer else {
            edges[side] = bound;
            continue;
        };
        let mut inn = inner;
        while (out - inn).abs() > 1e-5 * scale {
            let mid = 0.5 * (out + inn);
            let (r, th) = rise(mid, &start)?;
            if r >= 0.0 {
                out = mid;
            } else {
                inn = mid;
                start = th;
            }
        }
        edges[side] = 0.5 * (out + inn);
    }
    Ok((edges[0], edges[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::likelihood::model::{Channel, Component, Param};
    use crate::likelihood::template::MorphGrid;

    fn counting(n: f64, b: f64, b_sigma: Option<f64>) -> PoissonModel {
        PoissonModel {
            params: vec![
                Param {
                    name: "s".into(),
                    init: 1.0,
                    lo: 0.0,
                    hi: 1000.0,
                    constraint: None,
                },
                Param {
                    name: "b".into(),
                    init: 1.0,
                    lo: 0.0,
                    hi: 10.0,
                    constraint: b_sigma.map(|s| (1.0, s)),
                },
            ],
            channels: vec![Channel {
                name: "c".into(),
                observed: vec![n],
                components: vec![
                    Component {
                        name: "b".into(),
                        template: MorphGrid::fixed(vec![b]).unwrap(),
                        scale: 1.0,
                        multipliers: vec![1],
                    },
                    Component {
                        name: "s".into(),
                        template: MorphGrid::fixed(vec![1.0]).unwrap(),
                        scale: 1.0,
                        multipliers: vec![0],
                    },
                ],
            }],
            yields: None,
        }
    }

    #[test]
    fn counting_experiment_matches_the_analytic_answers() {
        // Known background (tight constraint ~ fixed): n = 10, b = 3.
        // ŝ = 7, q0 = 2 [n ln(n/b) − (n − b)], Δ(−2lnL)=1 interval from
        // 2 [s + b − n + n ln(n/(s+b))] = 1.
        let m = counting(10.0, 3.0, Some(1e-6));
        let best = fit(&m, &[], None).unwrap();
        assert!((best.theta[0] - 7.0).abs() < 1e-4, "{:?}", best.theta);
        let (q0, z) = significance(&m, 0, &best).unwrap();
        let want = 2.0 * (10.0 * (10.0f64 / 3.0).ln() - 7.0);
        assert!((q0 - want).abs() < 1e-4, "{q0} vs {want}");
        assert!((z - want.sqrt()).abs() < 1e-4);
        let (lo, hi) = interval(&m, 0, &best, 1.0).unwrap();
        let f = |s: f64| 2.0 * (s + 3.0 - 10.0 + 10.0 * (10.0 / (s + 3.0f64)).ln()) - 1.0;
        assert!(f(lo).abs() < 1e-3 && f(hi).abs() < 1e-3, "{lo} {hi}");
        assert!(lo < 7.0 && hi > 7.0);
    }

    #[test]
    fn a_constrained_background_widens_the_interval_and_lowers_q0() {
        let tight = counting(10.0, 3.0, Some(1e-6));
        let loose = counting(10.0, 3.0, Some(0.5));
        let bt = fit(&tight, &[], None).unwrap();
        let bl = fit(&loose, &[], None).unwrap();
        let (qt, _) = significance(&tight, 0, &bt).unwrap();
        let (ql, _) = significance(&loose, 0, &bl).unwrap();
        assert!(ql < qt - 0.5, "{ql} vs {qt}");
        let (lt, ht) = interval(&tight, 0, &bt, 1.0).unwrap();
        let (ll, hl) = interval(&loose, 0, &bl, 1.0).unwrap();
        assert!(hl - ll > ht - lt);
    }

    #[test]
    fn a_deficit_gives_zero_signal_and_zero_significance() {
        let m = counting(1.0, 3.0, Some(0.1));
        let best = fit(&m, &[], None).unwrap();
        assert!(best.theta[0] < 1e-3, "{:?}", best.theta);
        let (q0, _) = significance(&m, 0, &best).unwrap();
        assert!(q0 < 1e-6);
    }
}
