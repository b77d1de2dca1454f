//! Validation errors: exit code 2 and a message naming the key or stage,
//! before anything runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod runner_support;

use runner_support::{Fx, PIPELINE, expect_bad, text};

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
    expect_bad(
        &fx,
        PIPELINE,
        &["--set", "a.nope=1"],
        &["stage `a` has no param `nope`"],
    );
    expect_bad(&fx, PIPELINE, &["--set", "a-k-1"], &["STAGE.param=value"]);
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
