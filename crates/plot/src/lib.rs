//! Rendering for the cevns-pipeline figures, shared by the `plot` stage
//! (the paper's figures) and the `compare` stage (limit curves of several
//! pipelines on one figure).
//!
//! - [`geom`]: axis frames, clipping of sampled curves to the frame, decade
//!   rounding and Unicode number formatting;
//! - [`render`]: a backend-neutral figure description ([`Plot`], [`Line`],
//!   [`Shade`]) and its deterministic rendering to PNG and SVG bytes;
//! - `raster`: the anti-aliased plotters backend behind the PNGs;
//! - [`figures`]: the paper's figures as [`Plot`]s, the palette and the
//!   default ranges of the limit plots;
//! - [`input`]: reading the `plot` stage's inputs;
//! - [`xenonnt`]: the XENONnT 8B CEvNS figures (real data);
//! - [`stage`], [`xenonnt_stage`]: the `plot` stage's flags and runs (the
//!   binary only parses and calls them).

pub mod figures;
pub mod geom;
pub mod input;
mod raster;
pub mod render;
pub mod stage;
pub mod xenonnt;
pub mod xenonnt_stage;

pub use figures::{LIMIT_G_RANGE, LIMIT_MASS_RANGE_MEV, PALETTE, limit_frame_for};
pub use geom::{Frame, Polyline, Scale};
pub use render::{Format, LegendPos, Line, Plot, Shade, render};
