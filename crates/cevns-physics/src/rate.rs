//! Event rates on the recoil grid: the flux convolution of eq 12 for any
//! [`Channel`], and the rates of one flux source per scatterer and flavour
//! (SM part R₀ and the Z' pieces R₁, R₂ of R₀ + x R₁ + x² R₂).
//!
//! Units: T in keV, rates dR/dT in counts kg⁻¹ keV⁻¹ day⁻¹.

use crate::channel::{Channel, InvEnergyPoly, Target};
use crate::detector::Species;
use crate::flux::Spectrum;
use crate::oscillation::Flavour;
use crate::units::{SECONDS_PER_DAY, kev_to_mev};

/// Rates of `channel` for one flavour's spectrum on the recoil grid
/// `t_kev`, counts kg⁻¹ keV⁻¹ day⁻¹ (eq 12):
/// dR/dT = N_T · K(T) · ∫_{E_min(T)} Φ(E) Σₖ cₖ(T) E⁻ᵏ dE · 86400,
/// with N_T the scatterers per kg, K the channel's tabulated prefactor
/// `k_cm2_per_kev` and cₖ its [`crate::channel::EnergyTerms`]. Returns the
/// SM rate and the coefficients of x and x² (see [`crate::channel`]).
pub fn channel_rates(
    channel: &dyn Channel,
    t_kev: &[f64],
    k_cm2_per_kev: &[f64],
    flavour: Flavour,
    spectrum: &Spectrum,
) -> [Vec<f64>; 3] {
    let n_t = channel.target().per_kg();
    let mut out = [
        Vec::with_capacity(t_kev.len()),
        Vec::with_capacity(t_kev.len()),
        Vec::with_capacity(t_kev.len()),
    ];
    for (&t, &k) in t_kev.iter().zip(k_cm2_per_kev) {
        let t_mev = kev_to_mev(t);
        let e_min = channel.e_nu_min_mev(t_mev);
        let terms = channel.energy_terms(flavour, t_mev);
        let rate = |c: InvEnergyPoly, clamp: bool| {
            n_t * k * spectrum.moment_integral(e_min, c, clamp) * SECONDS_PER_DAY
        };
        out[0].push(rate(terms.sm, true));
        out[1].push(rate(terms.x1, terms.x1_nonneg));
        out[2].push(rate(terms.x2, true));
    }
    out
}

/// Rates of one source, one flavour, one scatterer on the recoil grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePart {
    /// Channel name (`cevns`, `nu-e`).
    pub channel: String,
    /// What is scattered on (its species selects the detector response).
    pub target: Target,
    /// κ of the channel for this target, MeV² ([`Channel::kappa_mev2`]).
    pub kappa_mev2: f64,
    /// Neutrino flavour at Earth.
    pub flavour: Flavour,
    /// SM dR/dT on the grid, counts kg⁻¹ keV⁻¹ day⁻¹.
    pub rate: Vec<f64>,
    /// Coefficient R₁ of x in dR/dT (interference), same units.
    pub rate_x1: Vec<f64>,
    /// Coefficient R₂ of x² in dR/dT (pure Z'), same units.
    pub rate_x2: Vec<f64>,
}

/// Rates of one source on the recoil grid, per channel, scatterer and
/// flavour.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRates {
    /// Source name.
    pub source: String,
    /// Pull width σ_j.
    pub sigma_frac: f64,
    /// Per channel, scatterer and flavour.
    pub parts: Vec<RatePart>,
}

impl SourceRates {
    /// Total SM rate on the grid.
    pub fn total(&self) -> Vec<f64> {
        self.total_where(|_| true)
    }

    /// SM rate on the grid of the recoils of `species`.
    pub fn total_for(&self, species: Species) -> Vec<f64> {
        self.total_where(|p| p.target.species() == species)
    }

    /// The recoiling species, sorted, each once.
    pub fn species(sources: &[SourceRates]) -> Vec<Species> {
        let mut v: Vec<Species> = sources
            .iter()
            .flat_map(|s| s.parts.iter().map(|p| p.target.species()))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
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
}

impl DetectorResponse {
    /// Binned SM rate of a source: the recoils of each species through its
    /// own response, summed. Rates of a species without a response are an
    /// error upstream (quench-smear builds one per species of the rates
    /// table).
    pub fn apply_source(&self, s: &SourceRates) -> Vec<f64> {
        let mut out = vec![0.0; self.bins().len()];
        for (sp, r) in self.parts() {
            for (o, v) in out.iter_mut().zip(r.apply(&s.total_for(*sp))) {
                *o += v;
            }
        }
        out
    }
}

// Names that lived in this module before the split into `detector`,
// `channel` and `zprime`; re-exported so code written against `rate::` keeps
// compiling. New code uses the new homes.
pub use crate::detector::{
    DetectorResponse, Efficiency, RecoilGrid, Response, quenched_spectrum, smeared_spectrum,
};
pub use crate::numerics::interp_loglog;
pub use crate::zprime::{BinnedModel, ZpKernel, binned_zprime, rate_with_zprime};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Cevns;
    use crate::flux::{Line, PiecewiseLinear};
    use crate::nucleus::Nucleus;

    fn ge() -> Nucleus {
        Nucleus {
            z: 32,
            n: 42,
            a: 74,
            mass_mev: 68_860.0,
            targets_per_kg: 2.0e24,
            abundance: 1.0,
        }
    }

    #[test]
    fn cevns_zprime_rates_are_exact_multiples_of_sm() {
        // (1 + x)²: R₁ = 2 R₀ and R₂ = R₀ bit for bit, for continua and lines.
        let c = Cevns::new(ge(), 0.23863);
        let t: Vec<f64> = (1..40).map(|i| 0.05 * f64::from(i)).collect();
        let k = vec![1e-40; t.len()];
        let cont = Spectrum::Continuum(
            PiecewiseLinear::new("s", vec![0.0, 5.0, 15.0], vec![0.0, 1.0, 0.0]).unwrap(),
        );
        let lines = Spectrum::Lines(vec![Line {
            energy_mev: 14.0,
            flux: 3.0,
        }]);
        for s in [cont, lines] {
            let [r0, r1, r2] = channel_rates(&c, &t, &k, Flavour::E, &s);
            assert!(r0.iter().any(|v| *v > 0.0));
            for j in 0..t.len() {
                assert_eq!(r1[j], 2.0 * r0[j]);
                assert_eq!(r2[j], r0[j]);
            }
        }
    }
}
