//! Parameter sweeps: `sweep: { param: [values] }` fans a stage out into
//! shards `stage[value]`, each cached on its own; `${sweep:stage}` in an
//! input gathers every shard's file into one comma-separated flag.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::runner_support::{Fx, expect_bad, ran, text, v};

/// `a -> s[0.1], s[0.2], s[x_y]` (s also reads `data/<value>.txt`), then
/// `g` gathers every shard, `one` reads the `0.2` shard only.
const SWEEP: &str = r#"name: sw
vars:
  out: out
stages:
  - name: g
    run: @BIN@/g.sh
    inputs:
      in: ${out}/s-${sweep:s}.txt
    outputs:
      out: ${out}/g.txt
  - name: a
    run: @BIN@/a.sh
    inputs:
      in: data/x.txt
    outputs:
      out: ${out}/a.txt
  - name: s
    run: @BIN@/s.sh
    sweep:
      k: [0.1, 0.2, x y]
    inputs:
      in: ${out}/a.txt
      per: data/${sweep}.txt
    params:
      m: 3
    outputs:
      out: ${out}/s-${sweep}.txt
  - name: one
    run: @BIN@/one.sh
    inputs:
      in: ${out}/s-0.2.txt
    outputs:
      out: ${out}/one.txt
"#;

const ALL: [&str; 6] = ["a", "g", "one", "s[0.1]", "s[0.2]", "s[x_y]"];

fn fx() -> Fx {
    let fx = Fx::new();
    for s in ["s", "g", "one"] {
        fx.write_script(s, "");
    }
    for f in ["0.1", "0.2", "x_y"] {
        fx.write(&format!("data/{f}.txt"), &format!("per {f}\n"));
    }
    fx.write_pipeline(SWEEP);
    fx
}

fn run(fx: &Fx, args: &[&str]) -> Vec<String> {
    ran(&fx.run_ok(args))
}

#[test]
fn shards_run_with_their_value_and_are_cached_separately() {
    let fx = fx();
    assert_eq!(run(&fx, &[]), v(&ALL));
    // Each shard got its value (verbatim) and wrote its own file.
    assert!(fx.read("out/s-0.1.txt").contains("|--k=0.1|"));
    assert!(fx.read("out/s-x_y.txt").contains("|--k=x y|"));
    assert!(fx.read("out/s-x_y.txt").contains(":per x_y"));
    // The gather stage got every shard, comma-separated in sweep order.
    let g = fx.read("out/g.txt");
    assert!(
        g.contains("--in=out/s-0.1.txt,out/s-0.2.txt,out/s-x_y.txt"),
        "{g}"
    );
    assert!(g.contains("--k=0.2"), "shard contents were read: {g}");
    // Lock: one record per shard.
    let lock = fx.read(".cevns/lock-sw.json");
    for s in ["\"s[0.1]\"", "\"s[0.2]\"", "\"s[x_y]\""] {
        assert!(lock.contains(s), "{lock}");
    }

    // Warm: nothing.
    assert!(run(&fx, &[]).is_empty());

    // One shard's own input: that shard and the gather reruns.
    fx.write("data/x_y.txt", "per x_y, edited\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "-n"]);
    let t = text(&dry);
    assert!(
        t.contains("would run s[x_y]: input data/x_y.txt changed"),
        "{t}"
    );
    assert!(
        t.contains("would run g: upstream s[x_y] would rerun"),
        "{t}"
    );
    assert_eq!(run(&fx, &[]), v(&["g", "s[x_y]"]));

    // The shard `one` depends on: it and everything reading it.
    fx.write("data/0.2.txt", "per 0.2, edited\n");
    assert_eq!(run(&fx, &[]), v(&["g", "one", "s[0.2]"]));

    // --set of another param applies to every shard.
    assert_eq!(
        run(&fx, &["--set", "s.m=4"]),
        v(&["g", "one", "s[0.1]", "s[0.2]", "s[x_y]"])
    );
    assert!(fx.read("out/s-0.1.txt").contains("|--m=4"));

    // Upstream change: all shards and the stages reading them.
    fx.write("data/x.txt", "x2\n");
    assert_eq!(run(&fx, &["--set", "s.m=4"]), v(&ALL));
}

#[test]
fn adding_a_value_runs_only_the_new_shard() {
    let fx = fx();
    run(&fx, &[]);
    fx.write("data/0.3.txt", "per 0.3\n");
    fx.write_pipeline(&SWEEP.replace("k: [0.1, 0.2, x y]", "k: [0.1, 0.2, x y, 0.3]"));
    // The gather reruns because its file list (command line) changed.
    assert_eq!(run(&fx, &[]), v(&["g", "s[0.3]"]));
    assert!(fx.read("out/g.txt").contains(",out/s-0.3.txt"));
    // Removing it again: the gather reruns, the shard's record is dropped.
    fx.write_pipeline(SWEEP);
    assert_eq!(run(&fx, &[]), v(&["g"]));
    assert!(!fx.read(".cevns/lock-sw.json").contains("s[0.3]"));
}

#[test]
fn only_and_from_select_all_shards_or_one() {
    let fx = fx();
    run(&fx, &[]);
    assert_eq!(
        run(&fx, &["--only", "s", "--force"]),
        v(&["s[0.1]", "s[0.2]", "s[x_y]"])
    );
    assert_eq!(run(&fx, &["--only", "s[0.2]", "--force"]), v(&["s[0.2]"]));
    assert_eq!(
        run(&fx, &["--from", "s", "--force"]),
        v(&["g", "one", "s[0.1]", "s[0.2]", "s[x_y]"])
    );
    let out = fx.cevns(&["run", "pipeline.yaml", "--only", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown stage `nope`"),
        "{}",
        text(&out)
    );
    // Parallel shards.
    assert_eq!(
        run(&fx, &["--only", "s", "--force", "-j", "3"]),
        v(&["s[0.1]", "s[0.2]", "s[x_y]"])
    );
}

#[test]
fn dag_and_status_show_shards() {
    let fx = fx();
    let out = fx.cevns(&["dag", "pipeline.yaml", "--format", "dot"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("\"s[0.1]\" -> \"g\""), "{t}");
    assert!(t.contains("\"s[0.2]\" -> \"one\""), "{t}");
    assert!(!t.contains("\"s[0.1]\" -> \"one\""), "{t}");
    run(&fx, &[]);
    let out = fx.cevns(&["status", "pipeline.yaml"]);
    assert!(
        text(&out).contains("6 of 6 stage(s) up to date"),
        "{}",
        text(&out)
    );
}

#[test]
fn invalid_sweeps_exit_2_naming_the_key() {
    let fx = fx();
    let sweep = "k: [0.1, 0.2, x y]";
    expect_bad(
        &fx,
        &SWEEP.replace("out: ${out}/s-${sweep}.txt", "out: ${out}/s.txt"),
        &[],
        &["stage `s`: outputs.out", "must contain `${sweep}`"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: [0.1]\n      m: [1, 2]"),
        &[],
        &["stage `s`: sweep", "only one param", "k, m"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: 0.1"),
        &[],
        &["stage `s`: sweep.k", "list"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: []"),
        &[],
        &["stage `s`: sweep.k", "empty list"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: [0.1, 0.1]"),
        &[],
        &["sweep.k[1]", "`0.1` is listed twice"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: [x y, x_y]"),
        &[],
        &["sweep.k[1]", "same file-name form `x_y`"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "k: [[1, 2]]"),
        &[],
        &["sweep.k[0]", "nested lists"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "threads: [1, 2]"),
        &[],
        &["sweep.threads", "reserved"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(sweep, "m: [1, 2]"),
        &[],
        &["sweep.m", "also in params"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace("out: ${out}/a.txt", "out: ${out}/a-${sweep}.txt"),
        &[],
        &[
            "stage `a`: outputs.out",
            "`${sweep}` is only defined in a stage with `sweep:`",
        ],
    );
    expect_bad(
        &fx,
        &SWEEP.replace("${sweep:s}", "${sweep:a}"),
        &[],
        &[
            "stage `g`: inputs.in",
            "`a` is not a swept stage",
            "swept stages: s",
        ],
    );
    expect_bad(
        &fx,
        &SWEEP.replace(
            "    params:\n      m: 3",
            "    params:\n      m: ${sweep:s}",
        ),
        &[],
        &["stage `s`: params.m", "only allowed in inputs and depends"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace("per: data/${sweep}.txt", "per: data/${sweep:s}.txt"),
        &[],
        &["stage `s`: inputs.per", "cannot gather its own shards"],
    );
    expect_bad(
        &fx,
        &SWEEP.replace("vars:\n", "vars:\n  sweep: x\n"),
        &[],
        &["vars.sweep", "reserved"],
    );
    fx.write_pipeline(SWEEP);
    expect_bad(&fx, SWEEP, &["--set", "s.k=0.3"], &["--set s.k", "swept"]);
}

#[test]
fn example_sweep_pipeline_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cevns = env!("CARGO_BIN_EXE_cevns");
    let out = Command::new(cevns)
        .args(["dag", "pipelines/sweep-models.yaml"])
        .current_dir(root)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for m in ["B-L", "B-3Le", "B-3Lmu", "B-3Ltau"] {
        assert!(t.contains(&format!("chi2-scan[{m}]")), "{t}");
    }
    let out = Command::new(cevns)
        .args(["export", "pipelines/sweep-models.yaml", "--snakemake"])
        .current_dir(root)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("rule chi2_scan__B_3Ltau:"), "{t}");
    assert!(
        t.contains("--model-names B-3Ltau --out-csv outputs/sweep-models/limits-B-3Ltau.csv"),
        "{t}"
    );
}

fn snakemake() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CEVNS_SNAKEMAKE") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/snakemake");
    venv.exists().then_some(venv)
}

/// The exported Snakefile (one rule per shard, gather as a list input)
/// writes the same files as the native run.
#[test]
fn snakemake_export_of_a_sweep_matches_native_run() {
    let Some(sm) = snakemake() else {
        eprintln!("SKIP: snakemake not installed (.venv/bin/snakemake)");
        return;
    };
    let native = fx();
    run(&native, &[]);
    let snake = fx();
    let out = snake.cevns(&["export", "pipeline.yaml", "--snakemake", "-o", "Snakefile"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(&sm)
        .args(["--snakefile", "Snakefile", "--cores", "2", "--quiet", "all"])
        .current_dir(snake.root())
        .env("XDG_CACHE_HOME", snake.path(".cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "snakemake: {}", text(&out));
    let mut files: Vec<_> = std::fs::read_dir(native.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "{files:?}");
    for f in files {
        let rel = Path::new("out").join(&f);
        assert_eq!(
            std::fs::read_to_string(native.root().join(&rel)).unwrap(),
            std::fs::read_to_string(snake.root().join(&rel)).unwrap(),
            "{} differs",
            rel.display()
        );
    }
}
