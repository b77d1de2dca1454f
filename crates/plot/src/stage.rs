//! The `plot` stage as a library (`main.rs` parses and calls [`run`]): the
//! last stage of the pipeline. Draws the figures of Demirci &
//! Mustamin (BSM-2023) from the pipeline's outputs:
//!
//! - Fig. 2a, 2b: predicted CEvNS spectra dR/dT_ee on Ge for the SM and the
//!   U(1)' models at the two benchmark Z' masses (from `quench-smear`);
//! - Fig. 3: the 90 % CL limit on g_{B−L} vs m_Z' with published limits
//!   overlaid (DARKCAST tables listed in `data/overlays/b-l.yaml`);
//! - Fig. 4a, 4b, 4c: the limits on B−3L_e, B−3L_μ, B−3L_τ.
//!
//! The limits come from the CDEX-10 *surrogate* spectrum; the titles say so.
//! All files are rendered in memory and written atomically (all or nothing).

use crate::{figures, render};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Parser;
use rayon::prelude::*;

use cevns_io::OutputSet;
use cevns_io::inputs::Input;
use cevns_io::stage::{CommonArgs, bad_input};

use crate::input::{Limits, Overlays, Spectrum, read_limits, read_spectrum};
use crate::render::{Format, Plot};

/// Draw Figs. 2a, 2b, 3, 4a, 4b, 4c of the CEvNS / U(1)' reproduction.
///
/// Writes exactly OUT_DIR/{fig2a,fig2b,fig3,fig4a,fig4b,fig4c}.{png,svg}
/// (one file per figure and format). Axes: T_ee in keVee and dR/dT_ee in
/// counts kg⁻¹ keVee⁻¹ day⁻¹ (Fig. 2); m_Z' in MeV and the dimensionless
/// coupling g (Figs. 3, 4). Exit codes: 0 ok, 1 failure, 2 bad input.
#[derive(Debug, Parser)]
#[command(name = "plot", version)]
pub struct Cli {
    /// Benchmark spectra from `quench-smear` (Parquet): columns curve, label,
    /// g, m_zp_mev [MeV], source, t_ee_kevee [keVee], dr_dtee and
    /// dr_dtee_unsmeared [kg⁻¹ keVee⁻¹ day⁻¹]. Needs an SM curve and model
    /// curves at two distinct Z' masses (Fig. 2a uses the smaller).
    #[arg(long, value_name = "PATH")]
    spectrum: PathBuf,
    /// Limits from `chi2-scan` (Parquet): columns model, label, m_zp_mev
    /// [MeV], g90 (90 % CL upper limit on g; null = no limit at that mass).
    /// Must contain B-L, B-3Le, B-3Lmu and B-3Ltau.
    #[arg(long, value_name = "PATH")]
    limits: PathBuf,
    /// Overlay list (YAML, e.g. data/overlays/b-l.yaml) naming DARKCAST
    /// `.lmt` files (mass in GeV, lower limit on g_{B−L}) drawn on Fig. 3.
    #[arg(long, value_name = "PATH")]
    overlays: PathBuf,
    /// Limits of a second run (e.g. CEνNS only) to compare with `--limits`
    /// (e.g. CEνNS + ν–e): adds `channels-b-l` and `channels-b-3le` figures
    /// (B−L with the DARKCAST ν–e overlays, and B−3L_e).
    #[arg(long, value_name = "PATH")]
    baseline_limits: Option<PathBuf>,
    /// Legend label of `--baseline-limits`.
    #[arg(long, default_value = "CEνNS only")]
    baseline_label: String,
    /// Directory for the figures (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Image formats to write, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "png,svg")]
    formats: Vec<Format>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl Cli {
    /// `--list-inputs`: the files this invocation reads (with the `.lmt`
    /// tables the overlay list names).
    pub fn list_inputs(&self) -> Result<()> {
        cevns_io::inputs::print_list(&[
            Input::File(&self.spectrum),
            Input::File(&self.limits),
            Input::Overlays(&self.overlays),
        ])
    }
}

/// Figure file stems, in the order they are drawn.
pub const FIGURES: [&str; 6] = ["fig2a", "fig2b", "fig3", "fig4a", "fig4b", "fig4c"];

/// Build all six figure descriptions from the inputs.
fn build_figures(
    spectrum: &Spectrum,
    limits: &Limits,
    overlays: &Overlays,
) -> Result<Vec<(&'static str, Plot)>> {
    let [m_a, m_b] = figures::benchmark_masses(spectrum)?;
    let plots = vec![
        figures::spectrum_plot(spectrum, m_a).context("Fig. 2a")?,
        figures::spectrum_plot(spectrum, m_b).context("Fig. 2b")?,
        figures::fig3(limits, overlays).context("Fig. 3")?,
        figures::fig4(limits, figures::FIG4_MODELS[0]).context("Fig. 4a")?,
        figures::fig4(limits, figures::FIG4_MODELS[1]).context("Fig. 4b")?,
        figures::fig4(limits, figures::FIG4_MODELS[2]).context("Fig. 4c")?,
    ];
    Ok(FIGURES.into_iter().zip(plots).collect())
}

/// Read the inputs, render every figure in every format and write them
/// atomically. Returns the paths written.
pub fn run(cli: &Cli) -> Result<Vec<PathBuf>> {
    let spectrum = read_spectrum(&cli.spectrum)?;
    let limits = read_limits(&cli.limits)?;
    let overlays = Overlays::load(&cli.overlays)?;
    cli.common.log(format!(
        "plot: {} spectrum curves, {} limit models, {} overlays",
        spectrum.curves.len(),
        limits.models.len(),
        overlays.overlays.len()
    ));
    let masses = spectrum.masses();
    if masses.len() > 2 {
        cli.common.log(format!(
            "plot: {} Z' masses in the spectrum; Fig. 2 uses the two smallest",
            masses.len()
        ));
    }
    let mut figs = build_figures(&spectrum, &limits, &overlays)?;
    let mut stems: Vec<&'static str> = FIGURES.to_vec();
    if let Some(b) = &cli.baseline_limits {
        let base = read_limits(b)?;
        for (stem, model) in [("channels-b-l", "B-L"), ("channels-b-3le", "B-3Le")] {
            figs.push((
                stem,
                figures::channel_comparison(&limits, &base, &cli.baseline_label, model, &overlays)
                    .context(stem)?,
            ));
            stems.push(stem);
        }
    }

    let paths = write_figures(&figs, &cli.formats, &cli.out_dir)?;
    cli.common.log(format!(
        "plot: wrote {} files to {}",
        paths.len(),
        cli.out_dir.display()
    ));
    Ok(paths)
}

/// Render every figure in every format (sorted, without repeats), in
/// parallel, and write them all or nothing as `out_dir/<stem>.<ext>`. Returns the paths written.
/// Shared by the paper figures and the XENONnT figures.
pub fn write_figures<S: AsRef<str>>(
    figs: &[(S, Plot)],
    formats: &[Format],
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        return Err(bad_input("--formats: give at least one of png, svg"));
    }
    let name = |stem: &str, f: Format| out_dir.join(format!("{stem}.{}", f.ext()));
    let paths: Vec<PathBuf> = figs
        .iter()
        .flat_map(|(stem, _)| formats.iter().map(move |&f| name(stem.as_ref(), f)))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let mut out = OutputSet::new(&refs)?;
    // Render in parallel (rayon's pool: `--threads`), write in order.
    let jobs: Vec<(&str, &Plot, Format)> = figs
        .iter()
        .flat_map(|(stem, plot)| formats.iter().map(move |&f| (stem.as_ref(), plot, f)))
        .collect();
    let rendered: Vec<Result<Vec<u8>>> = jobs
        .par_iter()
        .map(|&(stem, plot, f)| {
            render::render(plot, f).with_context(|| format!("rendering {stem}.{}", f.ext()))
        })
        .collect();
    for ((stem, _, f), bytes) in jobs.iter().zip(rendered) {
        out.write_bytes(&name(stem, *f), &bytes?)?;
    }
    out.commit()?;
    Ok(paths)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use cevns_io::{Provenance, Table};

    /// A small spectrum: SM plus two models at 1 and 5 MeV, through the
    /// table's one writer.
    fn spectrum_table() -> Table {
        let mut rows: Vec<(&str, &str, f64, f64)> = vec![("SM", "SM", 0.0, 0.0)];
        for m in [1.0, 5.0] {
            rows.push(("B-L", "B−L", 1.5e-5, m));
            rows.push(("B-3Le", "B−3L_e", 1.5e-5, m));
        }
        let curves: Vec<cevns_io::schema::SpectrumCurve> = rows
            .iter()
            .enumerate()
            .map(|(k, &(c, l, g, m))| {
                let tee = |i: usize| 0.1 + 0.1 * i as f64;
                cevns_io::schema::SpectrumCurve {
                    curve: c.to_string(),
                    label: l.to_string(),
                    g,
                    m_zp_mev: m,
                    source: "8B".to_string(),
                    smeared: (0..25)
                        .map(|i| (tee(i), (1.0 + k as f64) * 10f64.powf(-3.0 * tee(i))))
                        .collect(),
                    unsmeared: (0..25)
                        .map(|i| {
                            let t = tee(i);
                            (
                                t,
                                if t < 0.5 {
                                    2.0 * 10f64.powf(-3.0 * t)
                                } else {
                                    0.0
                                },
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        cevns_io::schema::spectrum_table(&curves)
    }

    fn limits_table(models: &[&str]) -> Vec<cevns_io::schema::ModelLimit> {
        models
            .iter()
            .map(|name| cevns_io::schema::ModelLimit {
                model: name.to_string(),
                label: name.replace('-', "−"),
                // A gap in the middle of the scan.
                points: (0..50)
                    .map(|i| {
                        let mass = 0.01 * 10f64.powf(5.0 * i as f64 / 49.0);
                        let ok = !(20..23).contains(&i);
                        (mass, ok.then(|| 3e-5 * (1.0 + mass / 10.0)))
                    })
                    .collect(),
                data: cevns_io::schema::DataKind::Surrogate,
            })
            .collect()
    }

    struct Inputs {
        dir: tempfile::TempDir,
        spectrum: PathBuf,
        limits: PathBuf,
        overlays: PathBuf,
    }

    fn write_inputs(spectrum: Table, limits: Vec<cevns_io::schema::ModelLimit>) -> Inputs {
        let dir = tempfile::tempdir().unwrap();
        let sp = dir.path().join("spectrum.parquet");
        std::fs::write(
            &sp,
            spectrum
                .to_parquet_bytes(&Provenance::new("quench-smear"))
                .unwrap(),
        )
        .unwrap();
        let li = dir.path().join("limits.parquet");
        std::fs::write(
            &li,
            cevns_io::schema::limits_table(&limits)
                .to_parquet_bytes(&Provenance::new("chi2-scan").typed_extra(
                    &cevns_io::schema::LimitsExtra {
                        unresolved_scan_points: Default::default(),
                        chi2_min: Default::default(),
                        no_limit: Default::default(),
                        pulls: "test".into(),
                        data_kind: cevns_io::schema::DataKind::Surrogate,
                        calibration: None,
                        asimov: None,
                    },
                ))
                .unwrap(),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("lmt")).unwrap();
        // Mass in GeV; 1e5 = no limit (a gap); the last point is out of range.
        std::fs::write(
            dir.path().join("lmt/x.lmt"),
            "#  mass lower\n 1.0e-5 1.0e-6\n 1.0e-4 2.0e-6\n 1.0e-3 1.0e+05\n 1.0e-2 1.0e-5\n 1.0e-1 1.0e-4\n 10.0 1.0\n",
        )
        .unwrap();
        let ov = dir.path().join("o.yaml");
        std::fs::write(
            &ov,
            "model: B-L\noverlays:\n  - {label: X, file: lmt/x.lmt, group: nu-scattering}\n  - {label: Y, file: lmt/x.lmt, group: collider/fixed-target}\n",
        )
        .unwrap();
        Inputs {
            dir,
            spectrum: sp,
            limits: li,
            overlays: ov,
        }
    }

    fn cli(inp: &Inputs, out: &str, extra: &[&str]) -> Cli {
        let mut args = vec![
            "plot".to_string(),
            "--spectrum".into(),
            inp.spectrum.display().to_string(),
            "--limits".into(),
            inp.limits.display().to_string(),
            "--overlays".into(),
            inp.overlays.display().to_string(),
            "--out-dir".into(),
            inp.dir.path().join(out).display().to_string(),
            "--quiet".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Cli::try_parse_from(args).unwrap()
    }

    const ALL_MODELS: [&str; 4] = ["B-L", "B-3Le", "B-3Lmu", "B-3Ltau"];

    #[test]
    fn writes_twelve_deterministic_files() {
        let inp = write_inputs(spectrum_table(), limits_table(&ALL_MODELS));
        let a = run(&cli(&inp, "a", &[])).unwrap();
        let b = run(&cli(&inp, "b", &[])).unwrap();
        assert_eq!(a.len(), 12);
        let mut names: Vec<String> = std::fs::read_dir(inp.dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut expected: Vec<String> = FIGURES
            .iter()
            .flat_map(|s| ["png", "svg"].map(|e| format!("{s}.{e}")))
            .collect();
        expected.sort();
        assert_eq!(
            names, expected,
            "exactly the 12 figure files, no temporaries"
        );
        for (pa, pb) in a.iter().zip(&b) {
            let (ba, bb) = (std::fs::read(pa).unwrap(), std::fs::read(pb).unwrap());
            assert!(ba.len() > 1000, "{} is too small", pa.display());
            assert_eq!(ba, bb, "{} differs between runs", pa.display());
            if pa.extension().unwrap() == "png" {
                assert_eq!(&ba[..8], b"\x89PNG\r\n\x1a\n");
            } else {
                let s = String::from_utf8(ba).unwrap();
                assert!(s.starts_with("<svg"), "{}", &s[..40]);
            }
        }
        let fig3 = std::fs::read_to_string(inp.dir.path().join("a/fig3.svg")).unwrap();
        assert!(fig3.contains("CDEX-10 surrogate data"));
        let fig4 = std::fs::read_to_string(inp.dir.path().join("a/fig4b.svg")).unwrap();
        assert!(fig4.contains("no published overlays shipped"));
        assert!(fig4.contains("B−3Lmu"));
    }

    #[test]
    fn formats_option_selects_files() {
        let inp = write_inputs(spectrum_table(), limits_table(&ALL_MODELS));
        let paths = run(&cli(&inp, "s", &["--formats", "svg"])).unwrap();
        assert_eq!(paths.len(), 6);
        assert!(paths.iter().all(|p| p.extension().unwrap() == "svg"));
        assert!(
            Cli::try_parse_from([
                "plot",
                "--spectrum",
                "a",
                "--limits",
                "b",
                "--overlays",
                "c",
                "--out-dir",
                "d",
                "--formats",
                "gif"
            ])
            .is_err()
        );
    }

    #[test]
    fn missing_column_is_named_and_nothing_is_written() {
        let bad = Table::new()
            .str("curve", vec!["SM".into()])
            .f64("g", "1", vec![0.0]);
        let inp = write_inputs(bad, limits_table(&ALL_MODELS));
        let e = run(&cli(&inp, "x", &[])).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("`label`") && msg.contains("spectrum.parquet"),
            "{msg}"
        );
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
        assert!(!inp.dir.path().join("x").exists());
    }

    #[test]
    fn missing_model_is_named() {
        let inp = write_inputs(spectrum_table(), limits_table(&["B-L", "B-3Le", "B-3Ltau"]));
        let e = run(&cli(&inp, "x", &[])).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("B-3Lmu"), "{msg}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
    }

    #[test]
    fn wrong_stage_and_single_mass_are_bad_input() {
        let inp = write_inputs(spectrum_table(), limits_table(&ALL_MODELS));
        // limits.parquet given as the spectrum.
        let mut c = cli(&inp, "x", &[]);
        c.spectrum = inp.limits.clone();
        let e = run(&c).unwrap_err();
        assert!(format!("{e:#}").contains("quench-smear"), "{e:#}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);

        let one_mass = Table::new()
            .str("curve", vec!["SM".into(), "B-L".into()])
            .str("label", vec!["SM".into(), "B−L".into()])
            .f64("g", "1", vec![0.0, 1.5e-5])
            .f64("m_zp_mev", "MeV", vec![0.0, 1.0])
            .str("source", vec!["8B".into(), "8B".into()])
            .f64("t_ee_kevee", "keVee", vec![0.2, 0.2])
            .f64("dr_dtee", "1", vec![1.0, 1.0])
            .f64("dr_dtee_unsmeared", "1", vec![1.0, 1.0]);
        let inp = write_inputs(one_mass, limits_table(&ALL_MODELS));
        let e = run(&cli(&inp, "x", &[])).unwrap_err();
        assert!(format!("{e:#}").contains("2 distinct Z' masses"), "{e:#}");
        assert_eq!(cevns_io::stage::exit_code_for(&e), 2);
    }

    #[test]
    fn figures_have_the_expected_content() {
        let inp = write_inputs(spectrum_table(), limits_table(&ALL_MODELS));
        let spectrum = read_spectrum(&inp.spectrum).unwrap();
        let limits = read_limits(&inp.limits).unwrap();
        let overlays = Overlays::load(&inp.overlays).unwrap();
        let figs = build_figures(&spectrum, &limits, &overlays).unwrap();
        let (_, f2a) = &figs[0];
        assert!(
            f2a.title.contains("m_Z′ = 1 MeV")
                && f2a.title.contains("⁸B")
                && f2a.title.contains("1.5×10⁻⁵"),
            "{}",
            f2a.title
        );
        assert!(figs[1].1.title.contains("m_Z′ = 5 MeV"));
        // SM + 2 models, smeared and unsmeared, plus the legend key.
        assert_eq!(f2a.lines.len(), 7);
        let (_, f3) = &figs[2];
        // Our limit has a 3-point gap: two pieces, each shaded.
        assert_eq!(f3.lines[0].polylines.len(), 2);
        assert_eq!(f3.shades.len(), 2);
        // Overlay: the 1e5 row breaks the line; points outside the frame
        // (1e-5 GeV = 0.01 MeV is on the edge; 10 GeV is outside) are cut.
        let ov = &f3.lines[1];
        assert!(ov.dashed && !f3.lines[2].dashed);
        assert_eq!(ov.polylines.len(), 2, "{:?}", ov.polylines);
        let f = f3.frame;
        for p in ov.polylines.iter().flatten() {
            assert!(
                p.0 >= f.x.0 * (1.0 - 1e-9) && p.0 <= f.x.1 * (1.0 + 1e-9),
                "{p:?}"
            );
            assert!(
                p.1 >= f.y.0 * (1.0 - 1e-9) && p.1 <= f.y.1 * (1.0 + 1e-9),
                "{p:?}"
            );
        }
        assert!(f3.title.contains("(CDEX-10 surrogate data)"));
        for (_, f4) in &figs[3..] {
            assert!(f4.title.contains("(CDEX-10 surrogate data)"));
            assert_eq!(f4.lines.len(), 1);
            assert!(
                f4.notes
                    .iter()
                    .any(|n| n.contains("no published overlays shipped"))
            );
        }
    }
}
