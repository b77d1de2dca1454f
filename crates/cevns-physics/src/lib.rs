//! Physics of coherent elastic neutrino–nucleus scattering (CEvNS) of solar
//! neutrinos, with light U(1)' vector mediators, as specified by
//! Demirci & Mustamin, "Solar Neutrino Constraints on U(1)' Models via CEvNS"
//! (BSM-2023), equations 1–20.
//!
//! This crate is pure: no file or network I/O, no global state. Every function
//! documents its units and the paper equation it implements.
//!
//! Unit conventions (see [`units`]):
//! - neutrino energies, nuclear masses, mediator masses: **MeV**
//! - nuclear recoil energy `T_nr` and electron-equivalent energy `T_ee`: **keV**
//!   at API boundaries (as in the paper's figures), MeV inside formulas
//! - fluxes: cm⁻² s⁻¹ (lines) and cm⁻² s⁻¹ MeV⁻¹ (continua)
//! - cross sections: cm² keV⁻¹; rates: counts kg⁻¹ keV⁻¹ day⁻¹

pub mod error;
pub mod flux;
pub mod form_factor;
pub mod kinematics;
pub mod likelihood;
pub mod model;
pub mod nucleus;
pub mod oscillation;
pub mod quenching;
pub mod rate;
pub mod resolution;
pub mod stats;
pub mod units;
pub mod xsec;

pub use error::PhysicsError;
