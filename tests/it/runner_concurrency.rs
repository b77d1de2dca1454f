//! The exclusive run lock (`.cevns/run.lock`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Closed pipes, signals and debris of killed stages (issue 10).
mod runner_faults;

use crate::runner_support::{Fx, text};

#[test]
fn live_lock_refuses_and_stale_lock_is_removed() {
    let fx = Fx::new();
    // Held by a live process (this test).
    fx.write(".cevns/run.lock", &format!("{}\n", std::process::id()));
    let out = fx.cevns(&["run", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("another cevns run"), "{}", text(&out));
    assert!(fx.runs().is_empty());
    // Dry-run and status do not need the lock.
    assert!(
        fx.cevns(&["run", "pipeline.yaml", "--dry-run"])
            .status
            .success()
    );

    // A pid that does not exist: stale, removed.
    fx.write(".cevns/run.lock", "4194303999\n");
    let out = fx.cevns(&["run", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stale run lock"), "{}", text(&out));
    assert!(
        !fx.path(".cevns/run.lock").exists(),
        "lock released after the run"
    );
}

#[test]
fn concurrent_runs_do_not_corrupt_outputs() {
    let fx = Fx::new();
    let exe = env!("CARGO_BIN_EXE_cevns");
    let spawn = || {
        std::process::Command::new(exe)
            .args(["run", "pipeline.yaml", "--quiet"])
            .current_dir(fx.root())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    let codes: Vec<Option<i32>> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code())
        .collect();
    assert!(
        codes.iter().all(|c| *c == Some(0) || *c == Some(1)),
        "{codes:?}"
    );
    assert!(codes.contains(&Some(0)), "{codes:?}");
    // Whatever happened, a final run completes and leaves a consistent state.
    fx.run_ok(&[]);
    fx.runs();
    fx.run_ok(&[]);
    assert!(fx.runs().is_empty());
    assert!(fx.read("out/c.txt").starts_with("c|"));
}
