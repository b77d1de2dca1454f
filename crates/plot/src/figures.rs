//! The paper's figures as [`Plot`] descriptions: Fig. 2a/2b (benchmark
//! spectra), Fig. 3 (B−L limit with published overlays) and Fig. 4a–c
//! (B−3L_e, B−3L_μ, B−3L_τ limits).

use anyhow::Result;
use plotters::style::RGBColor;

use cevns_io::stage::bad_input;

use crate::geom::{Frame, Polyline, Scale, decade_ceil, decade_floor, mev, nuclide, sci};
use crate::input::{Group, Limits, ModelLimit, Overlays, Spectrum, SpectrumCurve};
use crate::render::{LegendPos, Line, Plot, Shade};

/// Default mass range of the limit plots, MeV (widened to the scan if needed).
pub const LIMIT_MASS_RANGE_MEV: (f64, f64) = (1e-2, 1e3);
/// Default coupling range of the limit plots (widened to the limit if needed).
pub const LIMIT_G_RANGE: (f64, f64) = (1e-7, 1e-2);
/// Dynamic range kept on the spectrum plots' log y axis (max/min).
const SPECTRUM_DYNAMIC_RANGE: f64 = 1e5;

/// Models of Fig. 4a, 4b, 4c, in order.
pub const FIG4_MODELS: [&str; 3] = ["B-3Le", "B-3Lmu", "B-3Ltau"];

const BLACK: RGBColor = RGBColor(0, 0, 0);
/// Colour-blind-safe palette (Okabe–Ito plus extras).
pub const PALETTE: [RGBColor; 9] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
    RGBColor(170, 140, 0),
    RGBColor(110, 60, 170),
];
/// Fill of the region excluded by this pipeline's limit.
const EXCLUDED: RGBColor = RGBColor(220, 40, 40);

/// Colour of a spectrum curve: fixed per known model, so 2a and 2b agree.
fn model_colour(curve: &str, fallback: usize) -> RGBColor {
    match curve {
        "SM" => BLACK,
        "B-L" => PALETTE[0],
        "B-3Le" => PALETTE[5],
        "B-3Lmu" => PALETTE[2],
        "B-3Ltau" => PALETTE[3],
        _ => PALETTE[(fallback + 4) % PALETTE.len()],
    }
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Clone>(it: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for v in it {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The two benchmark masses (MeV) for Fig. 2a and 2b: the two smallest
/// distinct nonzero Z' masses in the spectrum; an error if fewer than two.
pub fn benchmark_masses(spectrum: &Spectrum) -> Result<[f64; 2]> {
    match spectrum.masses().as_slice() {
        [a, b, ..] => Ok([*a, *b]),
        found => Err(bad_input(format!(
            "`{}`: Fig. 2 needs model curves at 2 distinct Z' masses (column `m_zp_mev`), found {}",
            spectrum.path.display(),
            found.len()
        ))),
    }
}

/// Fig. 2a/2b: SM and every model curve at `m_zp_mev`, smeared (solid) and
/// without resolution (thin dashed), log y.
pub fn spectrum_plot(spectrum: &Spectrum, m_zp_mev: f64) -> Result<Plot> {
    let curves = spectrum.panel(m_zp_mev)?;
    let all = || {
        curves
            .iter()
            .flat_map(|c| c.smeared.iter().chain(c.unsmeared.iter()))
    };
    let (x_lo, x_hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    if !(x_lo.is_finite() && x_hi.is_finite() && x_hi > x_lo) {
        return Err(bad_input(format!(
            "`{}`: column `t_ee_kevee` spans no range at m_Z' = {} MeV",
            spectrum.path.display(),
            mev(m_zp_mev)
        )));
    }
    let positive = || {
        curves
            .iter()
            .flat_map(|c| c.smeared.iter())
            .map(|p| p.1)
            .filter(|&v| v > 0.0)
    };
    let y_max = positive().fold(0.0_f64, f64::max);
    if y_max <= 0.0 {
        return Err(bad_input(format!(
            "`{}`: column `dr_dtee` has no positive value at m_Z' = {} MeV",
            spectrum.path.display(),
            mev(m_zp_mev)
        )));
    }
    let y_min = positive()
        .fold(f64::INFINITY, f64::min)
        .max(y_max / SPECTRUM_DYNAMIC_RANGE);
    let y_floor = decade_floor(y_min);
    // x ends where the last smeared curve falls below the y floor (+5 %,
    // rounded up to 0.1 keVee), not at the end of the tabulated range.
    let x_seen = curves
        .iter()
        .flat_map(|c| c.smeared.iter())
        .filter(|p| p.1 >= y_floor)
        .map(|p| p.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let x_fit = if x_seen > x_lo {
        ((x_seen * 1.05 / 0.1).ceil() * 0.1).min(x_hi)
    } else {
        x_hi
    };
    let frame = Frame {
        x: (x_lo, x_fit),
        y: (y_floor, decade_ceil(y_max * 1.5)),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
    };

    let models: Vec<&&SpectrumCurve> = curves.iter().filter(|c| !c.is_sm()).collect();
    let sources = distinct(curves.iter().map(|c| nuclide(&c.source))).join(" + ");
    let gs = distinct(models.iter().map(|c| sci(c.g, 2))).join(", ");
    let title = format!(
        "{sources} CEνNS on Ge (predicted), g = {gs}, m_Z′ = {} MeV",
        mev(m_zp_mev)
    );

    let order = distinct(spectrum.curves.iter().map(|c| c.curve.clone()));
    let sample = |pts: &[(f64, f64)]| pts.iter().map(|&p| Some(p)).collect::<Vec<_>>();
    let colour_of = |c: &SpectrumCurve| {
        model_colour(
            &c.curve,
            order.iter().position(|n| n == &c.curve).unwrap_or(0),
        )
    };
    let mut lines = Vec::new();
    for c in &curves {
        let colour = colour_of(c);
        lines.push(Line {
            polylines: frame.clip(&sample(&c.smeared)),
            colour,
            // B−3L_e and B−3L_μ nearly coincide on Ge (the νe and νμ
            // fluxes of ⁸B are similar after oscillation): B−3L_e is drawn
            // first and wide, so B−3L_μ shows as a thin core inside it.
            width: match c.curve.as_str() {
                "B-3Le" => 6,
                _ if c.is_sm() => 3,
                _ => 2,
            },
            dashed: false,
            label: Some(c.label.clone()),
        });
    }
    for c in &curves {
        let colour = colour_of(c);
        lines.push(Line {
            polylines: frame.clip(&sample(&c.unsmeared)),
            colour,
            width: 1,
            dashed: true,
            label: None,
        });
    }
    lines.push(Line {
        polylines: Vec::new(),
        colour: RGBColor(90, 90, 90),
        width: 1,
        dashed: true,
        label: Some("dashed: no energy resolution".into()),
    });
    Ok(Plot {
        title,
        x_desc: "T_ee [keVee]".into(),
        y_desc: "dR/dT_ee [kg⁻¹ keVee⁻¹ day⁻¹]".into(),
        frame,
        shades: Vec::new(),
        lines,
        notes: Vec::new(),
        legend: LegendPos::UpperRight,
    })
}

/// Frame of a limit plot: the default ranges widened (by whole decades) to
/// the scanned masses and the limit values.
fn limit_frame(limit: &ModelLimit) -> Frame {
    limit_frame_for(limit.points.iter().copied())
}

/// Log–log frame of a limit plot for points (m_Z' in MeV, g or `None` where
/// there is no limit): [`LIMIT_MASS_RANGE_MEV`] × [`LIMIT_G_RANGE`] widened
/// by whole decades to every mass and limit value (g kept in [10⁻¹², 1]).
pub fn limit_frame_for(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Frame {
    let (mut x0, mut x1) = LIMIT_MASS_RANGE_MEV;
    let (mut y0, mut y1) = LIMIT_G_RANGE;
    for (m, g) in points {
        x0 = x0.min(decade_floor(m));
        x1 = x1.max(decade_ceil(m));
        if let Some(g) = g {
            y0 = y0.min(decade_floor(g)).max(1e-12);
            y1 = y1.max(decade_ceil(g)).min(1.0);
        }
    }
    Frame {
        x: (x0, x1),
        y: (y0, y1),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
    }
}

/// Our limit as a thick line with the excluded region (above it) shaded.
fn own_limit(frame: &Frame, limit: &ModelLimit) -> (Line, Vec<Shade>) {
    let samples: Vec<Option<(f64, f64)>> = limit
        .points
        .iter()
        .map(|&(m, g)| g.map(|g| (m, g)))
        .collect();
    let polylines = frame.clip(&samples);
    let top = frame.y.1;
    let shades = polylines
        .iter()
        .filter_map(|p: &Polyline| {
            let (first, last) = (p.first()?, p.last()?);
            let mut polygon = p.clone();
            polygon.push((last.0, top));
            polygon.push((first.0, top));
            Some(Shade {
                polygon,
                colour: EXCLUDED,
                opacity: 0.12,
            })
        })
        .collect();
    let line = Line {
        polylines,
        colour: BLACK,
        width: 3,
        dashed: false,
        label: Some(format!(
            "this work: 90% CL, {} ({})",
            limit.data.short_label(),
            limit.label
        )),
    };
    (line, shades)
}

fn limit_title(limit: &ModelLimit) -> String {
    format!(
        "U(1)′ {}: 90% CL (2 d.o.f.) exclusion ({})",
        limit.label,
        limit.data.short_label()
    )
}

fn no_limit_note(limit: &ModelLimit) -> Option<String> {
    limit
        .points
        .iter()
        .all(|p| p.1.is_none())
        .then(|| "no 90% CL limit found in the scanned mass range".to_string())
}

/// Fig. 3: the B−L limit with every overlay curve.
pub fn fig3(limits: &Limits, overlays: &Overlays) -> Result<Plot> {
    if overlays.model != "B-L" {
        return Err(bad_input(format!(
            "overlays file is for model `{}`, Fig. 3 needs `B-L`",
            overlays.model
        )));
    }
    let limit = limits.model("B-L")?;
    let frame = limit_frame(limit);
    let (own, shades) = own_limit(&frame, limit);
    let mut lines = vec![own];
    for (i, ov) in overlays.overlays.iter().enumerate() {
        let samples: Vec<Option<(f64, f64)>> = ov
            .curve
            .mass_mev
            .iter()
            .zip(&ov.curve.lower)
            .map(|(&m, g)| g.map(|g| (m, g)))
            .collect();
        lines.push(Line {
            polylines: frame.clip(&samples),
            colour: PALETTE[i % PALETTE.len()],
            width: 2,
            dashed: ov.group == Group::NuScattering,
            label: Some(ov.label.clone()),
        });
    }
    let mut notes: Vec<String> = no_limit_note(limit).into_iter().collect();
    notes.push("coloured curves: published limits (DARKCAST tables), for comparison only".into());
    notes.push("dashed: ν–e scattering; solid: collider / fixed target".into());
    Ok(Plot {
        title: limit_title(limit),
        x_desc: "m_Z′ [MeV]".into(),
        y_desc: format!("g ({})", limit.label),
        frame,
        shades,
        lines,
        notes,
        legend: LegendPos::LowerRight,
    })
}

/// Two-channel figure: the limit of `model` from `combined` (e.g. CEνNS +
/// ν–e) against the same model's limit from `baseline` (e.g. CEνNS only),
/// with the ν–e scattering overlays of the DARKCAST tables when `overlays`
/// is for this model (they are B−L limits; other models get none).
pub fn channel_comparison(
    combined: &Limits,
    baseline: &Limits,
    baseline_label: &str,
    model: &str,
    overlays: &Overlays,
) -> Result<Plot> {
    let limit = combined.model(model)?;
    let base = baseline.model(model)?;
    let frame = limit_frame_for(limit.points.iter().chain(&base.points).copied());
    let (own, shades) = own_limit(&frame, limit);
    let mut lines = vec![own];
    let samples: Vec<Option<(f64, f64)>> = base
        .points
        .iter()
        .map(|&(m, g)| g.map(|g| (m, g)))
        .collect();
    lines.push(Line {
        polylines: frame.clip(&samples),
        colour: PALETTE[1],
        width: 3,
        dashed: true,
        label: Some(format!(
            "{baseline_label}: 90% CL, {}",
            base.data.short_label()
        )),
    });
    let mut notes: Vec<String> = no_limit_note(limit).into_iter().collect();
    if overlays.model == model {
        for (i, ov) in overlays
            .overlays
            .iter()
            .filter(|o| o.group == Group::NuScattering)
            .enumerate()
        {
            let samples: Vec<Option<(f64, f64)>> = ov
                .curve
                .mass_mev
                .iter()
                .zip(&ov.curve.lower)
                .map(|(&m, g)| g.map(|g| (m, g)))
                .collect();
            lines.push(Line {
                polylines: frame.clip(&samples),
                colour: PALETTE[(i + 3) % PALETTE.len()],
                width: 2,
                dashed: false,
                label: Some(ov.label.clone()),
            });
        }
        notes.push(
            "thin curves: published ν–e limits (DARKCAST tables), for comparison only".into(),
        );
    }
    Ok(Plot {
        title: format!(
            "U(1)′ {}: CEνNS + ν–e vs CEνNS only ({})",
            limit.label,
            limit.data.short_label()
        ),
        x_desc: "m_Z′ [MeV]".into(),
        y_desc: format!("g ({})", limit.label),
        frame,
        shades,
        lines,
        notes,
        legend: LegendPos::LowerRight,
    })
}

/// Fig. 4a/b/c: the limit of `model` alone (no published overlays are shipped).
pub fn fig4(limits: &Limits, model: &str) -> Result<Plot> {
    let limit = limits.model(model)?;
    let frame = limit_frame(limit);
    let (own, shades) = own_limit(&frame, limit);
    let mut notes: Vec<String> = no_limit_note(limit).into_iter().collect();
    notes.push("no published overlays shipped for this model".into());
    Ok(Plot {
        title: limit_title(limit),
        x_desc: "m_Z′ [MeV]".into(),
        y_desc: format!("g ({})", limit.label),
        frame,
        shades,
        lines: vec![own],
        notes,
        legend: LegendPos::LowerRight,
    })
}
