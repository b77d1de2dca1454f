//! `compare --at-mass-mev M`: gather many Asimov projections (one
//! `limits.parquet` per detector configuration, e.g. the shards of
//! `pipelines/sensitivity-sweep.yaml`) into one table of the 90 % CL limit
//! at one Z' mass, and one figure per model of that limit against the
//! analysis threshold, one curve per detector and exposure.
//!
//! The configuration of each file (detector name, threshold [keVee] = the
//! lower edge of its first bin, exposure [kg·day], background) is read from
//! the `asimov` record chi2-scan writes into the Parquet metadata
//! (`cevns.extra`); a file that is not an Asimov projection is an error.

use std::path::PathBuf;

use anyhow::{Context, Result};
use polars::prelude::*;

use cevns_io::Provenance;
use cevns_io::schema::read_limits;
use cevns_io::stage::bad_input;
use plot::{Frame, LegendPos, Line, PALETTE, Plot, Scale};

use crate::Labelled;

/// Relative tolerance for finding `--at-mass-mev` in a file's mass grid.
pub const AT_MASS_RTOL: f64 = 1e-6;

/// Days per year (Julian), for exposures in kg·yr.
const DAYS_PER_YEAR: f64 = 365.25;

/// One row of the table: one file, one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub detector: String,
    pub threshold_kevee: f64,
    pub exposure_kg_day: f64,
    pub model: String,
    pub model_label: String,
    /// The mass of the grid point used [MeV] (within [`AT_MASS_RTOL`] of M).
    pub m_zp_mev: f64,
    /// 90 % CL upper limit on g; `None` where the scan found none.
    pub g90: Option<f64>,
}

/// The rows of `models` at mass `at` in one file.
pub fn read_rows(input: &Labelled, models: &[String], at: f64) -> Result<Vec<Row>> {
    let path = &input.path;
    let ctx = || format!("--limits {}", path.display());
    let lim = read_limits(path).with_context(ctx)?;
    let Some(a) = &lim.extra.asimov else {
        return Err(bad_input(format!(
            "`{}`: not an Asimov projection (no `asimov` record with detector, threshold_kevee, \
             exposure_kg_day in its metadata; run chi2-scan with --asimov-detector)",
            path.display()
        )));
    };
    let mut rows = Vec::new();
    for want in models {
        let x = lim.model(want).with_context(ctx)?;
        let hit = x
            .points
            .iter()
            .find(|(m, _)| (m - at).abs() <= AT_MASS_RTOL * at);
        let Some(&(m, g90)) = hit else {
            return Err(bad_input(format!(
                "`{}`: no row of model `{want}` at m_zp_mev = {at} MeV (within {AT_MASS_RTOL:e} \
                 relative); scan a mass grid that contains it",
                path.display()
            )));
        };
        if let Some(g) = g90
            && !g.is_finite()
        {
            return Err(bad_input(format!(
                "`{}`: model `{want}`: g90 = {g} must be finite and > 0",
                path.display()
            )));
        }
        rows.push(Row {
            detector: a.detector.clone(),
            threshold_kevee: a.threshold_kevee,
            exposure_kg_day: a.exposure_kg_day,
            model: want.clone(),
            model_label: x.label.clone(),
            m_zp_mev: m,
            g90,
        });
    }
    Ok(rows)
}

/// Sort rows by model, detector, exposure, threshold; two files with the
/// same configuration are an error.
pub fn sort_rows(rows: &mut [Row], models: &[String]) -> Result<()> {
    let key = |r: &Row| {
        (
            models.iter().position(|m| m == &r.model).unwrap_or(0),
            r.detector.clone(),
        )
    };
    rows.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then(a.exposure_kg_day.total_cmp(&b.exposure_kg_day))
            .then(a.threshold_kevee.total_cmp(&b.threshold_kevee))
    });
    for w in rows.windows(2) {
        if key(&w[0]) == key(&w[1])
            && w[0].exposure_kg_day == w[1].exposure_kg_day
            && w[0].threshold_kevee == w[1].threshold_kevee
        {
            return Err(bad_input(format!(
                "two inputs with the same configuration: {} at {} keVee, {} kg·day",
                w[0].detector, w[0].threshold_kevee, w[0].exposure_kg_day
            )));
        }
    }
    Ok(())
}

/// The table: model, detector, threshold_kevee [keVee], exposure_kg_day
/// [kg·day], exposure_kg_yr, m_zp_mev [MeV], g90 (empty: no limit).
pub fn table(rows: &[Row]) -> Result<DataFrame> {
    let col = |name: &str, v: Vec<f64>| Column::new(name.into(), v);
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "model".into(),
            rows.iter().map(|r| r.model.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "detector".into(),
            rows.iter().map(|r| r.detector.clone()).collect::<Vec<_>>(),
        ),
        col(
            "threshold_kevee",
            rows.iter().map(|r| r.threshold_kevee).collect(),
        ),
        col(
            "exposure_kg_day",
            rows.iter().map(|r| r.exposure_kg_day).collect(),
        ),
        col(
            "exposure_kg_yr",
            rows.iter()
                .map(|r| r.exposure_kg_day / DAYS_PER_YEAR)
                .collect(),
        ),
        col("m_zp_mev", rows.iter().map(|r| r.m_zp_mev).collect()),
        Column::new(
            "g90".into(),
            rows.iter().map(|r| r.g90).collect::<Vec<Option<f64>>>(),
        ),
    ])?)
}

/// An exposure for a legend: `10 kg·yr`, `1 t·yr`.
fn exposure_label(kg_day: f64) -> String {
    let kg_yr = kg_day / DAYS_PER_YEAR;
    let (v, unit) = if kg_yr >= 1000.0 {
        (kg_yr / 1000.0, "t·yr")
    } else {
        (kg_yr, "kg·yr")
    };
    format!("{} {unit}", plot::geom::plain(v, 3))
}

/// The figure of one model: g90 at M against the threshold, one line per
/// (detector, exposure): colour by detector, width and dash by exposure.
pub fn figure(rows: &[Row], model: &str, at: f64, title: Option<&str>) -> Plot {
    let mine: Vec<&Row> = rows.iter().filter(|r| r.model == model).collect();
    let model_label = mine
        .first()
        .map_or_else(|| model.to_string(), |r| r.model_label.clone());
    let mut detectors: Vec<&str> = Vec::new();
    let mut exposures: Vec<f64> = Vec::new();
    for r in &mine {
        if !detectors.contains(&r.detector.as_str()) {
            detectors.push(&r.detector);
        }
        if !exposures.contains(&r.exposure_kg_day) {
            exposures.push(r.exposure_kg_day);
        }
    }
    exposures.sort_by(f64::total_cmp);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for r in &mine {
        x0 = x0.min(r.threshold_kevee);
        x1 = x1.max(r.threshold_kevee);
        if let Some(g) = r.g90 {
            y0 = y0.min(g);
            y1 = y1.max(g);
        }
    }
    let floor = plot::geom::decade_floor;
    let ceil = plot::geom::decade_ceil;
    let frame = Frame {
        x: if x0 < x1 {
            (floor(x0), ceil(x1))
        } else {
            (0.01, 1.0)
        },
        y: if y0 <= y1 {
            (floor(y0), ceil(y1 * 1.0001))
        } else {
            (1e-7, 1e-3)
        },
        x_scale: Scale::Log,
        y_scale: Scale::Log,
    };
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for (d, det) in detectors.iter().enumerate() {
        for (e, &exp) in exposures.iter().enumerate() {
            let mut pts: Vec<&&Row> = mine
                .iter()
                .filter(|r| r.detector == *det && r.exposure_kg_day == exp)
                .collect();
            if pts.is_empty() {
                continue;
            }
            pts.sort_by(|a, b| a.threshold_kevee.total_cmp(&b.threshold_kevee));
            let samples: Vec<Option<(f64, f64)>> = pts
                .iter()
                .map(|r| r.g90.map(|g| (r.threshold_kevee, g)))
                .collect();
            let label = format!("{det}, {}", exposure_label(exp));
            if samples.iter().all(Option::is_none) {
                notes.push(format!("{label}: no limit"));
            }
            lines.push(Line {
                polylines: frame.clip(&samples),
                colour: PALETTE[d % PALETTE.len()],
                width: 1 + e as u32,
                dashed: e % 2 == 1,
                label: Some(label),
            });
        }
    }
    notes.push("Asimov (expected) sensitivity, not measured data".to_string());
    Plot {
        title: title.map_or_else(
            || {
                format!(
                    "U(1)′ {model_label}: expected 90% CL limit at m_Z′ = {} MeV vs threshold",
                    plot::geom::plain(at, 3)
                )
            },
            str::to_string,
        ),
        x_desc: "analysis threshold [keVee]".into(),
        y_desc: format!(
            "g90 ({model_label}) at m_Z′ = {} MeV",
            plot::geom::plain(at, 3)
        ),
        frame,
        shades: Vec::new(),
        lines,
        notes,
        // Limits rise with the threshold: the lower right stays empty.
        legend: LegendPos::LowerRight,
    }
}

/// Figure file stem of one model.
pub fn figure_stem(model: &str) -> String {
    format!("sensitivity-{model}")
}

/// Provenance of the sensitivity table.
pub fn provenance(
    inputs: &[Labelled],
    models: &[String],
    at: f64,
    title: Option<&String>,
) -> Result<Provenance> {
    let mut prov = Provenance::new("compare")
        .param("mode", "at-mass")
        .param("at_mass_mev", at)
        .param("models", models)
        .param("title", title);
    for input in inputs {
        prov = prov.input(&format!("limits[{}]", input.label), &input.path)?;
    }
    Ok(prov)
}

/// Paths of the figures for `models` and `formats`.
pub fn figure_paths(out_dir: &std::path::Path, models: &[String], ext: &[&str]) -> Vec<PathBuf> {
    models
        .iter()
        .flat_map(|m| {
            ext.iter()
                .map(move |e| out_dir.join(format!("{}.{e}", figure_stem(m))))
        })
        .collect()
}
