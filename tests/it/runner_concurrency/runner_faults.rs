//! Fault injection against the runner (issue 10): closed pipes, SIGINT and
//! SIGTERM, killed stages and their temporaries. Each case checks the exit
//! code, the message, that the run lock is released and that no stage
//! process or partial output survives. Part of the `runner_concurrency`
//! test binary (one link for all lock/signal tests).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::runner_support::{Fx, text};

/// A stage that records its pid, then (with `SLOW=1`) ticks on stderr for
/// up to 30 s before writing its outputs; with `DEBRIS=1` it leaves a
/// partial temporary like a stage killed while writing, and dies by SIGKILL.
const SLOW: &str = r#"#!/bin/sh
name=$(basename "$0" .sh)
outs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) shift ;;
    --out*) outs="$outs $2"; shift 2 ;;
    *) shift 2 ;;
  esac
done
echo $$ > "@DIR@/$name.pid"
if [ -n "$DEBRIS" ]; then
  for o in $outs; do printf 'partial' > "$(dirname "$o")/.cevns-XYZ123.tmp"; done
  kill -9 $$
fi
if [ -n "$SLOW" ]; then
  i=0
  while [ $i -lt 300 ]; do echo "$name: tick $i" >&2; sleep 0.1; i=$((i+1)); done
fi
for o in $outs; do echo ok > "$o"; done
"#;

const PIPE: &str = r#"name: s
description: one slow stage
stages:
  - name: slow
    run: @BIN@/slow.sh
    inputs:
      in: data/x.txt
    outputs:
      out: out/slow.txt
"#;

fn slow_fx() -> Fx {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fx::new();
    let p = fx.path("bin/slow.sh");
    std::fs::write(&p, SLOW.replace("@DIR@", &fx.root().to_string_lossy())).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    fx.write_pipeline(PIPE);
    fx
}

fn cevns(fx: &Fx, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cevns"));
    c.args(args)
        .current_dir(fx.root())
        .env_remove("SLOW")
        .env_remove("DEBRIS");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Wait at most `secs` for `child`; a hang fails the test (and kills it).
fn wait_for(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cevns did not finish within {secs} s (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid the stage recorded, once it is running.
fn stage_pid(fx: &Fx) -> u32 {
    let p = fx.path("slow.pid");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if let Some(pid) = std::fs::read_to_string(&p)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the stage never started");
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purpose; a reaped process has no /proc entry.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

fn assert_clean_stop(fx: &Fx, pid: u32) {
    assert!(!alive(pid), "stage process {pid} survived the runner");
    assert!(
        !fx.path(".cevns/run.lock").exists(),
        "run lock not released"
    );
    assert!(!fx.path("out/slow.txt").exists(), "partial output left");
}

fn stderr_text(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
    }
    s
}

#[test]
fn closed_stdout_ends_print_commands_quietly() {
    // Issue 10 case 3: `cevns run … -n | head -1` and `cevns status … |
    // head -1` panicked with "failed printing to stdout: Broken pipe".
    let fx = Fx::new();
    for args in [
        &["run", "pipeline.yaml", "-n"][..],
        &["status", "pipeline.yaml"][..],
        &["dag", "pipeline.yaml"][..],
    ] {
        let mut child = cevns(&fx, args, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let st = wait_for(&mut child, 20);
        let err = stderr_text(&mut child);
        assert_eq!(st.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn closed_stderr_stops_the_run_and_releases_the_lock() {
    // Issue 10 case 3: `cevns run … 2>&1 | head -1` hung and kept the lock.
    let fx = slow_fx();
    let mut child = cevns(&fx, &["run", "pipeline.yaml"], &[("SLOW", "1")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut r = BufReader::new(child.stderr.take().unwrap());
    r.read_line(&mut first).unwrap();
    let pid = stage_pid(&fx);
    drop(r); // `head -1` exits
    let st = wait_for(&mut child, 20);
    assert_eq!(st.code(), Some(128 + 13), "exit like SIGPIPE");
    assert_clean_stop(&fx, pid);
    // The next run is not refused and completes the stage.
    let out = fx.cevns(&["run", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fx.read("out/slow.txt"), "ok\n");
}

#[test]
fn sigterm_and_sigint_are_forwarded_to_the_stage() {
    for (sig, code) in [("-TERM", 143), ("-INT", 130)] {
        let fx = slow_fx();
        let mut child = cevns(&fx, &["run", "pipeline.yaml"], &[("SLOW", "1")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = stage_pid(&fx);
        let st = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let st = wait_for(&mut child, 20);
        let err = stderr_text(&mut child);
        assert_eq!(st.code(), Some(code), "{sig}: {err}");
        assert!(err.contains("interrupted by SIG"), "{sig}: {err}");
        assert_clean_stop(&fx, pid);
        // The stopped stage was not recorded: the next run reruns it.
        let out = fx.cevns(&["run", "pipeline.yaml"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("slow: running"), "{}", text(&out));
    }
}

fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".cevns-") && n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn debris_of_a_killed_stage_is_removed_by_the_next_run_and_by_clean() {
    // Issue 10 case 4: `.cevns-XXXX.tmp` survived the recovering run and
    // `cevns clean`.
    let fx = slow_fx();
    let out = cevns(&fx, &["run", "pipeline.yaml"], &[("DEBRIS", "1")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("stage `slow` failed with signal 9"),
        "{}",
        text(&out)
    );
    // The failed run removed the temporary itself, while holding the lock.
    assert!(
        text(&out).contains("removed stale temporary"),
        "{}",
        text(&out)
    );
    assert!(temps(&fx.path("out")).is_empty());
    assert!(!fx.path(".cevns/run.lock").exists());
    // A runner killed with SIGKILL cannot clean up: the next run does.
    fx.write("out/.cevns-XYZ123.tmp", "partial");
    let out = fx.cevns(&["run", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("removed stale temporary"),
        "{}",
        text(&out)
    );
    assert!(temps(&fx.path("out")).is_empty());
    assert_eq!(fx.read("out/slow.txt"), "ok\n");

    fx.write("out/.cevns-abc.tmp", "partial");
    let out = fx.cevns(&["clean", "pipeline.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        temps(&fx.path("out")).is_empty(),
        "clean removes temporaries"
    );
    assert!(!fx.path("out/slow.txt").exists());
}
