//! `status`, `dag`, `clean` and `export --snakemake`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::runner_support::{Fx, text};

#[test]
fn status_reports_up_to_date_and_stale() {
    let fx = Fx::new();
    let out = fx.cevns(&["status", "pipeline.yaml"]);
    assert!(out.status.success());
    assert!(text(&out).contains("never run"), "{}", text(&out));
    fx.run_ok(&[]);
    let out = fx.cevns(&["status", "pipeline.yaml"]);
    assert!(
        text(&out).contains("4 of 4 stage(s) up to date"),
        "{}",
        text(&out)
    );
    fx.write("data/y.txt", "y2\n");
    let t = text(&fx.cevns(&["status", "pipeline.yaml"]));
    assert!(t.contains("input data/y.txt changed"), "{t}");
    assert!(t.contains("3 of 4"), "{t}");
    assert!(fx.runs().len() == 4, "status runs nothing");
}

#[test]
fn dag_formats() {
    let fx = Fx::new();
    let t = text(&fx.cevns(&["dag", "pipeline.yaml"]));
    assert!(t.contains("└── c") || t.contains("├── c"), "{t}");
    let t = text(&fx.cevns(&["dag", "pipeline.yaml", "--format", "dot"]));
    assert!(t.contains("digraph") && t.contains("\"a\" -> \"b\""), "{t}");
    let t = text(&fx.cevns(&["dag", "pipeline.yaml", "--format", "mermaid"]));
    assert!(t.starts_with("flowchart LR") && t.contains("-->"), "{t}");
    let out = fx.cevns(&["dag", "pipeline.yaml", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn clean_removes_outputs_and_lock() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();
    let out = fx.cevns(&["clean", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    for f in [
        "out/a.txt",
        "out/b.txt",
        "out/c.txt",
        "out/d.txt",
        ".cevns/lock-t.json",
    ] {
        assert!(!fx.path(f).exists(), "{f} still exists");
    }
    assert!(fx.path("data/x.txt").exists());
    fx.run_ok(&[]);
    assert_eq!(fx.runs().len(), 4);
}

#[test]
fn export_snakemake_has_one_rule_per_stage_with_identical_commands() {
    let fx = Fx::new();
    let out = fx.cevns(&["export", "pipeline.yaml", "--snakemake", "-o", "Snakefile"]);
    assert!(out.status.success(), "{}", text(&out));
    let s = fx.read("Snakefile");
    let rules: Vec<&str> = s.lines().filter(|l| l.starts_with("rule ")).collect();
    assert_eq!(
        rules,
        vec!["rule all:", "rule a:", "rule b:", "rule c:", "rule d:"],
        "{s}"
    );
    assert!(s.contains("threads: _threads(1)"), "{s}");
    assert!(s.contains("depends=[\"data/extra.txt\"]"), "{s}");
    assert!(s.contains("k=\"0.162\""), "{s}");
    // The same flags, in the same order, with root-relative paths.
    let bin = fx.path("bin/a.sh");
    let expected = format!(
        "{} --in data/x.txt --k 0.162 --list 1.0,5.0 --out out/a.txt --threads {{threads}}",
        bin.display()
    );
    assert!(s.contains(&expected), "missing `{expected}` in:\n{s}");

    // --set overrides are exported too; stdout when no -o.
    let out = fx.cevns(&["export", "pipeline.yaml", "--snakemake", "--set", "a.k=0.2"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--k 0.2 "));
    // --snakemake is required.
    assert_eq!(
        fx.cevns(&["export", "pipeline.yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn export_of_the_paper_pipeline_needs_no_data() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cevns"))
        .args([
            "export",
            "pipelines/paper.yaml",
            "--snakemake",
            "--bin-dir",
            "/opt/cevns/bin",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        s.lines().filter(|l| l.starts_with("rule ")).count(),
        8,
        "{s}"
    );
    assert!(s.contains("CEVNS_BIN = config.get(\"cevns_bin\", \"/opt/cevns/bin\")"));
    assert!(s.contains("\"outputs/paper/figures/fig4c.svg\""));
    assert!(s.contains("--benchmark-models B-L,B-3Le,B-3Lmu,B-3Ltau"));
}
