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
/// mediator mass: R₀ per source plus the g²/g⁴ kernels, grouped once by
/// detector-response part and cut to that part's active recoil columns.
///
/// The propagator factor 1/D = 1/(m_Z'² + 2 M T) depends on the scatterer
/// (mass M and response part) but not on the flux source, so a mass point
/// computes it once per scatterer and every source reuses it: no kernel is
/// copied and the per-mass work is the physics, eq 20 summed in the same
/// order as [`binned_zprime`] (bit-identical results).
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedModel {
    /// SM binned rate per source.
    pub r0: Vec<Vec<f64>>,
    /// Pull width per source.
    pub sigma: Vec<f64>,
    /// Distinct propagators: (response part index, 2M in MeV).
    props: Vec<(usize, f64)>,
    /// Per source, per response part that has kernels, in part order.
    groups: Vec<Vec<PartKernels>>,
}

/// The kernels of one source whose recoils go through one response part.
#[derive(Debug, Clone, PartialEq)]
struct PartKernels {
    /// Index into [`DetectorResponse::parts`].
    part: usize,
    /// (propagator index, a1, a2), a1/a2 restricted to the part's active
    /// columns, in the order of [`SourceRates::kernels`].
    kernels: Vec<(usize, Vec<f64>, Vec<f64>)>,
}

impl BinnedModel {
    /// Fold every source through the response once and group its Z'
    /// kernels per response part. [`BinnedModel::polynomial`] must be given
    /// the same `response`.
    pub fn new(response: &DetectorResponse, sources: &[SourceRates], model: &U1Model) -> Self {
        let r0: Vec<Vec<f64>> = sources.iter().map(|s| response.apply_source(s)).collect();
        let mut props: Vec<(usize, f64)> = Vec::new();
        let mut groups = Vec::with_capacity(sources.len());
        for (s, r0) in sources.iter().zip(&r0) {
            let ks = s.kernels(model);
            let mut g = Vec::new();
            // A source with no SM rate in any bin has no Z' rate there either
            // (both come from the same recoils, which reach no bin).
            if !ks.is_empty() && r0.iter().any(|v| *v != 0.0) {
                for (ip, (sp, resp)) in response.parts().iter().enumerate() {
                    let act = resp.active();
                    let kernels: Vec<_> = ks
                        .iter()
                        .filter(|k| k.species == *sp)
                        .map(|k| {
                            let two_m = 2.0 * k.mass_mev;
                            let ip_prop = match props
                                .iter()
                                .position(|&(p, m)| p == ip && m.to_bits() == two_m.to_bits())
                            {
                                Some(i) => i,
                                None => {
                                    props.push((ip, two_m));
                                    props.len() - 1
                                }
                            };
                            (
                                ip_prop,
                                k.a1[act.clone()].to_vec(),
                                k.a2[act.clone()].to_vec(),
                            )
                        })
                        .collect();
                    if !kernels.is_empty() {
                        g.push(PartKernels { part: ip, kernels });
                    }
                }
            }
            groups.push(g);
        }
        Self {
            sigma: sources.iter().map(|s| s.sigma_frac).collect(),
            r0,
            props,
            groups,
        }
    }

    /// Rᵢ(g) = R₀ᵢ + g² R₁ᵢ(m) + g⁴ R₂ᵢ(m) per source at mediator mass `m_mev`
    /// (eq 20), with R₁ᵢ = Σ_t W_it Σ_k a1_k(t)/D_k(t) and
    /// R₂ᵢ = Σ_t W_it Σ_k a2_k(t)/D_k(t)², D_k = m_Z'² + 2 M_k T.
    /// `response` is the one given to [`BinnedModel::new`]; `grid` its
    /// recoil grid.
    pub fn polynomial(
        &self,
        response: &DetectorResponse,
        grid: &RecoilGrid,
        m_mev: f64,
    ) -> crate::stats::Polynomial {
        let nb = response.bins().len();
        let parts = response.parts();
        let m2 = m_mev * m_mev;
        // 1/D per propagator on its part's active columns, once per mass.
        let inv_d: Vec<Vec<f64>> = self
            .props
            .iter()
            .map(|&(ip, two_m)| {
                grid.points()[parts[ip].1.active()]
                    .iter()
                    .map(|&t| 1.0 / (m2 + two_m * kev_to_mev(t)))
                    .collect()
            })
            .collect();
        let width = parts.iter().map(|(_, r)| r.active().len()).max();
        let (mut v1, mut v2) = (vec![0.0; width.unwrap_or(0)], vec![0.0; width.unwrap_or(0)]);
        let mut r1 = Vec::with_capacity(self.groups.len());
        let mut r2 = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let (mut a, mut b) = (vec![0.0; nb], vec![0.0; nb]);
            for pk in g {
                let resp = &parts[pk.part].1;
                let n = resp.active().len();
                let (v1, v2) = (&mut v1[..n], &mut v2[..n]);
                // The first kernel sets the sums (0 + x = x, no clearing
                // pass), the others add to them in kernel order.
                for (ik, (ip, a1, a2)) in pk.kernels.iter().enumerate() {
                    let terms = v1
                        .iter_mut()
                        .zip(v2.iter_mut())
                        .zip(a1.iter().zip(a2))
                        .zip(&inv_d[*ip]);
                    if ik == 0 {
                        for (((x, y), (k1, k2)), d) in terms {
                            *x = k1 * d;
                            *y = k2 * d * d;
                        }
                    } else {
                        for (((x, y), (k1, k2)), d) in terms {
                            *x += k1 * d;
                            *y += k2 * d * d;
                        }
                    }
                }
                resp.apply_active_add(v1, &mut a);
                resp.apply_active_add(v2, &mut b);
            }
            r1.push(a);
            r2.push(b);
        }
        crate::stats::Polynomial {
            r0: self.r0.clone(),
            r1,
            r2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Target;
    use crate::detector::Species;
    use crate::model::Charges;
    use crate::nucleus::Nucleus;
    use crate::oscillation::Flavour;
    use crate::resolution::Bins;
    use crate::stats::Polynomial;

    fn model() -> U1Model {
        U1Model {
            name: "B-L".into(),
            label: None,
            charges: Charges {
                u: 1.0 / 3.0,
                d: 1.0 / 3.0,
                nu_e: -1.0,
                nu_mu: -1.0,
                nu_tau: -1.0,
                e: None,
            },
            note: None,
        }
    }

    fn nucleus(a: u32, mass_mev: f64) -> Target {
        Target::Nucleus(Nucleus {
            z: 32,
            n: a - 32,
            a,
            mass_mev,
            targets_per_kg: 1e24,
            abundance: 0.5,
        })
    }

    /// A rate that varies along the grid and with a seed.
    fn wiggle(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|j| 1.0 + 0.5 * (seed * j as f64 + seed).sin())
            .collect()
    }

    fn part(target: Target, flavour: Flavour, n: usize, seed: f64) -> crate::rate::RatePart {
        crate::rate::RatePart {
            channel: if matches!(target, Target::Electrons { .. }) {
                "nu-e".into()
            } else {
                "cevns".into()
            },
            target,
            kappa_mev2: 0.7 + seed,
            flavour,
            rate: wiggle(n, seed),
            rate_x1: wiggle(n, 2.0 * seed),
            rate_x2: wiggle(n, 3.0 * seed),
        }
    }

    /// Two species (two Ge isotopes and electrons) with responses whose
    /// active columns differ, three sources (one without electrons, one
    /// that reaches no bin).
    fn setup() -> (RecoilGrid, DetectorResponse, Vec<SourceRates>) {
        let n = 61;
        let grid = RecoilGrid::log(1e-3, 10.0, n).unwrap();
        let bins = Bins::uniform(0.2, 0.1, 4).unwrap();
        let matrix = |lo: usize, hi: usize, seed: f64| {
            let mut w = vec![0.0; 4 * n];
            // Rows with different spans of non-zero columns; the last row
            // of the electron response is empty.
            for i in 0..4 {
                if seed > 0.5 && i == 3 {
                    continue;
                }
                for j in lo + 2 * i..hi - i {
                    w[i * n + j] = 1e-3 * (1.0 + (seed * (i * n + j) as f64).cos());
                }
            }
            Response::from_parts(bins.clone(), w, n).unwrap()
        };
        let resp = DetectorResponse::new(vec![
            (Species::Nucleus(32), matrix(20, 50, 0.3)),
            (Species::Electron, matrix(5, 30, 0.7)),
        ])
        .unwrap();
        let e = Target::Electrons {
            z: 32,
            atoms_per_kg: 8e24,
        };
        let (ge72, ge74) = (nucleus(72, 67_000.0), nucleus(74, 68_860.0));
        let src = |name: &str, parts: Vec<crate::rate::RatePart>| SourceRates {
            source: name.into(),
            sigma_frac: 0.1,
            parts,
        };
        let mut dark = vec![part(ge72, Flavour::E, n, 0.9)];
        dark[0].rate = vec![0.0; n];
        dark[0].rate_x1 = vec![0.0; n];
        dark[0].rate_x2 = vec![0.0; n];
        let sources = vec![
            src(
                "a",
                vec![
                    part(ge72, Flavour::E, n, 0.11),
                    part(e, Flavour::E, n, 0.13),
                    part(ge74, Flavour::Mu, n, 0.17),
                    part(ge72, Flavour::Tau, n, 0.19),
                    part(e, Flavour::Mu, n, 0.23),
                ],
            ),
            src(
                "b",
                vec![
                    part(ge74, Flavour::E, n, 0.29),
                    part(ge72, Flavour::Mu, n, 0.31),
                ],
            ),
            src("dark", dark),
        ];
        (grid, resp, sources)
    }

    /// The straightforward evaluation: per source and species, the kernels
    /// of that species through [`binned_zprime`].
    fn reference(
        resp: &DetectorResponse,
        grid: &RecoilGrid,
        sources: &[SourceRates],
        model: &U1Model,
        m: f64,
    ) -> Polynomial {
        let nb = resp.bins().len();
        let mut p = Polynomial {
            r0: Vec::new(),
            r1: Vec::new(),
            r2: Vec::new(),
        };
        for s in sources {
            let r0 = resp.apply_source(s);
            let ks = s.kernels(model);
            let (mut a, mut b) = (vec![0.0; nb], vec![0.0; nb]);
            if r0.iter().any(|v| *v != 0.0) {
                for (sp, r) in resp.parts() {
                    let k: Vec<ZpKernel> =
                        ks.iter().filter(|k| k.species == *sp).cloned().collect();
                    if k.is_empty() {
                        continue;
                    }
                    let (x, y) = binned_zprime(r, grid, &k, m);
                    a.iter_mut().zip(x).for_each(|(u, v)| *u += v);
                    b.iter_mut().zip(y).for_each(|(u, v)| *u += v);
                }
            }
            p.r0.push(r0);
            p.r1.push(a);
            p.r2.push(b);
        }
        p
    }

    #[test]
    fn grouped_kernels_give_the_straightforward_polynomial_bit_for_bit() {
        let (grid, resp, sources) = setup();
        let model = model();
        let bm = BinnedModel::new(&resp, &sources, &model);
        // Two Ge isotopes and the electron: three propagators shared by
        // both sources.
        assert_eq!(bm.props.len(), 3);
        for m in [1e-3, 0.05, 1.0, 37.0, 1e3] {
            let got = bm.polynomial(&resp, &grid, m);
            let want = reference(&resp, &grid, &sources, &model, m);
            assert_eq!(got, want, "m = {m}");
            assert!(got.r1[0].iter().all(|v| *v != 0.0));
            assert!(got.r2[1].iter().all(|v| *v > 0.0));
            assert!(got.r1[0].iter().zip(&got.r1[1]).all(|(x, y)| x != y));
            assert!(got.r1[2].iter().all(|v| *v == 0.0));
        }
    }
}
