//! `compare` (library; `main.rs` only parses and calls [`run`]): the 90 % CL limit curves of several pipelines (targets, solar
//! models, quenching choices, ...) on one figure and in one wide CSV, from
//! the `limits.parquet` files their `chi2-scan` stages wrote.
//!
//! The dataframe work (reading, filtering, stacking, the outer join on the
//! mass, sorting, CSV) uses polars; the figure is drawn by the `plot`
//! crate's renderer. All outputs are written atomically (all or nothing)
//! and are byte-identical for the same inputs.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Parser;
use polars::prelude::*;

use cevns_io::schema::limits::{COL_G90, COL_MASS, read_limits};
use cevns_io::stage::{CommonArgs, bad_input};
use cevns_io::{OutputSet, Provenance};

/// Column of the long frame naming the pipeline.
const COL_PIPELINE: &str = "pipeline";
use plot::{Format, LegendPos, Line, PALETTE, Plot, limit_frame_for};

mod sensitivity;

/// Relative tolerance for treating masses of different pipelines as equal.
const MASS_RTOL: f64 = 1e-9;

/// File stem of the figure.
const FIGURE: &str = "compare";

/// Compare 90 % CL limits of several pipelines on one figure.
///
/// Reads `limits.parquet` files written by `chi2-scan` (one per pipeline),
/// keeps the rows of one U(1)' model that have a limit, and writes
///
/// - OUT_CSV: one row per Z' mass m_zp_mev [MeV] (ascending; masses of
///   different pipelines equal within 1e-9 relative share a row), one column
///   g90_<LABEL> per pipeline: the dimensionless 90 % CL (Δχ² = 4.605,
///   2 d.o.f.) upper limit on the coupling g; empty where that pipeline has
///   no limit at that mass. A `#` line with the provenance comes first.
///
/// - OUT_DIR/compare.{png,svg}: log–log figure, x = m_Z' [MeV], y = g, one
///   line per pipeline with a legend.
///
/// Exit codes: 0 ok, 1 failure, 2 bad input (the message names the file,
/// label or model).
#[derive(Debug, Parser)]
#[command(name = "compare", version)]
pub struct Args {
    /// Limits of one pipeline as LABEL=PATH (PATH: a `limits.parquet` from
    /// `chi2-scan` with columns model, label, m_zp_mev [MeV], g90
    /// [dimensionless, null = no limit]). Repeat the flag or separate entries with
    /// commas; the order sets the CSV columns and the legend. LABEL must be
    /// unique, non-empty, without `=`, `,`, `"` or control characters. A bare
    /// PATH ending in `.parquet` (as a runner gather passes) is labelled by its
    /// file stem.
    #[arg(
        long = "limits",
        value_name = "LABEL=PATH",
        value_delimiter = ',',
        required = true,
        value_parser = parse_labelled
    )]
    limits: Vec<Labelled>,
    /// U(1)' model to compare (column `model`, e.g. B-L, B-3Le); must be
    /// present in every file.
    #[arg(long, value_name = "NAME")]
    model: String,
    /// Wide CSV: m_zp_mev [MeV], then g90_<LABEL> per pipeline.
    #[arg(long, value_name = "PATH")]
    out_csv: PathBuf,
    /// Directory for the figure (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Image formats to write, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "png,svg")]
    formats: Vec<Format>,
    /// Figure title (default: names the model and the confidence level).
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
    /// Sensitivity-table mode: instead of limit curves, one row per input
    /// (an Asimov projection of chi2-scan --asimov-detector) and model with
    /// the limit at this Z' mass [MeV] (a grid point within 1e-6 relative),
    /// and the detector, threshold [keVee] and exposure [kg·day] read from
    /// the file's metadata. OUT_CSV columns: model, detector,
    /// threshold_kevee, exposure_kg_day, exposure_kg_yr, m_zp_mev, g90
    /// (empty: no limit). Figures OUT_DIR/sensitivity-<MODEL>.{png,svg}:
    /// g90 against the threshold, one line per detector and exposure.
    /// --model may then list several models, comma-separated.
    #[arg(long, value_name = "MEV")]
    at_mass_mev: Option<f64>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl Args {
    /// `--list-inputs`: the files this invocation reads, one per line.
    pub fn list_inputs(&self) -> Result<()> {
        let inputs: Vec<_> = self
            .limits
            .iter()
            .map(|l| cevns_io::inputs::Input::File(&l.path))
            .collect();
        cevns_io::inputs::print_list(&inputs)
    }
}

/// One `--limits LABEL=PATH` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    label: String,
    path: PathBuf,
}

/// Parse `LABEL=PATH` (split at the first `=`).
fn parse_labelled(s: &str) -> std::result::Result<Labelled, String> {
    let Some((label, path)) = s.split_once('=') else {
        let p = std::path::Path::new(s);
        return match (p.extension().and_then(|e| e.to_str()), p.file_stem().and_then(|f| f.to_str())) {
            (Some("parquet"), Some(stem)) if !stem.is_empty() => Ok(Labelled {
                label: stem.to_string(),
                path: p.to_path_buf(),
            }),
            _ => Err("expected LABEL=PATH (or a bare PATH.parquet), e.g. BS05-OP=outputs/paper/limits.parquet".into()),
        };
    };
    let label = label.trim();
    if label.is_empty() {
        return Err("empty LABEL (expected LABEL=PATH)".into());
    }
    if let Some(c) = label.chars().find(|c| c.is_control() || *c == '"') {
        return Err(format!("LABEL `{label}` contains {c:?}"));
    }
    if path.is_empty() {
        return Err(format!(
            "empty PATH for label `{label}` (expected LABEL=PATH)"
        ));
    }
    Ok(Labelled {
        label: label.to_string(),
        path: PathBuf::from(path),
    })
}

/// A polars error on an input, as bad input naming the file and label.
fn pe(input: &Labelled, what: &str) -> impl Fn(PolarsError) -> anyhow::Error {
    let msg = format!(
        "`{}` (--limits {}): {what}",
        input.path.display(),
        input.label
    );
    move |e| bad_input(format!("{msg}: {e}"))
}

/// Column name of one pipeline's limits in the wide table.
fn g90_column(label: &str) -> String {
    format!("g90_{label}")
}

/// One pipeline's rows of `model`, read through the one typed reader of
/// limits.parquet (`cevns_io::schema::read_limits`) and viewed as a polars
/// frame: columns pipeline, m_zp_mev, g90 (null = no limit), sorted by
/// mass; and the model's human-readable label from the file.
fn read_pipeline(input: &Labelled, model: &str) -> Result<(DataFrame, String)> {
    let path = &input.path;
    let ctx = || format!("--limits {}={}", input.label, path.display());
    let limits = read_limits(path).with_context(ctx)?;
    let one = limits.model(model).with_context(ctx)?;
    let (m, g): (Vec<f64>, Vec<Option<f64>>) = one.points.iter().copied().unzip();
    let df = DataFrame::new(
        m.len(),
        vec![
            Column::new(COL_PIPELINE.into(), vec![input.label.as_str(); m.len()]),
            Column::new(COL_MASS.into(), m),
            Column::new(COL_G90.into(), g),
        ],
    )
    .map_err(pe(input, "building the frame"))?;
    Ok((df, one.label.clone()))
}

/// Group nearly equal masses: returns, for every value of `masses`, the
/// index of its group, and the group representatives (the smallest mass of
/// each group), ascending. Neighbours within [`MASS_RTOL`] (relative to the
/// group's first mass) share a group.
fn mass_groups(masses: &[f64]) -> (Vec<u32>, Vec<f64>) {
    let mut sorted: Vec<f64> = masses.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut reps: Vec<f64> = Vec::new();
    for m in sorted {
        match reps.last() {
            Some(&r) if (m - r).abs() <= MASS_RTOL * r.abs().max(m.abs()) => {}
            _ => reps.push(m),
        }
    }
    let index = masses
        .iter()
        .map(|&m| {
            // The group is the last representative <= m.
            let i = reps.partition_point(|&r| r <= m);
            i.saturating_sub(1) as u32
        })
        .collect();
    (index, reps)
}

/// The wide table: m_zp_mev, then g90_<label> per pipeline (in `labels`
/// order), one row per mass group where at least one pipeline has a limit,
/// sorted by mass; built by a full outer join on the mass group.
fn wide_table(long: &DataFrame, labels: &[String]) -> Result<DataFrame> {
    let with_limit = long
        .column(COL_G90)
        .map(|c| c.is_not_null())
        .and_then(|mask| long.filter(&mask))?;
    let masses: Vec<f64> = with_limit
        .column(COL_MASS)?
        .f64()?
        .into_no_null_iter()
        .collect();
    let (index, reps) = mass_groups(&masses);
    let mut keyed = with_limit.clone();
    keyed.with_column(Column::new("mass_group".into(), index))?;

    let mut wide: Option<DataFrame> = None;
    for label in labels {
        let mask = keyed.column(COL_PIPELINE)?.str()?.equal(label.as_str());
        let mut one = keyed.filter(&mask)?.select(["mass_group", COL_G90])?;
        let n = one.height();
        let distinct: BTreeSet<u32> = one
            .column("mass_group")?
            .u32()?
            .into_no_null_iter()
            .collect();
        if distinct.len() != n {
            return Err(bad_input(format!(
                "--limits {label}: two rows at the same Z' mass (within {MASS_RTOL:e} relative)"
            )));
        }
        one.rename(COL_G90, g90_column(label).into())?;
        wide = Some(match wide {
            None => one,
            Some(w) => w.join(
                &one,
                ["mass_group"],
                ["mass_group"],
                JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
                None,
            )?,
        });
    }
    let wide = wide.ok_or_else(|| bad_input("give at least one --limits LABEL=PATH"))?;
    let mut wide = wide.sort(["mass_group"], SortMultipleOptions::default())?;
    let mass: Vec<f64> = wide
        .column("mass_group")?
        .u32()?
        .into_no_null_iter()
        .map(|i| reps[i as usize])
        .collect();
    wide.with_column(Column::new(COL_MASS.into(), mass))?;
    let mut cols = vec![COL_MASS.to_string()];
    cols.extend(labels.iter().map(|l| g90_column(l)));
    Ok(wide.select(cols)?)
}

/// The CSV bytes: a `#` provenance line, then the table (floats as
/// `{:.6e}`, empty cells for missing limits).
fn csv_bytes(wide: &mut DataFrame, prov: &Provenance) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    writeln!(
        out,
        "# cevns-pipeline compare provenance: {}",
        prov.to_json()
    )?;
    CsvWriter::new(&mut out)
        .include_header(true)
        .with_float_scientific(Some(true))
        .with_float_precision(Some(6))
        .with_null_value("".into())
        .with_line_terminator("\n".into())
        .finish(wide)?;
    Ok(out)
}

/// One pipeline's limit curve: (m_Z' in MeV, g90 or `None` where the scan
/// found no limit), sorted by mass.
type Curve = Vec<(f64, Option<f64>)>;

/// The [`Curve`] of every pipeline, in `labels` order.
fn curves(long: &DataFrame, labels: &[String]) -> Result<Vec<Curve>> {
    let mut out = Vec::new();
    for label in labels {
        let mask = long.column(COL_PIPELINE)?.str()?.equal(label.as_str());
        let one = long.filter(&mask)?;
        let m = one.column(COL_MASS)?.f64()?.clone();
        let g = one.column(COL_G90)?.f64()?.clone();
        let pts = m.into_no_null_iter().zip(g.iter()).collect();
        out.push(pts);
    }
    Ok(out)
}

/// The comparison figure: one line per pipeline (alternately solid and
/// dashed), log–log.
fn figure(labels: &[String], curves: &[Curve], model_label: &str, title: Option<&str>) -> Plot {
    let frame = limit_frame_for(curves.iter().flatten().copied());
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for (i, (label, pts)) in labels.iter().zip(curves).enumerate() {
        let samples: Vec<Option<(f64, f64)>> =
            pts.iter().map(|&(m, g)| g.map(|g| (m, g))).collect();
        if samples.iter().all(Option::is_none) {
            notes.push(format!(
                "{label}: no 90% CL limit in the scanned mass range"
            ));
        }
        lines.push(Line {
            polylines: frame.clip(&samples),
            colour: PALETTE[i % PALETTE.len()],
            width: 2,
            // Every second line dashed, so that coinciding curves stay visible.
            dashed: i % 2 == 1,
            label: Some(label.clone()),
        });
    }
    Plot {
        title: title.map_or_else(
            || format!("U(1)′ {model_label}: 90% CL (2 d.o.f.) upper limits on g, by pipeline"),
            str::to_string,
        ),
        x_desc: "m_Z′ [MeV]".into(),
        y_desc: format!("g ({model_label})"),
        frame,
        shades: Vec::new(),
        lines,
        notes,
        legend: LegendPos::LowerRight,
    }
}

/// Read every input, build the table and the figure, write all outputs
/// atomically. Returns the paths written.
pub fn run(args: &Args) -> Result<Vec<PathBuf>> {
    if let Some(at) = args.at_mass_mev {
        return run_at_mass(args, at);
    }
    if args.limits.is_empty() {
        return Err(bad_input("give at least one --limits LABEL=PATH"));
    }
    let mut labels: Vec<String> = Vec::new();
    for l in &args.limits {
        if labels.contains(&l.label) {
            return Err(bad_input(format!(
                "--limits: label `{}` given twice (each pipeline needs its own label)",
                l.label
            )));
        }
        labels.push(l.label.clone());
    }
    let mut formats = args.formats.clone();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        return Err(bad_input("--formats: give at least one of png, svg"));
    }

    let mut long: Option<DataFrame> = None;
    let mut model_label = args.model.clone();
    for (i, input) in args.limits.iter().enumerate() {
        let (df, label) = read_pipeline(input, &args.model)?;
        if i == 0 {
            model_label = label;
        }
        args.common.log(format!(
            "compare: {}: {} masses of model {}",
            input.label,
            df.height(),
            args.model
        ));
        long = Some(match long {
            None => df,
            Some(mut all) => {
                all.vstack_mut_owned(df)?;
                all
            }
        });
    }
    let long = long.ok_or_else(|| bad_input("give at least one --limits LABEL=PATH"))?;
    let mut wide = wide_table(&long, &labels)?;
    let plot = figure(
        &labels,
        &curves(&long, &labels)?,
        &model_label,
        args.title.as_deref(),
    );

    let mut prov = Provenance::new("compare")
        .param("model", &args.model)
        .param("labels", &labels)
        .param("title", &args.title);
    for input in &args.limits {
        prov = prov.input(&format!("limits[{}]", input.label), &input.path)?;
    }
    let csv = csv_bytes(&mut wide, &prov).context("writing the CSV")?;

    let figs: Vec<PathBuf> = formats
        .iter()
        .map(|f| args.out_dir.join(format!("{FIGURE}.{}", f.ext())))
        .collect();
    let mut paths = vec![args.out_csv.clone()];
    paths.extend(figs.iter().cloned());
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut out = OutputSet::new(&refs)?;
    out.write_bytes(&args.out_csv, &csv)?;
    for (&f, path) in formats.iter().zip(&figs) {
        let bytes =
            plot::render(&plot, f).with_context(|| format!("rendering {FIGURE}.{}", f.ext()))?;
        out.write_bytes(path, &bytes)?;
    }
    out.commit()?;
    args.common.log(format!(
        "compare: {} masses × {} pipelines -> {}, {} figure file(s) in {}",
        wide.height(),
        labels.len(),
        args.out_csv.display(),
        figs.len(),
        args.out_dir.display()
    ));
    Ok(paths)
}

/// `--at-mass-mev`: the sensitivity table and one figure per model.
fn run_at_mass(args: &Args, at: f64) -> Result<Vec<PathBuf>> {
    if !(at.is_finite() && at > 0.0) {
        return Err(bad_input(format!(
            "--at-mass-mev {at} must be finite and > 0"
        )));
    }
    let models: Vec<String> = args
        .model
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if models.is_empty() {
        return Err(bad_input("--model: give at least one model"));
    }
    let mut formats = args.formats.clone();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        return Err(bad_input("--formats: give at least one of png, svg"));
    }
    let mut rows = Vec::new();
    for input in &args.limits {
        rows.extend(sensitivity::read_rows(input, &models, at)?);
    }
    sensitivity::sort_rows(&mut rows, &models)?;
    let mut df = sensitivity::table(&rows)?;
    let prov = sensitivity::provenance(&args.limits, &models, at, args.title.as_ref())?;
    let csv = csv_bytes(&mut df, &prov).context("writing the CSV")?;
    let exts: Vec<&str> = formats.iter().map(|f| f.ext()).collect();
    let figs = sensitivity::figure_paths(&args.out_dir, &models, &exts);
    let mut paths = vec![args.out_csv.clone()];
    paths.extend(figs.iter().cloned());
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut out = OutputSet::new(&refs)?;
    out.write_bytes(&args.out_csv, &csv)?;
    let mut k = 0;
    for model in &models {
        let plot = sensitivity::figure(&rows, model, at, args.title.as_deref());
        for &f in &formats {
            let bytes = plot::render(&plot, f)
                .with_context(|| format!("rendering the {model} figure ({})", f.ext()))?;
            out.write_bytes(&figs[k], &bytes)?;
            k += 1;
        }
    }
    out.commit()?;
    args.common.log(format!(
        "compare: {} projections × {} models at m_Z' = {at} MeV -> {}, {} figure file(s) in {}",
        args.limits.len(),
        models.len(),
        args.out_csv.display(),
        figs.len(),
        args.out_dir.display()
    ));
    Ok(paths)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use cevns_io::Table;
    use cevns_io::schema::{AsimovSetup, DataKind, LimitsExtra, ModelLimit};

    /// A synthetic `limits.parquet` table: for each model, the masses with
    /// g90 = scale × (1 + m / 10); `None` rows have no limit.
    fn limits_table(models: &[&str], masses: &[f64], scale: f64, gap: Option<usize>) -> Table {
        let curves: Vec<ModelLimit> = models
            .iter()
            .map(|name| ModelLimit {
                model: name.to_string(),
                label: name.replace('-', "−"),
                points: masses
                    .iter()
                    .enumerate()
                    .map(|(i, &mass)| (mass, (gap != Some(i)).then(|| scale * (1.0 + mass / 10.0))))
                    .collect(),
                data: DataKind::Surrogate,
            })
            .collect();
        cevns_io::schema::limits_table(&curves)
    }

    fn write(dir: &Path, name: &str, t: &Table, stage: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let prov = Provenance::new(stage).typed_extra(&LimitsExtra {
            unresolved_scan_points: Default::default(),
            chi2_min: Default::default(),
            no_limit: Default::default(),
            pulls: "test".into(),
            data_kind: DataKind::Surrogate,
            calibration: None,
            asimov: None,
        });
        std::fs::write(&p, t.to_parquet_bytes(&prov).unwrap()).unwrap();
        p
    }

    fn args(dir: &Path, limits: &[(&str, &Path)], model: &str, out: &str) -> Args {
        let mut argv: Vec<String> = vec!["compare".into()];
        for (l, p) in limits {
            argv.push("--limits".into());
            argv.push(format!("{l}={}", p.display()));
        }
        argv.extend([
            "--model".into(),
            model.into(),
            "--out-csv".into(),
            dir.join(out).join("compare.csv").display().to_string(),
            "--out-dir".into(),
            dir.join(out).join("figures").display().to_string(),
            "--quiet".into(),
        ]);
        Args::try_parse_from(argv).unwrap()
    }

    /// The data rows of the CSV (after the `#` line), split into cells.
    fn rows(csv: &str) -> Vec<Vec<String>> {
        csv.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    }

    const MASSES: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

    #[test]
    fn two_pipelines_give_both_columns_and_a_figure() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = write(
            d,
            "a/limits.parquet",
            &limits_table(&["B-L", "B-3Le"], &MASSES, 3e-5, Some(1)),
            "chi2-scan",
        );
        // The second grid: three shared masses (one off by 1e-12
        // relative), one extra mass, and another scale.
        let masses_b = [0.01 * (1.0 + 1e-12), 1.0, 10.0, 100.0];
        let b = write(
            d,
            "b/limits.parquet",
            &limits_table(&["B-L"], &masses_b, 4e-5, None),
            "chi2-scan",
        );
        let paths = run(&args(d, &[("BS05-OP", &a), ("B16-GS98", &b)], "B-L", "o")).unwrap();
        assert_eq!(paths.len(), 3);
        let csv = std::fs::read_to_string(d.join("o/compare.csv")).unwrap();
        assert!(
            csv.starts_with("# cevns-pipeline compare provenance: {"),
            "{csv}"
        );
        assert!(csv.contains("\"limits[B16-GS98]\""), "{csv}");
        let r = rows(&csv);
        assert_eq!(r[0], ["m_zp_mev", "g90_BS05-OP", "g90_B16-GS98"]);
        let body = &r[1..];
        // 0.01 (both), 1 (both), 10 (both), 100 (b only); 0.1 has no limit
        // in a and is absent from b.
        assert_eq!(body.len(), 4, "{csv}");
        let num = |s: &str| s.parse::<f64>().unwrap();
        let masses: Vec<f64> = body.iter().map(|row| num(&row[0])).collect();
        assert_eq!(masses, [0.01, 1.0, 10.0, 100.0]);
        for row in body {
            let m = num(&row[0]);
            let ga = if m < 50.0 {
                Some(3e-5 * (1.0 + m / 10.0))
            } else {
                None
            };
            let gb = 4e-5 * (1.0 + m / 10.0);
            match ga {
                Some(g) => assert!((num(&row[1]) / g - 1.0).abs() < 1e-6, "{row:?}"),
                None => assert_eq!(row[1], "", "{row:?}"),
            }
            assert!((num(&row[2]) / gb - 1.0).abs() < 1e-6, "{row:?}");
        }
        assert_eq!(body[0][1], "3.003000e-5");
        assert_eq!(body[3][1], "");

        for ext in ["png", "svg"] {
            let bytes = std::fs::read(d.join(format!("o/figures/compare.{ext}"))).unwrap();
            assert!(bytes.len() > 1000);
        }
        let svg = std::fs::read_to_string(d.join("o/figures/compare.svg")).unwrap();
        assert!(svg.contains("BS05-OP") && svg.contains("B16-GS98"));
        assert!(svg.contains("B−L"));
    }

    #[test]
    fn second_run_is_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = write(
            d,
            "a/limits.parquet",
            &limits_table(&["B-L"], &MASSES, 3e-5, Some(2)),
            "chi2-scan",
        );
        let b = write(
            d,
            "b/limits.parquet",
            &limits_table(&["B-L"], &MASSES, 5e-5, None),
            "chi2-scan",
        );
        let lim = [("x", a.as_path()), ("y", b.as_path())];
        let p1 = run(&args(d, &lim, "B-L", "r1")).unwrap();
        let p2 = run(&args(d, &lim, "B-L", "r2")).unwrap();
        for (x, y) in p1.iter().zip(&p2) {
            assert_eq!(
                std::fs::read(x).unwrap(),
                std::fs::read(y).unwrap(),
                "{x:?}"
            );
        }
        // Rerunning into the same directory gives the same bytes too.
        let before = std::fs::read(&p1[0]).unwrap();
        run(&args(d, &lim, "B-L", "r1")).unwrap();
        assert_eq!(std::fs::read(&p1[0]).unwrap(), before);
    }

    #[test]
    fn missing_model_names_file_and_model_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = write(
            d,
            "a/limits.parquet",
            &limits_table(&["B-L"], &MASSES, 3e-5, None),
            "chi2-scan",
        );
        let b = write(
            d,
            "b/limits.parquet",
            &limits_table(&["B-3Le"], &MASSES, 3e-5, None),
            "chi2-scan",
        );
        let e = run(&args(d, &[("one", &a), ("two", &b)], "B-L", "x")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("b/limits.parquet") && msg.contains("`B-L`") && msg.contains("B-3Le"),
            "{msg}"
        );
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
        assert!(!d.join("x").exists());
    }

    #[test]
    fn bare_parquet_path_is_labelled_by_its_stem() {
        let l = parse_labelled("outputs/x/limits-B-3Le.parquet").unwrap();
        assert_eq!(l.label, "limits-B-3Le");
        assert_eq!(l.path, PathBuf::from("outputs/x/limits-B-3Le.parquet"));
    }

    #[test]
    fn bad_label_syntax_is_a_usage_error() {
        for bad in [
            "no-equals-sign",
            "=path.parquet",
            "label=",
            "a\"b=p",
            "x.csv",
        ] {
            let e = Args::try_parse_from([
                "compare",
                "--limits",
                bad,
                "--model",
                "B-L",
                "--out-csv",
                "c.csv",
                "--out-dir",
                "d",
            ])
            .unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
            assert!(e.to_string().contains("LABEL"), "{e}");
            assert_eq!(cevns_io::stage::exit_code_for(&anyhow::Error::new(e)), 2);
        }
        // Comma-separated and repeated forms are equivalent.
        let a = Args::try_parse_from([
            "compare",
            "--limits",
            "x=a.parquet,y=b.parquet",
            "--limits",
            "z=c=d.parquet",
            "--model",
            "B-L",
            "--out-csv",
            "c.csv",
            "--out-dir",
            "d",
        ])
        .unwrap();
        let got: Vec<(&str, &Path)> = a
            .limits
            .iter()
            .map(|l| (l.label.as_str(), l.path.as_path()))
            .collect();
        assert_eq!(
            got,
            [
                ("x", Path::new("a.parquet")),
                ("y", Path::new("b.parquet")),
                ("z", Path::new("c=d.parquet"))
            ]
        );
        // --limits is required.
        assert!(
            Args::try_parse_from([
                "compare",
                "--model",
                "B-L",
                "--out-csv",
                "c",
                "--out-dir",
                "d"
            ])
            .is_err()
        );
    }

    #[test]
    fn duplicate_label_wrong_stage_and_missing_file_are_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = write(
            d,
            "a/limits.parquet",
            &limits_table(&["B-L"], &MASSES, 3e-5, None),
            "chi2-scan",
        );
        let e = run(&args(d, &[("same", &a), ("same", &a)], "B-L", "x")).unwrap_err();
        assert!(format!("{e:#}").contains("`same` given twice"), "{e:#}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);

        let w = write(
            d,
            "w/limits.parquet",
            &limits_table(&["B-L"], &MASSES, 3e-5, None),
            "quench-smear",
        );
        let e = run(&args(d, &[("ok", &a), ("wrong", &w)], "B-L", "x")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("w/limits.parquet") && msg.contains("chi2-scan"),
            "{msg}"
        );
        assert!(msg.contains("wrong="), "{msg}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);

        let missing = d.join("nope/limits.parquet");
        let e = run(&args(d, &[("gone", &missing)], "B-L", "x")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("nope/limits.parquet") && msg.contains("gone"),
            "{msg}"
        );
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
        assert!(!d.join("x").exists());
    }

    #[test]
    fn mass_groups_merge_within_tolerance() {
        let (idx, reps) = mass_groups(&[1.0, 2.0, 1.0 + 1e-12, 0.5, 2.0 * (1.0 + 1e-6)]);
        assert_eq!(reps, [0.5, 1.0, 2.0, 2.0 * (1.0 + 1e-6)]);
        assert_eq!(idx, [1, 2, 1, 0, 3]);
    }

    /// An Asimov `limits.parquet` as chi2-scan writes it (with the `asimov`
    /// record), g90 = scale × (1 + m/10) × (1 + threshold) / sqrt(exposure).
    fn asimov_file(dir: &Path, name: &str, det: &str, thr: f64, exp: f64) -> PathBuf {
        let s = (1.0 + thr) / exp.sqrt();
        let t = limits_table(&["B-L", "B-3Le"], &MASSES, s, None);
        let prov = Provenance::new("chi2-scan").typed_extra(&LimitsExtra {
            unresolved_scan_points: Default::default(),
            chi2_min: Default::default(),
            no_limit: Default::default(),
            pulls: "test".into(),
            data_kind: DataKind::Asimov {
                exposure_kg_day: exp,
                background: 0.01,
                background_syst_frac: 0.1,
            },
            calibration: None,
            asimov: Some(AsimovSetup {
                detector: det.into(),
                threshold_kevee: thr,
                exposure_kg_day: exp,
                background: 0.01,
                background_syst_frac: 0.1,
            }),
        });
        let p = dir.join(name);
        std::fs::write(&p, t.to_parquet_bytes(&prov).unwrap()).unwrap();
        p
    }

    #[test]
    fn at_mass_gathers_projections_into_one_table() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut files = Vec::new();
        for (det, thrs) in [("Ge", [0.1, 0.04]), ("Xe", [0.2, 0.06])] {
            for exp in [365.25, 3652.5] {
                for thr in thrs {
                    let name = format!("{det}-{exp}-{thr}.parquet");
                    files.push(asimov_file(d, &name, det, thr, exp));
                }
            }
        }
        let mut argv: Vec<String> = vec!["compare".into()];
        for f in &files {
            argv.push("--limits".into());
            argv.push(f.display().to_string());
        }
        argv.extend(["--model", "B-L,B-3Le", "--at-mass-mev", "1", "--out-csv"].map(String::from));
        argv.push(d.join("o/t.csv").display().to_string());
        argv.push("--out-dir".into());
        argv.push(d.join("o/fig").display().to_string());
        argv.push("--quiet".into());
        let a = Args::try_parse_from(&argv).unwrap();
        run(&a).unwrap();
        let csv = std::fs::read_to_string(d.join("o/t.csv")).unwrap();
        let r = rows(&csv);
        assert_eq!(
            r[0],
            [
                "model",
                "detector",
                "threshold_kevee",
                "exposure_kg_day",
                "exposure_kg_yr",
                "m_zp_mev",
                "g90"
            ]
        );
        assert_eq!(r.len(), 1 + 2 * 8);
        // Sorted by model (as given), detector, exposure, threshold.
        assert_eq!(r[1][..2], ["B-L", "Ge"]);
        assert_eq!(r[1][2].parse::<f64>().unwrap(), 0.04);
        assert_eq!(r[1][3].parse::<f64>().unwrap(), 365.25);
        assert_eq!(r[1][4].parse::<f64>().unwrap(), 1.0);
        assert_eq!(r[9][..2], ["B-3Le", "Ge"]);
        // g90 at 1 MeV = (1 + 1/10) (1 + thr) / sqrt(exposure).
        let g: f64 = r[1][6].parse().unwrap();
        let want = 1.1 * 1.04 / 365.25f64.sqrt();
        assert!((g / want - 1.0).abs() < 1e-6, "{g} vs {want}");
        for f in ["sensitivity-B-L.png", "sensitivity-B-3Le.svg"] {
            assert!(d.join("o/fig").join(f).is_file(), "{f}");
        }
        // Deterministic: a second run writes the same bytes.
        let first = std::fs::read(d.join("o/fig/sensitivity-B-L.svg")).unwrap();
        run(&a).unwrap();
        assert_eq!(
            first,
            std::fs::read(d.join("o/fig/sensitivity-B-L.svg")).unwrap()
        );
        assert_eq!(csv, std::fs::read_to_string(d.join("o/t.csv")).unwrap());

        // A mass not on the grid, and a file that is not a projection: exit 2.
        let mut bad = argv.clone();
        let i = bad.iter().position(|x| x == "--at-mass-mev").unwrap();
        bad[i + 1] = "2".into();
        let e = run(&Args::try_parse_from(&bad).unwrap()).unwrap_err();
        assert!(format!("{e:#}").contains("m_zp_mev = 2"), "{e:#}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
        let plain = write(
            d,
            "plain.parquet",
            &limits_table(&["B-L"], &MASSES, 1e-5, None),
            "chi2-scan",
        );
        let mut bad = argv.clone();
        bad.insert(1, "--limits".into());
        bad.insert(2, plain.display().to_string());
        let e = run(&Args::try_parse_from(&bad).unwrap()).unwrap_err();
        assert!(
            format!("{e:#}").contains("not an Asimov projection"),
            "{e:#}"
        );
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
    }
}
