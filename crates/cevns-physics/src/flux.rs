//! Solar-neutrino spectra and the flux convolution of eq 12 without a 2-D
//! grid.
//!
//! Every channel writes dσ/dT = K(T)·Σₖ cₖ(T) E⁻ᵏ, k = 0, 1, 2 (see
//! [`crate::channel`]; CEvNS: c = (1, 0, −m_N T/2), eq 1, 5, 7), so the
//! energy integral of eq 12 reduces to three cumulative integrals of the
//! spectrum, Iₖ(x) = ∫ₓ^{E_max} Φ(E)/Eᵏ dE:
//!
//! ∫_{E_min(T)}^{E_max} Φ(E) Σₖ cₖ E⁻ᵏ dE = Σₖ cₖ Iₖ(E_min).
//!
//! Continua are piecewise linear between the published table nodes and the
//! integrals are exact for that interpolant. Monochromatic lines (pep, ⁷Be)
//! stay lines (δ functions).

use crate::error::{PhysicsError, Result};

/// A piecewise-linear function Φ(E) ≥ 0 on strictly increasing nodes, with
/// exact cumulative integrals from the right.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseLinear {
    e: Vec<f64>,
    phi: Vec<f64>,
    /// cum0[k] = ∫_{e_k}^{e_last} Φ dE
    cum0: Vec<f64>,
    /// cum1[k] = ∫_{e_k}^{e_last} Φ/E dE (∞ if e_k = 0 and Φ ≠ 0 near 0)
    cum1: Vec<f64>,
    /// cum2[k] = ∫_{e_k}^{e_last} Φ/E² dE (∞ if e_k = 0 and Φ ≠ 0 near 0)
    cum2: Vec<f64>,
}

impl PiecewiseLinear {
    /// Build from nodes (MeV) and values (any unit per MeV). Errors name the
    /// table and the offending row.
    pub fn new(name: &str, e: Vec<f64>, phi: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| PhysicsError::InvalidTable {
            name: name.to_string(),
            reason,
        };
        if e.len() != phi.len() {
            return Err(bad(format!(
                "{} energies but {} values",
                e.len(),
                phi.len()
            )));
        }
        if e.len() < 2 {
            return Err(bad("need at least two rows".into()));
        }
        for (i, (&x, &y)) in e.iter().zip(&phi).enumerate() {
            if !x.is_finite() || x < 0.0 {
                return Err(bad(format!(
                    "row {i}: energy {x} is not a finite value >= 0"
                )));
            }
            if !y.is_finite() || y < 0.0 {
                return Err(bad(format!(
                    "row {i}: value {y} is not a finite value >= 0"
                )));
            }
            if i > 0 && x <= e[i - 1] {
                return Err(bad(format!(
                    "row {i}: energies must increase strictly ({} then {x})",
                    e[i - 1]
                )));
            }
        }
        let n = e.len();
        let mut cum0 = vec![0.0; n];
        let mut cum1 = vec![0.0; n];
        let mut cum2 = vec![0.0; n];
        for k in (0..n - 1).rev() {
            cum0[k] = cum0[k + 1] + seg_i0(e[k], phi[k], e[k + 1], phi[k + 1], e[k]);
            cum1[k] = cum1[k + 1] + seg_i1(e[k], phi[k], e[k + 1], phi[k + 1], e[k]);
            cum2[k] = cum2[k + 1] + seg_i2(e[k], phi[k], e[k + 1], phi[k + 1], e[k]);
        }
        Ok(Self {
            e,
            phi,
            cum0,
            cum1,
            cum2,
        })
    }

    /// Nodes in MeV.
    pub fn energies(&self) -> &[f64] {
        &self.e
    }

    /// Values at the nodes.
    pub fn values(&self) -> &[f64] {
        &self.phi
    }

    /// ∫ Φ dE over the whole table.
    pub fn integral(&self) -> f64 {
        self.cum0[0]
    }

    /// Largest energy with Φ > 0 (the spectrum's endpoint), MeV.
    pub fn endpoint(&self) -> f64 {
        let last_pos = self.phi.iter().rposition(|&v| v > 0.0);
        match last_pos {
            Some(k) if k + 1 < self.e.len() => self.e[k + 1],
            Some(k) => self.e[k],
            None => self.e[0],
        }
    }

    /// Multiply every value by `f`.
    pub fn scaled(&self, f: f64) -> Self {
        Self {
            e: self.e.clone(),
            phi: self.phi.iter().map(|v| v * f).collect(),
            cum0: self.cum0.iter().map(|v| v * f).collect(),
            cum1: self.cum1.iter().map(|v| v * f).collect(),
            cum2: self.cum2.iter().map(|v| v * f).collect(),
        }
    }

    /// Φ(E) by linear interpolation, 0 outside the table.
    pub fn eval(&self, x: f64) -> f64 {
        let n = self.e.len();
        if !(x >= self.e[0] && x <= self.e[n - 1]) {
            return 0.0;
        }
        let k = self.segment(x);
        lerp(self.e[k], self.phi[k], self.e[k + 1], self.phi[k + 1], x)
    }

    fn segment(&self, x: f64) -> usize {
        let n = self.e.len();
        match self.e.partition_point(|&v| v <= x) {
            0 => 0,
            p if p >= n => n - 2,
            p => p - 1,
        }
    }

    /// I₀(x) = ∫ₓ^{E_max} Φ dE (exact for the interpolant).
    pub fn i0(&self, x: f64) -> f64 {
        let n = self.e.len();
        if x <= self.e[0] {
            return self.cum0[0];
        }
        if x >= self.e[n - 1] {
            return 0.0;
        }
        let k = self.segment(x);
        seg_i0(self.e[k], self.phi[k], self.e[k + 1], self.phi[k + 1], x) + self.cum0[k + 1]
    }

    /// I₁(x) = ∫ₓ^{E_max} Φ/E dE (exact for the interpolant), x > 0.
    pub fn i1(&self, x: f64) -> f64 {
        let n = self.e.len();
        if x <= self.e[0] {
            return self.cum1[0];
        }
        if x >= self.e[n - 1] {
            return 0.0;
        }
        let k = self.segment(x);
        seg_i1(self.e[k], self.phi[k], self.e[k + 1], self.phi[k + 1], x) + self.cum1[k + 1]
    }

    /// I₂(x) = ∫ₓ^{E_max} Φ/E² dE (exact for the interpolant), x > 0.
    pub fn i2(&self, x: f64) -> f64 {
        let n = self.e.len();
        if x <= self.e[0] {
            return self.cum2[0];
        }
        if x >= self.e[n - 1] {
            return 0.0;
        }
        let k = self.segment(x);
        seg_i2(self.e[k], self.phi[k], self.e[k + 1], self.phi[k + 1], x) + self.cum2[k + 1]
    }
}

fn lerp(x0: f64, y0: f64, x1: f64, y1: f64, x: f64) -> f64 {
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// ∫ₓ^{x1} of the line through (x0,y0),(x1,y1), for x0 <= x <= x1.
fn seg_i0(x0: f64, y0: f64, x1: f64, y1: f64, x: f64) -> f64 {
    let yx = lerp(x0, y0, x1, y1, x);
    0.5 * (yx + y1) * (x1 - x)
}

/// ∫ₓ^{x1} (a + bE)/E dE of the same line: a ln(x1/x) + b(x1 − x).
fn seg_i1(x0: f64, y0: f64, x1: f64, y1: f64, x: f64) -> f64 {
    let b = (y1 - y0) / (x1 - x0);
    let a = y0 - b * x0;
    if x <= 0.0 {
        return if a == 0.0 { b * x1 } else { f64::INFINITY };
    }
    let ia = if a == 0.0 { 0.0 } else { a * (x1 / x).ln() };
    ia + b * (x1 - x)
}

/// ∫ₓ^{x1} (a + bE)/E² dE of the same line: a(1/x − 1/x1) + b ln(x1/x).
fn seg_i2(x0: f64, y0: f64, x1: f64, y1: f64, x: f64) -> f64 {
    let b = (y1 - y0) / (x1 - x0);
    let a = y0 - b * x0;
    if x <= 0.0 {
        return if a == 0.0 && b == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let ia = if a == 0.0 {
        0.0
    } else {
        a * (1.0 / x - 1.0 / x1)
    };
    let ib = if b == 0.0 { 0.0 } else { b * (x1 / x).ln() };
    ia + ib
}

/// A monochromatic line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Neutrino energy, MeV.
    pub energy_mev: f64,
    /// Flux in this line (cm⁻² s⁻¹ at the place the spectrum describes).
    pub flux: f64,
}

/// The energy distribution of one source: a continuum in cm⁻² s⁻¹ MeV⁻¹ or a
/// set of lines in cm⁻² s⁻¹.
#[derive(Debug, Clone, PartialEq)]
pub enum Spectrum {
    /// dΦ/dE, piecewise linear, cm⁻² s⁻¹ MeV⁻¹.
    Continuum(PiecewiseLinear),
    /// δ-function lines.
    Lines(Vec<Line>),
}

impl Spectrum {
    /// Total flux (cm⁻² s⁻¹).
    pub fn total(&self) -> f64 {
        match self {
            Spectrum::Continuum(p) => p.integral(),
            Spectrum::Lines(l) => l.iter().map(|l| l.flux).sum(),
        }
    }

    /// Multiply by `f` (e.g. a flavour probability).
    pub fn scaled(&self, f: f64) -> Self {
        match self {
            Spectrum::Continuum(p) => Spectrum::Continuum(p.scaled(f)),
            Spectrum::Lines(l) => Spectrum::Lines(
                l.iter()
                    .map(|l| Line {
                        energy_mev: l.energy_mev,
                        flux: l.flux * f,
                    })
                    .collect(),
            ),
        }
    }

    /// Multiply by an energy-dependent factor f(E) ≥ 0 (e.g. an MSW
    /// probability): continuum nodes Φ(Eᵢ) f(Eᵢ) (piecewise linear between
    /// them), line fluxes × f(E_line).
    pub fn weighted(&self, name: &str, f: impl Fn(f64) -> f64) -> Result<Self> {
        Ok(match self {
            Spectrum::Continuum(p) => Spectrum::Continuum(PiecewiseLinear::new(
                name,
                p.e.clone(),
                p.e.iter().zip(&p.phi).map(|(&e, &v)| v * f(e)).collect(),
            )?),
            Spectrum::Lines(l) => Spectrum::Lines(
                l.iter()
                    .map(|l| Line {
                        energy_mev: l.energy_mev,
                        flux: l.flux * f(l.energy_mev),
                    })
                    .collect(),
            ),
        })
    }

    /// Energies of the nodes (continuum) or lines, MeV.
    pub fn energies(&self) -> Vec<f64> {
        match self {
            Spectrum::Continuum(p) => p.e.clone(),
            Spectrum::Lines(l) => l.iter().map(|l| l.energy_mev).collect(),
        }
    }

    /// Highest neutrino energy, MeV.
    pub fn max_energy(&self) -> f64 {
        match self {
            Spectrum::Continuum(p) => p.endpoint(),
            Spectrum::Lines(l) => l.iter().map(|l| l.energy_mev).fold(0.0, f64::max),
        }
    }

    /// The flux integral of eq 12 for a channel whose cross section is
    /// K(T)·Σₖ cₖ E⁻ᵏ (see [`crate::channel`]), in cm⁻² s⁻¹:
    /// J = ∫_{e_min} Φ(E) Σₖ cₖ E⁻ᵏ dE = Σₖ cₖ Iₖ(e_min) for continua, a sum
    /// over the lines with E ≥ e_min for lines. With `clamp` the integrand
    /// is known to be ≥ 0 and round-off below 0 is cut (per line for lines).
    /// Multiply by K(T) and the scatterers per kg to get dR/dT.
    pub fn moment_integral(&self, e_min: f64, c: [f64; 3], clamp: bool) -> f64 {
        let clip = |v: f64| if clamp { v.max(0.0) } else { v };
        match self {
            Spectrum::Continuum(p) => {
                let mut v = 0.0;
                if c[0] != 0.0 {
                    v += c[0] * p.i0(e_min);
                }
                if c[1] != 0.0 {
                    v += c[1] * p.i1(e_min);
                }
                if c[2] != 0.0 {
                    v += c[2] * p.i2(e_min);
                }
                clip(v)
            }
            Spectrum::Lines(lines) => lines
                .iter()
                .filter(|l| l.energy_mev >= e_min)
                .map(|l| {
                    let e = l.energy_mev;
                    let mut f = 0.0;
                    if c[0] != 0.0 {
                        f += c[0];
                    }
                    if c[1] != 0.0 {
                        f += c[1] / e;
                    }
                    if c[2] != 0.0 {
                        f += c[2] / (e * e);
                    }
                    l.flux * clip(f)
                })
                .sum(),
        }
    }
}

/// One solar-neutrino source: name, normalisation, 1σ fractional uncertainty
/// and its spectrum at production (ν_e).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// e.g. `8B`.
    pub name: String,
    /// Fractional 1σ normalisation uncertainty (the pull width σ_j of eq 20).
    pub sigma_frac: f64,
    /// Absolute spectrum, normalised to the source's total flux.
    pub spectrum: Spectrum,
}

/// Largest source flux accepted, cm⁻² s⁻¹. The solar pp flux is 6·10¹⁰ and a
/// reactor core at 10 m gives ~10¹³; 10²⁰ is beyond any physical neutrino
/// source, and fluxes near f64::MAX overflow the rates to ∞.
pub const MAX_FLUX_CM2_S: f64 = 1e20;

/// Normalise a tabulated shape to unit area (exactly, for the interpolant)
/// and scale to `total_flux`. Returns the spectrum and the area the table had,
/// so callers can report how far the published table was from 1.
pub fn normalised_continuum(
    name: &str,
    e: Vec<f64>,
    shape: Vec<f64>,
    total_flux: f64,
) -> Result<(PiecewiseLinear, f64)> {
    let p = PiecewiseLinear::new(name, e, shape)?;
    let area = p.integral();
    if !(area.is_finite() && area > 0.0) {
        return Err(PhysicsError::InvalidTable {
            name: name.into(),
            reason: format!("spectrum integrates to {area}, cannot normalise"),
        });
    }
    Ok((p.scaled(total_flux / area), area))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tri() -> PiecewiseLinear {
        // Φ(E) = E on [0,1], 2 − E on [1,2]: area 1.
        PiecewiseLinear::new("tri", vec![0.0, 1.0, 2.0], vec![0.0, 1.0, 0.0]).unwrap()
    }

    #[test]
    fn cumulative_integrals_are_exact() {
        let p = tri();
        assert!((p.integral() - 1.0).abs() < 1e-15);
        // I0(0.5) = 1 − 0.125 = 0.875
        assert!((p.i0(0.5) - 0.875).abs() < 1e-15);
        // I2(0.5) = ∫_{0.5}^1 1/E dE + ∫_1^2 (2−E)/E² dE = ln 2 + (2·0.5 − ln 2) = 1
        assert!((p.i2(0.5) - 1.0).abs() < 1e-14);
        assert_eq!(p.i0(2.5), 0.0);
        assert!((p.endpoint() - 2.0).abs() < 1e-15);
    }

    /// CEvNS terms (1, 0, −m T/2) at recoil t on mass m: (E_min, c).
    fn cevns(m: f64, t: f64) -> (f64, [f64; 3]) {
        (
            crate::kinematics::e_nu_min_mev(m, t),
            [1.0, 0.0, -0.5 * m * t],
        )
    }

    #[test]
    fn first_moment_is_exact() {
        // I1(0.5) = ∫_{0.5}^1 1 dE + ∫_1^2 (2−E)/E dE = 0.5 + 2 ln 2 − 1
        let p = tri();
        assert!((p.i1(0.5) - (2.0 * 2f64.ln() - 0.5)).abs() < 1e-14);
        assert!((p.i1(0.0) - (2.0 * 2f64.ln())).abs() < 1e-14);
    }

    #[test]
    fn line_integral_respects_threshold() {
        let s = Spectrum::Lines(vec![Line {
            energy_mev: 0.8618,
            flux: 1.0,
        }]);
        let m = 68_000.0;
        let t_max = crate::kinematics::t_max_mev(m, 0.8618);
        let (e0, c0) = cevns(m, 0.5 * t_max);
        assert!(s.moment_integral(e0, c0, true) > 0.0);
        let (e1, c1) = cevns(m, 1.001 * t_max);
        assert_eq!(s.moment_integral(e1, c1, true), 0.0);
    }

    #[test]
    fn continuum_integral_matches_quadrature() {
        // Independent brute-force midpoint quadrature of ∫Φ(1 − mT/2E²) dE.
        let p = tri();
        let s = Spectrum::Continuum(p.clone());
        let (m, t) = (100.0, 0.002);
        let (emin, c) = cevns(m, t);
        let n = 200_000;
        let h = (2.0 - emin) / n as f64;
        let mut q = 0.0;
        for i in 0..n {
            let e = emin + (i as f64 + 0.5) * h;
            q += p.eval(e) * (1.0 - m * t / (2.0 * e * e)) * h;
        }
        assert!((s.moment_integral(emin, c, true) / q - 1.0).abs() < 1e-8);
        // All three moments against the same quadrature.
        let c = [0.3, -0.2, 0.05];
        let mut q = 0.0;
        for i in 0..n {
            let e = emin + (i as f64 + 0.5) * h;
            q += p.eval(e) * (c[0] + c[1] / e + c[2] / (e * e)) * h;
        }
        assert!((s.moment_integral(emin, c, false) / q - 1.0).abs() < 1e-8);
    }

    #[test]
    fn rejects_unsorted_and_negative() {
        assert!(PiecewiseLinear::new("x", vec![0.0, 2.0, 1.0], vec![0.0, 1.0, 0.0]).is_err());
        assert!(PiecewiseLinear::new("x", vec![0.0, 1.0], vec![0.0, -1.0]).is_err());
        assert!(PiecewiseLinear::new("x", vec![0.0, 1.0], vec![0.0, f64::NAN]).is_err());
    }
}
