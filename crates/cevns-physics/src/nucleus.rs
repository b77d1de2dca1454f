//! Nuclei and targets. A target is an isotope mixture described by data
//! (see `data/targets/*.yaml`), so a new target is a new file, not new code.

use serde::{Deserialize, Serialize};

use crate::error::{PhysicsError, Result, positive};
use crate::units::{AMU_MEV, AVOGADRO, ELECTRON_MASS_MEV, GRAMS_PER_KG, SIN2_THETA_W_LOW_Q};

/// One isotope of a target: proton number, mass number, natural abundance and
/// atomic mass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isotope {
    /// Mass number A.
    pub a: u32,
    /// Natural abundance (number fraction, 0..1).
    pub abundance: f64,
    /// Atomic mass in u (includes the electrons).
    pub mass_u: f64,
}

/// A target material: an element with its isotopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Short name, e.g. `Ge-nat`.
    pub name: String,
    /// Proton number Z.
    pub z: u32,
    /// Molar mass of the material in g/mol (sets the number of nuclei per kg).
    pub molar_mass_g_per_mol: f64,
    /// The isotopes; abundances must sum to 1 within 1e-3.
    pub isotopes: Vec<Isotope>,
}

/// A nucleus with everything the cross sections need, derived from a
/// [`Target`] isotope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nucleus {
    /// Proton number Z.
    pub z: u32,
    /// Neutron number N = A − Z.
    pub n: u32,
    /// Mass number A.
    pub a: u32,
    /// Nuclear mass m_N in MeV: atomic mass · u − Z · m_e (electron binding
    /// energies, < 0.1 keV per electron scale, neglected).
    pub mass_mev: f64,
    /// Number of such nuclei per kg of target material:
    /// abundance · 1000 g · N_A / M_molar (paper: N_T = m_t N_A / m_A).
    pub targets_per_kg: f64,
    /// Natural abundance.
    pub abundance: f64,
}

impl Target {
    /// Validate the description and derive the nuclei.
    pub fn nuclei(&self) -> Result<Vec<Nucleus>> {
        positive("molar_mass_g_per_mol", self.molar_mass_g_per_mol)?;
        if self.z == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: "z".into(),
                value: 0.0,
                reason: "proton number must be >= 1".into(),
            });
        }
        if self.isotopes.is_empty() {
            return Err(PhysicsError::InvalidTable {
                name: format!("{}.isotopes", self.name),
                reason: "no isotopes".into(),
            });
        }
        let total: f64 = self.isotopes.iter().map(|i| i.abundance).sum();
        if (total - 1.0).abs() > 1e-3 {
            return Err(PhysicsError::InvalidTable {
                name: format!("{}.isotopes", self.name),
                reason: format!("abundances sum to {total}, expected 1"),
            });
        }
        let per_kg = GRAMS_PER_KG * AVOGADRO / self.molar_mass_g_per_mol;
        self.isotopes
            .iter()
            .map(|iso| {
                positive("isotope.mass_u", iso.mass_u)?;
                if !(iso.abundance.is_finite() && (0.0..=1.0).contains(&iso.abundance)) {
                    return Err(PhysicsError::InvalidParameter {
                        name: format!("isotope A={} abundance", iso.a),
                        value: iso.abundance,
                        reason: "must be in [0, 1]".into(),
                    });
                }
                if iso.a < self.z {
                    return Err(PhysicsError::InvalidParameter {
                        name: "isotope.a".into(),
                        value: f64::from(iso.a),
                        reason: format!("mass number below Z = {}", self.z),
                    });
                }
                Ok(Nucleus {
                    z: self.z,
                    n: iso.a - self.z,
                    a: iso.a,
                    mass_mev: iso.mass_u * AMU_MEV - f64::from(self.z) * ELECTRON_MASS_MEV,
                    targets_per_kg: iso.abundance * per_kg,
                    abundance: iso.abundance,
                })
            })
            .collect()
    }
}

impl Nucleus {
    /// Weak nuclear charge of eq 2–3: Q_SM = g_V^p Z + g_V^n N with
    /// g_V^p = ½(1 − 4 sin²θ_W), g_V^n = −½. Dimensionless, negative.
    pub fn q_sm(&self, sin2_theta_w: f64) -> f64 {
        let gp = 0.5 * (1.0 - 4.0 * sin2_theta_w);
        let gn = -0.5;
        gp * f64::from(self.z) + gn * f64::from(self.n)
    }

    /// Q_SM with the paper's sin²θ_W = 0.23863.
    pub fn q_sm_default(&self) -> f64 {
        self.q_sm(SIN2_THETA_W_LOW_Q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ge() -> Target {
        Target {
            name: "Ge-nat".into(),
            z: 32,
            molar_mass_g_per_mol: 72.63,
            isotopes: vec![
                Isotope {
                    a: 70,
                    abundance: 0.2057,
                    mass_u: 69.924,
                },
                Isotope {
                    a: 72,
                    abundance: 0.2745,
                    mass_u: 71.922,
                },
                Isotope {
                    a: 73,
                    abundance: 0.0775,
                    mass_u: 72.923,
                },
                Isotope {
                    a: 74,
                    abundance: 0.3650,
                    mass_u: 73.921,
                },
                Isotope {
                    a: 76,
                    abundance: 0.0773,
                    mass_u: 75.921,
                },
            ],
        }
    }

    #[test]
    fn germanium_targets_per_kg() {
        // N_A * 1000 / 72.63 = 8.2915e24 nuclei per kg of natural Ge.
        let n: f64 = ge()
            .nuclei()
            .unwrap()
            .iter()
            .map(|n| n.targets_per_kg)
            .sum();
        assert!((n / 8.291_506e24 - 1.0).abs() < 1e-5, "{n}");
    }

    #[test]
    fn q_sm_ge74() {
        // Q_SM = ½(1 − 4·0.23863)·32 − 42/2 = 16·0.04548 − 21 = −20.27232.
        let n = ge().nuclei().unwrap()[3];
        assert_eq!((n.z, n.n, n.a), (32, 42, 74));
        assert!((n.q_sm_default() + 20.27232).abs() < 1e-9);
        // m_N = 73.921 u − 32 m_e.
        assert!((n.mass_mev - (73.921 * 931.49410242 - 32.0 * 0.51099895)).abs() < 1e-9);
    }

    #[test]
    fn bad_abundances_rejected() {
        let mut t = ge();
        t.isotopes[0].abundance = 0.5;
        assert!(t.nuclei().is_err());
    }
}
