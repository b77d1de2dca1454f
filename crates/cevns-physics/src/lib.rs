//! Physics of coherent elastic neutrino–nucleus scattering (CEvNS) of solar
//! neutrinos, with light U(1)' vector mediators, as specified by
//! Demirci & Mustamin, "Solar Neutrino Constraints on U(1)' Models via CEvNS"
//! (BSM-2023), equations 1–20.
//!
//! This crate is pure: no file or network I/O, no global state. Every function
//! documents its units and the paper equation it implements.
//!
//! Layout, in the order the data flows:
//! - [`units`], [`nucleus`], [`form_factor`], [`kinematics`], [`model`]
//! - [`oscillation`], [`flux`]: fluxes at Earth and their energy moments
//! - [`channel`]: interactions (CEvNS, …): what recoils, dσ/dT, its limits,
//!   the Z' pieces
//! - [`rate`]: the flux convolution of eq 12 for any channel
//! - [`detector`]: recoil grid, quenching, resolution, efficiency, response
//! - [`zprime`]: the model's g²/g⁴ kernels and the binned polynomial
//! - [`stats`]: pull χ² (eq 20) and limits
//!
//! Unit conventions (see [`units`]):
//! - neutrino energies, nuclear masses, mediator masses: **MeV**
//! - recoil energy T (nuclear T_nr or electron T_e) and electron-equivalent
//!   energy T_ee: **keV** at API boundaries (as in the paper's figures), MeV
//!   inside formulas
//! - fluxes: cm⁻² s⁻¹ (lines) and cm⁻² s⁻¹ MeV⁻¹ (continua)
//! - cross sections: cm² keV⁻¹; rates: counts kg⁻¹ keV⁻¹ day⁻¹

pub mod channel;
pub mod detector;
pub mod error;
pub mod flux;
pub mod form_factor;
pub mod kinematics;
pub mod likelihood;
pub mod model;
pub mod nucleus;
pub mod numerics;
pub mod oscillation;
pub mod rate;
pub mod stats;
pub mod units;
pub mod zprime;

pub use channel::cevns as xsec;
pub use detector::{quenching, resolution};
pub use error::PhysicsError;
