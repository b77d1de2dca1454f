//! Interaction channels: what a neutrino scatters on, what recoils, the
//! differential cross section with its kinematic limits, and the pieces a
//! light vector Z' adds — everything the generic flux convolution
//! ([`crate::rate`]), detector response ([`crate::detector`]) and Z'
//! polynomial ([`crate::zprime`]) need to know about an interaction.
//!
//! # The contract
//! A channel writes its cross section, for E ≥ E_min(T), as a recoil-only
//! prefactor K(T) (cm² keV⁻¹, tabulated by `xsec-tables`: form factor,
//! atomic binding, …) times a polynomial in 1/E:
//!
//! dσ/dT(E, T) = K(T) · Σₖ cₖ(T) E⁻ᵏ, k = 0, 1, 2,
//!
//! so that the energy integral of eq 12 is exact for piecewise-linear
//! spectra and lines ([`crate::flux::Spectrum::moment_integral`]). A vector
//! Z' shifts one SM coupling by x = g² Q'_ν Q'_T κ/(m_Z'² + 2 M T), with Q'_T
//! the Z' charge of the target ([`Target::zprime_charge`]), κ the channel's
//! scale and M the recoiling mass; the cross section is then a quadratic in x
//! with 1/E polynomials of its own ([`EnergyTerms`]). Every rate is therefore
//! R₀ + x R₁ + x² R₂ on the recoil grid, and the binned rate the generic
//! R₀ + g² R₁(m) + g⁴ R₂(m) of eq 20.
//!
//! # Adding a channel
//! One module here implementing [`Channel`] (plus its data), one variant of
//! [`AnyChannel`], and the prefactor K(T) in `xsec-tables`. The flux
//! convolution, response, kernels, χ² and all tables are generic.

pub mod cevns;
pub mod electron;

use crate::detector::Species;
use crate::model::U1Model;
use crate::nucleus::Nucleus;
use crate::oscillation::Flavour;

pub use cevns::Cevns;
pub use electron::NuElectron;

/// What a channel scatters on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// A nucleus (coherent scattering on the whole nucleus).
    Nucleus(Nucleus),
    /// The electrons of one atom of element Z (rates are per atom, so the
    /// electron count and atomic binding live in the channel's K(T)).
    Electrons {
        /// Proton number of the atom.
        z: u32,
        /// Atoms per kg of target material.
        atoms_per_kg: f64,
    },
}

impl Target {
    /// The species that recoils, which selects the detector response.
    pub fn species(&self) -> Species {
        match self {
            Target::Nucleus(n) => Species::Nucleus(n.z),
            Target::Electrons { .. } => Species::Electron,
        }
    }

    /// Mass of the recoiling particle M, MeV: the Z' propagator is
    /// 1/(m_Z'² + 2 M T).
    pub fn recoil_mass_mev(&self) -> f64 {
        match self {
            Target::Nucleus(n) => n.mass_mev,
            Target::Electrons { .. } => crate::units::ELECTRON_MASS_MEV,
        }
    }

    /// Scatterers per kg of target material.
    pub fn per_kg(&self) -> f64 {
        match self {
            Target::Nucleus(n) => n.targets_per_kg,
            Target::Electrons { atoms_per_kg, .. } => *atoms_per_kg,
        }
    }

    /// Proton number of the nucleus or atom.
    pub fn z(&self) -> u32 {
        match self {
            Target::Nucleus(n) => n.z,
            Target::Electrons { z, .. } => *z,
        }
    }

    /// Identity used to combine rates of the same scatterer: (Z, A), A = 0
    /// for electrons.
    pub fn key(&self) -> (Species, u32) {
        match self {
            Target::Nucleus(n) => (self.species(), n.a),
            Target::Electrons { z, .. } => (self.species(), *z),
        }
    }

    /// The Z' charge Q'_T of the target in `model`: the nuclear quark charge
    /// q_N (eq 6) for a nucleus, the electron charge Q'_e for electrons.
    pub fn zprime_charge(&self, model: &U1Model) -> f64 {
        match self {
            Target::Nucleus(n) => model.nuclear_charge(n.z, n.n),
            Target::Electrons { .. } => model.electron_charge(),
        }
    }
}

/// Coefficients (c₀, c₁, c₂) of Σₖ cₖ E⁻ᵏ (E in MeV); see the module doc.
pub type InvEnergyPoly = [f64; 3];

/// The 1/E polynomials of one channel at one recoil energy and flavour:
/// dσ/dT = K(T) · (sm + x·x1 + x²·x2)(E), with x the Z' coupling shift of
/// the module doc.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyTerms {
    /// The SM cross section.
    pub sm: InvEnergyPoly,
    /// Coefficient of x (interference), may be negative.
    pub x1: InvEnergyPoly,
    /// Coefficient of x² (pure Z'), never negative.
    pub x2: InvEnergyPoly,
    /// True if the x-term is non-negative for every E (so round-off below 0
    /// may be clamped, as for the SM and x² terms).
    pub x1_nonneg: bool,
}

/// An interaction channel (see the module doc for the contract).
pub trait Channel {
    /// Short name used in tables: `cevns`, `nu-e`.
    fn name(&self) -> &'static str;

    /// What is scattered on.
    fn target(&self) -> Target;

    /// κ in MeV²: the Z' coupling shift is x = g² Q'_ν Q'_T κ/(m_Z'² + 2 M T).
    fn kappa_mev2(&self) -> f64;

    /// Smallest neutrino energy that can give recoil `t_mev`, MeV.
    fn e_nu_min_mev(&self, t_mev: f64) -> f64 {
        crate::kinematics::e_nu_min_mev(self.target().recoil_mass_mev(), t_mev)
    }

    /// Largest recoil from neutrino energy `e_nu_mev`, MeV.
    fn t_max_mev(&self, e_nu_mev: f64) -> f64 {
        crate::kinematics::t_max_mev(self.target().recoil_mass_mev(), e_nu_mev)
    }

    /// The 1/E polynomials at recoil `t_mev` for a neutrino of `flavour`.
    fn energy_terms(&self, flavour: Flavour, t_mev: f64) -> EnergyTerms;
}

/// The channels this crate implements, as one type the stages can store
/// and match on.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyChannel {
    /// Coherent elastic neutrino–nucleus scattering (paper eq 1–7).
    Cevns(Cevns),
    /// Neutrino–electron elastic scattering.
    NuElectron(NuElectron),
}

impl AnyChannel {
    fn inner(&self) -> &dyn Channel {
        match self {
            AnyChannel::Cevns(c) => c,
            AnyChannel::NuElectron(c) => c,
        }
    }
}

impl Channel for AnyChannel {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn target(&self) -> Target {
        self.inner().target()
    }
    fn kappa_mev2(&self) -> f64 {
        self.inner().kappa_mev2()
    }
    fn e_nu_min_mev(&self, t_mev: f64) -> f64 {
        self.inner().e_nu_min_mev(t_mev)
    }
    fn t_max_mev(&self, e_nu_mev: f64) -> f64 {
        self.inner().t_max_mev(e_nu_mev)
    }
    fn energy_terms(&self, flavour: Flavour, t_mev: f64) -> EnergyTerms {
        self.inner().energy_terms(flavour, t_mev)
    }
}
