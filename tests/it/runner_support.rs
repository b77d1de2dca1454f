//! Shared fixture for the runner tests: a temp repo root with tiny fake
//! stage programs (shell scripts) and a 4-stage pipeline
//! `a -> b -> c` plus an independent `d`.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fake stage: `--key value` pairs; every `--out*` flag is an output, the
/// others are hashed into the output content (file inputs by content, also
/// each file of a comma-separated list).
/// `FAIL_STAGE=<name>` makes it fail (exit 1, removing its outputs);
/// `KILL_STAGE=<name>` makes it kill itself with SIGKILL after writing a
/// partial output. Every invocation appends `<name>` to `runs.log`.
const SCRIPT: &str = r#"#!/bin/sh
name=$(basename "$0" .sh)
outs=""
content="$name"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) shift 2 ;;
    --quiet) shift ;;
    --out*) outs="$outs $2"; shift 2 ;;
    --*)
      content="$content|$1=$2"
      if [ -f "$2" ]; then content="$content:$(cat "$2")"
      else
        # A comma-separated list of files (a gathered input): each by content.
        case "$2" in *,*)
          for f in $(echo "$2" | tr ',' ' '); do
            if [ -f "$f" ]; then content="$content:$(cat "$f")"; fi
          done ;;
        esac
      fi
      shift 2 ;;
    *) echo "$name: unexpected argument $1" >&2; exit 2 ;;
  esac
done
echo "$name" >> "@LOG@"
echo "$name: working" >&2
if [ "$FAIL_STAGE" = "$name" ]; then
  for o in $outs; do rm -f "$o"; done
  echo "$name: failing on purpose" >&2
  exit 1
fi
if [ "$KILL_STAGE" = "$name" ]; then
  for o in $outs; do printf 'partial' > "$o"; done
  kill -9 $$
fi
for o in $outs; do
  printf '%s\n' "$content" > "$o.tmp.$$" && mv "$o.tmp.$$" "$o"
done
"#;

pub struct Fx {
    pub dir: tempfile::TempDir,
}

pub const PIPELINE: &str = r#"name: t
description: test pipeline
vars:
  out: out
stages:
  - name: c
    run: @BIN@/c.sh
    inputs:
      in: ${out}/b.txt
    outputs:
      out: ${out}/c.txt
  - name: a
    run: @BIN@/a.sh
    inputs:
      in: data/x.txt
    params:
      k: 0.162
      list: [1.0, 5.0]
    outputs:
      out: ${out}/a.txt
  - name: b
    run: @BIN@/b.sh
    inputs:
      in: ${out}/a.txt
    params:
      m: 3
    depends:
      - data/extra.txt
    outputs:
      out: ${out}/b.txt
  - name: d
    run: @BIN@/d.sh
    inputs:
      in: data/y.txt
    outputs:
      out: ${out}/d.txt
"#;

impl Fx {
    pub fn new() -> Self {
        let fx = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(fx.path("bin")).unwrap();
        std::fs::create_dir_all(fx.path("data")).unwrap();
        for s in ["a", "b", "c", "d", "e"] {
            fx.write_script(s, "");
        }
        fx.write("data/x.txt", "x1\n");
        fx.write("data/y.txt", "y1\n");
        fx.write("data/extra.txt", "extra\n");
        fx.write_pipeline(PIPELINE);
        fx
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// (Re)write the fake stage `name`, with `extra` appended (a comment
    /// changes the binary hash without changing behaviour).
    pub fn write_script(&self, name: &str, extra: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path(&format!("bin/{name}.sh"));
        let text = SCRIPT.replace("@LOG@", &self.path("runs.log").to_string_lossy());
        std::fs::write(&p, format!("{text}{extra}")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    pub fn write_pipeline(&self, yaml: &str) {
        self.write(
            "pipeline.yaml",
            &yaml.replace("@BIN@", &self.path("bin").to_string_lossy()),
        );
    }

    pub fn cevns_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cevns"));
        cmd.args(args)
            .current_dir(self.root())
            .env_remove("FAIL_STAGE")
            .env_remove("KILL_STAGE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    pub fn cevns(&self, args: &[&str]) -> Output {
        self.cevns_env(args, &[])
    }

    /// `cevns run pipeline.yaml ARGS`, asserting success.
    pub fn run_ok(&self, args: &[&str]) -> Output {
        let mut all = vec!["run", "pipeline.yaml"];
        all.extend_from_slice(args);
        let out = self.cevns(&all);
        assert!(
            out.status.success(),
            "cevns {all:?} failed:\n{}",
            text(&out)
        );
        out
    }

    /// Stage invocations since the last call (sorted), clearing the log.
    pub fn runs(&self) -> Vec<String> {
        let p = self.path("runs.log");
        let s = std::fs::read_to_string(&p).unwrap_or_default();
        let _ = std::fs::remove_file(&p);
        let mut v: Vec<String> = s.lines().map(str::to_string).collect();
        v.sort();
        v
    }

    /// Stage invocations in order, clearing the log.
    pub fn runs_in_order(&self) -> Vec<String> {
        let p = self.path("runs.log");
        let s = std::fs::read_to_string(&p).unwrap_or_default();
        let _ = std::fs::remove_file(&p);
        s.lines().map(str::to_string).collect()
    }
}

/// Stages that ran (not cached) according to the runner's progress lines
/// `[k/n] NAME ... done X s[ (cached)]`, sorted.
pub fn ran(o: &Output) -> Vec<String> {
    let err = String::from_utf8_lossy(&o.stderr);
    let mut v: Vec<String> = err
        .lines()
        .filter(|l| l.starts_with('[') && !l.ends_with("(cached)"))
        .filter_map(|l| l.split_once("] "))
        .filter_map(|(_, rest)| rest.split_once(" ... done "))
        .map(|(name, _)| name.to_string())
        .collect();
    v.sort();
    v
}

/// stdout + stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Run with a modified pipeline; expect exit 2, a message containing every
/// `needle`, and no stage run.
pub fn expect_bad(fx: &Fx, yaml: &str, args: &[&str], needles: &[&str]) {
    fx.write_pipeline(yaml);
    let mut all = vec!["run", "pipeline.yaml"];
    all.extend_from_slice(args);
    let out = fx.cevns(&all);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    for n in needles {
        assert!(t.contains(n), "expected `{n}` in:\n{t}");
    }
    assert!(fx.runs().is_empty(), "a stage ran despite invalid input");
}
