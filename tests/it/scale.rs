//! Running beyond the native runner, with the real tools (issue #12):
//!
//! - the exported Snakefile under Snakemake's cluster-generic executor with
//!   `profiles/local-cluster` (every job a separate background process whose
//!   state is reported through files) reproduces the native outputs of
//!   `pipelines/paper.yaml` byte for byte, and a rerun has nothing to do;
//! - `profiles/slurm` is a valid profile (`snakemake --dry-run`);
//! - the CWL export validates (`cwltool --validate`) and a real
//!   `cwltool --no-container` run of the paper workflow reproduces the native
//!   outputs byte for byte; a rerun with the same cache runs nothing;
//! - `pipelines/sensitivity-sweep.yaml` runs natively with `--jobs 2` (all
//!   60 configurations), reruns nothing, and its CWL export validates;
//! - its reduced variant `pipelines/sensitivity-sweep-mini.yaml` (same
//!   fan-out and gather; its rows equal the full sweep's) runs through the
//!   Snakefile under the cluster-generic executor and through the CWL
//!   export under cwltool (outputs named by their path below the output
//!   root, so shard outputs do not collide in the flat `--outdir`), both
//!   byte-identical to the native run; a rerun of either does nothing.
//!
//! Tools come from the venv `.ci/run` creates (pinned there): `CEVNS_SNAKEMAKE`
//! / `CEVNS_CWLTOOL`, else `.venv/bin/…`, else PATH. Without them a test is
//! skipped with a message, except under CI (`CI` set), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{copy_dir, repo, scratch_root};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let venv = repo().join(".venv/bin").join(name);
    if venv.exists() {
        return Some(venv);
    }
    let on_path = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    on_path.then(|| PathBuf::from(name))
}

/// The tool, or None (skip) outside CI; under CI a missing tool fails.
fn need(env: &str, name: &str) -> Option<PathBuf> {
    let t = tool(env, name);
    if t.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide {name} (see .ci/run)"
        );
        eprintln!("SKIP: {name} not installed (see .ci/run for the pinned version)");
    }
    t
}

/// Snakemake with the cluster-generic executor plugin importable.
fn snakemake_cluster() -> Option<PathBuf> {
    let sm = need("CEVNS_SNAKEMAKE", "snakemake")?;
    let py = sm.parent().map(|d| d.join("python")).filter(|p| p.exists());
    let has_plugin = Command::new(py.unwrap_or_else(|| PathBuf::from("python3")))
        .args(["-c", "import snakemake_executor_plugin_cluster_generic"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_plugin {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide snakemake-executor-plugin-cluster-generic (see .ci/run)"
        );
        eprintln!("SKIP: snakemake-executor-plugin-cluster-generic not installed");
        return None;
    }
    Some(sm)
}

fn cevns() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cevns"))
}

fn bin_dir() -> PathBuf {
    cevns().parent().unwrap().to_path_buf()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output, what: &str) -> String {
    let t = text(&o);
    assert!(o.status.success(), "{what} failed:\n{t}");
    t
}

/// Files under `root`, relative, sorted. Skips `.snakemake_timestamp`, the
/// marker Snakemake leaves in a `directory()` output (not a stage output).
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == ".snakemake_timestamp") {
                continue;
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert!(!fa.is_empty(), "{} is empty", a.display());
    assert_eq!(fa, fb, "same files in {} and {}", a.display(), b.display());
    for f in &fa {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
}

/// A scratch root with the profiles, and the paper pipeline run natively in
/// another scratch root (returned second).
fn roots_with_native_paper() -> (tempfile::TempDir, tempfile::TempDir) {
    let native = scratch_root();
    ok(
        Command::new(cevns())
            .args(["run", "--quiet", "pipelines/paper.yaml"])
            .current_dir(native.path())
            .output()
            .unwrap(),
        "native run",
    );
    let other = scratch_root();
    copy_dir(&repo().join("profiles"), &other.path().join("profiles"));
    (other, native)
}

fn export_snakefile(root: &Path, pipeline: &str) -> String {
    ok(
        Command::new(cevns())
            .args(["export", pipeline, "--snakemake", "-o", "Snakefile"])
            .current_dir(root)
            .output()
            .unwrap(),
        "export",
    );
    std::fs::read_to_string(root.join("Snakefile")).unwrap()
}

fn snakemake(sm: &Path, root: &Path, args: &[&str]) -> Output {
    Command::new(sm)
        .args(["--snakefile", "Snakefile"])
        .args(args)
        .arg("--config")
        .arg(format!("cevns_bin={}", bin_dir().display()))
        .current_dir(root)
        .env("XDG_CACHE_HOME", root.join(".cache"))
        .output()
        .unwrap()
}

#[test]
fn cluster_generic_snakemake_matches_native_run() {
    let Some(sm) = snakemake_cluster() else {
        return;
    };
    let (snake, native) = roots_with_native_paper();
    let sf = export_snakefile(snake.path(), "pipelines/paper.yaml");
    // Per-rule resources from the stage defaults; no absolute path unless
    // the binaries live outside the root (they do here: target/ of the repo).
    assert!(sf.contains("    resources:\n        mem_mb=1000,\n        runtime=30,"));
    assert!(sf.contains("rule chi2_scan:"));
    assert!(sf.contains("    threads: _threads(2)"));
    assert!(!sf.contains(&snake.path().display().to_string()));

    let out = ok(
        snakemake(
            &sm,
            snake.path(),
            &["--profile", "profiles/local-cluster", "all"],
        ),
        "snakemake --executor cluster-generic",
    );
    // Every stage ran as a submitted job with its own state directory.
    assert!(out.contains("external jobid"), "{out}");
    let jobs: Vec<_> = std::fs::read_dir(snake.path().join(".snakemake/local-cluster"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(jobs.len(), 7, "one job per stage: {jobs:?}");
    for j in &jobs {
        assert_eq!(std::fs::read_to_string(j.join("exit")).unwrap().trim(), "0");
        assert!(
            std::fs::read_to_string(j.join("request"))
                .unwrap()
                .contains("--mem-mb")
        );
    }
    assert_same_tree(
        &native.path().join("outputs/paper"),
        &snake.path().join("outputs/paper"),
    );

    let again = ok(
        snakemake(
            &sm,
            snake.path(),
            &["--profile", "profiles/local-cluster", "all"],
        ),
        "second snakemake run",
    );
    assert!(again.contains("Nothing to be done"), "{again}");
}

#[test]
fn slurm_profile_is_valid() {
    let Some(sm) = snakemake_cluster() else {
        return;
    };
    let root = scratch_root();
    copy_dir(&repo().join("profiles"), &root.path().join("profiles"));
    export_snakefile(root.path(), "pipelines/paper.yaml");
    let out = ok(
        snakemake(
            &sm,
            root.path(),
            &["--profile", "profiles/slurm", "--dry-run", "all"],
        ),
        "snakemake --profile profiles/slurm --dry-run",
    );
    assert!(out.contains("chi2_scan"), "{out}");
    assert!(out.contains("total"), "{out}");
    let cfg = std::fs::read_to_string(repo().join("profiles/slurm/config.yaml")).unwrap();
    for key in [
        "--account=",
        "--partition=",
        "--mem={resources.mem_mb}M",
        "--time={resources.runtime}",
    ] {
        assert!(cfg.contains(key), "profiles/slurm sets {key}");
    }
}

/// The SLURM profile's commands, run against stand-ins for sbatch, sacct,
/// squeue and scancel on PATH (no SLURM here): every job is submitted with
/// the account, partition and the rule's resources, and the outputs are the
/// native run's.
#[test]
fn slurm_profile_submits_through_sbatch() {
    let Some(sm) = snakemake_cluster() else {
        return;
    };
    let (root, native) = roots_with_native_paper();
    let r = root.path();
    export_snakefile(r, "pipelines/paper.yaml");
    let fake = r.join("fake-slurm");
    std::fs::create_dir_all(&fake).unwrap();
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = fake.join(name);
        std::fs::write(&p, format!("#!/usr/bin/env bash\n{body}")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let state = fake.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let st = state.display();
    script(
        "sbatch",
        &format!(
            "echo \"$*\" >> {st}/submissions\n\
             id=$(mktemp -u XXXXXX | tr -dc 0-9a-zA-Z)$$\n\
             (bash \"${{@: -1}}\" > {st}/$id.log 2>&1; echo $? > {st}/$id.exit) </dev/null >/dev/null 2>&1 &\n\
             echo $id\n"
        ),
    );
    script(
        "sacct",
        &format!(
            "id=$2\nif [[ -f {st}/$id.exit ]]; then\n  \
             [[ $(cat {st}/$id.exit) == 0 ]] && echo COMPLETED || echo FAILED\n\
             else echo RUNNING; fi\n"
        ),
    );
    script("squeue", "exit 0\n");
    script("scancel", "exit 0\n");
    let path = std::env::join_paths(std::iter::once(fake.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let o = Command::new(&sm)
        .args([
            "--snakefile",
            "Snakefile",
            "--profile",
            "profiles/slurm",
            "--seconds-between-status-checks",
            "1",
            "--latency-wait",
            "5",
            "all",
        ])
        .arg("--config")
        .arg(format!("cevns_bin={}", bin_dir().display()))
        .current_dir(r)
        .env("PATH", path)
        .env("XDG_CACHE_HOME", r.join(".cache"))
        .output()
        .unwrap();
    ok(o, "snakemake --profile profiles/slurm (fake sbatch)");
    let subs = std::fs::read_to_string(state.join("submissions")).unwrap();
    assert_eq!(subs.lines().count(), 7, "{subs}");
    for l in subs.lines() {
        assert!(
            l.contains("--parsable --account=ACCOUNT --partition=PARTITION"),
            "{l}"
        );
    }
    assert!(
        subs.contains("--job-name=cevns-chi2_scan --cpus-per-task=2 --mem=1000M --time=30"),
        "{subs}"
    );
    assert_same_tree(
        &native.path().join("outputs/paper"),
        &r.join("outputs/paper"),
    );
}

fn export_cwl(root: &Path, pipeline: &str, dir: &str) {
    ok(
        Command::new(cevns())
            .args(["export", pipeline, "--cwl", "-o", dir])
            .current_dir(root)
            .output()
            .unwrap(),
        "export --cwl",
    );
}

fn cwltool(cwl: &Path, root: &Path, args: &[&str]) -> Output {
    let path = std::env::join_paths(std::iter::once(bin_dir()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    Command::new(cwl)
        .args(args)
        .current_dir(root)
        .env("PATH", path)
        .env("XDG_CACHE_HOME", root.join(".cache"))
        .output()
        .unwrap()
}

#[test]
fn cwl_export_runs_under_cwltool_byte_identical() {
    let Some(cwl) = need("CEVNS_CWLTOOL", "cwltool") else {
        return;
    };
    let (root, native) = roots_with_native_paper();
    let r = root.path();
    export_cwl(r, "pipelines/paper.yaml", "cwl");
    let wf = std::fs::read_to_string(r.join("cwl/paper.cwl")).unwrap();
    assert!(!wf.contains(&r.display().to_string()), "no absolute path");
    let tool = std::fs::read_to_string(r.join("cwl/chi2-scan.cwl")).unwrap();
    assert!(tool.contains("class: CommandLineTool"));
    assert!(tool.contains("type: File"));
    assert!(tool.contains("type: float"));
    assert!(tool.contains("type: int"));
    assert!(tool.contains("type: string"));
    assert!(tool.contains("Scan Δχ²"), "doc from chi2-scan --help");
    let plot = std::fs::read_to_string(r.join("cwl/plot.cwl")).unwrap();
    assert!(plot.contains("type: Directory"));
    ok(
        cwltool(&cwl, r, &["--validate", "cwl/paper.cwl"]),
        "cwltool --validate",
    );
    let run = |tag: &str| {
        cwltool(
            &cwl,
            r,
            &[
                "--no-container",
                "--outdir",
                &format!("cwl-out-{tag}"),
                "--cachedir",
                "cwl-cache",
                "cwl/paper.cwl",
            ],
        )
    };
    ok(run("1"), "cwltool --no-container");
    // cwltool collects the workflow outputs flat (basenames) in --outdir.
    assert_same_tree(&native.path().join("outputs/paper"), &r.join("cwl-out-1"));
    // Rerun: every step comes from the cache, none runs.
    let again = ok(run("2"), "second cwltool run");
    assert_eq!(again.matches("Using cached output").count(), 7, "{again}");
    let ran: Vec<&str> = again
        .lines()
        .filter(|l| l.contains("[job ") && l.contains("$ "))
        .collect();
    assert!(
        ran.is_empty(),
        "no stage should run again: {ran:?}\n{again}"
    );
    assert_same_tree(&r.join("cwl-out-1"), &r.join("cwl-out-2"));
}

#[test]
fn sensitivity_sweep_runs_natively_and_exports() {
    let root = scratch_root();
    let r = root.path();
    let run = |extra: &[&str]| {
        Command::new(cevns())
            .args(["run", "pipelines/sensitivity-sweep.yaml", "--jobs", "2"])
            .args(extra)
            .current_dir(r)
            .output()
            .unwrap()
    };
    ok(run(&["--quiet"]), "native sweep");
    let csv = std::fs::read_to_string(r.join("outputs/sensitivity-sweep/sensitivity.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 2 * 60, "2 models × 60 configurations");
    // Every configuration has a limit; it improves with exposure and
    // weakens with threshold (same target, model).
    let g = |model: &str, det: &str, thr: f64, kg_day: f64| -> f64 {
        rows.iter()
            .find(|r| {
                r[0] == model
                    && r[1] == det
                    && (r[2].parse::<f64>().unwrap() - thr).abs() < 1e-9
                    && (r[3].parse::<f64>().unwrap() - kg_day).abs() < 1e-6
            })
            .unwrap_or_else(|| panic!("{model} {det} {thr} {kg_day}"))[6]
            .parse()
            .unwrap()
    };
    for r in &rows {
        let v: f64 = r[6].parse().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }
    for model in ["B-L", "B-3Le"] {
        for (det, lo, hi) in [("Ge", 0.04, 0.25), ("Si", 0.02, 0.16), ("Xe", 0.06, 0.3)] {
            assert!(g(model, det, lo, 365250.0) < g(model, det, hi, 365250.0));
            assert!(g(model, det, lo, 3652500.0) < g(model, det, lo, 3652.5));
        }
    }
    for f in ["sensitivity-B-L.png", "sensitivity-B-3Le.svg"] {
        assert!(
            r.join("outputs/sensitivity-sweep/figures")
                .join(f)
                .is_file()
        );
    }
    // Second run: nothing to do.
    let again = ok(run(&[]), "second native sweep");
    assert!(
        again.contains("83 stage(s), 0 ran, 83 up to date"),
        "{again}"
    );

    // The reduced sweep CI runs through Snakemake and cwltool
    // (`sweep_mini_under_cluster_generic_and_cwltool`) is the same physics:
    // each of its rows is the full sweep's row for that configuration.
    ok(
        Command::new(cevns())
            .args(["run", "--quiet", "pipelines/sensitivity-sweep-mini.yaml"])
            .args(["--jobs", "2"])
            .current_dir(r)
            .output()
            .unwrap(),
        "native mini sweep",
    );
    let mini =
        std::fs::read_to_string(r.join("outputs/sensitivity-sweep-mini/sensitivity.csv")).unwrap();
    let mini_rows: Vec<&str> = mini.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(mini_rows.len(), 1 + 2 * 8, "header + 2 models × 8: {mini}");
    let full_rows: Vec<&str> = csv.lines().filter(|l| !l.starts_with('#')).collect();
    for row in &mini_rows {
        assert!(
            full_rows.contains(row),
            "mini row not in the full sweep: {row}"
        );
    }

    // Exports: Snakefile rules per shard; CWL validates (scatter + gather).
    let sf = export_snakefile(r, "pipelines/sensitivity-sweep.yaml");
    assert_eq!(sf.matches("\nrule chi2_scan_").count(), 60);
    assert!(sf.contains("out_dir=directory(\"outputs/sensitivity-sweep/figures\"),"));
    assert!(sf.contains("        runtime=5,"));
    if let Some(cwl) = need("CEVNS_CWLTOOL", "cwltool") {
        export_cwl(r, "pipelines/sensitivity-sweep.yaml", "cwl");
        let wf = std::fs::read_to_string(r.join("cwl/sensitivity-sweep.cwl")).unwrap();
        assert!(wf.contains("scatter:"));
        assert!(wf.contains("merge_flattened"));
        ok(
            cwltool(&cwl, r, &["--validate", "cwl/sensitivity-sweep.cwl"]),
            "cwltool --validate (sweep)",
        );
    }
}

/// A sweep (fan-out over shards, gather by `compare`) through the exported
/// Snakefile under the cluster-generic executor (`profiles/local-cluster`,
/// every stage a separate background job) and through the CWL export under
/// cwltool: `pipelines/sensitivity-sweep-mini.yaml` (the full sweep's stages
/// and layout at 2 targets × 2 thresholds × 2 exposures, 18 stage runs; the
/// full 83-run sweep spends minutes in per-job overhead). Both reproduce the
/// native outputs byte for byte, and a rerun of either does nothing.
#[test]
fn sweep_mini_under_cluster_generic_and_cwltool_matches_native() {
    let sm = snakemake_cluster();
    // The sweep's tools rename their outputs with a JavaScript `outputEval`
    // (see `flat_name` in src/export/cwl.rs): cwltool needs node.
    let has_node = ["node", "nodejs"].iter().any(|n| {
        Command::new(n)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let cwl = need("CEVNS_CWLTOOL", "cwltool").filter(|_| {
        if !has_node {
            assert!(
                std::env::var("CI").is_err(),
                "CI must provide node for cwltool's InlineJavascriptRequirement"
            );
            eprintln!("SKIP (cwltool part): node not installed");
        }
        has_node
    });
    if sm.is_none() && cwl.is_none() {
        return;
    }
    let pipeline = "pipelines/sensitivity-sweep-mini.yaml";
    let native = scratch_root();
    ok(
        Command::new(cevns())
            .args(["run", "--quiet", pipeline, "--jobs", "2"])
            .current_dir(native.path())
            .output()
            .unwrap(),
        "native mini sweep",
    );
    let out = "outputs/sensitivity-sweep-mini";
    let native_out = native.path().join(out);
    assert!(native_out.join("sensitivity.csv").is_file());

    if let Some(sm) = sm {
        let snake = scratch_root();
        let r = snake.path();
        copy_dir(&repo().join("profiles"), &r.join("profiles"));
        let sf = export_snakefile(r, pipeline);
        assert_eq!(sf.matches("\nrule chi2_scan_").count(), 8, "{sf}");
        // compare's --out-dir has no `products:`: a directory() output.
        assert!(
            sf.contains(&format!("out_dir=directory(\"{out}/figures\"),")),
            "{sf}"
        );
        // The profile's `jobs: 2` is for a real queue; 4 in flight here, as
        // the jobs spend most of their time starting Python.
        let args = ["--profile", "profiles/local-cluster", "--jobs", "4", "all"];
        let first = ok(
            snakemake(&sm, r, &args),
            "snakemake sweep (cluster-generic)",
        );
        assert!(first.contains("external jobid"), "{first}");
        let jobs = std::fs::read_dir(r.join(".snakemake/local-cluster"))
            .unwrap()
            .count();
        assert_eq!(jobs, 18, "one submitted job per stage run");
        assert_same_tree(&native_out, &r.join(out));
        let again = ok(snakemake(&sm, r, &args), "second snakemake sweep");
        assert!(again.contains("Nothing to be done"), "{again}");
    }

    if let Some(cwl) = cwl {
        let root = scratch_root();
        let r = root.path();
        export_cwl(r, pipeline, "cwl");
        let wf = "cwl/sensitivity-sweep-mini.cwl";
        ok(cwltool(&cwl, r, &["--validate", wf]), "cwltool --validate");
        let run = |tag: &str| {
            let dir = format!("cwl-out-{tag}");
            let args = ["--no-container", "--parallel", "--cachedir", "cwl-cache"];
            let o = cwltool(&cwl, r, &[&args[..], &["--outdir", &dir, wf]].concat());
            (ok(o, "cwltool sweep"), r.join(dir))
        };
        let (_, first) = run("1");
        // cwltool's --outdir is flat: each output is named by its path below
        // the output root, `/` -> `__` (ge/xsec.parquet -> ge__xsec.parquet),
        // so the Ge and Si files of the same name do not collide.
        let flat: Vec<PathBuf> = files(&native_out)
            .iter()
            .map(|f| {
                let f = f.to_string_lossy();
                PathBuf::from(if f.starts_with("figures/") {
                    f.into_owned()
                } else {
                    f.replace('/', "__")
                })
            })
            .collect();
        assert_eq!(files(&first), flat, "one file per native output");
        for (n, c) in files(&native_out).iter().zip(&flat) {
            assert!(
                std::fs::read(native_out.join(n)).unwrap() == std::fs::read(first.join(c)).unwrap(),
                "{} differs from the native {}",
                c.display(),
                n.display()
            );
        }
        let (again, second) = run("2");
        let ran: Vec<&str> = again
            .lines()
            .filter(|l| l.contains("[job ") && l.contains("$ "))
            .collect();
        assert!(
            ran.is_empty(),
            "no stage should run again: {ran:?}\n{again}"
        );
        assert!(again.contains("Using cached output"), "{again}");
        assert_same_tree(&first, &second);
    }
}

/// `resources:` and list inputs in the pipeline reach the Snakefile; bad
/// resources are rejected (exit 2). No tools needed.
#[test]
fn resources_and_list_inputs_are_exported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |body: &str| {
        std::fs::write(
            d.join("p.yaml"),
            format!(
                "name: p\nstages:\n  - name: a\n    run: ./a.sh\n    sweep: {{ x: [1, 2] }}\n    \
                 outputs:\n      out: o/a-${{sweep}}.txt\n  - name: b\n    run: ./b.sh\n    \
                 inputs:\n      in: [\"o/a-${{sweep:a}}.txt\", data.txt]\n{body}    \
                 outputs: {{ out: o/b.txt }}\n"
            ),
        )
        .unwrap();
    };
    let export = || {
        Command::new(cevns())
            .args(["export", "p.yaml", "--snakemake"])
            .current_dir(d)
            .output()
            .unwrap()
    };
    write("    resources: { threads: 3, mem-mb: 64, runtime-min: 2 }\n");
    let sf = ok(export(), "export");
    assert!(
        sf.contains("in_=[\"o/a-1.txt\", \"o/a-2.txt\", \"data.txt\"],"),
        "{sf}"
    );
    assert!(sf.contains("--in o/a-1.txt,o/a-2.txt,data.txt"), "{sf}");
    assert!(sf.contains(
        "    threads: _threads(3)\n    resources:\n        mem_mb=64,\n        runtime=2,"
    ));
    // Unknown binaries get 1 thread, 1 GB, 1 hour.
    assert!(sf.contains(
        "    threads: _threads(1)\n    resources:\n        mem_mb=1000,\n        runtime=60,"
    ));
    // CWL: outputs whose flat names (path below the output root, `/` ->
    // `__`) would collide in cwltool's --outdir are refused.
    std::fs::write(
        d.join("c.yaml"),
        "name: c\nstages:\n  - name: a\n    run: ./a.sh\n    outputs:\n      \
         out: o/x/y.txt\n      other: o/x__y.txt\n",
    )
    .unwrap();
    let o = Command::new(cevns())
        .args(["export", "c.yaml", "--cwl", "-o", "cwl"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("would both be named `x__y.txt`"),
        "{}",
        text(&o)
    );
    for bad in [
        "    resources: { threads: 0 }\n",
        "    resources: { memory: 3 }\n",
    ] {
        write(bad);
        let o = export();
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
    }
}
