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

/// Largest number of pulled sources [`PullChi2`] keeps on the stack; models
/// with more (non-empty) pulled sources use [`pull_chi2`] per evaluation.
pub const MAX_PULLS: usize = 12;

/// Relative accuracy demanded of the expanded (normal-equation) form of χ²
/// before it is used; beyond it [`PullChi2`] evaluates the sum of squares.
const FAST_REL_TOL: f64 = 1e-11;

/// Largest relative uncertainty of χ² that [`PullChi2`] reports as a number
/// (from the rounding of its inputs); beyond it, NaN.
pub const RESOLVED_REL_TOL: f64 = 1e-6;

/// Coefficients of a polynomial in s = g² (constant first), degree ≤ 4.
type Quartic = [f64; 5];
/// Coefficients of a polynomial in s = g², degree ≤ 2.
type Quadratic = [f64; 3];

#[inline]
fn eval4(p: &Quartic, s: f64) -> f64 {
    (((p[4] * s + p[3]) * s + p[2]) * s + p[1]) * s + p[0]
}

#[inline]
fn eval2(p: &Quadratic, s: f64) -> f64 {
    (p[2] * s + p[1]) * s + p[0]
}

/// (a·b)(s) for two quadratics in s, accumulated into `out`.
#[inline]
fn add_product(out: &mut Quartic, a: &Quadratic, b: &Quadratic) {
    out[0] += a[0] * b[0];
    out[1] += a[0] * b[1] + a[1] * b[0];
    out[2] += a[0] * b[2] + a[1] * b[1] + a[2] * b[0];
    out[3] += a[1] * b[2] + a[2] * b[1];
    out[4] += a[2] * b[2];
}

fn abs2(p: &Quadratic) -> Quadratic {
    [p[0].abs(), p[1].abs(), p[2].abs()]
}

/// The pull χ² of eq 20 as a function of the coupling g alone, for one
/// (model, mediator mass, data set): [`pull_chi2`] of
/// `poly.at(g)`, without allocating per evaluation.
///
/// With s = g², rᵢ(s) = (dᵢ − Σⱼ Rⱼᵢ(s))/Δᵢ and Cᵢⱼ(s) = σⱼ Rⱼᵢ(s)/Δᵢ are
/// quadratics in s, so rᵀr, b = Cᵀr and A = I + CᵀC are quartics in s whose
/// coefficients are computed once here. Evaluating at g costs O(k²) for the
/// quartics and a k×k Cholesky solve on the stack (k = pulled sources with a
/// non-zero rate in some bin; sources whose column vanishes have ξⱼ = 0 and
/// are dropped exactly).
///
/// χ² is the quadratic form rᵀr − 2bᵀξ + ξᵀAξ at the solved ξ, which is
/// second-order in the error of ξ. It cancels when the pulls absorb most of
/// rᵀr (large g): a rounding bound built from |coefficient| quartics, of order
/// ε·(√(rᵀr)_abs + Σⱼ|ξⱼ|√(CⱼᵀCⱼ)_abs)², decides per evaluation, and where
/// that bound exceeds 1e-11·χ² the sum of squares Σξ² + Σᵢ(rᵢ − Σⱼ Cᵢⱼξⱼ)² of
/// [`pull_chi2`] is evaluated instead (O(n·k), still on the stack).
#[derive(Debug, Clone)]
pub struct PullChi2 {
    /// Bins.
    n: usize,
    /// Kept pulls.
    k: usize,
    /// rᵢ(s), per bin.
    r: Vec<Quadratic>,
    /// Cᵢⱼ(s), bin-major (`c[i * k + j]`).
    c: Vec<Quadratic>,
    /// The pulls in the column order of the Givens sum of squares: fewest
    /// non-zero bins first. A source that reaches few bins (pp, ⁷Be, CNO
    /// recoils end in the lowest bins) then adds no fill-in to the rows of
    /// the other bins, whose rotations start at the dense columns (⁸B, hep)
    /// placed last: about half the rotations of source order.
    givens_order: Vec<usize>,
    /// rᵀr(s).
    rr: Quartic,
    /// bⱼ(s) = Σᵢ Cᵢⱼ rᵢ.
    cr: Vec<Quartic>,
    /// (CᵀC)ₚ_q(s), packed lower triangle (`p (p+1)/2 + q`, q ≤ p).
    cc: Vec<Quartic>,
    /// Σᵢ |rᵢ|(s)², |·| taken coefficient-wise (bounds rounding of rᵀr).
    rr_abs: Quartic,
    /// Σᵢ |Cᵢⱼ|(s)², coefficient-wise, per kept pull.
    cc_abs: Vec<Quartic>,
    /// ε times a worst-case summation length.
    err_scale: f64,
    /// More than [`MAX_PULLS`] pulls: evaluate the reference form.
    reference: Option<(BinnedData, Polynomial, Vec<f64>)>,
}

impl PullChi2 {
    /// Precompute the quartic coefficients for rates `poly`, data `data` and
    /// pull widths `sigma` (one per source; 0 = no pull).
    pub fn new(poly: &Polynomial, data: &BinnedData, sigma: &[f64]) -> Self {
        let n = data.residual.len();
        let coef = |j: usize, i: usize| [poly.r0[j][i], poly.r1[j][i], poly.r2[j][i]];
        // Pulled sources whose rate is non-zero somewhere.
        let kept: Vec<usize> = (0..poly.r0.len())
            .filter(|&j| sigma.get(j).is_some_and(|&s| s > 0.0))
            .filter(|&j| (0..n).any(|i| coef(j, i) != [0.0; 3]))
            .collect();
        let k = kept.len();
        let mut r = Vec::with_capacity(n);
        let mut c = Vec::with_capacity(n * k);
        for i in 0..n {
            let d = data.delta[i];
            let mut e = [0.0; 3];
            for j in 0..poly.r0.len() {
                let cj = coef(j, i);
                for (e, v) in e.iter_mut().zip(cj) {
                    *e += v;
                }
            }
            r.push([(data.residual[i] - e[0]) / d, -e[1] / d, -e[2] / d]);
            for &j in &kept {
                let cj = coef(j, i);
                let s = sigma[j];
                c.push([s * cj[0] / d, s * cj[1] / d, s * cj[2] / d]);
            }
        }
        let mut rr = [0.0; 5];
        let mut rr_abs = [0.0; 5];
        let mut cr = vec![[0.0; 5]; k];
        let mut cc = vec![[0.0; 5]; k * (k + 1) / 2];
        let mut cc_abs = vec![[0.0; 5]; k];
        for i in 0..n {
            let ri = &r[i];
            let row = &c[i * k..(i + 1) * k];
            add_product(&mut rr, ri, ri);
            add_product(&mut rr_abs, &abs2(ri), &abs2(ri));
            for p in 0..k {
                add_product(&mut cr[p], &row[p], ri);
                add_product(&mut cc_abs[p], &abs2(&row[p]), &abs2(&row[p]));
                for q in 0..=p {
                    add_product(&mut cc[p * (p + 1) / 2 + q], &row[p], &row[q]);
                }
            }
        }
        let nonzero_bins: Vec<usize> = (0..k)
            .map(|p| (0..n).filter(|&i| c[i * k + p] != [0.0; 3]).count())
            .collect();
        let mut givens_order: Vec<usize> = (0..k).collect();
        givens_order.sort_by_key(|&p| nonzero_bins[p]);
        let reference = (k > MAX_PULLS).then(|| (data.clone(), poly.clone(), sigma.to_vec()));
        Self {
            n,
            k,
            r,
            c,
            givens_order,
            rr,
            cr,
            cc,
            rr_abs,
            cc_abs,
            err_scale: 4.0 * (n + k + 4) as f64 * f64::EPSILON,
            reference,
        }
    }

    /// χ²(g) of eq 20 (minimised over the pulls); NaN where it cannot be
    /// resolved in double precision ([`Form::Unresolved`]).
    #[inline]
    pub fn eval(&self, g: f64) -> f64 {
        self.eval_form(g).0
    }

    /// χ²(g) and which form gave it: [`Form::Expanded`] (the quartics),
    /// [`Form::SumOfSquares`] (cancellation was too large for the former) or
    /// [`Form::Unresolved`] (NaN: the rates exceed the data so far that
    /// double precision cannot resolve χ²).
    pub fn eval_form(&self, g: f64) -> (f64, Form) {
        if let Some((data, poly, sigma)) = &self.reference {
            return (poly.chi2(data, sigma, g), Form::Reference);
        }
        // The pull count as a constant: the k×k loops unroll and lose their
        // bounds checks.
        match self.k {
            0 => self.eval_fixed::<0>(g),
            1 => self.eval_fixed::<1>(g),
            2 => self.eval_fixed::<2>(g),
            3 => self.eval_fixed::<3>(g),
            4 => self.eval_fixed::<4>(g),
            5 => self.eval_fixed::<5>(g),
            6 => self.eval_fixed::<6>(g),
            7 => self.eval_fixed::<7>(g),
            8 => self.eval_fixed::<8>(g),
            9 => self.eval_fixed::<9>(g),
            10 => self.eval_fixed::<10>(g),
            11 => self.eval_fixed::<11>(g),
            _ => self.eval_fixed::<MAX_PULLS>(g),
        }
    }

    /// [`Self::eval_form`] for exactly K = k pulls (stack arrays).
    #[allow(clippy::needless_range_loop)] // dense k×k index loops (Cholesky)
    fn eval_fixed<const K: usize>(&self, g: f64) -> (f64, Form) {
        let s = g * g;
        debug_assert_eq!(self.k, K);
        let k = K;
        let rr = eval4(&self.rr, s);
        let mut a = [[0.0; K]; K];
        let mut b = [0.0; K];
        for p in 0..k {
            b[p] = eval4(&self.cr[p], s);
            for q in 0..=p {
                a[p][q] = eval4(&self.cc[p * (p + 1) / 2 + q], s);
            }
            a[p][p] += 1.0;
        }
        // A = L Lᵀ (L in the lower triangle), L y = b, Lᵀ ξ = y.
        for j in 0..k {
            let mut d = a[j][j];
            for p in 0..j {
                d -= a[j][p] * a[j][p];
            }
            let d = d.max(f64::MIN_POSITIVE).sqrt();
            a[j][j] = d;
            for i in j + 1..k {
                let mut t = a[i][j];
                for p in 0..j {
                    t -= a[i][p] * a[j][p];
                }
                a[i][j] = t / d;
            }
        }
        let mut xi = b;
        for i in 0..k {
            for p in 0..i {
                xi[i] -= a[i][p] * xi[p];
            }
            xi[i] /= a[i][i];
        }
        for i in (0..k).rev() {
            for p in i + 1..k {
                xi[i] -= a[p][i] * xi[p];
            }
            xi[i] /= a[i][i];
        }
        // χ² = rᵀr − 2bᵀξ + ξᵀAξ with ξᵀAξ = ‖Lᵀξ‖²: second order in the
        // error of ξ.
        let mut quad = rr;
        let mut bound = eval4(&self.rr_abs, s).sqrt();
        let (mut xx, mut cc_sum) = (0.0, 0.0);
        for p in 0..k {
            let lt: f64 = (p..k).map(|q| a[q][p] * xi[q]).sum();
            quad += lt * lt - 2.0 * b[p] * xi[p];
            let cc = eval4(&self.cc_abs[p], s);
            bound += xi[p].abs() * cc.sqrt();
            xx += xi[p] * xi[p];
            cc_sum += cc;
        }
        // Rounding of the quartics (relative ε·scale of their |terms|)
        // changes χ² to first order by 2ξᵀδb − ξᵀδAξ (≤ first term) and
        // through the re-solved ξ by (δb − δAξ)ᵀA⁻¹(δb − δAξ), λ_min(A) ≥ 1
        // (second term: it dominates when CᵀC is huge and A ill-conditioned).
        let e = self.err_scale;
        let err = e * (bound * bound + xx) + 2.0 * e * e * (bound * bound * cc_sum + xx);
        if err <= FAST_REL_TOL * quad {
            return (quad, Form::Expanded);
        }
        self.sum_of_squares::<K>(s)
    }

    /// min_ξ ‖r − Cξ‖² + ‖ξ‖² at s = g² by Givens rotations of the stacked
    /// rows [I | 0] and [Cᵢ | rᵢ], one bin at a time (Gentleman's sequential
    /// QR): the part of each rᵢ that no pull can absorb is rotated out, and
    /// χ² is the sum of their squares. Backward stable, no normal equations,
    /// so neither the cancellation of rᵀr − bᵀξ nor the squared condition
    /// number of CᵀC enters.
    ///
    /// The value is only as good as its inputs: rᵢ = (dᵢ − Σⱼ Rⱼᵢ)/Δᵢ is
    /// rounded at the scale of the rates, and at couplings whose rates exceed
    /// the data by 10¹⁰ or more the pulls cancel them beyond double precision
    /// (the data are lost in that rounding). With the rounding estimate
    /// η = √(n+k) ε (‖r‖ + Σⱼ |ξⱼ| ‖Cⱼ‖), norms of the coefficient magnitudes,
    /// χ² is uncertain by about 2√χ² η + η²; above [`RESOLVED_REL_TOL`]·χ² the
    /// result is NaN ([`Form::Unresolved`]) rather than a number that depends
    /// on rounding. (Checked on the paper's scan: every value kept agrees to
    /// 4e-11 with the same sum taken in another column order, while values
    /// marked NaN differed by up to 90 % between the two orders.)
    fn sum_of_squares<const K: usize>(&self, s: f64) -> (f64, Form) {
        let k = K;
        let mut rm = [[0.0; K]; K];
        for (p, row) in rm.iter_mut().enumerate().take(k) {
            row[p] = 1.0;
        }
        let mut z = [0.0; K];
        let mut row = [0.0; K];
        let mut chi2 = 0.0;
        for i in 0..self.n {
            let ci = &self.c[i * k..(i + 1) * k];
            for (x, &p) in row.iter_mut().zip(&self.givens_order) {
                *x = eval2(&ci[p], s);
            }
            let mut e = eval2(&self.r[i], s);
            for p in 0..k {
                let x = row[p];
                if x == 0.0 {
                    continue;
                }
                let d = rm[p][p];
                let mut h = (d * d + x * x).sqrt();
                if !(h.is_finite() && h > 0.0) {
                    h = d.hypot(x);
                }
                let (cs, sn) = (d / h, x / h);
                rm[p][p] = h;
                for q in p + 1..k {
                    let (a, b) = (rm[p][q], row[q]);
                    rm[p][q] = cs * a + sn * b;
                    row[q] = cs * b - sn * a;
                }
                let a = z[p];
                z[p] = cs * a + sn * e;
                e = cs * e - sn * a;
            }
            chi2 += e * e;
        }
        // ξ (Givens column order) from R ξ = z, for the error bound.
        let mut xi = [0.0; K];
        for p in (0..k).rev() {
            let mut t = z[p];
            for q in p + 1..k {
                t -= rm[p][q] * xi[q];
            }
            xi[p] = t / rm[p][p];
        }
        let mut scale = eval4(&self.rr_abs, s).sqrt();
        for (x, &p) in xi.iter().zip(&self.givens_order) {
            scale += x.abs() * eval4(&self.cc_abs[p], s).sqrt();
        }
        let eta = f64::EPSILON * ((self.n + self.k) as f64).sqrt() * scale;
        let err = 2.0 * chi2.sqrt() * eta + eta * eta;
        if err <= RESOLVED_REL_TOL * chi2 {
            (chi2, Form::SumOfSquares)
        } else {
            (f64::NAN, Form::Unresolved)
        }
    }
}

/// How [`PullChi2::eval_form`] evaluated χ².
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// rᵀr − 2bᵀξ + ξᵀAξ from the precomputed quartics.
    Expanded,
    /// Σᵢ eᵢ² by Givens rotations (cancellation or ill-conditioning made
    /// the expanded form inaccurate).
    SumOfSquares,
    /// More than [`MAX_PULLS`] pulls: [`pull_chi2`] itself.
    Reference,
    /// Not resolvable in double precision (the value is NaN): see
    /// [`PullChi2`]'s sum of squares.
    Unresolved,
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

/// The smallest g at which χ²(g) − χ²_min reaches `opts.delta_chi2`: the
/// first upward crossing on the coarse log grid [`coupling_grid`], refined by
/// Brent's method in ln g (argmin's `BrentRoot`, inverse quadratic
/// interpolation safeguarded by bisection) to 1e-12 in ln g, i.e. a relative
/// precision of 1e-12 in g. Returns `None` if no crossing below g_max.
pub fn upper_limit(chi2: impl Fn(f64) -> f64, chi2_min: f64, opts: &LimitOptions) -> Option<f64> {
    let grid = coupling_grid(opts);
    let mut values = Vec::with_capacity(grid.len());
    for &g in &grid {
        let v = chi2(g);
        values.push(v);
        if v - chi2_min - opts.delta_chi2 >= 0.0 {
            break;
        }
    }
    upper_limit_on_grid(chi2, &grid[..values.len()], &values, chi2_min, opts)
}

/// [`upper_limit`] when χ² is already known on the coarse grid: `values[i]`
/// = χ²(`grid[i]`) (a prefix of the grid is enough if it holds the first
/// crossing). Only the refinement evaluates `chi2`.
pub fn upper_limit_on_grid(
    chi2: impl Fn(f64) -> f64,
    grid: &[f64],
    values: &[f64],
    chi2_min: f64,
    opts: &LimitOptions,
) -> Option<f64> {
    let f = |g: f64| chi2(g) - chi2_min - opts.delta_chi2;
    let above = |v: f64| v - chi2_min - opts.delta_chi2 >= 0.0;
    let i = values.iter().position(|&v| above(v))?;
    if i == 0 {
        return Some(grid[0]);
    }
    Some(refine_crossing(&f, grid[i - 1], grid[i]))
}

/// Relative precision in g of the refined limit.
const LIMIT_REL_TOL: f64 = 1e-12;

/// f(g) in x = ln g, for argmin.
struct InLog<'a>(&'a dyn Fn(f64) -> f64);

impl argmin::core::CostFunction for InLog<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, x: &f64) -> std::result::Result<f64, argmin::core::Error> {
        Ok((self.0)(x.exp()))
    }
}

/// A root of f between `lo` (f < 0) and `hi` (f ≥ 0), to [`LIMIT_REL_TOL`]:
/// Brent in ln g; plain bisection in ln g if Brent fails (it cannot on a
/// continuous f, but a NaN from f must not go unnoticed as a limit).
fn refine_crossing(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    use argmin::core::{Executor, State, TerminationReason, TerminationStatus};
    let solver = argmin::solver::brent::BrentRoot::new(lo.ln(), hi.ln(), LIMIT_REL_TOL);
    let run = Executor::new(InLog(f), solver)
        .configure(|s| s.max_iters(200))
        .timer(false)
        .run();
    if let Ok(res) = run {
        let state = res.state();
        let converged = matches!(
            state.get_termination_status(),
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        );
        if let (true, Some(x)) = (converged, state.get_param()) {
            let g = x.exp();
            if g.is_finite() && (lo..=hi).contains(&g) {
                return g;
            }
        }
    }
    bisect_crossing(f, lo, hi)
}

/// Bisection in ln g of a crossing bracketed by `lo` (f < 0) and `hi`
/// (f ≥ 0) to [`LIMIT_REL_TOL`] (the limit finder before issue 14; kept as
/// the fallback and as the reference of the tests).
fn bisect_crossing(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    while hi / lo - 1.0 > LIMIT_REL_TOL {
        let mid = (lo * hi).sqrt();
        if f(mid) >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (lo * hi).sqrt()
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
        let chi2 = PullChi2::new(poly, &data, sigma);
        let c = |g: f64| chi2.eval(g);
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

    /// Rates with interference (R₁ < 0: a dip at g = 1e-4), a source
    /// without pull, one whose rate vanishes in every bin, and data with a
    /// non-zero residual.
    fn rich() -> (Polynomial, BinnedData, Vec<f64>) {
        let x = 1e8;
        let shape = [1.0, 0.5, 0.25, 0.1, 0.05];
        let hep = [0.01, 0.02, 0.03, 0.02, 0.01];
        let poly = Polynomial {
            r0: vec![shape.to_vec(), hep.to_vec(), vec![0.0; 5], vec![0.2; 5]],
            r1: vec![
                shape.iter().map(|v| -2.0 * x * v).collect(),
                hep.iter().map(|v| 3e6 * v).collect(),
                vec![0.0; 5],
                vec![0.0; 5],
            ],
            r2: vec![
                shape.iter().map(|v| x * x * v).collect(),
                hep.iter().map(|v| 2e15 * v).collect(),
                vec![0.0; 5],
                vec![0.0; 5],
            ],
        };
        let data = BinnedData {
            residual: vec![1.5, 0.6, 0.1, 0.35, 0.2],
            delta: vec![0.1, 0.08, 0.05, 0.05, 0.04],
        };
        (poly, data, vec![0.16, 0.3, 0.1, 0.0])
    }

    #[test]
    fn both_forms_agree_with_the_reference_implementation() {
        // Small g: the expanded form; larger g, where the pulls absorb most
        // of rᵀr, the Givens sum of squares. Both against pull_chi2.
        let (poly, data, sigma) = rich();
        let fast = PullChi2::new(&poly, &data, &sigma);
        let mut seen = (0, 0);
        for g in log_grid(1e-9, 1e-3, 301) {
            let reference = poly.chi2(&data, &sigma, g);
            let (v, form) = fast.eval_form(g);
            match form {
                Form::Expanded => seen.0 += 1,
                Form::SumOfSquares => seen.1 += 1,
                Form::Reference | Form::Unresolved => panic!("{form:?} at g = {g:e}"),
            }
            assert!(
                (v / reference - 1.0).abs() < 1e-10,
                "g = {g:e}: {v} vs {reference} ({form:?})"
            );
        }
        assert!(seen.0 > 10 && seen.1 > 10, "both regimes tested: {seen:?}");
    }

    #[test]
    fn rates_far_beyond_the_data_are_unresolved_not_rounding_noise() {
        // Two sources whose Z' rates reach 1e14 × the data at g = 1: the pulls
        // cancel them to leave χ² = O(100), far below the rounding of
        // d − R (ulp(1e14) ~ 0.02 per bin). NaN there, numbers where resolved.
        let shape = [1.0, 0.5, 0.25, 0.1, 0.05];
        let hep = [0.01, 0.02, 0.03, 0.02, 0.01];
        let poly = Polynomial {
            r0: vec![shape.to_vec(), hep.to_vec()],
            r1: vec![vec![0.0; 5], vec![0.0; 5]],
            r2: vec![
                shape.iter().map(|v| 1e14 * v).collect(),
                hep.iter().map(|v| 3e15 * v).collect(),
            ],
        };
        let data = BinnedData {
            residual: vec![1.5, 0.6, 0.1, 0.35, 0.2],
            delta: vec![0.1, 0.08, 0.05, 0.05, 0.04],
        };
        let sigma = [0.12, 0.3];
        let c = PullChi2::new(&poly, &data, &sigma);
        let (v, form) = c.eval_form(1.0);
        assert!(v.is_nan() && form == Form::Unresolved, "{v} {form:?}");
        for g in [1e-6, 1e-4, 1e-3] {
            let (v, form) = c.eval_form(g);
            let reference = poly.chi2(&data, &sigma, g);
            assert!(form != Form::Unresolved, "g = {g:e}");
            assert!(
                (v / reference - 1.0).abs() < 1e-9,
                "g = {g:e}: {v} vs {reference}"
            );
        }
    }

    #[test]
    fn sum_of_squares_is_accurate_where_normal_equations_are_not() {
        // One pull: χ² = (rᵀr + Σ_{i<j}(rᵢcⱼ − rⱼcᵢ)²)/(1 + cᵀc) exactly
        // (Lagrange's identity), a form without cancellation. At g = 1 the
        // entries of CᵀC reach 1e36 and the normal equations lose every digit.
        let (poly, data, _) = rich();
        let sigma = [0.16, 0.0, 0.0, 0.0];
        let fast = PullChi2::new(&poly, &data, &sigma);
        for g in [1e-6, 1e-4, 1e-3, 1e-2, 0.3, 1.0] {
            let rates = poly.at(g);
            let n = data.residual.len();
            let r: Vec<f64> = (0..n)
                .map(|i| {
                    (data.residual[i] - rates.iter().map(|s| s[i]).sum::<f64>()) / data.delta[i]
                })
                .collect();
            let c: Vec<f64> = (0..n)
                .map(|i| sigma[0] * rates[0][i] / data.delta[i])
                .collect();
            let mut num: f64 = r.iter().map(|v| v * v).sum();
            for i in 0..n {
                for j in i + 1..n {
                    num += (r[i] * c[j] - r[j] * c[i]).powi(2);
                }
            }
            let exact = num / (1.0 + c.iter().map(|v| v * v).sum::<f64>());
            let (v, form) = fast.eval_form(g);
            assert!(
                (v / exact - 1.0).abs() < 1e-12,
                "g = {g:e}: {v} vs {exact} ({form:?})"
            );
            if g >= 1e-2 {
                assert_eq!(form, Form::SumOfSquares, "g = {g:e}");
            }
        }
    }

    #[test]
    fn every_pull_count_agrees_with_the_reference_implementation() {
        // k = 0 ..= MAX_PULLS pulled sources (each k has its own unrolled
        // evaluation), both forms, against pull_chi2.
        let n = 16;
        for k in 0..=MAX_PULLS {
            let shape = |j: usize, i: usize| 1.0 + ((i + 1) * (j + 2)) as f64 % 11.0;
            let poly = Polynomial {
                r0: (0..=k)
                    .map(|j| (0..n).map(|i| shape(j, i)).collect())
                    .collect(),
                // (The unpulled source has no Z' rate: the pulls can absorb
                // all of it, which is where the expanded form cancels.)
                r1: (0..=k)
                    .map(|j| {
                        (0..n)
                            .map(|i| -1e8 * shape(j + 1, i) * f64::from(j < k))
                            .collect()
                    })
                    .collect(),
                r2: (0..=k)
                    .map(|j| {
                        (0..n)
                            .map(|i| 1e16 * shape(j + 3, i) * f64::from(j < k))
                            .collect()
                    })
                    .collect(),
            };
            // Data near the SM expectation (a few Δ off in each bin).
            let sm = |i: usize| (0..=k).map(|j| shape(j, i)).sum::<f64>();
            let data = BinnedData {
                residual: (0..n).map(|i| sm(i) + [1.0, -0.5, 2.0][i % 3]).collect(),
                delta: vec![0.5; n],
            };
            // The last source has no pull.
            let sigma: Vec<f64> = (0..=k)
                .map(|j| if j < k { 0.1 + 0.01 * j as f64 } else { 0.0 })
                .collect();
            let fast = PullChi2::new(&poly, &data, &sigma);
            let mut seen = (0, 0);
            for g in log_grid(1e-9, 1e-3, 61) {
                let reference = poly.chi2(&data, &sigma, g);
                let (v, form) = fast.eval_form(g);
                match form {
                    Form::Expanded => seen.0 += 1,
                    Form::SumOfSquares => seen.1 += 1,
                    Form::Reference | Form::Unresolved => continue,
                }
                assert!(
                    (v / reference - 1.0).abs() < 1e-9,
                    "k = {k}, g = {g:e}: {v} vs {reference} ({form:?})"
                );
            }
            // (Without pulls nothing cancels: the expanded form throughout.)
            assert!(
                seen.0 > 5 && (k == 0 || seen.1 > 5),
                "k = {k}: both regimes tested: {seen:?}"
            );
        }
    }

    #[test]
    fn many_pulls_fall_back_to_the_reference() {
        let n = 4;
        let k = MAX_PULLS + 1;
        let poly = Polynomial {
            r0: (0..k)
                .map(|j| (0..n).map(|i| 1.0 + (i * j) as f64).collect())
                .collect(),
            r1: vec![vec![1e6; n]; k],
            r2: vec![vec![0.0; n]; k],
        };
        let data = BinnedData {
            residual: vec![0.0; n],
            delta: vec![1.0; n],
        };
        let sigma = vec![0.1; k];
        let fast = PullChi2::new(&poly, &data, &sigma);
        let (v, form) = fast.eval_form(1e-3);
        assert_eq!(form, Form::Reference);
        assert_eq!(v, poly.chi2(&data, &sigma, 1e-3));
    }

    #[test]
    fn limits_agree_with_the_reference_implementation() {
        let (poly, data, sigma) = rich();
        let opts = LimitOptions::default();
        let fast = PullChi2::new(&poly, &data, &sigma);
        for dc in [0.5, 4.605, 30.0] {
            let opts = LimitOptions {
                delta_chi2: dc,
                ..opts
            };
            let grid = coupling_grid(&opts);
            let min = |f: &dyn Fn(f64) -> f64| grid.iter().map(|&g| f(g)).fold(f(0.0), f64::min);
            let slow = |g: f64| poly.chi2(&data, &sigma, g);
            let reference = upper_limit(slow, min(&slow), &opts);
            let new = upper_limit(|g| fast.eval(g), min(&|g| fast.eval(g)), &opts);
            let (Some(reference), Some(new)) = (reference, new) else {
                panic!("Δχ² = {dc}: {reference:?} vs {new:?}");
            };
            assert!((new / reference - 1.0).abs() < 1e-9, "{new} vs {reference}");
        }
    }

    #[test]
    fn brent_refinement_agrees_with_bisection_in_fewer_evaluations() {
        let (poly, data, sigma) = rich();
        let fast = PullChi2::new(&poly, &data, &sigma);
        let calls = std::cell::Cell::new(0usize);
        let target = fast.eval(0.0) + 4.605;
        let f = |g: f64| {
            calls.set(calls.get() + 1);
            fast.eval(g) - target
        };
        let grid = coupling_grid(&LimitOptions::default());
        let i = grid.iter().position(|&g| f(g) >= 0.0).unwrap();
        let (lo, hi) = (grid[i - 1], grid[i]);
        calls.set(0);
        let brent = refine_crossing(&f, lo, hi);
        let n_brent = calls.get();
        calls.set(0);
        let bisect = bisect_crossing(&f, lo, hi);
        let n_bisect = calls.get();
        assert!((brent / bisect - 1.0).abs() < 2e-12, "{brent} vs {bisect}");
        assert!(f(brent).abs() < 1e-9, "Δχ² at the root off by {}", f(brent));
        assert!(
            n_brent < 20 && n_bisect > 30,
            "{n_brent} vs {n_bisect} evaluations"
        );
    }
}
