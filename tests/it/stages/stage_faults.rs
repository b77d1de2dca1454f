//! Fault injection against the stage binaries (issue 10): every bad input
//! gives the documented exit code and a message naming the cause, and leaves
//! no output (stale or partial) behind. Part of the `stages` test binary so
//! that it shares the physics chain built once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{chain, scan_args, surrogate_bins, surrogate_with_lowest_bin, without_calibration};
use crate::common::{bin, ok, repo, run, s};

/// A scratch dir holding copies of the chain's rates/response.
fn scratch() -> tempfile::TempDir {
    let c = chain();
    let dir = tempfile::tempdir().unwrap();
    for f in ["rates.parquet", "response.parquet"] {
        std::fs::copy(c.out.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// The three outputs of `scan_args(dir, "limits")`, pre-filled with stale
/// content so that a failure must remove them.
fn stale_outputs(dir: &Path) -> Vec<PathBuf> {
    let outs: Vec<PathBuf> = ["limits.parquet", "limits.csv", "limits_scan.parquet"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    for o in &outs {
        std::fs::write(o, b"stale").unwrap();
    }
    outs
}

/// No `.cevns-*.tmp` temporaries left in `dir`.
fn no_temps(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !(name.starts_with(".cevns-") && name.ends_with(".tmp")),
            "temporary {name} left in {}",
            dir.display()
        );
    }
}

/// chi2-scan with `--data` replaced by `data` and `extra` appended.
fn scan_with(dir: &Path, data: Option<&Path>, extra: &[&str]) -> Vec<String> {
    let mut a = scan_args(dir, "limits");
    if let Some(d) = data {
        let i = a.iter().position(|x| x == "--data").unwrap();
        a[i + 1] = s(d).to_string();
    }
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The surrogate CSV with one line replaced.
fn surrogate_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("data/cdex10/surrogate.csv")).unwrap();
    assert!(
        text.contains(from),
        "fixture line `{from}` not in surrogate.csv"
    );
    let p = dir.join("data.csv");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p
}

/// Run and expect exit `code`, `needle` in stderr, none of `outputs` left.
fn expect(name: &str, args: &[&str], code: i32, needle: &str, outputs: &[PathBuf]) {
    let o = run(name, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{name}: stderr: {err}");
    assert!(
        err.contains(needle),
        "{name}: expected `{needle}` in: {err}"
    );
    assert!(!err.contains("panicked"), "{name} panicked: {err}");
    for p in outputs {
        assert!(!p.exists(), "{} left behind", p.display());
    }
}

#[test]
fn negative_background_is_rejected_not_turned_into_limits() {
    // Issue 10 case 1: exit 0 with g90 = 1e-9 everywhere before.
    let dir = scratch();
    let data = surrogate_with(dir.path(), "\n0.46,0.56,0,0,\n", "\n0.46,0.56,0,-5,\n");
    let outs = stale_outputs(dir.path());
    let a = scan_with(dir.path(), Some(&data), &[]);
    expect(
        "chi2-scan",
        &refs(&a),
        2,
        "background: -5 must be >= 0",
        &outs,
    );
    no_temps(dir.path());
}

#[test]
fn nan_background_is_rejected() {
    let dir = scratch();
    let data = surrogate_with(dir.path(), "\n0.46,0.56,0,0,\n", "\n0.46,0.56,0,NaN,\n");
    let outs = stale_outputs(dir.path());
    let a = scan_with(dir.path(), Some(&data), &[]);
    expect("chi2-scan", &refs(&a), 2, "background: value NaN", &outs);
}

#[test]
fn an_excess_that_cannot_be_calibrated_is_an_error() {
    // The negative background of case 1 written as a legal excess
    // (R_obs = 5, B = 0): the calibration cannot reach its target, and
    // says so instead of logging success.
    let dir = scratch();
    let data = surrogate_with(dir.path(), "\n0.46,0.56,0,0,\n", "\n0.46,0.56,5,0,\n");
    let outs = stale_outputs(dir.path());
    let a = scan_with(dir.path(), Some(&data), &[]);
    let o = run("chi2-scan", &refs(&a));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(matches!(o.status.code(), Some(1 | 2)), "{err}");
    assert!(
        err.contains("calibration failed") || err.contains("cannot reach g90"),
        "{err}"
    );
    for p in &outs {
        assert!(!p.exists(), "{}", p.display());
    }
}

#[test]
fn calibration_target_outside_the_coupling_range_exits_2() {
    // Issue 10 case 1 (`--calibrate-g90 1e308` gave exit 0) and case 6
    // (outside the range gave exit 1).
    let dir = scratch();
    for g in ["1e308", "2", "1e-10"] {
        let outs = stale_outputs(dir.path());
        let mut a = scan_args(dir.path(), "limits");
        let i = a.iter().position(|x| x == "--calibrate-g90").unwrap();
        a[i + 1] = g.to_string();
        expect(
            "chi2-scan",
            &refs(&a),
            2,
            "outside the coupling range",
            &outs,
        );
    }
}

/// The CDEX-10 surrogate with every bin's `rate_obs,background,delta`
/// replaced by `fields`, written to `dir/data.csv`.
fn surrogate_with_bins(dir: &Path, fields: &str) -> PathBuf {
    surrogate_bins(dir, |_| fields.to_string())
}

#[test]
fn overflowing_chi2_is_an_error_not_an_empty_result() {
    // Δ given, residual/Δ overflows: χ² = ∞ must not become "no limit".
    let dir = scratch();
    let data = surrogate_with_bins(dir.path(), "1e300,0,1e-300");
    let outs = stale_outputs(dir.path());
    let mut a = scan_with(dir.path(), Some(&data), &[]);
    without_calibration(&mut a);
    expect("chi2-scan", &refs(&a), 1, "not finite", &outs);
}

#[test]
fn a_chi2_minimum_at_g_max_is_an_error() {
    // An enormous excess with tiny Δ: the data want g beyond --g-max.
    let dir = scratch();
    let data = surrogate_with_bins(dir.path(), "1e12,0,1e6");
    let outs = stale_outputs(dir.path());
    let mut a = scan_with(dir.path(), Some(&data), &["--g-max", "1e-3"]);
    without_calibration(&mut a);
    expect("chi2-scan", &refs(&a), 2, "edge g = --g-max", &outs);
}

#[test]
fn unresolved_chi2_below_the_limit_is_an_error() {
    // A scan that starts at g = 0.3: for light mediators the Z' rates are
    // 1e15 times the data from the first coupling on, so χ² cannot be
    // resolved in double precision before any crossing, and no limit could
    // be trusted (above the limit the same points are just NaN in the scan).
    let dir = scratch();
    let data = surrogate_with_bins(dir.path(), "0.5,0.5,0.1");
    let outs = stale_outputs(dir.path());
    let mut a = scan_with(dir.path(), Some(&data), &["--g-min", "0.3"]);
    without_calibration(&mut a);
    expect(
        "chi2-scan",
        &refs(&a),
        1,
        "cannot be resolved in double precision at g = 3e-1, below the limit",
        &outs,
    );
}

#[test]
fn duplicate_model_names_are_rejected() {
    // Issue 10 case 2: two `B-L` gave 402 rows and two limits at 1 MeV.
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join("data/models/u1prime.yaml")).unwrap();
    let models = dir.path().join("models.yaml");
    std::fs::write(&models, text.replace("name: B-3Le", "name: B-L")).unwrap();
    let outs = stale_outputs(dir.path());
    let mut a = scan_args(dir.path(), "limits");
    let i = a.iter().position(|x| x == "--models").unwrap();
    a[i + 1] = s(&models).to_string();
    expect(
        "chi2-scan",
        &refs(&a),
        2,
        "duplicate model name `B-L`",
        &outs,
    );
}

#[test]
fn charges_and_fluxes_beyond_any_physical_scale_are_rejected() {
    // Issue 10 case 1: a charge of 1e308 silently gave no limits; a flux of
    // 1e308 gave Δ = inf and no limits, exit 0.
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join("data/models/u1prime.yaml")).unwrap();
    let models = dir.path().join("models.yaml");
    std::fs::write(&models, text.replacen("nu_e: -1.0", "nu_e: -1.0e308", 1)).unwrap();
    let outs = stale_outputs(dir.path());
    let mut a = scan_args(dir.path(), "limits");
    let i = a.iter().position(|x| x == "--models").unwrap();
    a[i + 1] = s(&models).to_string();
    expect("chi2-scan", &refs(&a), 2, "charges.nu_e", &outs);

    let solar_dir = dir.path().join("solar");
    crate::common::copy_dir(&repo().join("data/solar"), &solar_dir);
    let f = solar_dir.join("bs05-op.yaml");
    let y = std::fs::read_to_string(&f).unwrap();
    let (at, _) = y
        .match_indices("flux_cm2_s:")
        .next()
        .expect("a flux in bs05-op.yaml");
    let end = at + y[at..].find('\n').unwrap();
    std::fs::write(&f, format!("{}flux_cm2_s: 1.0e308{}", &y[..at], &y[end..])).unwrap();
    let out = dir.path().join("fluxes.parquet");
    std::fs::write(&out, b"stale").unwrap();
    expect(
        "flux-prep",
        &[
            "--solar-model",
            s(&f),
            "--oscillation",
            "data/oscillation/desalas2021-no.yaml",
            "--out",
            s(&out),
        ],
        2,
        "beyond any physical neutrino source",
        std::slice::from_ref(&out),
    );
}

#[test]
fn negative_isotope_abundance_is_named() {
    // Issue 10 case 6: reported only as "abundances sum to 0.845".
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("data/targets/ge-nat.yaml")).unwrap();
    let (at, _) = text.match_indices("abundance:").next().unwrap();
    let end = at + text[at..].find([',', '}', '\n']).unwrap();
    let t = dir.path().join("ge.yaml");
    std::fs::write(
        &t,
        format!("{}abundance: -0.1{}", &text[..at], &text[end..]),
    )
    .unwrap();
    let (o1, o2) = (dir.path().join("x.parquet"), dir.path().join("g.parquet"));
    expect(
        "xsec-tables",
        &["--target", s(&t), "--out", s(&o1), "--grid-out", s(&o2)],
        2,
        "abundance` = -0.1",
        &[o1.clone(), o2.clone()],
    );
}

#[test]
fn empty_and_malformed_yaml_say_what_was_expected() {
    let dir = scratch();
    let models = dir.path().join("models.yaml");
    std::fs::write(&models, "").unwrap();
    let outs = stale_outputs(dir.path());
    let mut a = scan_args(dir.path(), "limits");
    let i = a.iter().position(|x| x == "--models").unwrap();
    a[i + 1] = s(&models).to_string();
    expect(
        "chi2-scan",
        &refs(&a),
        2,
        "the file is empty; expected a U(1)' models file",
        &outs,
    );
    std::fs::write(&models, "models: [\n").unwrap();
    let outs = stale_outputs(dir.path());
    expect("chi2-scan", &refs(&a), 2, "models.yaml", &outs);
}

#[test]
fn malformed_csv_rows_name_line_and_column() {
    let dir = scratch();
    for (from, to, needle) in [
        (
            "\n0.46,0.56,0,0,\n",
            "\n0.46,0.56,0,0\n",
            "expected 5 fields",
        ),
        (
            "\n0.46,0.56,0,0,\n",
            "\n0.46,0.56,x,0,\n",
            "r_obs: `x` is not a number",
        ),
        (
            "\n0.46,0.56,0,0,\n",
            "\n0.46,0.56,0,inf,\n",
            "background: value inf",
        ),
    ] {
        let data = surrogate_with(dir.path(), from, to);
        let outs = stale_outputs(dir.path());
        let a = scan_with(dir.path(), Some(&data), &[]);
        expect("chi2-scan", &refs(&a), 2, needle, &outs);
    }
}

#[test]
fn truncated_and_garbage_parquet_are_bad_input() {
    let dir = scratch();
    let rates = dir.path().join("rates.parquet");
    let bytes = std::fs::read(&rates).unwrap();
    std::fs::write(&rates, &bytes[..bytes.len() / 2]).unwrap();
    let outs = stale_outputs(dir.path());
    let a = scan_args(dir.path(), "limits");
    expect("chi2-scan", &refs(&a), 2, "rates.parquet", &outs);
    std::fs::write(&rates, b"PAR1 not really").unwrap();
    let outs = stale_outputs(dir.path());
    expect("chi2-scan", &refs(&a), 2, "rates.parquet", &outs);
    std::fs::remove_file(&rates).unwrap();
    let outs = stale_outputs(dir.path());
    expect("chi2-scan", &refs(&a), 2, "rates.parquet", &outs);
}

#[test]
fn usage_errors_remove_stale_outputs() {
    // Issue 10 case 6: clap errors left the previous outputs in place.
    let dir = scratch();
    let outs = stale_outputs(dir.path());
    let a = scan_with(dir.path(), None, &["--m-points", "abc"]);
    expect("chi2-scan", &refs(&a), 2, "--m-points", &outs);
    let outs = stale_outputs(dir.path());
    let a = scan_with(dir.path(), None, &["--no-such-flag"]);
    expect("chi2-scan", &refs(&a), 2, "--no-such-flag", &outs);
}

#[test]
fn unbounded_grids_are_refused_up_front() {
    // Issue 10 case 5: --m-points 10000000 ran for minutes in growing memory.
    let dir = scratch();
    let outs = stale_outputs(dir.path());
    let t = std::time::Instant::now();
    let a = scan_with(dir.path(), None, &["--m-points", "10000000"]);
    expect("chi2-scan", &refs(&a), 2, "2..=5001", &outs);
    let outs = stale_outputs(dir.path());
    let a = scan_with(
        dir.path(),
        None,
        &[
            "--g-per-decade",
            "100",
            "--g-min",
            "1e-30",
            "--m-points",
            "5001",
        ],
    );
    expect("chi2-scan", &refs(&a), 2, "more than 2000000", &outs);
    assert!(t.elapsed().as_secs() < 30, "refused quickly");
    let o = Command::new(bin("chi2-scan"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("at most 5001") && help.contains("at most 100"),
        "{help}"
    );
}

#[test]
fn limits_csv_is_plain_csv() {
    // Issue 10 case 7: a `#` provenance line made pandas/polars read garbage.
    let text = std::fs::read_to_string(chain().out.join("limits.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("model,m_zp_mev,g90"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4 * 201);
    for r in rows {
        let f: Vec<&str> = r.split(',').collect();
        assert_eq!(f.len(), 3, "{r}");
        assert!(f[1].parse::<f64>().is_ok_and(f64::is_finite), "{r}");
        assert!(
            f[2].parse::<f64>().is_ok_and(|g| g > 1e-9 && g < 1.0),
            "{r}"
        );
    }
}

#[test]
fn unwritable_output_is_a_failure_with_nothing_left() {
    // Root ignores permission bits, so make the output's parent a file.
    let dir = scratch();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let mut a = scan_args(dir.path(), "limits");
    let i = a.iter().position(|x| x == "--out-scan").unwrap();
    a[i + 1] = s(&blocker.join("scan.parquet")).to_string();
    let mut outs = stale_outputs(dir.path());
    outs.pop(); // limits_scan.parquet is not an output here (see --out-scan)
    let o = run("chi2-scan", &refs(&a));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("not-a-dir"), "{err}");
    for p in &outs {
        assert!(!p.exists(), "{}", p.display());
    }
    no_temps(dir.path());
}

#[test]
fn a_closed_stderr_does_not_break_a_stage() {
    // `stage … 2>&1 | head -1`: logging to a closed pipe must not panic.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.parquet");
    let mut child = Command::new(bin("flux-prep"))
        .args([
            "--solar-model",
            "data/solar/bs05-op.yaml",
            "--oscillation",
            "data/oscillation/desalas2021-no.yaml",
            "--out",
            s(&out),
        ])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the reader is gone before the first line
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(out.exists());
    ok(
        "flux-prep",
        &[
            "--solar-model",
            "data/solar/bs05-op.yaml",
            "--oscillation",
            "data/oscillation/desalas2021-no.yaml",
            "--out",
            s(&dir.path().join("g.parquet")),
        ],
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(dir.path().join("g.parquet")).unwrap()
    );
}

#[test]
fn an_excess_gives_no_limit_and_says_so() {
    // Δχ² above threshold already at --g-min is not a limit (issue 10:
    // before, g90 = g_min was written as a limit).
    let dir = scratch();
    let data = surrogate_with_lowest_bin(dir.path(), "0.5");
    let mut a = scan_with(dir.path(), Some(&data), &[]);
    without_calibration(&mut a);
    let o = Command::new(bin("chi2-scan"))
        .args(refs(&a))
        .current_dir(repo())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("201 of 201 masses have Δχ² >="), "{err}");
    let csv = std::fs::read_to_string(dir.path().join("limits.csv")).unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(',')),
        "no g90 anywhere"
    );
    let t = cevns_io::TableReader::open(&dir.path().join("limits.parquet")).unwrap();
    let extra = t.meta_json("cevns.extra").unwrap();
    assert_eq!(extra["no_limit"]["B-L"]["excluded_already_at_g_min"], 201);
}
