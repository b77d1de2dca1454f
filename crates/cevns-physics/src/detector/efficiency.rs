//! Signal efficiency ε(E) as a function of reconstructed electron-equivalent
//! energy E (keVee), folded into each bin with the resolution.

use crate::detector::resolution::Resolution;
use crate::error::{PhysicsError, Result};

/// Signal efficiency as a function of reconstructed electron-equivalent
/// energy.
#[derive(Debug, Clone, PartialEq)]
pub enum Efficiency {
    /// Constant in (0, 1].
    Constant(f64),
    /// ε(E [keVee]) tabulated, linear interpolation, 0 outside the table.
    Table(crate::flux::PiecewiseLinear),
}

impl Efficiency {
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Efficiency::Constant(e) if !(e.is_finite() && *e > 0.0 && *e <= 1.0) => {
                Err(PhysicsError::InvalidParameter {
                    name: "efficiency".into(),
                    value: *e,
                    reason: "must lie in (0, 1]".into(),
                })
            }
            Efficiency::Table(t) => match t.values().iter().find(|v| **v > 1.0) {
                Some(v) => Err(PhysicsError::InvalidParameter {
                    name: "efficiency table".into(),
                    value: *v,
                    reason: "efficiencies must lie in [0, 1]".into(),
                }),
                None => Ok(()),
            },
            Efficiency::Constant(_) => Ok(()),
        }
    }

    /// ∫_lo^hi ε(E) G(E | e_true) dE.
    pub fn bin_probability(&self, res: &Resolution, e_true: f64, lo: f64, hi: f64) -> f64 {
        match self {
            Efficiency::Constant(c) => c * res.bin_probability(e_true, lo, hi),
            Efficiency::Table(t) => {
                const SUB: usize = 10;
                let h = (hi - lo) / SUB as f64;
                (0..SUB)
                    .map(|k| {
                        let (a, b) = (lo + h * k as f64, lo + h * (k + 1) as f64);
                        t.eval(0.5 * (a + b)) * res.bin_probability(e_true, a, b)
                    })
                    .sum()
            }
        }
    }
}
