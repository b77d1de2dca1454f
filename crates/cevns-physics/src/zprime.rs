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
/// mediator mass: the SM part folded through the response once, and the Z'
/// kernels of every source laid out per detector-response part for the
/// per-mass work.
///
/// The propagator factor 1/D = 1/(m_Z'² + 2 M T) depends on the scatterer
/// (mass M and response part) but not on the flux source, so a mass point
/// computes it once per (recoil point, scatterer) and every source reuses
/// it. The kernels of the sources sit side by side in blocks of [`LANES`]
/// ("lanes", source fastest), so the kernel sums and the response product
/// run over the sources of a block in parallel, with independent
/// accumulators instead of one chained floating-point sum per bin. Sources
/// are sorted into blocks by how far their recoils reach, and a block stops
/// at its last non-zero column: the low-energy sources (pp, ⁷Be, CNO) cost
/// a few columns, not the whole grid. Each source's sums keep their order
/// (kernels in propagator order of first appearance, recoil points in grid
/// order, zero columns skipped), so the result is the straightforward
/// [`binned_zprime`] bit for bit whenever the sources list their scatterers
/// in one order, as rate-convolve writes them (otherwise equal to rounding).
/// No allocation per mass beyond the result and two scratch buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedModel {
    /// SM binned rate per source.
    pub r0: Vec<Vec<f64>>,
    /// Pull width per source.
    pub sigma: Vec<f64>,
    /// One entry per response part that some source's kernels go through.
    parts: Vec<PartLanes>,
}

/// Sources processed together per accumulator block (f64 lanes).
const LANES: usize = 2;

/// [Σ_k a1_k d_k, Σ_k a2_k d_k²] of one recoil point, LANES sources at once,
/// propagators k in order (0 + x = x: the first term is exact).
#[inline(always)]
fn kernel_sum(c1: &[[f64; LANES]], c2: &[[f64; LANES]], d: &[f64]) -> [[f64; LANES]; 2] {
    let (mut y1, mut y2) = ([0.0; LANES], [0.0; LANES]);
    for ((c1, c2), &d) in c1.iter().zip(c2).zip(d) {
        for i in 0..LANES {
            y1[i] += c1[i] * d;
            y2[i] += c2[i] * d * d;
        }
    }
    [y1, y2]
}

/// [`kernel_sum`] of every recoil point, appended to `v`, for NP
/// propagators (a fixed count: the loop over them unrolls).
fn kernel_sums<const NP: usize>(
    a1: &[[f64; LANES]],
    a2: &[[f64; LANES]],
    inv_d: &[f64],
    v: &mut Vec<[[f64; LANES]; 2]>,
) {
    let (a1, a2, d) = (
        a1.as_chunks::<NP>().0,
        a2.as_chunks::<NP>().0,
        inv_d.as_chunks::<NP>().0,
    );
    v.extend(
        a1.iter()
            .zip(a2)
            .zip(d)
            .map(|((c1, c2), d)| kernel_sum(c1, c2, d)),
    );
}

/// The kernels of every source whose recoils go through one response part.
#[derive(Debug, Clone, PartialEq)]
struct PartLanes {
    /// Index into [`DetectorResponse::parts`].
    part: usize,
    /// Source index of each lane (lanes past its length are zero padding).
    sources: Vec<usize>,
    /// Blocks of [`LANES`] sources: `sources.len()` / LANES rounded up.
    blocks: usize,
    /// Per block, the active columns before which some kernel of the block
    /// is non-zero (beyond, every a1 and a2 of the block vanish: a source's
    /// recoils end at its T_max, so low-energy sources occupy few columns).
    extent: Vec<usize>,
    /// 2M [MeV] of each propagator of this part, in order of first
    /// appearance (distinct within the part).
    two_m: Vec<f64>,
    /// a1 on the active columns, `[block][t][propagator]`.
    a1: Vec<[f64; LANES]>,
    /// a2 on the active columns, `[block][t][propagator]`.
    a2: Vec<[f64; LANES]>,
}

impl BinnedModel {
    /// Fold every source through the response once and lay its Z' kernels
    /// out per response part. [`BinnedModel::polynomial`] must be given the
    /// same `response`, and `grid` must be its recoil grid.
    pub fn new(response: &DetectorResponse, sources: &[SourceRates], model: &U1Model) -> Self {
        let r0: Vec<Vec<f64>> = sources.iter().map(|s| response.apply_source(s)).collect();
        let kernels: Vec<Vec<ZpKernel>> = sources
            .iter()
            .zip(&r0)
            .map(|(s, r0)| {
                // A source with no SM rate in any bin has no Z' rate there
                // either (both come from the same recoils, which reach no bin).
                if r0.iter().any(|v| *v != 0.0) {
                    s.kernels(model)
                } else {
                    Vec::new()
                }
            })
            .collect();
        let mut parts = Vec::new();
        for (ip, (sp, resp)) in response.parts().iter().enumerate() {
            // Propagators of this part in order of first appearance, and
            // the sources with at least one kernel here.
            let mut two_m: Vec<f64> = Vec::new();
            let mut lane_src: Vec<usize> = Vec::new();
            for (is, ks) in kernels.iter().enumerate() {
                for k in ks.iter().filter(|k| k.species == *sp) {
                    let m = 2.0 * k.mass_mev;
                    if !two_m.iter().any(|x| x.to_bits() == m.to_bits()) {
                        two_m.push(m);
                    }
                    if lane_src.last() != Some(&is) {
                        lane_src.push(is);
                    }
                }
            }
            if lane_src.is_empty() {
                continue;
            }
            let act = resp.active();
            let (n, np) = (act.len(), two_m.len());
            // Sources by how far their kernels reach (longest first, then
            // in source order), so that each block spans few columns.
            let reach = |is: usize| {
                kernels[is]
                    .iter()
                    .filter(|k| k.species == *sp)
                    .map(|k| {
                        let (a1, a2) = (&k.a1[act.clone()], &k.a2[act.clone()]);
                        (0..n)
                            .rev()
                            .find(|&t| a1[t] != 0.0 || a2[t] != 0.0)
                            .map_or(0, |t| t + 1)
                    })
                    .max()
                    .unwrap_or(0)
            };
            let mut by_reach: Vec<(usize, usize)> =
                lane_src.iter().map(|&is| (reach(is), is)).collect();
            by_reach.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let lane_src: Vec<usize> = by_reach.iter().map(|&(_, is)| is).collect();
            let extent: Vec<usize> = by_reach.chunks(LANES).map(|c| c[0].0).collect();
            let blocks = lane_src.len().div_ceil(LANES);
            let zero = [0.0; LANES];
            let (mut a1, mut a2) = (vec![zero; n * np * blocks], vec![zero; n * np * blocks]);
            for (lane, &is) in lane_src.iter().enumerate() {
                let (block, i) = (lane / LANES, lane % LANES);
                for k in kernels[is].iter().filter(|k| k.species == *sp) {
                    let m = 2.0 * k.mass_mev;
                    let kp = two_m
                        .iter()
                        .position(|x| x.to_bits() == m.to_bits())
                        .unwrap_or_default();
                    for (t, (x1, x2)) in
                        k.a1[act.clone()].iter().zip(&k.a2[act.clone()]).enumerate()
                    {
                        // Two kernels of one source on one propagator (a
                        // scatterer reached by two channels) add up here.
                        a1[(block * n + t) * np + kp][i] += x1;
                        a2[(block * n + t) * np + kp][i] += x2;
                    }
                }
            }
            parts.push(PartLanes {
                part: ip,
                sources: lane_src,
                blocks,
                extent,
                two_m,
                a1,
                a2,
            });
        }
        Self {
            sigma: sources.iter().map(|s| s.sigma_frac).collect(),
            r0,
            parts,
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
        let m2 = m_mev * m_mev;
        let mut r1 = vec![vec![0.0; nb]; self.r0.len()];
        let mut r2 = vec![vec![0.0; nb]; self.r0.len()];
        let (mut v, mut inv_d) = (Vec::new(), Vec::new());
        for pl in &self.parts {
            let resp = &response.parts()[pl.part].1;
            let act = resp.active();
            let (n, np) = (act.len(), pl.two_m.len());
            // 1/D per (recoil point, propagator), once per mass, as far as
            // any kernel reaches.
            let reach = pl.extent.first().copied().unwrap_or(0);
            inv_d.clear();
            inv_d.reserve(reach * np);
            for &t_kev in &grid.points()[act.start..act.start + reach] {
                let t_mev = kev_to_mev(t_kev);
                inv_d.extend(pl.two_m.iter().map(|&two_m| 1.0 / (m2 + two_m * t_mev)));
            }
            for (block, &ext) in pl.extent.iter().enumerate() {
                // v(t) = [Σ_k a1_k/D_k, Σ_k a2_k/D_k²] per recoil point up to
                // the block's extent (zero beyond), LANES sources at once,
                // propagators in order (0 + x = x: the first term is exact).
                // Only the columns written here are read (no zero fill).
                let at = block * n * np;
                let (a1, a2) = (&pl.a1[at..at + ext * np], &pl.a2[at..at + ext * np]);
                v.clear();
                match np {
                    1 => kernel_sums::<1>(a1, a2, &inv_d, &mut v),
                    2 => kernel_sums::<2>(a1, a2, &inv_d, &mut v),
                    3 => kernel_sums::<3>(a1, a2, &inv_d, &mut v),
                    4 => kernel_sums::<4>(a1, a2, &inv_d, &mut v),
                    5 => kernel_sums::<5>(a1, a2, &inv_d, &mut v),
                    6 => kernel_sums::<6>(a1, a2, &inv_d, &mut v),
                    7 => kernel_sums::<7>(a1, a2, &inv_d, &mut v),
                    8 => kernel_sums::<8>(a1, a2, &inv_d, &mut v),
                    9 => kernel_sums::<9>(a1, a2, &inv_d, &mut v),
                    _ => v.extend(
                        a1.chunks_exact(np)
                            .zip(a2.chunks_exact(np))
                            .zip(inv_d.chunks_exact(np))
                            .map(|((c1, c2), d)| kernel_sum(c1, c2, d)),
                    ),
                }
                // outᵢ += Σ_t Wᵢₜ v(t) over each row's non-zero columns below
                // the extent, in column order. Each source sits in one block,
                // so its sums are the same whichever loop runs outside.
                for (b, span) in resp.row_spans().iter().enumerate() {
                    if span.is_empty() {
                        continue;
                    }
                    let lo = span.start - act.start;
                    let hi = (span.end - act.start).min(ext);
                    if hi <= lo {
                        continue;
                    }
                    let row = &resp.w[b * resp.n_t + act.start + lo..b * resp.n_t + act.start + hi];
                    let (mut s1, mut s2) = ([0.0; LANES], [0.0; LANES]);
                    for (&wt, [y1, y2]) in row.iter().zip(&v[lo..hi]) {
                        for i in 0..LANES {
                            s1[i] += wt * y1[i];
                            s2[i] += wt * y2[i];
                        }
                    }
                    for (i, &is) in pl.sources[block * LANES..].iter().take(LANES).enumerate() {
                        r1[is][b] += s1[i];
                        r2[is][b] += s2[i];
                    }
                }
            }
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
    /// `p` with no rate from grid column `end` on.
    fn truncated(mut p: crate::rate::RatePart, end: usize) -> crate::rate::RatePart {
        for v in [&mut p.rate, &mut p.rate_x1, &mut p.rate_x2] {
            v[end..].iter_mut().for_each(|x| *x = 0.0);
        }
        p
    }

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
            // Low-energy sources: recoils that end inside the active
            // columns (the blocks of sources sorted by reach skip the rest).
            src("c", vec![truncated(part(ge72, Flavour::E, n, 0.37), 33)]),
            src(
                "d",
                vec![
                    truncated(part(ge72, Flavour::Mu, n, 0.41), 26),
                    truncated(part(e, Flavour::E, n, 0.43), 12),
                ],
            ),
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
        // all sources.
        assert_eq!(bm.parts.iter().map(|p| p.two_m.len()).sum::<usize>(), 3);
        // Nucleus part: a, b, c, d in blocks of two sorted by reach (a and b
        // reach every column, c to column 33 and d to 26 of the grid).
        let ge = &bm.parts[0];
        assert_eq!(ge.sources, [0, 1, 3, 4]);
        assert_eq!(ge.extent[0], resp.parts()[0].1.active().len());
        assert_eq!(ge.extent[1], 33 - resp.parts()[0].1.active().start);
        for m in [1e-3, 0.05, 1.0, 37.0, 1e3] {
            let got = bm.polynomial(&resp, &grid, m);
            let want = reference(&resp, &grid, &sources, &model, m);
            assert_eq!(got, want, "m = {m}");
            assert!(got.r1[0].iter().all(|v| *v != 0.0));
            assert!(got.r2[1].iter().all(|v| *v > 0.0));
            assert!(got.r1[0].iter().zip(&got.r1[1]).all(|(x, y)| x != y));
            assert!(got.r1[2].iter().all(|v| *v == 0.0));
            // The truncated sources reach the bins whose rows start below
            // their last column (row i of the Ge response starts at 20 + 2i).
            assert!(got.r1[3][..4].iter().all(|v| *v != 0.0));
            assert!(got.r1[4][..3].iter().all(|v| *v != 0.0));
            assert_eq!(got.r1[4][3], 0.0);
        }
    }

    #[test]
    fn any_number_of_propagators_gives_the_straightforward_polynomial() {
        // 1 to 11 isotopes of one element: the unrolled kernel sums (up to
        // 9 propagators) and the general loop beyond.
        let (grid, resp, _) = setup();
        let model = model();
        let n = grid.len();
        for isotopes in 1..=11u32 {
            let ge = |i: u32| nucleus(68 + i, 63_000.0 + 930.0 * f64::from(i));
            let sources: Vec<SourceRates> = (0..3)
                .map(|s| SourceRates {
                    source: format!("s{s}"),
                    sigma_frac: 0.1,
                    parts: (0..isotopes)
                        .map(|i| part(ge(i), Flavour::E, n, 0.1 + 0.07 * f64::from(i + 3 * s)))
                        .collect(),
                })
                .collect();
            let bm = BinnedModel::new(&resp, &sources, &model);
            assert_eq!(bm.parts[0].two_m.len(), isotopes as usize);
            for m in [1e-3, 1.0, 1e3] {
                let got = bm.polynomial(&resp, &grid, m);
                let want = reference(&resp, &grid, &sources, &model, m);
                assert_eq!(got, want, "{isotopes} isotopes, m = {m}");
            }
        }
    }
}
