//! Comparisons of our limit curves with the paper's numbers and with other
//! experiments' limits, and the quantitative checks of our explanations.

use std::collections::BTreeMap;

use cevns_io::data::LimitCurve;
use cevns_physics::rate::interp_loglog;

use crate::paper::{Check, Explanations, PaperFile};

/// Our limit curves: model → (masses [MeV], g90) where a limit exists.
pub type Curves = BTreeMap<String, (Vec<f64>, Vec<f64>)>;

/// Our g90 of `model` at `mass` (log-log interpolation), if inside the scan.
pub fn ours(curves: &Curves, model: &str, mass: f64) -> Option<f64> {
    let (x, y) = curves.get(model)?;
    let v = interp_loglog(x, y, mass);
    (v > 0.0).then_some(v)
}

/// Verdict of one comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Input,
    NotComputed,
    Reproduced,
    Explained,
    Unexplained,
}

impl Verdict {
    /// Table text.
    pub fn label(&self, why: Option<&str>) -> String {
        match self {
            Verdict::Input => "input (calibration)".into(),
            Verdict::NotComputed => "not computed".into(),
            Verdict::Reproduced => "reproduced".into(),
            Verdict::Explained => format!("differs-explained (`{}`)", why.unwrap_or("?")),
            Verdict::Unexplained => match why {
                Some(w) => format!("differs-unexplained (`{w}` check fails)"),
                None => "differs-unexplained".into(),
            },
        }
    }
}

/// Verdict for a relative difference `d`, given an optional explanation id.
pub fn verdict(
    d: f64,
    tol: f64,
    why: Option<&str>,
    expl: &Explanations,
    curves: &Curves,
    probs: &BTreeMap<String, f64>,
    paper: &PaperFile,
) -> Verdict {
    if d.abs() <= tol {
        return Verdict::Reproduced;
    }
    match why.and_then(|w| expl.get(w)) {
        Some(e) if run_check(&e.check, curves, probs, paper).passed => Verdict::Explained,
        _ => Verdict::Unexplained,
    }
}

/// Outcome of an explanation's check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub passed: bool,
    pub details: Vec<String>,
}

impl CheckResult {
    /// Human text.
    pub fn describe(&self) -> String {
        format!(
            "**{}** — {}",
            if self.passed { "passes" } else { "FAILS" },
            self.details.join("; ")
        )
    }
}

/// Evaluate a check on our curves (and the paper's numbers for contrast).
pub fn run_check(
    check: &Check,
    curves: &Curves,
    probs: &BTreeMap<String, f64>,
    paper: &PaperFile,
) -> CheckResult {
    let mut details = Vec::new();
    let mut passed = true;
    match check {
        Check::FlavourRatio {
            reference_model,
            flavour,
        } => {
            let (Some(&pe), Some(&pf)) = (probs.get("e"), probs.get(flavour.as_str())) else {
                return CheckResult {
                    passed: false,
                    details: vec![format!("no flavour fractions for e/{flavour}")],
                };
            };
            let (lo, hi) = ((pe / pf).sqrt(), (pe / pf).powf(0.25));
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            details.push(format!(
                "P_ee = {pe:.4}, P_e{flavour} = {pf:.4}: allowed ratio [{lo:.3}, {hi:.3}]"
            ));
            let model = format!("B-3L{flavour}");
            for m in [1.0, 10.0] {
                match (ours(curves, &model, m), ours(curves, reference_model, m)) {
                    (Some(a), Some(b)) => {
                        let r = a / b;
                        let ok = r >= lo * (1.0 - 1e-3) && r <= hi * (1.0 + 1e-3);
                        passed &= ok;
                        details.push(format!(
                            "ours at {m} MeV: {r:.3} ({})",
                            if ok { "inside" } else { "outside" }
                        ));
                    }
                    _ => {
                        passed = false;
                        details.push(format!("{model} or {reference_model} missing at {m} MeV"));
                    }
                }
                let pick = |name: &str| {
                    paper
                        .limits
                        .iter()
                        .find(|l| l.model == name && (l.m_zp_mev - m).abs() < 1e-9)
                        .map(|l| l.g90)
                };
                if let (Some(a), Some(b)) = (pick(&model), pick(reference_model)) {
                    let bound = (pe / (1.0 - pe)).sqrt();
                    details.push(format!(
                        "paper at {m} MeV: {:.3} (unitarity lower bound {bound:.3})",
                        a / b
                    ));
                }
            }
        }
        Check::MassGrowth {
            from_mev,
            to_mev,
            min,
            max,
        } => {
            for (model, _) in curves.iter() {
                if let (Some(a), Some(b)) =
                    (ours(curves, model, *from_mev), ours(curves, model, *to_mev))
                {
                    let r = b / a;
                    let ok = r >= *min && r <= *max;
                    passed &= ok;
                    details.push(format!(
                        "{model}: g90({to_mev})/g90({from_mev}) = {r:.3} ({})",
                        if ok { "in range" } else { "out of range" }
                    ));
                }
            }
            details.insert(0, format!("expected [{min}, {max}]"));
        }
    }
    CheckResult { passed, details }
}

/// Where our limit of `model` is stronger than an overlay curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossings {
    /// Mass intervals [MeV] where ours is lower (stronger), within the overlap.
    pub stronger: Vec<(f64, f64)>,
}

/// Compare our curve with an overlay at the overlay's points (log-log
/// interpolation of ours); crossings are interpolated linearly in
/// (ln m, ln g_ours − ln g_overlay).
pub fn crossings(curves: &Curves, model: &str, overlay: &LimitCurve) -> Crossings {
    let pts: Vec<(f64, f64)> = overlay
        .mass_mev
        .iter()
        .zip(&overlay.lower)
        .filter_map(|(&m, g)| {
            let g = (*g)?;
            let o = ours(curves, model, m)?;
            Some((m, (o / g).ln()))
        })
        .collect();
    let mut stronger = Vec::new();
    let mut start: Option<f64> = None;
    for (i, &(m, d)) in pts.iter().enumerate() {
        if i == 0 {
            if d < 0.0 {
                start = Some(m);
            }
            continue;
        }
        let (m0, d0) = pts[i - 1];
        if (d0 < 0.0) != (d < 0.0) {
            let t = d0 / (d0 - d);
            let mx = (m0.ln() + t * (m.ln() - m0.ln())).exp();
            match start.take() {
                Some(s) => stronger.push((s, mx)),
                None => start = Some(mx),
            }
        }
    }
    if let (Some(s), Some(&(m, _))) = (start, pts.last()) {
        stronger.push((s, m));
    }
    Crossings { stronger }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_of_flat_and_rising_curves() {
        // Ours: g = 1e-5·(m/1 MeV); overlay flat at 1e-4: ours stronger below 10 MeV.
        let ms: Vec<f64> = (0..=40)
            .map(|i| 10f64.powf(-1.0 + 0.1 * i as f64))
            .collect();
        let mut curves = Curves::new();
        curves.insert(
            "X".into(),
            (ms.clone(), ms.iter().map(|m| 1e-5 * m).collect()),
        );
        let ov = LimitCurve {
            mass_mev: ms.clone(),
            lower: ms.iter().map(|_| Some(1e-4)).collect(),
        };
        let x = crossings(&curves, "X", &ov);
        assert_eq!(x.stronger.len(), 1);
        assert!((x.stronger[0].0 - 0.1).abs() < 1e-12);
        assert!(
            (x.stronger[0].1 / 10.0 - 1.0).abs() < 1e-9,
            "{:?}",
            x.stronger
        );
    }
}
