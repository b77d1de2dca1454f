//! Extended binned Poisson template likelihood with profiled nuisances: the
//! statistics of XENONnT's public 8B CEvNS likelihood (PRL 133, 191002 (2024);
//! XENONnT/cevns_data_release), beside the CDEX-10 pull χ² of [`crate::stats`].
//!
//! - [`template`]: templates morphed bilinearly in the light/charge-yield
//!   nuisances (t_ly, t_qy) between anchors, and the mono-energetic template
//!   response P(bin | T_nr) that folds a recoil spectrum into a template.
//! - [`model`]: −2 ln L over bins of several science runs, rate multipliers,
//!   Gaussian constraints.
//! - [`fit`]: profile fits (argmin L-BFGS), discovery significance √q₀,
//!   Δ(−2 ln L) intervals.

pub mod fit;
pub mod model;
pub mod template;

pub use fit::{Fit, fit, fit_polished, fit_quick, interval, profile, significance};
pub use model::{Channel, Component, Param, PoissonModel};
pub use template::{FoldMatrix, MonoResponse, MorphGrid};
