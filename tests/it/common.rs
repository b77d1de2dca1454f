//! Helpers shared by the end-to-end tests that call the stage binaries.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Stage binaries live next to this test's directory (target/<profile>/).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build --workspace --bins` first (make test does)",
        p.display()
    );
    p
}

/// Run a stage binary from the repository root with `--quiet`.
pub fn run(name: &str, args: &[&str]) -> Output {
    Command::new(bin(name))
        .args(args)
        .arg("--quiet")
        .current_dir(repo())
        .output()
        .unwrap()
}

/// Run a stage binary and require success.
pub fn ok(name: &str, args: &[&str]) {
    let o = run(name, args);
    assert!(
        o.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The inputs of the flux → xsec → rates part of the chain. `Default` is the
/// paper's: BS05(OP), standard oscillations, natural germanium, xsec-tables'
/// default recoil range.
#[derive(Clone, Copy)]
pub struct Rates<'a> {
    pub solar: &'a str,
    pub oscillation: &'a str,
    pub target: &'a str,
    /// Extra xsec-tables flags (recoil range, `--electrons`).
    pub xsec_flags: &'a [&'a str],
    /// Extra flux-prep flags (`--continuum`).
    pub flux_flags: &'a [&'a str],
}

impl Default for Rates<'_> {
    fn default() -> Self {
        Rates {
            solar: "data/solar/bs05-op.yaml",
            oscillation: "data/oscillation/desalas2021-no.yaml",
            target: "data/targets/ge-nat.yaml",
            xsec_flags: &[],
            flux_flags: &[],
        }
    }
}

/// Run flux-prep, xsec-tables and rate-convolve into `out`
/// (fluxes/xsec/xsec_grid/rates.parquet).
pub fn rates_chain(out: &Path, r: Rates<'_>) {
    let o = |f: &str| out.join(f);
    let fo = o("fluxes.parquet");
    let mut fl = vec![
        "--solar-model",
        r.solar,
        "--oscillation",
        r.oscillation,
        "--out",
        s(&fo),
    ];
    fl.extend_from_slice(r.flux_flags);
    ok("flux-prep", &fl);
    let (xo, xg) = (o("xsec.parquet"), o("xsec_grid.parquet"));
    let mut xs = vec!["--target", r.target, "--out", s(&xo), "--grid-out", s(&xg)];
    xs.extend_from_slice(r.xsec_flags);
    ok("xsec-tables", &xs);
    ok(
        "rate-convolve",
        &[
            "--fluxes",
            s(&o("fluxes.parquet")),
            "--xsec",
            s(&o("xsec.parquet")),
            "--out",
            s(&o("rates.parquet")),
        ],
    );
}

/// Run quench-smear on `out/rates.parquet` for `detector`
/// (response/binned/spectrum.parquet).
pub fn quench_smear(out: &Path, detector: &str) {
    let o = |f: &str| out.join(f);
    ok(
        "quench-smear",
        &[
            "--rates",
            s(&o("rates.parquet")),
            "--detector",
            detector,
            "--models",
            "data/models/u1prime.yaml",
            "--out-response",
            s(&o("response.parquet")),
            "--out-binned",
            s(&o("binned.parquet")),
            "--out-spectrum",
            s(&o("spectrum.parquet")),
        ],
    );
}

/// Run flux-prep, xsec-tables, rate-convolve and quench-smear into `out` for a
/// solar model, target and detector.
pub fn physics_chain(out: &Path, solar: &str, target: &str, detector: &str) {
    let r = Rates {
        solar,
        target,
        ..Rates::default()
    };
    rates_chain(out, r);
    quench_smear(out, detector);
}

/// Limits (model, mass, g90) of a limits.parquet, read through the typed
/// reader; g90 is NaN where the scan found no limit (so that a test using
/// it fails loudly).
pub fn limits(path: &Path) -> Vec<(String, f64, f64)> {
    let l = cevns_io::schema::read_limits(path).unwrap();
    l.models
        .iter()
        .flat_map(|x| {
            x.points
                .iter()
                .map(|&(m, g)| (x.model.clone(), m, g.unwrap_or(f64::NAN)))
        })
        .collect()
}

/// g90 of `model` at the scanned mass nearest to `m`.
pub fn g90(rows: &[(String, f64, f64)], model: &str, m: f64) -> f64 {
    rows.iter()
        .filter(|r| r.0 == model)
        .min_by(|a, b| {
            (a.1.ln() - m.ln())
                .abs()
                .total_cmp(&(b.1.ln() - m.ln()).abs())
        })
        .unwrap()
        .2
}

/// Copy a directory tree (test fixtures: `data/`, `pipelines/`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Every file below `root`, relative to it, sorted.
pub fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A scratch repository root holding copies of `data/` and `pipelines/`.
pub fn scratch_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("data"), &dir.path().join("data"));
    copy_dir(&repo().join("pipelines"), &dir.path().join("pipelines"));
    dir
}

/// The mass dependence eq 7 predicts for every model: flat for m ≪ q
/// (0.01 vs 0.1 MeV, within 1e-3) and g90 ∝ m for m ≫ q (100 vs 1000 MeV,
/// within `linear_tol`).
pub fn assert_flat_then_linear(rows: &[(String, f64, f64)], linear_tol: f64) {
    for model in ["B-L", "B-3Le", "B-3Lmu", "B-3Ltau"] {
        let (a, b) = (g90(rows, model, 0.01), g90(rows, model, 0.1));
        assert!(
            (b / a - 1.0).abs() < 1e-3,
            "{model}: flat below 0.1 MeV ({a} vs {b})"
        );
        let (h1, h2) = (g90(rows, model, 100.0), g90(rows, model, 1000.0));
        let ratio = (h2 / h1) / (1000.0 / 100.0);
        assert!(
            (ratio - 1.0).abs() < linear_tol,
            "{model}: g90 ∝ m above 100 MeV (ratio {ratio})"
        );
    }
}
