//! Flavour composition of solar ν_e at Earth (paper eq 8–11).

use serde::{Deserialize, Serialize};

use crate::error::{PhysicsError, Result};

/// Neutrino flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Flavour {
    /// ν_e
    #[serde(rename = "e")]
    E,
    /// ν_μ
    #[serde(rename = "mu")]
    Mu,
    /// ν_τ
    #[serde(rename = "tau")]
    Tau,
}

impl Flavour {
    /// All flavours in a fixed order (e, μ, τ).
    pub const ALL: [Flavour; 3] = [Flavour::E, Flavour::Mu, Flavour::Tau];

    /// Short name used in files: `e`, `mu`, `tau`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::E => "e",
            Flavour::Mu => "mu",
            Flavour::Tau => "tau",
        }
    }

    /// Parse `e`, `mu`, `tau`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "e" => Ok(Flavour::E),
            "mu" => Ok(Flavour::Mu),
            "tau" => Ok(Flavour::Tau),
            other => Err(PhysicsError::Unknown {
                kind: "flavour".into(),
                name: other.into(),
                known: "e, mu, tau".into(),
            }),
        }
    }

    /// Index 0, 1, 2.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Mixing angles entering eq 8–11 (as sin² of the angles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixingAngles {
    /// sin²θ₁₂
    pub sin2_theta12: f64,
    /// sin²θ₁₃
    pub sin2_theta13: f64,
    /// sin²θ₂₃
    pub sin2_theta23: f64,
}

impl MixingAngles {
    /// Normal-ordering best fit of de Salas et al., JHEP 02 (2021) 071.
    #[allow(clippy::approx_constant)] // 0.318 is sin²θ₁₂, not 1/π
    pub fn de_salas_2021_no() -> Self {
        Self {
            sin2_theta12: 0.318,
            sin2_theta13: 0.02200,
            sin2_theta23: 0.574,
        }
    }

    fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("sin2_theta12", self.sin2_theta12),
            ("sin2_theta13", self.sin2_theta13),
            ("sin2_theta23", self.sin2_theta23),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(PhysicsError::InvalidParameter {
                    name: name.into(),
                    value: v,
                    reason: "sin² of a mixing angle must lie in [0, 1]".into(),
                });
            }
        }
        Ok(())
    }

    /// Probabilities [P_ee, P_eμ, P_eτ] of eq 8–10 with P_eff = sin²θ₁₂
    /// (eq 11, the adiabatic high-energy limit the paper uses for all sources):
    /// P_ee = P_eff cos⁴θ₁₃ + sin⁴θ₁₃, P_eμ = (1 − P_ee) cos²θ₂₃,
    /// P_eτ = (1 − P_ee) sin²θ₂₃. They sum to 1.
    pub fn probabilities(&self) -> Result<[f64; 3]> {
        self.validate()?;
        let c13sq = 1.0 - self.sin2_theta13;
        let p_eff = self.sin2_theta12;
        let pee = p_eff * c13sq * c13sq + self.sin2_theta13 * self.sin2_theta13;
        let pem = (1.0 - pee) * (1.0 - self.sin2_theta23);
        let pet = (1.0 - pee) * self.sin2_theta23;
        Ok([pee, pem, pet])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // 0.318 is sin²θ₁₂
    fn de_salas_probabilities() {
        // Hand computation: P_ee = 0.318·0.956484 + 0.000484 = 0.304646;
        // P_eμ = 0.695363·0.426, P_eτ = 0.695363·0.574.
        let [pee, pem, pet] = MixingAngles::de_salas_2021_no().probabilities().unwrap();
        assert!((pee - (0.318 * 0.978f64.powi(2) + 0.022f64.powi(2))).abs() < 1e-15);
        assert!((pee - 0.304_646).abs() < 1e-6);
        assert!((pem - (1.0 - pee) * 0.426).abs() < 1e-15);
        assert!((pet - (1.0 - pee) * 0.574).abs() < 1e-15);
        assert!((pee + pem + pet - 1.0).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_angles() {
        let m = MixingAngles {
            sin2_theta12: 1.2,
            ..MixingAngles::de_salas_2021_no()
        };
        assert!(m.probabilities().is_err());
    }
}
