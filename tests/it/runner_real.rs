//! The runner with the REAL stage binaries on the paper pipeline: warm runs,
//! `--set`, data edits, touched files and a half-written output.
//!
//! Each test builds a scratch root (a copy of `data/` and `pipelines/`) and
//! runs `cevns run pipelines/paper.yaml` there. The stage binaries are found
//! next to the `cevns` under test (target/debug), which `make test` builds
//! first with `cargo build --workspace --bins`. To keep the file fast every
//! run passes `--set chi2-scan.m-points=21` (the 4 x 201 scan dominates a
//! debug-build run); it is part of the cache key and the same in every run.
//!
//! Which stages ran is read from the runner's own progress lines on stderr
//! (`[3/7] rate-convolve ... done 0.09 s (cached)`), which are printed for
//! every selected stage whenever stderr is not a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::scratch_root;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const STAGES: [&str; 7] = [
    "flux-prep",
    "xsec-tables",
    "rate-convolve",
    "quench-smear",
    "chi2-scan",
    "plot",
    "report",
];

/// Passed to every run: a coarser mass grid (see the top of the file).
const FAST: [&str; 2] = ["--set", "chi2-scan.m-points=21"];

/// A scratch repo root with the pipeline's data, after one complete run.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_cevns")).parent().unwrap();
        for s in STAGES {
            assert!(
                bin_dir.join(s).is_file(),
                "stage binary `{s}` missing in {}: run `cargo build --workspace --bins` first \
                 (`make test` does)",
                bin_dir.display()
            );
        }
        let sc = Self {
            dir: scratch_root(),
        };
        let ran = sc.run(&[]);
        assert_eq!(ran, STAGES.to_vec(), "first run must run every stage");
        sc
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cevns(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cevns"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// `cevns run pipelines/paper.yaml ARGS`; asserts success and returns
    /// the stages that ran (not cached), in the order they finished.
    fn run(&self, args: &[&str]) -> Vec<&'static str> {
        let mut all = vec!["run", "pipelines/paper.yaml"];
        all.extend_from_slice(&FAST);
        all.extend_from_slice(args);
        let out = self.cevns(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "cevns {all:?} failed:\n{err}");
        let (ran, cached) = progress(&err);
        assert_eq!(
            ran.len() + cached.len(),
            STAGES.len(),
            "one progress line per stage expected:\n{err}"
        );
        ran
    }

    /// `cevns run --dry-run ARGS`: stdout.
    fn dry_run(&self, args: &[&str]) -> String {
        let mut all = vec!["run", "pipelines/paper.yaml", "--dry-run"];
        all.extend_from_slice(&FAST);
        all.extend_from_slice(args);
        let out = self.cevns(&all);
        let t = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{t}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn replace_in(&self, rel: &str, from: &str, to: &str) {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "`{from}` not in {rel}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }

    /// Set the mtime of `rel` one minute into the future; content unchanged.
    fn touch(&self, rel: &str) {
        let f = std::fs::File::options()
            .write(true)
            .open(self.path(rel))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
    }
}

/// Parse the runner's progress lines `[k/n] NAME ... done X s[ (cached)]`:
/// (stages that ran, stages that were cached), in finishing order.
fn progress(stderr: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut ran, mut cached) = (Vec::new(), Vec::new());
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let Some((counter, rest)) = rest.split_once("] ") else {
            continue;
        };
        if !counter.contains('/') || !counter.chars().all(|c| c.is_ascii_digit() || c == '/') {
            continue;
        }
        let Some((name, tail)) = rest.split_once(" ... done ") else {
            continue;
        };
        let Some(stage) = STAGES.iter().find(|s| **s == name) else {
            panic!("unknown stage `{name}` in progress line `{line}`");
        };
        if tail.ends_with("(cached)") {
            cached.push(*stage);
        } else {
            ran.push(*stage);
        }
    }
    (ran, cached)
}

/// The `would run` stages of a dry-run, with their reasons.
fn would_run(dry: &str) -> Vec<(String, String)> {
    dry.lines()
        .filter_map(|l| l.strip_prefix("would run "))
        .filter_map(|l| l.split_once(": "))
        .map(|(s, why)| (s.to_string(), why.to_string()))
        .collect()
}

fn names(w: &[(String, String)]) -> Vec<&str> {
    w.iter().map(|(s, _)| s.as_str()).collect()
}

#[test]
fn warm_run_set_param_and_touch() {
    let sc = Scratch::new();

    // Warm: nothing reruns, and a dry-run agrees.
    assert_eq!(sc.run(&[]), Vec::<&str>::new());
    let dry = sc.dry_run(&[]);
    assert!(dry.contains("0 of 7 selected stage(s) would run"), "{dry}");

    // Touch inputs, files named inside inputs and outputs (new mtime, same
    // bytes): nothing reruns.
    for f in [
        "data/solar/bs05-op.yaml",
        "data/solar/spectra/hep_shape.csv",
        "data/overlays/b-l.yaml",
        "data/overlays/darkcast/Borexino_Bauer2018onh.lmt",
        "data/detectors/cdex10.yaml",
        "data/cdex10/surrogate.csv",
        "outputs/paper/rates.parquet",
        "outputs/paper/response.parquet",
        "outputs/paper/figures/fig3.png",
    ] {
        sc.touch(f);
    }
    assert_eq!(sc.run(&[]), Vec::<&str>::new(), "touching reran something");

    // --set quench-smear.k: the dry-run says why, the run reruns exactly
    // quench-smear and everything downstream of it.
    let set = ["--set", "quench-smear.k=0.15"];
    let w = would_run(&sc.dry_run(&set));
    assert_eq!(
        names(&w),
        ["quench-smear", "chi2-scan", "plot", "report"],
        "{w:?}"
    );
    assert!(w[0].1.contains("param k added (0.15)"), "{w:?}");
    assert!(
        w[1].1.contains("upstream quench-smear would rerun"),
        "{w:?}"
    );
    assert_eq!(
        sc.run(&set),
        ["quench-smear", "chi2-scan", "plot", "report"]
    );
    // The same override again is cached; back to the YAML value reruns them.
    assert_eq!(sc.run(&set), Vec::<&str>::new());
    assert_eq!(sc.run(&[]), ["quench-smear", "chi2-scan", "plot", "report"]);
    assert_eq!(sc.run(&[]), Vec::<&str>::new());

    // --set works on any flag of the stage, not only params of the YAML:
    // quench-smear's --ee-points (fine-spectrum grid, default 246) changes
    // spectrum.parquet only, so plot reruns and chi2-scan/report (which read
    // the unchanged response and binned rates) stay cached.
    let set = ["--set", "quench-smear.ee-points=100"];
    let w = would_run(&sc.dry_run(&set));
    assert!(w[0].1.contains("param ee-points added (100)"), "{w:?}");
    assert_eq!(sc.run(&set), ["quench-smear", "plot"]);
    let spectrum = cevns_io::TableReader::open(&sc.path("outputs/paper/spectrum.parquet")).unwrap();
    let e = spectrum.f64("t_ee_kevee").unwrap();
    assert_eq!(e.iter().filter(|&&x| x == e[0]).count() * 100, e.len());
    assert_eq!(sc.run(&set), Vec::<&str>::new());

    // Contradictory overrides are a usage error, before anything runs.
    let out = sc.cevns(&[
        "run",
        "pipelines/paper.yaml",
        "--set",
        "quench-smear.k=0.15",
        "--set",
        "quench-smear.k=0.16",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("contradictory overrides"), "{err}");
}

#[test]
fn files_named_inside_inputs_rerun_their_stage() {
    let sc = Scratch::new();

    // Every file a stage reported reading (recorded in the lock) is also in
    // what its `--list-inputs` prints (the Snakemake export's rule inputs).
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sc.path(".cevns/lock-paper.json")).unwrap())
            .unwrap();
    let mut nested = 0;
    for (name, rec) in lock["stages"].as_object().unwrap() {
        let args: Vec<&str> = rec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let out = Command::new(rec["binary"].as_str().unwrap())
            .args(&args)
            .arg("--list-inputs")
            .current_dir(sc.dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --list-inputs failed");
        let listed = String::from_utf8(out.stdout).unwrap();
        let listed: Vec<&str> = listed.lines().collect();
        let read = rec["discovered"].as_object().unwrap();
        nested += read.len();
        for f in read.keys().chain(rec["inputs"].as_object().unwrap().keys()) {
            assert!(
                listed.contains(&f.as_str()),
                "{name}: {f} not in {listed:?}"
            );
        }
    }
    // 6 spectrum tables (flux-prep), 9 overlay tables (plot and report).
    assert_eq!(nested, 6 + 9 + 9, "{lock}");

    // An overlay table named in data/overlays/b-l.yaml (no pipeline lists
    // it): plot and report both read it, both rerun. Regression test: the
    // report used to declare one `.lmt` of nine, and this edit reran nothing
    // but plot.
    let lmt = "data/overlays/darkcast/Borexino_Bauer2018onh.lmt";
    sc.replace_in(lmt, " 1.7449e-06", " 1.8449e-06");
    let w = would_run(&sc.dry_run(&[]));
    assert_eq!(names(&w), ["plot", "report"], "{w:?}");
    for (_, why) in &w {
        assert!(
            why.contains(&format!("{lmt} changed (read by the stage)")),
            "{w:?}"
        );
    }
    let mut ran = sc.run(&[]);
    ran.sort_unstable();
    assert_eq!(ran, ["plot", "report"]);
    sc.touch(lmt);
    assert_eq!(sc.run(&[]), Vec::<&str>::new());

    // A spectrum table named in the solar-model YAML: flux-prep reruns, and
    // with it everything reading the fluxes.
    let csv = "data/solar/spectra/8B_shape_Winter_et_al.csv";
    sc.replace_in(csv, "0.50,  3.763,", "0.50,  3.863,");
    let w = would_run(&sc.dry_run(&[]));
    assert_eq!(w[0].0, "flux-prep", "{w:?}");
    assert!(
        w[0].1
            .contains(&format!("{csv} changed (read by the stage)")),
        "{w:?}"
    );
    assert_eq!(
        sc.run(&[]),
        [
            "flux-prep",
            "rate-convolve",
            "quench-smear",
            "chi2-scan",
            "plot",
            "report"
        ]
    );
    assert_eq!(sc.run(&[]), Vec::<&str>::new());
}

#[test]
fn tabulated_quenching_and_efficiency_files_are_hashed() {
    let sc = Scratch::new();
    // A detector whose quenching and efficiency are tables next to it,
    // chosen with --set on the detector input flag.
    // Y(T_nr) sampled from Lindhard with k.
    let table = |k: f64| {
        let l = cevns_physics::quenching::Lindhard::new(k, 32).unwrap();
        let mut q = String::from("# T_nr [keV], Y\n");
        for i in 0..=160 {
            let t = 1e-3 * 10f64.powf(i as f64 / 40.0);
            q.push_str(&format!("{t:.10e}, {:.10e}\n", l.y(t)));
        }
        q
    };
    std::fs::write(sc.path("data/detectors/tab-y.csv"), table(0.162)).unwrap();
    std::fs::write(
        sc.path("data/detectors/tab-eff.csv"),
        "# E [keVee], efficiency\n0.0, 1.0\n10.0, 1.0\n",
    )
    .unwrap();
    let det = std::fs::read_to_string(sc.path("data/detectors/cdex10.yaml"))
        .unwrap()
        .replace(
            "quenching: { model: lindhard, k: 0.162 }",
            "quenching: { model: table, file: tab-y.csv }",
        )
        .replace("efficiency: 1.0", "efficiency: { file: tab-eff.csv }");
    assert!(det.contains("tab-y.csv") && det.contains("tab-eff.csv"));
    std::fs::write(sc.path("data/detectors/tab.yaml"), det).unwrap();
    let set = ["--set", "quench-smear.detector=data/detectors/tab.yaml"];
    let downstream = ["quench-smear", "chi2-scan", "plot", "report"];
    assert_eq!(sc.run(&set), downstream);
    assert_eq!(sc.run(&set), Vec::<&str>::new());

    // Edit the quenching table (Y of one node), then the efficiency table.
    let eff = "# E [keVee], efficiency\n0.0, 1.0\n10.0, 0.9\n".to_string();
    for (file, text) in [
        ("data/detectors/tab-y.csv", table(0.17)),
        ("data/detectors/tab-eff.csv", eff),
    ] {
        std::fs::write(sc.path(file), text).unwrap();
        let w = would_run(&sc.dry_run(&set));
        assert_eq!(w[0].0, "quench-smear", "{w:?}");
        assert!(
            w[0].1
                .contains(&format!("{file} changed (read by the stage)")),
            "{w:?}"
        );
        let ran = sc.run(&set);
        assert_eq!(ran[0], "quench-smear", "{ran:?}");
        sc.touch(file);
        assert_eq!(sc.run(&set), Vec::<&str>::new());
    }

    // A Lindhard k for a detector with a tabulated curve is a usage error of
    // quench-smear naming both, never a silent switch to Lindhard.
    let out = sc.cevns(&[
        "run",
        "pipelines/paper.yaml",
        set[0],
        set[1],
        "--set",
        "quench-smear.k=0.15",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--k 0.15") && err.contains("tab.yaml"),
        "{err}"
    );
    assert!(err.contains("tab-y.csv"), "{err}");
}

#[test]
fn flux_change_reruns_downstream_of_flux_prep() {
    let sc = Scratch::new();
    let fluxes = std::fs::read(sc.path("outputs/paper/fluxes.parquet")).unwrap();

    // A comment in a spectrum table (named in the solar-model YAML, listed
    // nowhere in the pipeline): flux-prep reruns
    // but writes the same bytes, so nothing downstream reruns (early cutoff).
    let hep = sc.path("data/solar/spectra/hep_shape.csv");
    let mut text = std::fs::read_to_string(&hep).unwrap();
    text.push_str("# x\n");
    std::fs::write(&hep, text).unwrap();
    let w = would_run(&sc.dry_run(&[]));
    assert_eq!(
        names(&w),
        [
            "flux-prep",
            "rate-convolve",
            "quench-smear",
            "chi2-scan",
            "plot",
            "report"
        ],
        "{w:?}"
    );
    assert!(
        w[0].1
            .contains("data/solar/spectra/hep_shape.csv changed (read by the stage)"),
        "{w:?}"
    );
    let ran = sc.run(&[]);
    if ran != ["flux-prep"] {
        // Only acceptable if flux-prep's output bytes really changed.
        assert_ne!(
            std::fs::read(sc.path("outputs/paper/fluxes.parquet")).unwrap(),
            fluxes,
            "fluxes.parquet unchanged but downstream reran: {ran:?}"
        );
    }

    // A number: the BS05 8B flux. Everything downstream of flux-prep reruns,
    // xsec-tables (independent of the fluxes) does not.
    sc.replace_in("data/solar/bs05-op.yaml", "5.691e6", "5.7e6");
    let w = would_run(&sc.dry_run(&[]));
    assert!(
        w[0].1.contains("input data/solar/bs05-op.yaml changed"),
        "{w:?}"
    );
    let ran = sc.run(&[]);
    assert_eq!(
        ran,
        [
            "flux-prep",
            "rate-convolve",
            "quench-smear",
            "chi2-scan",
            "plot",
            "report"
        ]
    );
    assert_ne!(
        std::fs::read(sc.path("outputs/paper/fluxes.parquet")).unwrap(),
        fluxes
    );
    assert_eq!(sc.run(&[]), Vec::<&str>::new());
}

#[test]
fn half_written_or_deleted_output_is_redone() {
    let sc = Scratch::new();
    let response = sc.path("outputs/paper/response.parquet");
    let good = std::fs::read(&response).unwrap();

    // What a stage killed mid-write leaves behind: a truncated file.
    std::fs::write(&response, &good[..good.len() / 2]).unwrap();
    let w = would_run(&sc.dry_run(&[]));
    assert_eq!(w[0].0, "quench-smear", "{w:?}");
    assert!(
        w[0].1
            .contains("output outputs/paper/response.parquet modified since it was written"),
        "{w:?}"
    );
    // quench-smear is deterministic: it rewrites the same bytes, so its
    // downstream stages (which recorded those bytes) stay cached.
    assert_eq!(sc.run(&[]), ["quench-smear"]);
    assert_eq!(std::fs::read(&response).unwrap(), good);

    // A deleted output: the same.
    std::fs::remove_file(sc.path("outputs/paper/limits.csv")).unwrap();
    let w = would_run(&sc.dry_run(&[]));
    assert!(
        w[0].1.contains("output outputs/paper/limits.csv missing"),
        "{w:?}"
    );
    assert_eq!(sc.run(&[]), ["chi2-scan"]);

    // A stage whose lock record is gone (killed before it was written) is
    // redone too.
    let lock = sc.path(".cevns/lock-paper.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    json["stages"].as_object_mut().unwrap().remove("plot");
    std::fs::write(&lock, serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(sc.run(&[]), ["plot"]);
    assert_eq!(sc.run(&[]), Vec::<&str>::new());
}
