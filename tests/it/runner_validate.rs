//! Validation errors: exit code 2 and a message naming the key or stage,
//! before anything runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::runner_support::{Fx, PIPELINE, expect_bad, text};

#[test]
fn unknown_key_is_named() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("    params:\n      m: 3", "    parms:\n      m: 3");
    expect_bad(&fx, &yaml, &[], &["unknown field `parms`"]);
    let yaml = format!("{PIPELINE}colour: blue\n");
    expect_bad(&fx, &yaml, &[], &["unknown field `colour`"]);
}

#[test]
fn cycle_is_reported_with_stages() {
    let fx = Fx::new();
    // a now reads c's output: a -> b -> c -> a.
    let yaml = PIPELINE.replace("      in: data/x.txt", "      in: ${out}/c.txt");
    expect_bad(&fx, &yaml, &[], &["cycle", "`a`", "`b`", "`c`"]);
}

#[test]
fn duplicate_output_is_reported() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("      out: ${out}/d.txt", "      out: ${out}/b.txt");
    expect_bad(
        &fx,
        &yaml,
        &[],
        &[
            "out/b.txt",
            "two stages cannot write one file",
            "outputs.out",
        ],
    );
}

#[test]
fn missing_input_is_reported() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("data/y.txt", "data/nope.txt");
    expect_bad(
        &fx,
        &yaml,
        &[],
        &[
            "stage `d`",
            "inputs.in",
            "data/nope.txt",
            "no stage produces it",
        ],
    );
    let yaml = PIPELINE.replace("data/extra.txt", "data/nope2.txt");
    expect_bad(
        &fx,
        &yaml,
        &[],
        &["stage `b`", "depends[0]", "data/nope2.txt"],
    );
}

#[test]
fn unknown_variable_is_reported() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("${out}/d.txt", "${outdir}/d.txt");
    expect_bad(&fx, &yaml, &[], &["stage `d`", "outputs.out", "${outdir}"]);
}

#[test]
fn duplicate_stage_and_bad_flags_are_reported() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("  - name: d\n", "  - name: a\n");
    expect_bad(&fx, &yaml, &[], &["stage `a` is defined twice"]);
    let yaml = PIPELINE.replace("      m: 3", "      threads: 3");
    expect_bad(&fx, &yaml, &[], &["params.threads", "reserved"]);
}

#[test]
fn bad_cli_selection_is_exit_2() {
    let fx = Fx::new();
    expect_bad(&fx, PIPELINE, &["--set", "zz.k=1"], &["unknown stage `zz`"]);
    // Any flag can be set, but not an output, a reserved flag, or one flag
    // to two values.
    expect_bad(
        &fx,
        PIPELINE,
        &["--set", "a.out=elsewhere.txt"],
        &["--set a.out", "output of stage `a`"],
    );
    expect_bad(&fx, PIPELINE, &["--set", "a.threads=2"], &["reserved"]);
    expect_bad(
        &fx,
        PIPELINE,
        &["--set", "a.k=1", "--set", "a.k=2"],
        &["--set a.k", "contradictory overrides `1` and `2`"],
    );
    expect_bad(&fx, PIPELINE, &["--set", "a-k-1"], &["STAGE.FLAG=VALUE"]);
    expect_bad(&fx, PIPELINE, &["--only", "zz"], &["unknown stage `zz`"]);
    expect_bad(&fx, PIPELINE, &["--from", "zz"], &["unknown stage `zz`"]);
    expect_bad(&fx, PIPELINE, &["--jobs", "0"], &["--jobs"]);
}

#[test]
fn missing_binary_is_exit_2_before_running() {
    let fx = Fx::new();
    let yaml = PIPELINE.replace("/d.sh", "/nope.sh");
    expect_bad(&fx, &yaml, &[], &["nope.sh", "stage `d`"]);
}

#[test]
fn missing_pipeline_file_is_exit_2() {
    let fx = Fx::new();
    let out = fx.cevns(&["run", "nope.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nope.yaml"));
}

#[test]
fn extends_merges_by_stage_and_key() {
    let fx = Fx::new();
    // base.yaml is the test pipeline; the variant changes a var, one input,
    // adds and removes params.
    fx.write(
        "base.yaml",
        &crate::runner_support::PIPELINE.replace("@BIN@", &fx.path("bin").to_string_lossy()),
    );
    fx.write_pipeline(
        "extends: base.yaml\nname: variant\nvars:\n  out: out2\nstages:\n  - name: a\n    \
         inputs:\n      in: data/y.txt\n    params:\n      k: null\n      z: 9\n",
    );
    let out = fx.cevns(&["dag", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    fx.run_ok(&[]);
    let a = fx.read("out2/a.txt");
    assert!(a.contains("--in=data/y.txt:y1"), "{a}");
    assert!(a.contains("--z=9") && !a.contains("--k="), "{a}");
    assert!(a.contains("--list=1.0,5.0"), "inherited param lost: {a}");
    assert!(fx.path("out2/c.txt").is_file() && fx.path("out2/d.txt").is_file());
    assert!(fx.path(".cevns/lock-variant.json").is_file());
}

#[test]
fn extends_errors_are_exit_2() {
    let fx = Fx::new();
    fx.write(
        "base.yaml",
        &crate::runner_support::PIPELINE.replace("@BIN@", &fx.path("bin").to_string_lossy()),
    );
    expect_bad(
        &fx,
        "extends: base.yaml\nname: v\nstages:\n  - name: zz\n    params: { k: 1 }\n",
        &[],
        &[
            "stage `zz`",
            "base pipeline has no such stage",
            "c, a, b, d",
        ],
    );
    expect_bad(
        &fx,
        "extends: base.yaml\nname: v\nstages:\n  - name: a\n    params: { nope: null }\n",
        &[],
        &["params.nope", "`null` removes"],
    );
    expect_bad(
        &fx,
        "extends: nowhere.yaml\nname: v\n",
        &[],
        &["cannot read pipeline", "nowhere.yaml"],
    );
    // A cycle: pipeline.yaml -> loop.yaml -> pipeline.yaml.
    fx.write("loop.yaml", "extends: pipeline.yaml\nname: l\n");
    expect_bad(
        &fx,
        "extends: loop.yaml\nname: v\n",
        &[],
        &["extends", "cycle", "loop.yaml"],
    );
}
