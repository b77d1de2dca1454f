//! U(1)' models as data: a model is a set of U(1)' charges of the quarks and
//! of the three neutrino flavours (paper eq 4, 6). B−L and B−3L_ℓ are entries
//! in `data/models/u1prime.yaml`, not code.

use serde::{Deserialize, Serialize};

use crate::error::{PhysicsError, Result};
use crate::oscillation::Flavour;

/// U(1)' charges. The coupling is shared: g² = g_q g_ν (paper §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Charges {
    /// Up-quark charge Q'_u.
    pub u: f64,
    /// Down-quark charge Q'_d.
    pub d: f64,
    /// ν_e charge Q'_e.
    pub nu_e: f64,
    /// ν_μ charge Q'_μ.
    pub nu_mu: f64,
    /// ν_τ charge Q'_τ.
    pub nu_tau: f64,
    /// Electron charge Q'_e (vector coupling). Optional: by default the
    /// charge of the electron's doublet partner ν_e, which is what an
    /// anomaly-free vector U(1)' with lepton-number charges assigns (B−L:
    /// −1, B−3L_e: −3, B−3L_μ, B−3L_τ: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<f64>,
}

/// A named U(1)' model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct U1Model {
    /// Identifier used on the command line and in files, e.g. `B-L`.
    pub name: String,
    /// Human label for plots, e.g. `B−3L_e`.
    #[serde(default)]
    pub label: Option<String>,
    /// The charges.
    pub charges: Charges,
    /// Free text: reference, remarks.
    #[serde(default)]
    pub note: Option<String>,
}

impl U1Model {
    /// Charge of a neutrino flavour, Q'_ℓ.
    pub fn lepton_charge(&self, f: Flavour) -> f64 {
        match f {
            Flavour::E => self.charges.nu_e,
            Flavour::Mu => self.charges.nu_mu,
            Flavour::Tau => self.charges.nu_tau,
        }
    }

    /// Electron charge Q'_e: the explicit `e` charge, or Q'_{ν_e}.
    pub fn electron_charge(&self) -> f64 {
        self.charges.e.unwrap_or(self.charges.nu_e)
    }

    /// Nuclear quark charge q_N = Z(2Q'_u + Q'_d) + N(Q'_u + 2Q'_d): vector
    /// current conservation adds the valence-quark charges (eq 6). Equals A
    /// for universal quark charge 1/3.
    pub fn nuclear_charge(&self, z: u32, n: u32) -> f64 {
        let c = &self.charges;
        f64::from(z) * (2.0 * c.u + c.d) + f64::from(n) * (c.u + 2.0 * c.d)
    }

    /// The label, or the name.
    pub fn display(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    /// Check the charges are finite and that CEvNS can see this model at all
    /// (it needs a non-zero nucleon charge and at least one neutrino charge).
    pub fn validate(&self) -> Result<()> {
        let c = &self.charges;
        for (k, v) in [
            ("u", c.u),
            ("d", c.d),
            ("nu_e", c.nu_e),
            ("nu_mu", c.nu_mu),
            ("nu_tau", c.nu_tau),
            ("e", self.electron_charge()),
        ] {
            if !(v.is_finite() && v.abs() <= MAX_CHARGE) {
                return Err(PhysicsError::InvalidParameter {
                    name: format!("models.{}.charges.{k}", self.name),
                    value: v,
                    reason: format!(
                        "charge must be finite with |Q| <= {MAX_CHARGE:e} (U(1)' charges are O(1); the coupling g carries the scale)"
                    ),
                });
            }
        }
        if c.nu_e == 0.0 && c.nu_mu == 0.0 && c.nu_tau == 0.0 {
            return Err(PhysicsError::InvalidParameter {
                name: format!("models.{}.charges", self.name),
                value: 0.0,
                reason: "all neutrino charges are zero: CEvNS cannot constrain this model".into(),
            });
        }
        if 2.0 * c.u + c.d == 0.0 && c.u + 2.0 * c.d == 0.0 {
            return Err(PhysicsError::InvalidParameter {
                name: format!("models.{}.charges", self.name),
                value: 0.0,
                reason: "proton and neutron charges are zero: CEvNS cannot constrain this model"
                    .into(),
            });
        }
        Ok(())
    }
}

/// Largest |charge| accepted. Anomaly-free U(1)' charges are O(1) (B−3L has
/// 3); a charge of 10³ or more only rescales g and pushes g²·Q into ranges
/// where the rates overflow, so it is rejected as a typo.
pub const MAX_CHARGE: f64 = 1e3;

/// Find a model by name.
pub fn find<'a>(models: &'a [U1Model], name: &str) -> Result<&'a U1Model> {
    models
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| PhysicsError::Unknown {
            kind: "model".into(),
            name: name.into(),
            known: models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b3le() -> U1Model {
        U1Model {
            name: "B-3Le".into(),
            label: None,
            charges: Charges {
                u: 1.0 / 3.0,
                d: 1.0 / 3.0,
                nu_e: -3.0,
                nu_mu: 0.0,
                nu_tau: 0.0,
                e: None,
            },
            note: None,
        }
    }

    #[test]
    fn universal_quark_charge_gives_a() {
        let m = b3le();
        assert!((m.nuclear_charge(32, 42) - 74.0).abs() < 1e-12);
        assert_eq!(m.lepton_charge(Flavour::E), -3.0);
        assert_eq!(m.lepton_charge(Flavour::Tau), 0.0);
        assert_eq!(m.electron_charge(), -3.0);
    }

    #[test]
    fn invisible_models_are_rejected() {
        let mut m = b3le();
        m.charges.nu_e = 0.0;
        assert!(m.validate().is_err());
        let mut m = b3le();
        m.charges.u = 1.0;
        m.charges.d = -2.0; // proton 0, neutron −3: still visible
        assert!(m.validate().is_ok());
        m.charges.u = 0.0;
        m.charges.d = 0.0;
        assert!(m.validate().is_err());
    }
}
