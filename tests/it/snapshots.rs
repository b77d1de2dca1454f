//! Snapshot tests (insta) for the text the project generates: `REPORT.md` and
//! `summary.md` of the paper pipeline, the exported Snakefile, `cevns dag`
//! and the main error messages. A change of any of them shows up as a diff
//! of `tests/it/snapshots/*.snap` in review.
//!
//! Updating after an intended change: `INSTA_UPDATE=always cargo nextest run
//! -p cevns-pipeline --test it -- snapshots` (or `cargo insta review`), then
//! read the diff before committing. In CI (`CI` set) insta never writes
//! snapshots: a mismatch fails.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{bin, repo, scratch_root};

/// One full native run of `pipelines/paper.yaml` (all 4 × 201 masses) in a
/// scratch root.
fn paper_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let root = scratch_root();
        let o = Command::new(env!("CARGO_BIN_EXE_cevns"))
            .args(["run", "--quiet", "pipelines/paper.yaml"])
            .current_dir(root.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "paper run: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        root
    })
    .path()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Full-precision floats (the provenance JSON in REPORT.md) to 9 significant
/// digits, so the snapshot does not depend on the last bits of libm on the
/// machine that runs it. The limits themselves are pinned at 1e-9 relative by
/// `tests/reference/paper_g90.csv`; every printed table is already rounded.
fn round_long_floats(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some((key, value)) = line.rsplit_once(": ") else {
                return line.to_owned();
            };
            let (number, comma) = match value.strip_suffix(',') {
                Some(n) => (n, ","),
                None => (value, ""),
            };
            match number.parse::<f64>() {
                Ok(x) if number.len() > 12 => format!("{key}: {x:.8e}{comma}"),
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Both texts from one run (nextest runs every test in its own process).
#[test]
fn paper_report_and_summary_md() {
    let out = paper_run().join("outputs/paper");
    insta::assert_snapshot!(
        "paper_REPORT.md",
        round_long_floats(&read(&out.join("REPORT.md")))
    );
    insta::assert_snapshot!("paper_summary.md", read(&out.join("summary.md")));
}

#[test]
fn paper_dag() {
    let o = Command::new(env!("CARGO_BIN_EXE_cevns"))
        .args(["dag", "pipelines/paper.yaml"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    insta::assert_snapshot!("paper_dag", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn paper_snakefile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("Snakefile");
    let o = Command::new(env!("CARGO_BIN_EXE_cevns"))
        .args(["export", "--snakemake", "pipelines/paper.yaml", "-o"])
        .arg(&out)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    insta::assert_snapshot!("paper_Snakefile", read(&out));
}

/// One bad invocation: the command line as a user types it, its exit code
/// and its stderr, with the scratch directory replaced by `[TMP]`.
fn bad(tmp: &Path, program: &str, args: &[&str]) -> String {
    let exe = if program == "cevns" {
        env!("CARGO_BIN_EXE_cevns").into()
    } else {
        bin(program)
    };
    let o = Command::new(exe)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    let code = o.status.code();
    assert!(
        matches!(code, Some(1 | 2)),
        "{program} {args:?}: exit {code:?}"
    );
    let err =
        String::from_utf8_lossy(&o.stderr).replace(&tmp.to_string_lossy().into_owned(), "[TMP]");
    format!(
        "$ {program} {}\nexit {}\n{}\n",
        args.join(" ")
            .replace(&tmp.to_string_lossy().into_owned(), "[TMP]"),
        code.unwrap_or(-1),
        err.trim_end()
    )
}

/// The messages a user meets first. Each must name the cause (the file, the
/// key, the flag) and say what to do; exit 2 for bad input or usage.
#[test]
fn main_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();
    let t = |name: &str| tmp.join(name).to_string_lossy().into_owned();
    std::fs::write(tmp.join("not-parquet.parquet"), "just text\n").unwrap();
    std::fs::write(
        tmp.join("bad-key.yaml"),
        "name: bad\nvars:\n  out: outputs/bad\nstages:\n  - name: flux-prep\n    run: flux-prep\n    colour: blue\n",
    )
    .unwrap();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("cevns", vec!["run".into(), "pipelines/no-such.yaml".into()]),
        ("cevns", vec!["run".into(), t("bad-key.yaml")]),
        (
            "cevns",
            vec![
                "run".into(),
                "--dry-run".into(),
                "pipelines/paper.yaml".into(),
                "--set".into(),
                "no-such-stage.k=1".into(),
            ],
        ),
        (
            "cevns",
            vec![
                "run".into(),
                "--dry-run".into(),
                "pipelines/paper.yaml".into(),
                "--set".into(),
                "quench-smear.k=0.15".into(),
                "--set".into(),
                "quench-smear.k=0.16".into(),
            ],
        ),
        (
            "flux-prep",
            vec![
                "--solar-model".into(),
                "data/solar/no-such-model.yaml".into(),
                "--oscillation".into(),
                "data/oscillation/desalas2021-no.yaml".into(),
                "--out".into(),
                t("fluxes.parquet"),
            ],
        ),
        (
            "chi2-scan",
            vec![
                "--rates".into(),
                t("not-parquet.parquet"),
                "--response".into(),
                t("not-parquet.parquet"),
                "--data".into(),
                "data/cdex10/surrogate.csv".into(),
                "--models".into(),
                "data/models/u1prime.yaml".into(),
                "--out-limits".into(),
                t("limits.parquet"),
                "--out-csv".into(),
                t("limits.csv"),
                "--out-scan".into(),
                t("scan.parquet"),
            ],
        ),
    ];
    let mut text = String::new();
    for (program, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        text.push_str(&bad(tmp, program, &args));
        text.push('\n');
    }
    insta::assert_snapshot!("main_error_messages", text);
    // Nothing was written by any of the failed commands.
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["bad-key.yaml", "not-parquet.parquet"]);
}
