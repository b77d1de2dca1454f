//! Binned templates that depend on the light- and charge-yield nuisances
//! (t_ly, t_qy) through anchors, and the mono-energetic template response
//! P(bin | T_nr) used to fold any recoil spectrum into them.

use crate::error::{PhysicsError, Result};
use crate::rate::RecoilGrid;

/// A per-bin template known at a rectangular grid of (t_ly, t_qy) anchors and
/// interpolated bilinearly between them (the `blueice` GridInterpolator the
/// collaboration's likelihood uses); outside the anchor range the nuisances
/// are clamped to the edge (the fit bounds them to the anchor range anyway).
#[derive(Debug, Clone, PartialEq)]
pub struct MorphGrid {
    x: Vec<f64>,
    y: Vec<f64>,
    n_bins: usize,
    /// values[(ix * ny + iy) * n_bins + bin]
    values: Vec<f64>,
}

fn check_axis(name: &str, a: &[f64]) -> Result<()> {
    if a.is_empty() || a.iter().any(|v| !v.is_finite()) || a.windows(2).any(|w| w[1] <= w[0]) {
        return Err(PhysicsError::InvalidTable {
            name: name.into(),
            reason: format!("anchors {a:?} must be finite and strictly increasing"),
        });
    }
    Ok(())
}

/// Cell index and fraction of `v` on the anchors `a` (clamped).
fn locate(a: &[f64], v: f64) -> (usize, f64, f64) {
    if a.len() == 1 {
        return (0, 0.0, 1.0);
    }
    let n = a.len();
    let v = v.clamp(a[0], a[n - 1]);
    let i = a.partition_point(|&x| x <= v).clamp(1, n - 1) - 1;
    let d = a[i + 1] - a[i];
    (i, (v - a[i]) / d, d)
}

impl MorphGrid {
    /// Build from anchors and `values[(ix * ny + iy) * n_bins + bin]`; every
    /// value must be finite and >= 0.
    pub fn new(x: Vec<f64>, y: Vec<f64>, n_bins: usize, values: Vec<f64>) -> Result<Self> {
        check_axis("t_ly anchors", &x)?;
        check_axis("t_qy anchors", &y)?;
        if values.len() != x.len() * y.len() * n_bins || n_bins == 0 {
            return Err(PhysicsError::InvalidTable {
                name: "template".into(),
                reason: format!(
                    "{} values for {} x {} anchors x {n_bins} bins",
                    values.len(),
                    x.len(),
                    y.len()
                ),
            });
        }
        if let Some(i) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(PhysicsError::InvalidTable {
                name: "template".into(),
                reason: format!("value {} at index {i} is negative or not finite", values[i]),
            });
        }
        Ok(Self {
            x,
            y,
            n_bins,
            values,
        })
    }

    /// A template without yield dependence.
    pub fn fixed(values: Vec<f64>) -> Result<Self> {
        let n = values.len();
        Self::new(vec![0.0], vec![0.0], n, values)
    }

    /// Number of bins.
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// True if the template depends on the yields.
    pub fn morphs(&self) -> bool {
        self.x.len() > 1 || self.y.len() > 1
    }

    /// The t_ly and t_qy anchors.
    pub fn anchors(&self) -> (&[f64], &[f64]) {
        (&self.x, &self.y)
    }

    /// Values at anchor (ix, iy).
    pub fn at_anchor(&self, ix: usize, iy: usize) -> &[f64] {
        let o = (ix * self.y.len() + iy) * self.n_bins;
        &self.values[o..o + self.n_bins]
    }

    /// Sum over bins at the nominal anchor (t_ly = t_qy = 0, or the nearest).
    pub fn total_at(&self, tx: f64, ty: f64) -> f64 {
        let mut v = vec![0.0; self.n_bins];
        self.eval(tx, ty, &mut v, None, None);
        v.iter().sum()
    }

    /// Interpolated template at (tx, ty) into `out`; optionally its partial
    /// derivatives (piecewise constant; zero where clamped).
    pub fn eval(
        &self,
        tx: f64,
        ty: f64,
        out: &mut [f64],
        mut dx: Option<&mut [f64]>,
        mut dy: Option<&mut [f64]>,
    ) {
        let nb = self.n_bins;
        let ny = self.y.len();
        let (ix, fx, wx) = locate(&self.x, tx);
        let (iy, fy, wy) = locate(&self.y, ty);
        let in_x = self.x.len() > 1 && tx > self.x[0] && tx < self.x[self.x.len() - 1];
        let in_y = self.y.len() > 1 && ty > self.y[0] && ty < self.y[ny - 1];
        let ix1 = (ix + 1).min(self.x.len() - 1);
        let iy1 = (iy + 1).min(ny - 1);
        let v00 = &self.values[(ix * ny + iy) * nb..][..nb];
        let v10 = &self.values[(ix1 * ny + iy) * nb..][..nb];
        let v01 = &self.values[(ix * ny + iy1) * nb..][..nb];
        let v11 = &self.values[(ix1 * ny + iy1) * nb..][..nb];
        for b in 0..nb {
            let (a, bx, c, d) = (v00[b], v10[b], v01[b], v11[b]);
            out[b] = (1.0 - fx) * (1.0 - fy) * a
                + fx * (1.0 - fy) * bx
                + (1.0 - fx) * fy * c
                + fx * fy * d;
            if let Some(g) = dx.as_deref_mut() {
                g[b] = if in_x {
                    ((1.0 - fy) * (bx - a) + fy * (d - c)) / wx
                } else {
                    0.0
                };
            }
            if let Some(g) = dy.as_deref_mut() {
                g[b] = if in_y {
                    ((1.0 - fx) * (c - a) + fx * (d - bx)) / wy
                } else {
                    0.0
                };
            }
        }
    }

    /// Same anchors, values mapped by `f(anchor index, bin values)`.
    pub fn map_anchors(&self, mut f: impl FnMut(usize, usize) -> Vec<f64>) -> Result<Self> {
        let mut values = Vec::with_capacity(self.values.len());
        for ix in 0..self.x.len() {
            for iy in 0..self.y.len() {
                values.extend(f(ix, iy));
            }
        }
        Self::new(self.x.clone(), self.y.clone(), self.n_bins, values)
    }
}

/// Mono-energetic template response of one science run: P(bin | T_nr; t_ly,
/// t_qy), the probability that a nuclear recoil of energy T_nr is detected in
/// a bin, tabulated at recoil energies `e_kev` and yield anchors.
///
/// Between tabulated energies P is interpolated linearly in T_nr. Below the
/// first energy (0.5 keV in the XENONnT release, where P summed over bins is
/// ≈ 1e-4) and above the last (5.0 keV) P is taken as 0: the release gives no
/// efficiency there, and 8B recoils on xenon end at ≈ 4.3 keV, so nothing of
/// the 8B signal lies above; callers check the fraction of a spectrum above
/// the range with [`MonoResponse::fraction_above`].
#[derive(Debug, Clone, PartialEq)]
pub struct MonoResponse {
    e_kev: Vec<f64>,
    /// One grid per energy.
    grids: Vec<MorphGrid>,
}

impl MonoResponse {
    /// From one [`MorphGrid`] per tabulated energy (same anchors and bins).
    pub fn new(e_kev: Vec<f64>, grids: Vec<MorphGrid>) -> Result<Self> {
        check_axis("mono energies", &e_kev)?;
        if grids.len() != e_kev.len() || e_kev.len() < 2 {
            return Err(PhysicsError::InvalidTable {
                name: "mono templates".into(),
                reason: format!(
                    "{} grids for {} energies (need >= 2)",
                    grids.len(),
                    e_kev.len()
                ),
            });
        }
        let first = &grids[0];
        if grids
            .iter()
            .any(|g| g.anchors() != first.anchors() || g.n_bins() != first.n_bins())
        {
            return Err(PhysicsError::InvalidTable {
                name: "mono templates".into(),
                reason: "energies have different anchors or bins".into(),
            });
        }
        Ok(Self { e_kev, grids })
    }

    /// Tabulated recoil energies, keV.
    pub fn energies(&self) -> &[f64] {
        &self.e_kev
    }

    /// P(bin | T) at each tabulated energy (one grid per energy).
    pub fn grids(&self) -> &[MorphGrid] {
        &self.grids
    }

    /// The anchors and bin count.
    pub fn layout(&self) -> (&[f64], &[f64], usize) {
        let (x, y) = self.grids[0].anchors();
        (x, y, self.grids[0].n_bins())
    }

    /// Fraction of ∫ rate dT that lies above the last tabulated energy.
    pub fn fraction_above(&self, grid: &RecoilGrid, rate: &[f64]) -> f64 {
        let emax = self.e_kev[self.e_kev.len() - 1];
        let total = grid.integrate(rate);
        let above: f64 = grid
            .points()
            .iter()
            .zip(grid.weights())
            .zip(rate)
            .filter(|((t, _), _)| **t > emax)
            .map(|((_, w), r)| w * r)
            .sum();
        if total > 0.0 { above / total } else { 0.0 }
    }

    /// Fold matrix on a recoil grid: for every anchor, the weights
    /// W[bin][j] = w_j P(bin | T_j) so that counts_bin = Σ_j W[bin][j] R(T_j)
    /// (∫ dT R(T) P(bin|T) with the grid's quadrature).
    pub fn fold_matrix(&self, grid: &RecoilGrid) -> FoldMatrix {
        let (x, y, nb) = self.layout();
        let (lo, hi) = (self.e_kev[0], self.e_kev[self.e_kev.len() - 1]);
        let js: Vec<usize> = (0..grid.len())
            .filter(|&j| grid.points()[j] >= lo && grid.points()[j] <= hi)
            .collect();
        let (j0, j1) = match (js.first(), js.last()) {
            (Some(&a), Some(&b)) => (a, b + 1),
            _ => (0, 0),
        };
        let nj = j1 - j0;
        let mut w = vec![0.0; x.len() * y.len() * nb * nj];
        for (k, j) in (j0..j1).enumerate() {
            let t = grid.points()[j];
            let wj = grid.weights()[j];
            let i = self
                .e_kev
                .partition_point(|&e| e <= t)
                .clamp(1, self.e_kev.len() - 1)
                - 1;
            let f = (t - self.e_kev[i]) / (self.e_kev[i + 1] - self.e_kev[i]);
            for ix in 0..x.len() {
                for iy in 0..y.len() {
                    let a = self.grids[i].at_anchor(ix, iy);
                    let b = self.grids[i + 1].at_anchor(ix, iy);
                    let o = (ix * y.len() + iy) * nb;
                    for bin in 0..nb {
                        w[(o + bin) * nj + k] = wj * ((1.0 - f) * a[bin] + f * b[bin]);
                    }
                }
            }
        }
        FoldMatrix {
            x: x.to_vec(),
            y: y.to_vec(),
            n_bins: nb,
            j0,
            nj,
            w,
        }
    }
}

/// The template response on a fixed recoil grid (see [`MonoResponse::fold_matrix`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldMatrix {
    x: Vec<f64>,
    y: Vec<f64>,
    n_bins: usize,
    j0: usize,
    nj: usize,
    w: Vec<f64>,
}

impl FoldMatrix {
    /// Fold a rate on the grid (any unit U per keV) into a template of
    /// U-counts per bin at every anchor, scaled by `scale`.
    pub fn fold(&self, rate: &[f64], scale: f64) -> Result<MorphGrid> {
        let r = &rate[self.j0..self.j0 + self.nj];
        let values = self
            .w
            .chunks(self.nj.max(1))
            .take(self.x.len() * self.y.len() * self.n_bins)
            .map(|row| scale * row.iter().zip(r).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        MorphGrid::new(self.x.clone(), self.y.clone(), self.n_bins, values)
    }

    /// Fold allowing negative values (interference terms); returns the raw
    /// values[(ix * ny + iy) * n_bins + bin].
    pub fn fold_signed(&self, rate: &[f64], scale: f64) -> Vec<f64> {
        let r = &rate[self.j0..self.j0 + self.nj];
        self.w
            .chunks(self.nj.max(1))
            .take(self.x.len() * self.y.len() * self.n_bins)
            .map(|row| scale * row.iter().zip(r).map(|(a, b)| a * b).sum::<f64>())
            .collect()
    }

    /// Range of grid indices with a non-zero response.
    pub fn active(&self) -> std::ops::Range<usize> {
        self.j0..self.j0 + self.nj
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid3() -> MorphGrid {
        // value = 1 + x + 2 y in bin 0, 5 in bin 1 (bilinear is exact).
        let x = vec![-1.0, 0.0, 1.0];
        let y = vec![-1.0, 0.0, 1.0];
        let mut v = vec![];
        for &a in &x {
            for &b in &y {
                v.push(1.0f64 + a + 2.0 * b + 3.0);
                v.push(5.0);
            }
        }
        MorphGrid::new(x, y, 2, v).unwrap()
    }

    #[test]
    fn bilinear_is_exact_for_linear_functions_and_gradients_match() {
        let g = grid3();
        let mut out = [0.0; 2];
        let (mut dx, mut dy) = ([0.0; 2], [0.0; 2]);
        g.eval(0.3, -0.7, &mut out, Some(&mut dx), Some(&mut dy));
        assert!((out[0] - (4.0 + 0.3 - 1.4)).abs() < 1e-12);
        assert!((out[1] - 5.0).abs() < 1e-12);
        assert!((dx[0] - 1.0).abs() < 1e-12 && (dy[0] - 2.0).abs() < 1e-12);
        assert_eq!(dx[1], 0.0);
        // Clamped outside the anchors.
        g.eval(7.0, 0.0, &mut out, Some(&mut dx), None);
        assert!((out[0] - 5.0).abs() < 1e-12);
        assert_eq!(dx[0], 0.0);
    }

    #[test]
    fn negative_or_nan_values_are_rejected() {
        assert!(MorphGrid::fixed(vec![1.0, -1e-9]).is_err());
        assert!(MorphGrid::fixed(vec![f64::NAN]).is_err());
        assert!(MorphGrid::new(vec![0.0, 0.0], vec![0.0], 1, vec![1.0, 1.0]).is_err());
    }

    #[test]
    fn fold_of_a_flat_efficiency_integrates_the_rate() {
        // P(bin0|T) = 0.25, P(bin1|T) = 0.5 T/keV on [1, 3] keV.
        let es = vec![1.0, 2.0, 3.0];
        let grids = es
            .iter()
            .map(|&e| MorphGrid::fixed(vec![0.25, 0.5 * e]).unwrap())
            .collect();
        let m = MonoResponse::new(es, grids).unwrap();
        let grid = RecoilGrid::log(0.1, 10.0, 4001).unwrap();
        let rate = vec![2.0; grid.len()];
        let f = m.fold_matrix(&grid).fold(&rate, 1.0).unwrap();
        let v = f.at_anchor(0, 0);
        // ∫_1^3 2·0.25 dT = 1; ∫_1^3 2·0.5 T dT = 4 (grid edges cost < 1e-2).
        assert!((v[0] - 1.0).abs() < 1e-2, "{}", v[0]);
        assert!((v[1] - 4.0).abs() < 2e-2, "{}", v[1]);
        assert!(m.fraction_above(&grid, &rate) > 0.7);
    }
}
