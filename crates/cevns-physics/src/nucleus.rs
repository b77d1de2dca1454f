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

/// One element of a target material: proton number, atoms per formula unit
/// and natural isotopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Element {
    /// Proton number Z.
    pub z: u32,
    /// Atoms of this element per formula unit (1 for an element, 1 and 1
    /// for Cs and I in CsI).
    #[serde(default = "one")]
    pub count: u32,
    /// The isotopes; abundances must sum to 1 within 1e-3.
    pub isotopes: Vec<Isotope>,
}

fn one() -> u32 {
    1
}

/// The file form of a target: either one element (`z` + `isotopes`) or a
/// compound (`elements`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    name: String,
    molar_mass_g_per_mol: f64,
    #[serde(default)]
    z: Option<u32>,
    #[serde(default)]
    isotopes: Option<Vec<Isotope>>,
    #[serde(default)]
    elements: Option<Vec<Element>>,
}

impl TryFrom<TargetSpec> for Target {
    type Error = String;
    fn try_from(t: TargetSpec) -> std::result::Result<Self, String> {
        let elements = match (t.z, t.isotopes, t.elements) {
            (Some(z), Some(isotopes), None) => vec![Element {
                z,
                count: 1,
                isotopes,
            }],
            (None, None, Some(e)) if !e.is_empty() => e,
            _ => {
                return Err(
                    "give either `z` and `isotopes` (an element) or `elements` (a compound)".into(),
                );
            }
        };
        Ok(Target {
            name: t.name,
            molar_mass_g_per_mol: t.molar_mass_g_per_mol,
            elements,
        })
    }
}

/// A target material: one element or a compound, described by data
/// (`data/targets/*.yaml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TargetSpec")]
pub struct Target {
    /// Short name, e.g. `Ge-nat`.
    pub name: String,
    /// Molar mass of the material (per formula unit) in g/mol; sets the
    /// number of nuclei per kg.
    pub molar_mass_g_per_mol: f64,
    /// The elements.
    pub elements: Vec<Element>,
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
    /// count · abundance · 1000 g · N_A / M_molar (paper: N_T = m_t N_A / m_A).
    pub targets_per_kg: f64,
    /// Natural abundance.
    pub abundance: f64,
}

impl Target {
    /// A single-element target.
    pub fn element(name: &str, z: u32, molar_mass_g_per_mol: f64, isotopes: Vec<Isotope>) -> Self {
        Self {
            name: name.to_string(),
            molar_mass_g_per_mol,
            elements: vec![Element {
                z,
                count: 1,
                isotopes,
            }],
        }
    }

    /// Validate the description and derive the nuclei.
    pub fn nuclei(&self) -> Result<Vec<Nucleus>> {
        positive("molar_mass_g_per_mol", self.molar_mass_g_per_mol)?;
        let per_kg = GRAMS_PER_KG * AVOGADRO / self.molar_mass_g_per_mol;
        let mut out = Vec::new();
        for el in &self.elements {
            out.extend(self.element_nuclei(el, per_kg)?);
        }
        Ok(out)
    }

    fn element_nuclei(&self, el: &Element, per_kg: f64) -> Result<Vec<Nucleus>> {
        if el.z == 0 || el.count == 0 {
            return Err(PhysicsError::InvalidParameter {
                name: format!("{}: z / count", self.name),
                value: 0.0,
                reason: "proton number and count must be >= 1".into(),
            });
        }
        if el.isotopes.is_empty() {
            return Err(PhysicsError::InvalidTable {
                name: format!("{} (Z = {}).isotopes", self.name, el.z),
                reason: "no isotopes".into(),
            });
        }
        // Each abundance first, so that a negative one is named rather than
        // reported as a wrong sum.
        if let Some(iso) = el
            .isotopes
            .iter()
            .find(|i| !(i.abundance.is_finite() && (0.0..=1.0).contains(&i.abundance)))
        {
            return Err(PhysicsError::InvalidParameter {
                name: format!("{} (Z = {}) isotope A={} abundance", self.name, el.z, iso.a),
                value: iso.abundance,
                reason: "must be in [0, 1]".into(),
            });
        }
        let total: f64 = el.isotopes.iter().map(|i| i.abundance).sum();
        if (total - 1.0).abs() > 1e-3 {
            return Err(PhysicsError::InvalidTable {
                name: format!("{} (Z = {}).isotopes", self.name, el.z),
                reason: format!("abundances sum to {total}, expected 1"),
            });
        }
        el.isotopes
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
                if iso.a < el.z {
                    return Err(PhysicsError::InvalidParameter {
                        name: "isotope.a".into(),
                        value: f64::from(iso.a),
                        reason: format!("mass number below Z = {}", el.z),
                    });
                }
                Ok(Nucleus {
                    z: el.z,
                    n: iso.a - el.z,
                    a: iso.a,
                    mass_mev: iso.mass_u * AMU_MEV - f64::from(el.z) * ELECTRON_MASS_MEV,
                    targets_per_kg: f64::from(el.count) * iso.abundance * per_kg,
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
    #[test]
    fn compound_counts_each_element() {
        // CsI: M = 259.81 g/mol, one Cs and one I per formula unit, so each
        // has N_A·1000/259.81 = 2.3179e24 (6.02214076e26/259.81) nuclei per kg.
        let t: Target = serde_yaml_like(
            r#"{"name":"CsI","molar_mass_g_per_mol":259.81,"elements":[
                {"z":55,"isotopes":[{"a":133,"abundance":1.0,"mass_u":132.905}]},
                {"z":53,"count":1,"isotopes":[{"a":127,"abundance":1.0,"mass_u":126.904}]}]}"#,
        );
        let n = t.nuclei().unwrap();
        assert_eq!((n[0].z, n[0].a, n[1].z, n[1].a), (55, 133, 53, 127));
        for x in &n {
            assert!(
                (x.targets_per_kg / 2.317_902e24 - 1.0).abs() < 1e-5,
                "{}",
                x.targets_per_kg
            );
        }
    }

    fn serde_yaml_like(json: &str) -> Target {
        // JSON is valid YAML; the physics crate has no YAML parser.
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn target_needs_exactly_one_form() {
        let both = r#"{"name":"x","molar_mass_g_per_mol":1,"z":1,"isotopes":[],"elements":[]}"#;
        assert!(serde_json::from_str::<Target>(both).is_err());
        let neither = r#"{"name":"x","molar_mass_g_per_mol":1}"#;
        assert!(serde_json::from_str::<Target>(neither).is_err());
    }

    use super::*;

    fn ge() -> Target {
        Target::element(
            "Ge-nat",
            32,
            72.63,
            vec![
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
        )
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
        t.elements[0].isotopes[0].abundance = 0.5;
        assert!(t.nuclei().is_err());
    }
}
