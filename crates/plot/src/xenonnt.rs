//! Figures of the XENONnT 8B CEvNS analysis (real data): observed vs
//! best-fit expected counts projected on each of the four observables, the
//! profile likelihood of the 8B flux, and the XENONnT U(1)' limits next to
//! the CDEX-10 surrogate limit and the published (DARKCAST) overlays.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::style::RGBColor;

use cevns_io::TableReader;

use crate::figures::{PALETTE, limit_frame_for};
use crate::geom::{Frame, Scale};
use crate::input::{Group, Limits, Overlays};
use crate::render::{LegendPos, Line, Plot, Shade};

const BLACK: RGBColor = RGBColor(0, 0, 0);
const XENON: RGBColor = RGBColor(0, 114, 178);
const CDEX: RGBColor = RGBColor(213, 94, 0);

/// The four observables, in bin-index order (bin = 27 a + 9 b + 3 c + d).
pub const AXES: [(&str, &str); 4] = [
    ("cs2", "cS2 bin"),
    ("shadow", "S2_pre/Δt_pre quantile bin"),
    ("s1bdt", "S1 BDT score bin"),
    ("s2bdt", "S2 BDT score bin"),
];

/// bins.parquet of `chi2-scan --likelihood`: per run and bin, observed and
/// best-fit expected counts per component.
#[derive(Debug, Clone)]
pub struct Bins {
    /// Bin index (0..81) of every row.
    pub bin: Vec<u32>,
    /// Observed counts.
    pub observed: Vec<f64>,
    /// (component, expected counts) per row.
    pub expected: Vec<(String, Vec<f64>)>,
    /// The signal component name.
    pub signal: String,
}

impl Bins {
    /// Read bins.parquet.
    pub fn read(path: &Path, signal: &str) -> Result<Self> {
        let t = TableReader::open(path)?;
        t.expect_stage("chi2-scan")?;
        let bin = t.u32("bin")?;
        let observed = t.f64("observed")?;
        let mut expected = Vec::new();
        for c in ["ac", "er", "nr", signal] {
            expected.push((c.to_string(), t.f64(&format!("expected_{c}"))?));
        }
        Ok(Self {
            bin,
            observed,
            expected,
            signal: signal.to_string(),
        })
    }

    fn project(&self, axis: usize, v: &[f64]) -> [f64; 3] {
        let div = [27, 9, 3, 1][axis];
        let mut out = [0.0; 3];
        for (b, x) in self.bin.iter().zip(v) {
            out[((*b / div) % 3) as usize] += x;
        }
        out
    }
}

/// A step curve over bins 0..3 (x = bin edges 0, 1, 2, 3).
fn steps(v: &[f64; 3]) -> Vec<(f64, f64)> {
    let mut p = Vec::new();
    for (i, y) in v.iter().enumerate() {
        p.push((i as f64, *y));
        p.push((i as f64 + 1.0, *y));
    }
    p
}

/// Observed vs expected counts projected on one observable (all runs summed).
pub fn projection(bins: &Bins, axis: usize, title_data: &str) -> Plot {
    let obs = bins.project(axis, &bins.observed);
    let mut total = [0.0; 3];
    let mut bkg = [0.0; 3];
    for (name, v) in &bins.expected {
        let p = bins.project(axis, v);
        for i in 0..3 {
            total[i] += p[i];
            if *name != bins.signal {
                bkg[i] += p[i];
            }
        }
    }
    let ymax = obs
        .iter()
        .zip(&total)
        .map(|(o, t)| (o + o.sqrt() + 1.0).max(*t))
        .fold(1.0f64, f64::max)
        * 1.25;
    let frame = Frame {
        x: (0.0, 3.0),
        y: (0.0, ymax.ceil()),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
    };
    let signal_shade = Shade {
        polygon: {
            let mut p = steps(&total);
            let mut b = steps(&bkg);
            b.reverse();
            p.extend(b);
            p
        },
        colour: XENON,
        opacity: 0.25,
    };
    let bars: Vec<Vec<(f64, f64)>> = obs
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            let x = i as f64 + 0.5;
            let e = n.sqrt();
            vec![
                vec![(x, (n - e).max(0.0)), (x, n + e)],
                vec![(x - 0.08, *n), (x + 0.08, *n)],
            ]
        })
        .collect();
    Plot {
        title: format!(
            "XENONnT {title_data}: observed vs best-fit expected, projected on {}",
            AXES[axis].1
        ),
        x_desc: format!("{} (0, 1, 2: analysis bins)", AXES[axis].1),
        y_desc: "events per bin".into(),
        frame,
        shades: vec![signal_shade],
        lines: vec![
            Line {
                polylines: vec![steps(&total)],
                colour: XENON,
                width: 3,
                dashed: false,
                label: Some("background + ⁸B (best fit)".into()),
            },
            Line {
                polylines: vec![steps(&bkg)],
                colour: BLACK,
                width: 2,
                dashed: true,
                label: Some("background (best fit)".into()),
            },
            Line {
                polylines: bars,
                colour: BLACK,
                width: 2,
                dashed: false,
                label: Some("observed (±√n)".into()),
            },
        ],
        notes: Vec::new(),
        legend: LegendPos::UpperRight,
    }
}

/// The profile −2 ln L of the 8B flux (profile.parquet).
pub fn flux_profile(path: &Path, title_data: &str) -> Result<Plot> {
    let t = TableReader::open(path)?;
    t.expect_stage("chi2-scan")?;
    let x: Vec<f64> = t.f64("flux_cm2_s")?.iter().map(|v| v / 1e6).collect();
    let d = t.f64("delta_nll")?;
    let xmax = x.iter().copied().fold(0.0, f64::max);
    let ymax = 9.0;
    let frame = Frame {
        x: (0.0, xmax),
        y: (0.0, ymax),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
    };
    let samples: Vec<Option<(f64, f64)>> = x.iter().zip(&d).map(|(a, b)| Some((*a, *b))).collect();
    Ok(Plot {
        title: format!("XENONnT {title_data}: profile likelihood of the ⁸B flux"),
        x_desc: "Φ(⁸B) [10⁶ cm⁻² s⁻¹]".into(),
        y_desc: "Δ(−2 ln L)".into(),
        frame,
        shades: vec![],
        lines: vec![
            Line {
                polylines: frame.clip(&samples),
                colour: XENON,
                width: 3,
                dashed: false,
                label: Some("profile over all nuisances".into()),
            },
            Line {
                polylines: vec![vec![(0.0, 1.0), (xmax, 1.0)]],
                colour: BLACK,
                width: 1,
                dashed: true,
                label: Some("Δ = 1 (68 % interval)".into()),
            },
            Line {
                polylines: vec![vec![(5.25, 0.0), (5.25, ymax)]],
                colour: CDEX,
                width: 2,
                dashed: true,
                label: Some("SNO: 5.25×10⁶".into()),
            },
        ],
        notes: vec![],
        legend: LegendPos::UpperRight,
    })
}

/// XENONnT limits of `model`, with the CDEX-10 surrogate limit and (for
/// B−L) the published overlays.
pub fn limits_plot(
    xenon: &Limits,
    cdex: Option<&Limits>,
    overlays: Option<&Overlays>,
    model: &str,
) -> Result<Plot> {
    let x = xenon.model(model)?;
    let mut pts: Vec<(f64, Option<f64>)> = x.points.clone();
    let c = cdex.map(|c| c.model(model)).transpose()?;
    if let Some(c) = c {
        pts.extend(c.points.iter().copied());
    }
    let frame = limit_frame_for(pts);
    let clip = |p: &[(f64, Option<f64>)]| {
        let s: Vec<Option<(f64, f64)>> = p.iter().map(|&(m, g)| g.map(|g| (m, g))).collect();
        frame.clip(&s)
    };
    let xl = clip(&x.points);
    let shades = xl
        .iter()
        .filter_map(|p| {
            let (first, last) = (p.first()?, p.last()?);
            let mut polygon = p.clone();
            polygon.push((last.0, frame.y.1));
            polygon.push((first.0, frame.y.1));
            Some(Shade {
                polygon,
                colour: XENON,
                opacity: 0.15,
            })
        })
        .collect();
    let mut lines = vec![Line {
        polylines: xl,
        colour: XENON,
        width: 3,
        dashed: false,
        label: Some(format!(
            "XENONnT SR0–SR2 ⁸B CEνNS, 90% CL ({})",
            x.data.short_label()
        )),
    }];
    if let Some(c) = c {
        lines.push(Line {
            polylines: clip(&c.points),
            colour: CDEX,
            width: 3,
            dashed: true,
            label: Some(format!("90% CL, {}", c.data.short_label())),
        });
    }
    if let Some(ov) = overlays.filter(|o| o.model == model) {
        for (i, o) in ov.overlays.iter().enumerate() {
            let s: Vec<Option<(f64, f64)>> = o
                .curve
                .mass_mev
                .iter()
                .zip(&o.curve.lower)
                .map(|(&m, g)| g.map(|g| (m, g)))
                .collect();
            lines.push(Line {
                polylines: frame.clip(&s),
                colour: PALETTE[(i + 2) % PALETTE.len()],
                width: 1,
                dashed: o.group == Group::NuScattering,
                label: Some(o.label.clone()),
            });
        }
    }
    if lines[0].polylines.is_empty() {
        return Err(anyhow!("no XENONnT limit of {model} inside the frame"));
    }
    Ok(Plot {
        title: match c {
            Some(c) => format!(
                "U(1)′ {}: XENONnT ({}) vs {}",
                x.label,
                x.data.short_label(),
                c.data.short_label()
            ),
            None => format!("U(1)′ {}: XENONnT ({})", x.label, x.data.short_label()),
        },
        x_desc: "m_Z′ [MeV]".into(),
        y_desc: format!("g ({})", x.label),
        frame,
        shades,
        lines,
        notes: vec!["XENONnT: Δ(−2 ln L) = 2.706 at each mass, nuisances profiled, ⁸B flux constrained to SNO".into()],
        legend: LegendPos::LowerRight,
    })
}
