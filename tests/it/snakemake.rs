//! The exported Snakefile runs the same binaries as the native runner: a real
//! Snakemake run of the paper pipeline must produce byte-identical outputs,
//! and a second Snakemake run must have nothing to do.
//!
//! Snakemake comes from the venv that `.ci/run` creates (`CEVNS_SNAKEMAKE`,
//! or `.venv/bin/snakemake`, or `snakemake` on PATH). Without it the test is
//! skipped with a message, except under CI (`CI=true`), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{files, repo, scratch_root};

use std::path::PathBuf;
use std::process::Command;

fn snakemake() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CEVNS_SNAKEMAKE") {
        return Some(PathBuf::from(p));
    }
    let venv = repo().join(".venv/bin/snakemake");
    if venv.exists() {
        return Some(venv);
    }
    let on_path = Command::new("snakemake")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    on_path.then(|| PathBuf::from("snakemake"))
}

#[test]
fn snakemake_export_matches_native_run_byte_for_byte() {
    let Some(sm) = snakemake() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide snakemake (see .ci/run)"
        );
        eprintln!(
            "SKIP: snakemake not installed (python3 -m venv .venv && .venv/bin/pip install snakemake)"
        );
        return;
    };
    let cevns = PathBuf::from(env!("CARGO_BIN_EXE_cevns"));
    let bin_dir = cevns.parent().unwrap();

    let native = scratch_root();
    let o = Command::new(&cevns)
        .args(["run", "--quiet", "pipelines/paper.yaml"])
        .current_dir(native.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "native run: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let snake = scratch_root();
    let o = Command::new(&cevns)
        .args([
            "export",
            "pipelines/paper.yaml",
            "--snakemake",
            "-o",
            "Snakefile",
            "--bin-dir",
        ])
        .arg(bin_dir)
        .current_dir(snake.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "export: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run_sm = || {
        Command::new(&sm)
            .args(["--snakefile", "Snakefile", "--cores", "2", "--quiet", "all"])
            .current_dir(snake.path())
            .env("XDG_CACHE_HOME", snake.path().join(".cache"))
            .output()
            .unwrap()
    };
    let o = run_sm();
    assert!(
        o.status.success(),
        "snakemake: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    let a = native.path().join("outputs/paper");
    let b = snake.path().join("outputs/paper");
    let (fa, fb) = (files(&a), files(&b));
    assert!(!fa.is_empty());
    assert_eq!(fa, fb, "same output files");
    for f in &fa {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{} differs",
            f.display()
        );
    }

    // Snakemake's plan for a second run (stdout + stderr), which must succeed.
    let dry_run = || {
        let o = Command::new(&sm)
            .args([
                "--snakefile",
                "Snakefile",
                "--cores",
                "2",
                "--dry-run",
                "all",
            ])
            .current_dir(snake.path())
            .env("XDG_CACHE_HOME", snake.path().join(".cache"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "{text}");
        text
    };

    // Second run: nothing to do.
    let text = dry_run();
    assert!(
        text.contains("Nothing to be done"),
        "second Snakemake run should have nothing to do:\n{text}"
    );

    // Files named inside inputs are rule inputs too (from each stage's
    // --list-inputs): an edited overlay table makes Snakemake redo plot and
    // report.
    let snakefile = std::fs::read_to_string(snake.path().join("Snakefile")).unwrap();
    assert!(
        snakefile.contains("data/overlays/darkcast/NA64_NA642019imj.lmt")
            && snakefile.contains("data/solar/spectra/hep_shape.csv"),
        "{snakefile}"
    );
    let lmt = snake
        .path()
        .join("data/overlays/darkcast/NA64_NA642019imj.lmt");
    // New content (Snakemake ignores a newer mtime of unchanged small files).
    let mut text = std::fs::read_to_string(&lmt).unwrap();
    text.push_str("# edited\n");
    std::fs::write(&lmt, text).unwrap();
    let text = dry_run();
    assert!(
        text.contains("rule report") && text.contains("rule plot"),
        "an edited .lmt must make Snakemake redo plot and report:\n{text}"
    );
    assert!(!text.contains("rule chi2_scan"), "{text}");
}
