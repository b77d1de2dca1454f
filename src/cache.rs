//! Content-hash cache: the per-pipeline lock file, the binary-hash cache and
//! the "why does this stage need to run" evaluation.
//!
//! State lives in `<root>/.cevns/`:
//! - `lock-<pipeline>.json`: one record per successfully run stage (binary
//!   hash, params, args, input/depends/output hashes and the hashes of the
//!   other files the stage reported reading), written atomically
//!   (temp file + rename) after every successful stage;
//! - `binaries.json`: sha256 of stage binaries keyed by (path, size, mtime)
//!   so a warm no-op run does not re-hash large executables;
//! - `run.lock`: exclusive run lock holding the pid of the running `cevns`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::spec::{Pipeline, Stage};

/// Name of the state directory under the root.
pub const STATE_DIR: &str = ".cevns";
/// 2: records carry `discovered` (files the stage reported reading).
const LOCK_VERSION: u32 = 2;

/// The record of one successful stage run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockEntry {
    /// The `run:` value and the executable it resolved to.
    pub run: String,
    pub binary: String,
    pub binary_sha256: String,
    /// Stage arguments (without --threads/--quiet).
    pub args: Vec<String>,
    /// Params after `${}` expansion and `--set` overrides.
    pub params: BTreeMap<String, String>,
    /// path -> sha256 (hashed before the stage ran).
    pub inputs: BTreeMap<String, String>,
    pub depends: BTreeMap<String, String>,
    /// path -> sha256 of every other file the stage reported reading (see
    /// `cevns_io::inputs`): files named inside its inputs, such as spectrum
    /// tables in a solar-model YAML or `.lmt` files in an overlays YAML.
    #[serde(default)]
    pub discovered: BTreeMap<String, String>,
    /// path -> sha256 (hashed after the stage succeeded).
    pub outputs: BTreeMap<String, String>,
    pub finished_unix: u64,
    pub duration_s: f64,
}

/// The lock file of one pipeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockFile {
    pub version: u32,
    pub pipeline: String,
    pub stages: BTreeMap<String, LockEntry>,
}

/// `<root>/.cevns`.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(STATE_DIR)
}

/// `<root>/.cevns/lock-<name>.json`.
pub fn lock_path(p: &Pipeline) -> PathBuf {
    state_dir(&p.root).join(format!("lock-{}.json", p.name))
}

/// Write `bytes` to `path` atomically (temp file in the same dir + rename);
/// the stages' own atomic write, shared through `cevns_io`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(cevns_io::output::write_atomic(path, bytes)?)
}

impl LockFile {
    /// Load the lock of `p`; a missing file is an empty lock, an unreadable
    /// one is reported and ignored (everything reruns).
    pub fn load(p: &Pipeline) -> Self {
        let path = lock_path(p);
        let empty = Self {
            version: LOCK_VERSION,
            pipeline: p.name.clone(),
            stages: BTreeMap::new(),
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return empty;
        };
        match serde_json::from_str::<Self>(&text) {
            Ok(l) if l.version == LOCK_VERSION => l,
            Ok(_) => {
                eprintln!(
                    "warning: `{}` has an unknown version; ignoring it",
                    path.display()
                );
                empty
            }
            Err(e) => {
                eprintln!(
                    "warning: cannot parse `{}` ({e}); ignoring it",
                    path.display()
                );
                empty
            }
        }
    }

    /// Atomically write the lock, dropping records of stages that no longer exist.
    pub fn save(&mut self, p: &Pipeline) -> Result<()> {
        self.stages
            .retain(|k, _| p.stages.iter().any(|s| &s.name == k));
        let json = serde_json::to_vec_pretty(self).context("cannot serialise the lock")?;
        write_atomic(&lock_path(p), &json)
    }
}

/// sha256 of a file, or of a directory tree (names + file hashes), or None
/// when the path does not exist.
pub fn hash_path(path: &Path) -> Result<Option<String>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot stat `{}`", path.display())),
    };
    if meta.is_dir() {
        let mut acc = String::new();
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list `{}`", path.display()))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(h) = hash_path(&e.path())? {
                acc.push_str(&format!("{name}\0{h}\n"));
            }
        }
        return Ok(Some(format!(
            "dir:{}",
            cevns_io::fingerprint::sha256_hex(acc.as_bytes())
        )));
    }
    let h = cevns_io::fingerprint::file_sha256(path)
        .with_context(|| format!("cannot hash `{}`", path.display()))?;
    Ok(Some(h))
}

/// Where a stage binary is: a `run:` with a `/` is a path (relative to the
/// root); a bare name is looked up next to the runner's own executable,
/// then on PATH.
pub fn resolve_binary(run: &str, root: &Path) -> Option<PathBuf> {
    if run.contains('/') {
        let p = root.join(run);
        return p.is_file().then_some(p);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let p = dir.join(run);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(run))
        .find(|p| p.is_file())
}

/// The directory bare stage names resolve to first.
pub fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct BinStat {
    size: u64,
    mtime_ns: u128,
    sha256: String,
}

/// sha256 of binaries keyed by (path, size, mtime), persisted in
/// `.cevns/binaries.json`.
#[derive(Debug, Default)]
pub struct BinaryHashes {
    path: PathBuf,
    map: BTreeMap<String, BinStat>,
    dirty: bool,
}

impl BinaryHashes {
    pub fn load(root: &Path) -> Self {
        let path = state_dir(root).join("binaries.json");
        let map = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Self {
            path,
            map,
            dirty: false,
        }
    }

    pub fn hash(&mut self, bin: &Path) -> Result<String> {
        let meta =
            std::fs::metadata(bin).with_context(|| format!("cannot stat `{}`", bin.display()))?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let key = bin.to_string_lossy().into_owned();
        if let Some(s) = self.map.get(&key)
            && s.size == meta.len()
            && s.mtime_ns == mtime_ns
        {
            return Ok(s.sha256.clone());
        }
        let sha256 = cevns_io::fingerprint::file_sha256(bin)
            .with_context(|| format!("cannot hash `{}`", bin.display()))?;
        self.map.insert(
            key,
            BinStat {
                size: meta.len(),
                mtime_ns,
                sha256: sha256.clone(),
            },
        );
        self.dirty = true;
        Ok(sha256)
    }

    /// Persist if anything changed (best effort: the cache is an optimisation).
    pub fn save(&self) {
        if !self.dirty {
            return;
        }
        if let Ok(json) = serde_json::to_vec_pretty(&self.map)
            && let Err(e) = write_atomic(&self.path, &json)
        {
            eprintln!("warning: cannot save the binary-hash cache: {e:#}");
        }
    }
}

/// The resolved binary of a stage.
#[derive(Debug, Clone)]
pub struct Binary {
    pub path: PathBuf,
    pub sha256: String,
}

/// Result of checking one stage against its lock record.
#[derive(Debug, Default, Clone)]
pub struct Evaluation {
    /// Why the stage must run; empty = up to date.
    pub reasons: Vec<String>,
    /// Current input / depends hashes (paths that were hashed).
    pub inputs: BTreeMap<String, String>,
    pub depends: BTreeMap<String, String>,
    /// Input or depends paths that do not exist (and are not pending).
    pub missing: Vec<String>,
}

/// What the evaluation knows about upstream stages.
#[derive(Debug, Default)]
pub struct UpstreamState {
    /// Stages that will (re)run before this one and whose outputs are not
    /// known yet (dry-run / status).
    pub pending: BTreeSet<usize>,
    /// Stages that reran in this session.
    pub reran: BTreeSet<usize>,
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Decide whether stage `i` must run and why.
pub fn evaluate(
    p: &Pipeline,
    i: usize,
    entry: Option<&LockEntry>,
    binary: Option<&Binary>,
    up: &UpstreamState,
    force: bool,
) -> Result<Evaluation> {
    let s: &Stage = &p.stages[i];
    let mut ev = Evaluation::default();
    if force {
        ev.reasons.push("forced (--force)".into());
    }
    match binary {
        None => ev.reasons.push(format!("binary `{}` not found", s.run)),
        Some(b) => {
            if let Some(e) = entry
                && e.binary_sha256 != b.sha256
            {
                ev.reasons
                    .push(format!("binary changed ({})", b.path.display()));
            }
        }
    }
    if entry.is_none() {
        ev.reasons.push("no record in the lock (never run)".into());
    }
    if let Some(e) = entry {
        let mut params_differ = false;
        for (k, v) in &s.params {
            match e.params.get(k) {
                Some(old) if old == v => {}
                Some(old) => {
                    params_differ = true;
                    ev.reasons.push(format!("param {k} changed {old} -> {v}"));
                }
                None => {
                    params_differ = true;
                    ev.reasons.push(format!("param {k} added ({v})"));
                }
            }
        }
        for k in e.params.keys().filter(|k| !s.params.contains_key(*k)) {
            params_differ = true;
            ev.reasons.push(format!("param {k} removed"));
        }
        if !params_differ && e.args != s.args() {
            ev.reasons
                .push("command line changed (flags or paths)".into());
        }
    }

    let reads = s
        .input_files()
        .map(|p| (false, p))
        .chain(s.depends.iter().map(|p| (true, p)));
    for (is_dep, path) in reads {
        let producer = p.producer_of(path);
        if let Some(u) = producer.filter(|u| up.pending.contains(u)) {
            push_unique(
                &mut ev.reasons,
                format!("upstream {} would rerun", p.stages[u].name),
            );
            continue;
        }
        let Some(h) = hash_path(&p.abs(path))? else {
            ev.missing.push(path.clone());
            let why = match producer {
                Some(u) => format!(
                    "input {path} missing (output of stage {})",
                    p.stages[u].name
                ),
                None => format!("input {path} missing"),
            };
            ev.reasons.push(why);
            continue;
        };
        if let Some(e) = entry {
            let recorded = if is_dep {
                e.depends.get(path)
            } else {
                e.inputs.get(path)
            };
            match recorded {
                Some(old) if *old == h => {}
                Some(_) => match producer.filter(|u| up.reran.contains(u)) {
                    Some(u) => push_unique(
                        &mut ev.reasons,
                        format!("upstream {} reran", p.stages[u].name),
                    ),
                    None => ev.reasons.push(format!(
                        "{} {path} changed",
                        if is_dep { "depends" } else { "input" }
                    )),
                },
                None if !is_dep => {} // a renamed input path: reported as "command line changed"
                None => ev.reasons.push(format!("depends {path} added")),
            }
        }
        if is_dep {
            ev.depends.insert(path.clone(), h);
        } else {
            ev.inputs.insert(path.clone(), h);
        }
    }
    if let Some(e) = entry {
        for d in e.depends.keys().filter(|d| !s.depends.contains(d)) {
            ev.reasons.push(format!("depends {d} removed"));
        }
        // Files the stage read last time besides its declared inputs. Their
        // set is a function of the arguments and of the content of the files
        // read, all of which are compared here: if none changed, the stage
        // would read the same files again.
        for (path, old) in &e.discovered {
            let producer = p.producer_of(path);
            if let Some(u) = producer.filter(|u| up.pending.contains(u)) {
                push_unique(
                    &mut ev.reasons,
                    format!("upstream {} would rerun", p.stages[u].name),
                );
                continue;
            }
            match hash_path(&p.abs(path))? {
                Some(h) if h == *old => {}
                Some(_) => match producer.filter(|u| up.reran.contains(u)) {
                    Some(u) => push_unique(
                        &mut ev.reasons,
                        format!("upstream {} reran", p.stages[u].name),
                    ),
                    None => ev
                        .reasons
                        .push(format!("{path} changed (read by the stage)")),
                },
                None => ev.reasons.push(format!(
                    "{path} (read by the stage last time) no longer exists"
                )),
            }
        }
    }

    let mut missing_outputs = Vec::new();
    for f in s.output_files() {
        match hash_path(&p.abs(f))? {
            None => missing_outputs.push(f.as_str()),
            Some(h) => {
                if let Some(e) = entry {
                    match e.outputs.get(f) {
                        Some(old) if *old == h => {}
                        Some(_) => ev
                            .reasons
                            .push(format!("output {f} modified since it was written")),
                        None => ev.reasons.push(format!("output {f} not recorded")),
                    }
                }
            }
        }
    }
    // A stage that never ran obviously has no outputs: don't list them.
    if entry.is_some() || force {
        match missing_outputs.as_slice() {
            [] => {}
            [one] => ev.reasons.push(format!("output {one} missing")),
            [first, rest @ ..] => ev.reasons.push(format!(
                "{} outputs missing ({first} and {} more)",
                rest.len() + 1,
                rest.len()
            )),
        }
    }
    Ok(ev)
}

/// Hash a stage's declared outputs after a successful run.
pub fn hash_outputs(p: &Pipeline, s: &Stage) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for f in s.output_files() {
        match hash_path(&p.abs(f))? {
            Some(h) => {
                out.insert(f.clone(), h);
            }
            None => anyhow::bail!(
                "stage `{}` exited 0 but did not write its declared output `{f}`",
                s.name
            ),
        }
    }
    Ok(out)
}

/// The files a stage reported reading (`cevns_io::inputs` report at
/// `report`), minus its declared inputs, depends and outputs, as
/// root-relative normalised path -> sha256. The hash recorded by the stage
/// (of the bytes it read) is kept; files it streamed are hashed now.
/// A stage that wrote no report (a program that is not a cevns stage)
/// yields an empty map; an unreadable report is a warning.
pub fn discovered_inputs(
    p: &Pipeline,
    s: &Stage,
    report: &Path,
) -> Result<(BTreeMap<String, String>, Option<String>)> {
    let mut out = BTreeMap::new();
    let text = match std::fs::read_to_string(report) {
        Ok(t) if t.is_empty() => return Ok((out, None)),
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, None)),
        Err(e) => {
            return Ok((
                out,
                Some(format!("cannot read the list of files it read: {e}")),
            ));
        }
    };
    let reads = match cevns_io::inputs::parse(&text) {
        Ok(r) => r,
        Err(e) => {
            return Ok((out, Some(format!("ignoring its list of files read ({e})"))));
        }
    };
    let root_abs = std::path::absolute(&p.root).unwrap_or_else(|_| p.root.clone());
    let root_canon = std::fs::canonicalize(&p.root).ok();
    let declared: BTreeSet<&String> = s
        .input_files()
        .chain(s.depends.iter())
        .chain(s.output_files())
        .collect();
    for (raw, sha) in reads {
        let rel = relative_to_root(&raw, &root_abs, root_canon.as_deref());
        if declared.contains(&rel) || s.outputs.iter().any(|o| o.path == rel) {
            continue;
        }
        let sha = match sha {
            Some(h) => h,
            None => match hash_path(&p.abs(&rel))? {
                Some(h) => h,
                None => continue,
            },
        };
        out.insert(rel, sha);
    }
    Ok((out, None))
}

/// A path as a stage opened it (relative to the root, where stages run, or
/// absolute) -> the normalised pipeline form: relative to the root when it
/// lies inside it.
fn relative_to_root(raw: &str, root_abs: &Path, root_canon: Option<&Path>) -> String {
    let path = Path::new(raw);
    if path.is_absolute() {
        let norm = PathBuf::from(crate::spec::normalize(raw));
        for root in std::iter::once(root_abs).chain(root_canon) {
            if let Ok(r) = norm.strip_prefix(root) {
                return crate::spec::normalize(&r.to_string_lossy());
            }
        }
        return norm.to_string_lossy().into_owned();
    }
    crate::spec::normalize(raw)
}

/// Files named inside the inputs of stage `s` (`<binary> ARGS --list-inputs`,
/// run in the root), minus its declared inputs and depends, normalised.
/// Only for stages run by a bare name (the cevns stage binaries); a `run:`
/// path is a foreign program that need not know the flag: empty.
pub fn list_nested_inputs(p: &Pipeline, s: &Stage, bin_dir: Option<&Path>) -> Result<Vec<String>> {
    if s.run.contains('/') {
        return Ok(Vec::new());
    }
    let bin = bin_dir
        .map(|d| d.join(&s.run))
        .filter(|b| b.is_file())
        .or_else(|| resolve_binary(&s.run, &p.root))
        .ok_or_else(|| {
            crate::error::bad_input(format!(
                "stage `{}`: binary `{}` not found; the export asks each stage binary for the \
                 files named inside its inputs (build them first: cargo build --release \
                 --workspace --bins)",
                s.name, s.run
            ))
        })?;
    let out = std::process::Command::new(&bin)
        .args(s.args())
        .arg("--list-inputs")
        .current_dir(&p.root)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("stage `{}`: cannot start `{}`", s.name, bin.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let msg = format!(
            "stage `{}`: `{} ... --list-inputs` failed: {}",
            s.name,
            bin.display(),
            err.trim()
        );
        return Err(if out.status.code() == Some(2) {
            crate::error::bad_input(msg)
        } else {
            anyhow::anyhow!(msg)
        });
    }
    let root_abs = std::path::absolute(&p.root).unwrap_or_else(|_| p.root.clone());
    let root_canon = std::fs::canonicalize(&p.root).ok();
    let declared: BTreeSet<&String> = s.input_files().chain(s.depends.iter()).collect();
    let mut files = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.is_empty() {
            continue;
        }
        let rel = relative_to_root(line, &root_abs, root_canon.as_deref());
        if !declared.contains(&rel) && !files.contains(&rel) {
            files.push(rel);
        }
    }
    Ok(files)
}
