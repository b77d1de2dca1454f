//! The detector side: the recoil grid every stage integrates on, quenching
//! (eq 15–19), resolution and binning, efficiency, and the response matrix
//! that maps a recoil spectrum to binned rates.
//!
//! Nothing here knows which interaction produced a recoil: a rate reaches the
//! detector as dR/dT on the [`RecoilGrid`] together with the [`Species`] that
//! recoiled (a nucleus of element Z, or an electron), and the species alone
//! selects the quenching.

pub mod efficiency;
pub mod grid;
pub mod quenching;
pub mod resolution;
pub mod response;

pub use efficiency::Efficiency;
pub use grid::RecoilGrid;
pub use response::{
    DetectorResponse, Response, Smearing, Species, quenched_spectrum, smeared_spectrum,
};
