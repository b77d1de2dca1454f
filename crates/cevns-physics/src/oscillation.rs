//! Flavour composition of solar ν_e at Earth: the paper's constant
//! probabilities (eq 8–11) and the energy-dependent three-flavour adiabatic
//! MSW-LMA probabilities averaged over each source's production zone.

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

    pub(crate) fn validate(&self) -> Result<()> {
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

/// How ν_e produced in the Sun arrive at Earth.
#[derive(Debug, Clone, PartialEq)]
pub enum Oscillation {
    /// Paper eq 8–11: energy-independent, P_eff = sin²θ₁₂, no δ_CP.
    Paper(MixingAngles),
    /// Adiabatic three-flavour MSW-LMA with δ_CP, averaged over each
    /// source's production zone of a solar-model density profile.
    Msw(Msw),
}

impl Oscillation {
    /// [P_ee, P_eμ, P_eτ] for a ν_e of energy `e_mev` (MeV) from this
    /// source: constant for `Paper`, energy dependent for `Msw`.
    pub fn probabilities_at(&self, e_mev: f64) -> Result<[f64; 3]> {
        match self {
            Oscillation::Paper(m) => m.probabilities(),
            Oscillation::Msw(m) => Ok(m.probabilities(e_mev)),
        }
    }
}

/// Parameters of the adiabatic MSW-LMA calculation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MswParams {
    /// Mixing angles.
    #[serde(flatten)]
    pub mixing: MixingAngles,
    /// Δm²₂₁ in eV².
    pub dm2_21_ev2: f64,
    /// Dirac CP phase δ_CP in degrees.
    pub delta_cp_deg: f64,
}

/// A production zone of a source: electron density and the fraction of the
/// source's neutrinos produced there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// Electron density n_e in units of N_A cm⁻³ (as the BS05 tables give it).
    pub n_e_per_na_cm3: f64,
    /// Fraction of the source's neutrinos produced in this zone.
    pub weight: f64,
}

/// The MSW calculation for one source: parameters and production zones
/// (weights normalised to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Msw {
    /// Oscillation parameters.
    pub params: MswParams,
    zones: Vec<Zone>,
}

/// √2 G_F N_A (ħc)³ in eV cm³: the matter potential V = √2 G_F n_e in eV for
/// n_e in N_A cm⁻³ (7.63e-14 eV, e.g. PDG "Neutrino mixing", eq 14.55 ff.).
pub fn matter_potential_ev_per_na_cm3() -> f64 {
    use crate::units::{AVOGADRO, G_F_MEV2, HBARC_MEV_CM};
    // G_F in eV⁻², ħc in eV cm.
    let g_f_ev2 = G_F_MEV2 * 1e-12;
    let hbarc_ev_cm = HBARC_MEV_CM * 1e6;
    std::f64::consts::SQRT_2 * g_f_ev2 * hbarc_ev_cm.powi(3) * AVOGADRO
}

impl MswParams {
    fn validate(&self) -> Result<()> {
        self.mixing.validate()?;
        crate::error::positive("dm2_21_ev2", self.dm2_21_ev2)?;
        crate::error::finite("delta_cp_deg", self.delta_cp_deg)?;
        Ok(())
    }

    /// |U_αi|² of the vacuum PMNS matrix (standard parametrisation, PDG),
    /// rows e, μ, τ; columns 1, 2, 3. δ_CP enters the μ and τ rows.
    pub fn pmns_squared(&self) -> [[f64; 3]; 3] {
        let m = &self.mixing;
        let (s12, s13, s23) = (
            m.sin2_theta12.sqrt(),
            m.sin2_theta13.sqrt(),
            m.sin2_theta23.sqrt(),
        );
        let (c12, c13, c23) = (
            (1.0 - m.sin2_theta12).sqrt(),
            (1.0 - m.sin2_theta13).sqrt(),
            (1.0 - m.sin2_theta23).sqrt(),
        );
        let cd = self.delta_cp_deg.to_radians().cos();
        let j = 2.0 * s12 * c12 * s23 * c23 * s13 * cd;
        [
            [c12 * c12 * c13 * c13, s12 * s12 * c13 * c13, s13 * s13],
            [
                s12 * s12 * c23 * c23 + c12 * c12 * s23 * s23 * s13 * s13 + j,
                c12 * c12 * c23 * c23 + s12 * s12 * s23 * s23 * s13 * s13 - j,
                s23 * s23 * c13 * c13,
            ],
            [
                s12 * s12 * s23 * s23 + c12 * c12 * c23 * c23 * s13 * s13 - j,
                c12 * c12 * s23 * s23 + s12 * s12 * c23 * c23 * s13 * s13 + j,
                c23 * c23 * c13 * c13,
            ],
        ]
    }

    /// Fractions of mass eigenstates 1, 2, 3 of a ν_e of energy `e_mev`
    /// produced at electron density `n_e` (N_A cm⁻³), adiabatic propagation
    /// to the surface: cos²θ₁₂ᵐ c₁₃², sin²θ₁₂ᵐ c₁₃², s₁₃², with the matter
    /// angle of the effective two-flavour problem (potential c₁₃² V):
    /// cos 2θ₁₂ᵐ = (cos 2θ₁₂ − β)/√((cos 2θ₁₂ − β)² + sin² 2θ₁₂),
    /// β = 2 c₁₃² V E/Δm²₂₁. θ₁₃ in matter is taken as in vacuum (its
    /// shift is < 1 % of P_ee for solar energies).
    pub fn mass_fractions(&self, n_e: f64, e_mev: f64) -> [f64; 3] {
        let m = &self.mixing;
        let c13sq = 1.0 - m.sin2_theta13;
        let cos2 = 1.0 - 2.0 * m.sin2_theta12;
        let sin2sq = 4.0 * m.sin2_theta12 * (1.0 - m.sin2_theta12);
        let v_ev = matter_potential_ev_per_na_cm3() * n_e;
        let beta = 2.0 * c13sq * v_ev * e_mev * 1e6 / self.dm2_21_ev2;
        let cos2m = (cos2 - beta) / ((cos2 - beta).powi(2) + sin2sq).sqrt();
        [
            0.5 * (1.0 + cos2m) * c13sq,
            0.5 * (1.0 - cos2m) * c13sq,
            m.sin2_theta13,
        ]
    }
}

impl Msw {
    /// Validated: parameters in range, at least one zone, weights ≥ 0 with a
    /// positive sum (normalised here), densities ≥ 0.
    pub fn new(params: MswParams, zones: Vec<Zone>) -> Result<Self> {
        params.validate()?;
        let total: f64 = zones.iter().map(|z| z.weight).sum();
        if let Some(z) = zones.iter().find(|z| {
            !(z.weight.is_finite()
                && z.weight >= 0.0
                && z.n_e_per_na_cm3.is_finite()
                && z.n_e_per_na_cm3 >= 0.0)
        }) {
            return Err(PhysicsError::InvalidParameter {
                name: "production zone".into(),
                value: z.weight,
                reason: format!(
                    "weight and density must be finite and >= 0 (n_e = {})",
                    z.n_e_per_na_cm3
                ),
            });
        }
        if !(total.is_finite() && total > 0.0) {
            return Err(PhysicsError::InvalidParameter {
                name: "production zones".into(),
                value: total,
                reason: "weights must have a positive sum".into(),
            });
        }
        let zones = zones
            .into_iter()
            .filter(|z| z.weight > 0.0)
            .map(|z| Zone {
                weight: z.weight / total,
                ..z
            })
            .collect();
        Ok(Self { params, zones })
    }

    /// [P_ee, P_eμ, P_eτ] at `e_mev`, averaged over the production zones:
    /// P_eα = Σ_zones w Σᵢ Pᵢ(n_e, E) |U_αi|² (incoherent mass eigenstates
    /// at Earth, no day–night regeneration).
    pub fn probabilities(&self, e_mev: f64) -> [f64; 3] {
        let u = self.params.pmns_squared();
        let mut p = [0.0; 3];
        for z in &self.zones {
            let f = self.params.mass_fractions(z.n_e_per_na_cm3, e_mev);
            for (a, pa) in p.iter_mut().enumerate() {
                *pa += z.weight * (0..3).map(|i| f[i] * u[a][i]).sum::<f64>();
            }
        }
        p
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

    fn msw(n_e: f64) -> Msw {
        let p = MswParams {
            mixing: MixingAngles::de_salas_2021_no(),
            dm2_21_ev2: 7.50e-5,
            delta_cp_deg: 194.4,
        };
        Msw::new(
            p,
            vec![Zone {
                n_e_per_na_cm3: n_e,
                weight: 1.0,
            }],
        )
        .unwrap()
    }

    #[test]
    fn matter_potential_is_7_63e_14_ev() {
        // √2 G_F N_A (ħc)³ = 7.63e-14 eV cm³ (e.g. Giunti & Kim, eq 9.14).
        assert!((matter_potential_ev_per_na_cm3() / 7.63e-14 - 1.0).abs() < 2e-3);
    }

    #[test]
    fn msw_low_energy_is_vacuum_average() {
        // E → 0: P_ee = c13⁴(1 − ½ sin²2θ12) + s13⁴ (averaged vacuum oscillation).
        let m = MixingAngles::de_salas_2021_no();
        let vac = (1.0 - m.sin2_theta13).powi(2)
            * (1.0 - 2.0 * m.sin2_theta12 * (1.0 - m.sin2_theta12))
            + m.sin2_theta13.powi(2);
        let p = msw(100.0).probabilities(1e-4);
        assert!((p[0] - vac).abs() < 1e-5, "{} vs {vac}", p[0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn msw_high_energy_is_paper_eq11() {
        // E → ∞ at the solar core: θ12ᵐ → 90°, P_ee → c13⁴ sin²θ12 + s13⁴ (eq 8, 11).
        let paper = MixingAngles::de_salas_2021_no().probabilities().unwrap();
        let p = msw(100.0).probabilities(1e5);
        assert!((p[0] - paper[0]).abs() < 1e-4, "{} vs {}", p[0], paper[0]);
    }

    #[test]
    fn delta_cp_moves_mu_tau_not_e() {
        let a = msw(100.0);
        let mut b = a.clone();
        b.params.delta_cp_deg = 0.0;
        let (pa, pb) = (a.probabilities(10.0), b.probabilities(10.0));
        assert!((pa[0] - pb[0]).abs() < 1e-15);
        // 2 s12 c12 s23 c23 s13 (cos δ − 1)(P1 − P2) ≈ 0.13 × 0.75 at 10 MeV.
        assert!((pa[1] - pb[1]).abs() > 0.05, "{pa:?} {pb:?}");
        // With δ ≈ 194° the μ share exceeds the τ share at high E although
        // sin²θ23 > 1/2 (eq 9–10 order them the other way).
        assert!(pa[1] > pa[2], "{pa:?}");
        let u = a.params.pmns_squared();
        for (i, row) in u.iter().enumerate() {
            assert!((u.iter().map(|r| r[i]).sum::<f64>() - 1.0).abs() < 1e-12);
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
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
