//! The light vector Z' on top of any channel: per-scatterer kernels that
//! combine flavours with the model's charges, the rate at (g, m_Z'), and the
//! binned polynomial Rᵢ(g) = R₀ᵢ + g² R₁ᵢ(m) + g⁴ R₂ᵢ(m) of eq 20.
//!
//! With x = g² Q'_ℓ Q'_T κ/D, D = m_Z'² + 2 M T (see [`crate::channel`]), a
//! rate part R₀ + x R₁ + x² R₂ contributes g²·a1/D + g⁴·a2/D² with
//! a1 = c R₁ and a2 = c² R₂, c = Q'_T κ Q'_ℓ. For CEvNS R₁ = 2R₀ and R₂ = R₀,
//! the (1 + x)² of eq 7.

use crate::detector::{DetectorResponse, RecoilGrid, Response, Species};
use crate::model::U1Model;
use crate::rate::SourceRates;
use crate::units::kev_to_mev;

/// Which kernel a rate part adds to: channel name and scatterer.
type KernelKey<'a> = (&'a str, (Species, u32));

/// One scatterer's share of the Z' rate of one source, summed over
/// flavours (and channels on the same scatterer) with the model's charges.
#[derive(Debug, Clone, PartialEq)]
pub struct ZpKernel {
    /// The recoiling species (selects the detector response).
    pub species: Species,
    /// Recoiling mass M in D = m_Z'² + 2 M T, MeV.
    pub mass_mev: f64,
    /// Σ c R₁, rate × MeV² (coefficient of g²/D).
    pub a1: Vec<f64>,
    /// Σ c² R₂, rate × MeV⁴ (coefficient of g⁴/D²).
    pub a2: Vec<f64>,
}

impl SourceRates {
    /// The g²/g⁴ kernels of this source for `model`: flavours combined with
    /// their lepton charges Q'_ℓ, one kernel per scatterer. Parts with no
    /// Z' coupling (Q'_ℓ = 0 or Q'_T = 0, e.g. electrons in B−3L_μ) drop out.
    pub fn kernels(&self, model: &U1Model) -> Vec<ZpKernel> {
        let mut out: Vec<(KernelKey, ZpKernel)> = Vec::new();
        for p in &self.parts {
            let ql = model.lepton_charge(p.flavour);
            if ql == 0.0 {
                continue;
            }
            let c = p.target.zprime_charge(model) * p.kappa_mev2 * ql;
            if c == 0.0 {
                continue;
            }
            let key = (p.channel.as_str(), p.target.key());
            let idx = match out.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    let n = p.rate.len();
                    out.push((
                        key,
                        ZpKernel {
                            species: p.target.species(),
                            mass_mev: p.target.recoil_mass_mev(),
                            a1: vec![0.0; n],
                            a2: vec![0.0; n],
                        },
                    ));
                    out.len() - 1
                }
            };
            let k = &mut out[idx].1;
            for ((a1, a2), (r1, r2)) in
                k.a1.iter_mut()
                    .zip(k.a2.iter_mut())
                    .zip(p.rate_x1.iter().zip(&p.rate_x2))
            {
                *a1 += c * r1;
                *a2 += c * c * r2;
            }
        }
        out.into_iter().map(|(_, k)| k).collect()
    }
}

/// dR/dT on the grid for coupling `g` and mass `m_mev` from the kernels:
/// SM + g² Σ a1/D + g⁴ Σ a2/D².
pub fn rate_with_zprime(
    grid: &RecoilGrid,
    sm: &[f64],
    kernels: &[ZpKernel],
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
    kernels: &[ZpKernel],
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

/// A model's binned rates per flux source, ready to be evaluated at any
/// mediator mass: R₀ per source plus the g²/g⁴ kernels.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedModel {
    /// SM binned rate per source.
    pub r0: Vec<Vec<f64>>,
    /// Pull width per source.
    pub sigma: Vec<f64>,
    kernels: Vec<Vec<ZpKernel>>,
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
            // (both come from the same recoils, which reach no bin).
            if k.is_empty() || r0.iter().all(|v| *v == 0.0) {
                r1.push(vec![0.0; nb]);
                r2.push(vec![0.0; nb]);
            } else {
                let (mut a, mut b) = (vec![0.0; nb], vec![0.0; nb]);
                for (sp, resp) in response.parts() {
                    let ks: Vec<ZpKernel> =
                        k.iter().filter(|x| x.species == *sp).cloned().collect();
                    if ks.is_empty() {
                        continue;
                    }
                    let (x, y) = binned_zprime(resp, grid, &ks, m_mev);
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
