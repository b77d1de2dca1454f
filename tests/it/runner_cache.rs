//! Cache behaviour of `cevns run` with fake stage programs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::runner_support::{Fx, text, v};

#[test]
fn first_run_runs_everything_in_order_and_warm_run_nothing() {
    let fx = Fx::new();
    let out = fx.run_ok(&[]);
    let order = fx.runs_in_order();
    assert_eq!(order.len(), 4, "{order:?}");
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    assert!(pos("a") < pos("b") && pos("b") < pos("c"), "{order:?}");
    // Lists are joined with commas; params are passed as written.
    assert!(
        fx.read("out/a.txt").contains("--k=0.162|--list=1.0,5.0"),
        "{}",
        fx.read("out/a.txt")
    );
    // Plain progress lines when stderr is not a TTY.
    let t = text(&out);
    assert!(t.contains("[4/4]"), "{t}");
    assert!(fx.path(".cevns/lock-t.json").is_file());

    let out = fx.run_ok(&[]);
    assert!(fx.runs().is_empty());
    let t = text(&out);
    assert!(t.contains("(cached)"), "{t}");
    assert!(t.contains("0 ran, 4 up to date"), "{t}");
}

#[test]
fn set_param_reruns_stage_and_downstream_only() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();

    let dry = fx.cevns(&["run", "pipeline.yaml", "--dry-run", "--set", "a.k=0.15"]);
    assert!(dry.status.success());
    let t = text(&dry);
    assert!(t.contains("param k changed 0.162 -> 0.15"), "{t}");
    assert!(t.contains("upstream a would rerun"), "{t}");
    assert!(fx.runs().is_empty(), "dry-run ran something");

    fx.run_ok(&["--set", "a.k=0.15"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c"]));
    assert!(fx.read("out/a.txt").contains("--k=0.15|"));
    // Same override again: cached.
    fx.run_ok(&["--set", "a.k=0.15"]);
    assert!(fx.runs().is_empty());
    // Back to the YAML value: reruns again.
    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["a", "b", "c"]));
}

#[test]
fn input_change_reruns_downstream_and_touch_reruns_nothing() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();

    // Rewrite with the same content and a new mtime: nothing reruns.
    fx.write("data/x.txt", "x1\n");
    let f = std::fs::File::options()
        .write(true)
        .open(fx.path("data/x.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(10))
        .unwrap();
    fx.run_ok(&[]);
    assert!(fx.runs().is_empty());

    fx.write("data/x.txt", "x2\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "-n"]);
    assert!(
        text(&dry).contains("input data/x.txt changed"),
        "{}",
        text(&dry)
    );
    let out = fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["a", "b", "c"]));
    assert!(text(&out).contains("upstream a reran"), "{}", text(&out));

    // A `depends` file is hashed too.
    // (The fake stage does not read it, so b's output is unchanged and c
    // stays cached.)
    fx.write("data/extra.txt", "extra2\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "-n"]);
    assert!(
        text(&dry).contains("depends data/extra.txt changed"),
        "{}",
        text(&dry)
    );
    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["b"]));
}

#[test]
fn deleted_or_corrupted_output_reruns_that_stage() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();

    std::fs::remove_file(fx.path("out/b.txt")).unwrap();
    let dry = fx.cevns(&["run", "pipeline.yaml", "--dry-run"]);
    assert!(
        text(&dry).contains("output out/b.txt missing"),
        "{}",
        text(&dry)
    );
    fx.run_ok(&[]);
    // b regenerates identical content, so c stays cached.
    assert_eq!(fx.runs(), v(&["b"]));

    fx.write("out/c.txt", "garbage\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "--dry-run"]);
    assert!(
        text(&dry).contains("output out/c.txt modified"),
        "{}",
        text(&dry)
    );
    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["c"]));
    assert!(fx.read("out/c.txt").starts_with("c|"));
}

#[test]
fn binary_change_reruns_stage() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();
    fx.write_script("b", "# new version\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "--dry-run"]);
    assert!(text(&dry).contains("binary changed"), "{}", text(&dry));
    fx.run_ok(&[]);
    // Same output bytes: downstream c is not rerun (early cutoff).
    assert_eq!(fx.runs(), v(&["b"]));
}

#[test]
fn failing_stage_exits_1_and_next_run_redoes_it() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();
    fx.write("data/x.txt", "x2\n");

    let out = fx.cevns_env(&["run", "pipeline.yaml"], &[("FAIL_STAGE", "b")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("stage `b` failed with exit code 1"), "{t}");
    assert!(
        t.contains("b: failing on purpose"),
        "stage stderr is streamed: {t}"
    );
    let ran = fx.runs();
    assert!(
        ran.contains(&"a".to_string())
            && ran.contains(&"b".to_string())
            && !ran.contains(&"c".to_string())
    );

    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["b", "c"]));
    fx.run_ok(&[]);
    assert!(fx.runs().is_empty());
}

#[test]
fn killed_stage_leaves_nothing_the_cache_accepts() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();
    fx.write("data/x.txt", "x2\n");
    let out = fx.cevns_env(&["run", "pipeline.yaml"], &[("KILL_STAGE", "b")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("stage `b` failed with signal 9"),
        "{}",
        text(&out)
    );
    fx.runs();
    // The next run redoes exactly b and what depends on it.
    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["b", "c"]));
    assert!(fx.read("out/b.txt").starts_with("b|"));
}

#[test]
fn force_only_and_from_select_stages() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();

    fx.run_ok(&["--force"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c", "d"]));
    fx.run_ok(&["--only", "b", "--force"]);
    assert_eq!(fx.runs(), v(&["b"]));
    fx.run_ok(&["--from", "b", "--force"]);
    assert_eq!(fx.runs(), v(&["b", "c"]));

    // --only respects the cache; --from without --force too.
    fx.write("data/x.txt", "x2\n");
    fx.run_ok(&["--only", "d"]);
    assert!(fx.runs().is_empty());
    fx.run_ok(&["--from", "b"]);
    assert!(
        fx.runs().is_empty(),
        "a is not selected, so b's input is unchanged"
    );
    fx.run_ok(&["--only", "a"]);
    assert_eq!(fx.runs(), v(&["a"]));
    fx.run_ok(&["--from", "b"]);
    assert_eq!(fx.runs(), v(&["b", "c"]));
}

#[test]
fn parallel_jobs_and_threads_are_passed() {
    let fx = Fx::new();
    let out = fx.run_ok(&["--jobs", "4", "--threads", "2"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c", "d"]));
    // With several jobs, stage output lines are prefixed by the stage name.
    assert!(text(&out).contains("[a] a: working"), "{}", text(&out));
    // --threads is not part of the cache key.
    fx.run_ok(&["--jobs", "4"]);
    assert!(fx.runs().is_empty());
}

#[test]
fn quiet_prints_nothing_on_success() {
    let fx = Fx::new();
    let out = fx.run_ok(&["--quiet"]);
    // Only the fake stages' own stderr lines (they ignore --quiet).
    let t = text(&out);
    assert!(!t.contains("[1/4]"), "{t}");
    assert!(!t.contains("up to date"), "{t}");
}

#[test]
fn only_with_missing_upstream_output_fails_with_exit_1() {
    let fx = Fx::new();
    let out = fx.cevns(&["run", "pipeline.yaml", "--only", "b"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("out/a.txt"), "{}", text(&out));
    assert!(text(&out).contains("stage `a`"), "{}", text(&out));
    assert!(fx.runs().is_empty());
}

#[test]
fn lock_records_hashes_params_and_binary() {
    let fx = Fx::new();
    fx.run_ok(&["--set", "b.m=4"]);
    let lock: serde_json::Value = serde_json::from_str(&fx.read(".cevns/lock-t.json")).unwrap();
    let b = &lock["stages"]["b"];
    assert_eq!(b["params"]["m"], "4");
    assert_eq!(b["binary_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(b["inputs"]["out/a.txt"].as_str().unwrap().len(), 64);
    assert_eq!(b["depends"]["data/extra.txt"].as_str().unwrap().len(), 64);
    assert_eq!(b["outputs"]["out/b.txt"].as_str().unwrap().len(), 64);
    assert_eq!(b["args"][0], "--in");
    // The binary-hash cache is keyed by path.
    let bins = fx.read(".cevns/binaries.json");
    assert!(bins.contains("b.sh"), "{bins}");
}

#[test]
fn set_any_flag_and_an_input_path() {
    let fx = Fx::new();
    fx.run_ok(&[]);
    fx.runs();
    // A flag the pipeline does not write is passed and keyed like a param.
    fx.run_ok(&["--set", "a.extra=7"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c"]));
    assert!(
        fx.read("out/a.txt").contains("|--extra=7"),
        "{}",
        fx.read("out/a.txt")
    );
    // An input flag gets a new path (and its content is hashed).
    fx.run_ok(&["--set", "d.in=data/x.txt"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c", "d"]));
    assert!(fx.read("out/d.txt").contains("--in=data/x.txt:x1"));
    fx.run_ok(&["--set", "d.in=data/x.txt"]);
    assert!(fx.runs().is_empty());
    fx.write("data/x.txt", "x2\n");
    fx.run_ok(&["--set", "d.in=data/x.txt"]);
    assert_eq!(fx.runs(), v(&["a", "b", "c", "d"]));
}

/// Appended to a fake stage: report reading `data/nested.txt` (as a cevns
/// stage does through `cevns_io::inputs`) and read it into the output.
const REPORTS_NESTED: &str = r#"
if [ -n "$CEVNS_INPUTS_FILE" ]; then
  printf '# cevns-inputs v1\n-\tdata/nested.txt\n-\t%s\n' "$PWD/data/../data/x.txt" > "$CEVNS_INPUTS_FILE"
fi
for o in $outs; do cat data/nested.txt >> "$o"; done
"#;

#[test]
fn files_a_stage_reports_reading_are_hashed() {
    let fx = Fx::new();
    fx.write("data/nested.txt", "n1\n");
    fx.write_script("a", REPORTS_NESTED);
    fx.run_ok(&[]);
    fx.runs();
    let lock: serde_json::Value = serde_json::from_str(&fx.read(".cevns/lock-t.json")).unwrap();
    let disc = lock["stages"]["a"]["discovered"].as_object().unwrap();
    // Normalised to the root; the declared input (data/x.txt, reported by
    // absolute path) is not repeated.
    assert_eq!(
        disc.keys().collect::<Vec<_>>(),
        ["data/nested.txt"],
        "{disc:?}"
    );

    // Same bytes, new mtime: nothing reruns.
    let f = std::fs::File::options()
        .write(true)
        .open(fx.path("data/nested.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(10))
        .unwrap();
    fx.run_ok(&[]);
    assert!(fx.runs().is_empty());

    // New content: a and its downstream rerun, with the reason.
    fx.write("data/nested.txt", "n2\n");
    let dry = fx.cevns(&["run", "pipeline.yaml", "-n"]);
    assert!(
        text(&dry).contains("would run a: data/nested.txt changed (read by the stage)"),
        "{}",
        text(&dry)
    );
    fx.run_ok(&[]);
    assert_eq!(fx.runs(), v(&["a", "b", "c"]));
    assert!(fx.read("out/a.txt").contains("n2"));

    // Deleted: the stage reruns (and fails, as the stage cannot read it).
    std::fs::remove_file(fx.path("data/nested.txt")).unwrap();
    let dry = fx.cevns(&["run", "pipeline.yaml", "-n"]);
    assert!(
        text(&dry).contains("data/nested.txt (read by the stage last time) no longer exists"),
        "{}",
        text(&dry)
    );
}

#[test]
fn a_malformed_report_is_a_warning_and_ignored() {
    let fx = Fx::new();
    fx.write_script(
        "d",
        "\n[ -n \"$CEVNS_INPUTS_FILE\" ] && echo garbage > \"$CEVNS_INPUTS_FILE\"\ntrue\n",
    );
    let out = fx.run_ok(&[]);
    assert!(
        text(&out).contains("warning: stage `d`: ignoring its list of files read"),
        "{}",
        text(&out)
    );
    // The report is a temporary file: nothing is left in .cevns/.
    let left: Vec<_> = std::fs::read_dir(fx.path(".cevns"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("inputs-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
