//! Running a pipeline: stage selection, planning (dry-run / status), the
//! parallel scheduler, child processes and progress reporting.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::{self, Binary, BinaryHashes, Evaluation, LockEntry, LockFile, UpstreamState};
use crate::error::bad_input;
use crate::interrupt::{self, Interrupted};
use crate::spec::Pipeline;

/// Longest pause between checks of a running stage for exit or a stop
/// request. The pause is a tenth of the stage's running time so far (at
/// least 1 ms): a 30 ms stage is noticed within 3 ms of its exit, not up to
/// 20 ms later (seven stages run back to back in the paper pipeline).
const POLL: std::time::Duration = std::time::Duration::from_millis(20);
/// Shortest pause between two checks.
const POLL_MIN: std::time::Duration = std::time::Duration::from_millis(1);
/// How long a stage may take to exit after SIGINT/SIGTERM before SIGKILL.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Options of `cevns run`.
#[derive(Debug, Clone, Default)]
pub struct RunOpts {
    pub dry_run: bool,
    pub only: Vec<String>,
    pub from: Option<String>,
    pub force: bool,
    pub quiet: bool,
    pub jobs: usize,
    pub threads: Option<usize>,
}

/// Stages selected by `--only` / `--from` (all when neither is given).
pub fn selection(p: &Pipeline, only: &[String], from: Option<&str>) -> Result<BTreeSet<usize>> {
    if only.is_empty() && from.is_none() {
        return Ok((0..p.stages.len()).collect());
    }
    let mut set = BTreeSet::new();
    for name in only {
        set.extend(
            p.indices_of(name)
                .map_err(|e| bad_input(format!("--only: {e}")))?,
        );
    }
    if let Some(name) = from {
        for i in p
            .indices_of(name)
            .map_err(|e| bad_input(format!("--from: {e}")))?
        {
            set.extend(p.downstream_of(i));
        }
    }
    Ok(set)
}

/// Resolve and hash the binaries of `which` stages (None when not found).
pub fn binaries(p: &Pipeline, which: &BTreeSet<usize>) -> Result<Vec<Option<Binary>>> {
    let mut hashes = BinaryHashes::load(&p.root);
    let mut out = vec![None; p.stages.len()];
    for &i in which {
        if let Some(path) = cache::resolve_binary(&p.stages[i].run, &p.root) {
            let sha256 = hashes.hash(&path)?;
            out[i] = Some(Binary { path, sha256 });
        }
    }
    hashes.save();
    Ok(out)
}

/// Evaluate `selected` stages in order, assuming every stage that would run
/// changes its outputs (dry-run / status).
pub fn plan(
    p: &Pipeline,
    lock: &LockFile,
    bins: &[Option<Binary>],
    selected: &BTreeSet<usize>,
    force: bool,
) -> Result<Vec<(usize, Evaluation)>> {
    let mut up = UpstreamState::default();
    let mut out = Vec::new();
    for &i in selected {
        let s = &p.stages[i];
        let ev = cache::evaluate(p, i, lock.stages.get(&s.name), bins[i].as_ref(), &up, force)?;
        if !ev.reasons.is_empty() {
            up.pending.insert(i);
        }
        out.push((i, ev));
    }
    Ok(out)
}

/// Shell-style rendering of a command for display.
pub fn display_command(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quote for POSIX sh when needed.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=,:+@%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Progress output: indicatif bar on a TTY, plain lines otherwise.
struct Reporter {
    quiet: bool,
    mp: Option<MultiProgress>,
    bar: Option<ProgressBar>,
    total: usize,
    counter: AtomicUsize,
    running: Mutex<BTreeSet<String>>,
}

impl Reporter {
    fn new(total: usize, quiet: bool) -> Self {
        let (mp, bar) = if !quiet && std::io::stderr().is_terminal() {
            let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = mp.add(ProgressBar::new(total as u64));
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {pos}/{len} {elapsed:>4} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix("stages");
            (Some(mp), Some(bar))
        } else {
            (None, None)
        };
        Self {
            quiet,
            mp,
            bar,
            total,
            counter: AtomicUsize::new(0),
            running: Mutex::new(BTreeSet::new()),
        }
    }

    /// A line on stderr, printed above the bar when there is one.
    fn line(&self, s: &str) {
        match &self.mp {
            Some(mp) => {
                if mp.println(s).is_err() {
                    interrupt::err_line(s);
                }
            }
            None => interrupt::err_line(s),
        }
    }

    fn info(&self, s: &str) {
        if !self.quiet {
            self.line(s);
        }
    }

    fn set_running(&self, name: &str, on: bool) {
        if let Ok(mut r) = self.running.lock() {
            if on {
                r.insert(name.to_string());
            } else {
                r.remove(name);
            }
            if let Some(bar) = &self.bar {
                bar.set_message(r.iter().cloned().collect::<Vec<_>>().join(", "));
            }
        }
    }

    fn finished(&self, name: &str, secs: f64, verb: &str, cached: bool) {
        let k = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        let tag = if cached { " (cached)" } else { "" };
        self.info(&format!(
            "[{k}/{}] {name} ... {verb} {secs:.2} s{tag}",
            self.total
        ));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

enum Outcome {
    Cached,
    Ran(Box<LockEntry>),
    Failed(anyhow::Error),
}

struct Ctx<'a> {
    p: &'a Pipeline,
    bins: &'a [Option<Binary>],
    rep: &'a Reporter,
    opts: &'a RunOpts,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Check one stage and run it when needed.
fn work(cx: &Ctx<'_>, i: usize, entry: Option<&LockEntry>, up: &UpstreamState) -> Outcome {
    match work_inner(cx, i, entry, up) {
        Ok(o) => o,
        Err(e) => Outcome::Failed(e),
    }
}

fn work_inner(
    cx: &Ctx<'_>,
    i: usize,
    entry: Option<&LockEntry>,
    up: &UpstreamState,
) -> Result<Outcome> {
    let p = cx.p;
    let s = &p.stages[i];
    let bin = cx.bins[i]
        .as_ref()
        .ok_or_else(|| anyhow!("stage `{}`: binary `{}` not found", s.name, s.run))?;
    let ev = cache::evaluate(p, i, entry, Some(bin), up, cx.opts.force)?;
    if !ev.missing.is_empty() {
        let what: Vec<String> = ev
            .missing
            .iter()
            .map(|m| match p.producer_of(m) {
                Some(u) => format!(
                    "`{m}` (output of stage `{}`, not selected or not run)",
                    p.stages[u].name
                ),
                None => format!("`{m}`"),
            })
            .collect();
        anyhow::bail!("stage `{}`: missing input {}", s.name, what.join(", "));
    }
    if ev.reasons.is_empty() {
        return Ok(Outcome::Cached);
    }
    cx.rep
        .info(&format!("{}: running ({})", s.name, ev.reasons.join("; ")));
    if let Some(sig) = interrupt::requested() {
        return Err(anyhow::Error::new(Interrupted(sig)));
    }
    for f in s.output_files() {
        if let Some(dir) = p.abs(f).parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
    }
    let args = s.args();
    let mut cmd = Command::new(&bin.path);
    cmd.args(&args);
    if let Some(n) = cx.opts.threads {
        cmd.arg("--threads").arg(n.to_string());
    }
    if cx.opts.quiet {
        cmd.arg("--quiet");
    }
    // A process group of its own: the terminal's Ctrl-C reaches the runner
    // only, which forwards it to the whole group (see `interrupt`).
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    // The stage reports every file it read here (cevns_io::inputs).
    let report = tempfile::Builder::new()
        .prefix("inputs-")
        .tempfile_in(cache::state_dir(&p.root))
        .with_context(|| format!("stage `{}`: cannot create a temporary file", s.name))?;
    cmd.env(cevns_io::inputs::INPUTS_ENV, report.path());
    cmd.current_dir(&p.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("stage `{}`: cannot start `{}`", s.name, bin.path.display()))?;
    let prefix = if cx.opts.jobs > 1 {
        format!("[{}] ", s.name)
    } else {
        String::new()
    };
    let streams: Vec<Box<dyn std::io::Read + Send>> = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut stopped_by = None;
    let status = std::thread::scope(|sc| {
        for stream in streams {
            let prefix = &prefix;
            sc.spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .split(b'\n')
                    .map_while(Result::ok)
                {
                    let text = String::from_utf8_lossy(&line);
                    cx.rep
                        .line(&format!("{prefix}{}", text.trim_end_matches('\r')));
                }
            });
        }
        // Poll so that SIGINT/SIGTERM/EPIPE can be forwarded to the stage.
        loop {
            if let Some(st) = child.try_wait()? {
                return Ok(st);
            }
            if let Some(sig) = interrupt::requested() {
                stopped_by = Some(sig);
                return interrupt::stop_child(&mut child, sig, STOP_GRACE);
            }
            std::thread::sleep((start.elapsed() / 10).clamp(POLL_MIN, POLL));
        }
    })
    .with_context(|| format!("stage `{}`: cannot wait for the process", s.name))?;
    if let Some(sig) = stopped_by {
        return Err(
            anyhow::Error::new(Interrupted(sig)).context(format!("stage `{}` stopped", s.name))
        );
    }
    let duration = start.elapsed().as_secs_f64();
    if !status.success() {
        let how = match status.code() {
            Some(c) => format!("exit code {c}"),
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    format!("signal {}", status.signal().unwrap_or(0))
                }
                #[cfg(not(unix))]
                {
                    "no exit code".to_string()
                }
            }
        };
        // Exit 2 is the stage rejecting its input or arguments (e.g. a
        // `--set` it cannot take): the run fails as bad input too.
        if status.code() == Some(2) {
            return Err(bad_input(format!(
                "stage `{}` failed with {how} (bad input or usage)",
                s.name
            )));
        }
        anyhow::bail!("stage `{}` failed with {how}", s.name);
    }
    let outputs = cache::hash_outputs(p, s)?;
    let (discovered, warning) = cache::discovered_inputs(p, s, report.path())?;
    if let Some(w) = warning {
        cx.rep.line(&format!("warning: stage `{}`: {w}", s.name));
    }
    Ok(Outcome::Ran(Box::new(LockEntry {
        run: s.run.clone(),
        binary: bin.path.to_string_lossy().into_owned(),
        binary_sha256: bin.sha256.clone(),
        args,
        params: s.params.clone(),
        inputs: ev.inputs,
        depends: ev.depends,
        discovered,
        outputs,
        finished_unix: now_unix(),
        duration_s: duration,
    })))
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Waiting,
    Running,
    Done,
    Failed,
}

/// `cevns run` (after validation and with the run lock held).
pub fn run(p: &Pipeline, opts: &RunOpts) -> Result<()> {
    let selected = selection(p, &opts.only, opts.from.as_deref())?;
    let bins = binaries(p, &selected)?;
    let mut lock = LockFile::load(p);

    if opts.dry_run {
        let plan = plan(p, &lock, &bins, &selected, opts.force)?;
        let mut n = 0;
        for (i, ev) in &plan {
            let s = &p.stages[*i];
            if ev.reasons.is_empty() {
                interrupt::out(&format!("up to date: {}\n", s.name))?;
            } else {
                n += 1;
                interrupt::out(&format!(
                    "would run {}: {}\n",
                    s.name,
                    ev.reasons.join("; ")
                ))?;
                let prog = bins[*i]
                    .as_ref()
                    .map_or(s.run.clone(), |b| b.path.to_string_lossy().into_owned());
                interrupt::out(&format!("    $ {}\n", display_command(&prog, &s.args())))?;
            }
        }
        interrupt::out(&format!(
            "{n} of {} selected stage(s) would run\n",
            plan.len()
        ))?;
        return Ok(());
    }

    // Validate fully before running anything: every selected binary exists.
    let missing: Vec<String> = selected
        .iter()
        .filter(|&&i| bins[i].is_none())
        .map(|&i| format!("`{}` (stage `{}`)", p.stages[i].run, p.stages[i].name))
        .collect();
    if !missing.is_empty() {
        let dir =
            cache::exe_dir().map_or_else(String::new, |d| format!(" next to {} or", d.display()));
        return Err(bad_input(format!(
            "stage binary not found{dir} on PATH: {}",
            missing.join(", ")
        )));
    }

    let rep = Reporter::new(selected.len(), opts.quiet);
    let cx = Ctx {
        p,
        bins: &bins,
        rep: &rep,
        opts,
    };
    let n = p.stages.len();
    let mut state = vec![State::Waiting; n];
    let mut reran = BTreeSet::new();
    let mut failures: Vec<anyhow::Error> = Vec::new();
    let jobs = opts.jobs.max(1);
    let t0 = Instant::now();
    let mut ran = 0usize;
    let mut cached = 0usize;

    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Outcome, f64)>();
        let mut running = 0usize;
        loop {
            while failures.is_empty() && running < jobs && interrupt::requested().is_none() {
                let ready = (0..n).find(|&i| {
                    selected.contains(&i)
                        && state[i] == State::Waiting
                        && p.stages[i]
                            .upstream
                            .iter()
                            .all(|u| !selected.contains(u) || state[*u] == State::Done)
                });
                let Some(i) = ready else { break };
                state[i] = State::Running;
                running += 1;
                let name = p.stages[i].name.clone();
                rep.set_running(&name, true);
                let entry = lock.stages.get(&name).cloned();
                let up = UpstreamState {
                    pending: BTreeSet::new(),
                    reran: reran.clone(),
                };
                let tx = tx.clone();
                let cx = &cx;
                sc.spawn(move || {
                    let t = Instant::now();
                    let out = work(cx, i, entry.as_ref(), &up);
                    let _ = tx.send((i, out, t.elapsed().as_secs_f64()));
                });
            }
            if running == 0 {
                break;
            }
            let Ok((i, out, secs)) = rx.recv() else { break };
            running -= 1;
            let name = p.stages[i].name.clone();
            rep.set_running(&name, false);
            match out {
                Outcome::Cached => {
                    state[i] = State::Done;
                    cached += 1;
                    rep.finished(&name, secs, "done", true);
                }
                Outcome::Ran(entry) => {
                    state[i] = State::Done;
                    ran += 1;
                    reran.insert(i);
                    lock.stages.insert(name.clone(), *entry);
                    if let Err(e) = lock.save(p) {
                        failures.push(e.context(format!(
                            "stage `{name}` ran but its lock record was not saved"
                        )));
                    }
                    rep.finished(&name, secs, "done", false);
                }
                Outcome::Failed(e) => {
                    state[i] = State::Failed;
                    rep.finished(&name, secs, "FAILED after", false);
                    // Never trust an earlier record of a stage that just failed.
                    if lock.stages.remove(&name).is_some()
                        && let Err(e2) = lock.save(p)
                    {
                        rep.line(&format!("warning: {e2:#}"));
                    }
                    failures.push(e);
                }
            }
        }
    });
    rep.finish();

    if let Some(sig) = interrupt::requested() {
        // Stages stopped by the signal were not recorded in the lock; their
        // outputs were removed by the stages (or their temporaries are
        // removed by the next run).
        return Err(anyhow::Error::new(Interrupted(sig)));
    }
    if let Some(first) = failures.into_iter().next() {
        let not_run: Vec<&str> = (0..n)
            .filter(|&i| selected.contains(&i) && state[i] == State::Waiting)
            .map(|i| p.stages[i].name.as_str())
            .collect();
        if !not_run.is_empty() {
            interrupt::err_line(&format!("not run: {}", not_run.join(", ")));
        }
        return Err(first);
    }
    rep.info(&format!(
        "pipeline `{}`: {} stage(s), {ran} ran, {cached} up to date, {:.2} s",
        p.name,
        selected.len(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// `cevns status`: which stages are up to date. Returns the number of stale stages.
pub fn status(p: &Pipeline) -> Result<usize> {
    let all: BTreeSet<usize> = (0..p.stages.len()).collect();
    let bins = binaries(p, &all)?;
    let lock = LockFile::load(p);
    let plan = plan(p, &lock, &bins, &all, false)?;
    let width = p.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut stale = 0;
    for (i, ev) in &plan {
        let name = &p.stages[*i].name;
        if ev.reasons.is_empty() {
            interrupt::out(&format!("{name:<width$}  up to date\n"))?;
        } else {
            stale += 1;
            interrupt::out(&format!(
                "{name:<width$}  stale: {}\n",
                ev.reasons.join("; ")
            ))?;
        }
    }
    interrupt::out(&format!(
        "{} of {} stage(s) up to date (lock: {})\n",
        plan.len() - stale,
        plan.len(),
        cache::lock_path(p).display()
    ))?;
    Ok(stale)
}

/// Is `name` a temporary file of an atomic write (`cevns_io::OutputSet`)?
pub fn is_stage_temp(name: &str) -> bool {
    name.starts_with(".cevns-") && name.ends_with(".tmp")
}

/// Remove temporaries (`.cevns-*.tmp`) that a killed stage left beside the
/// pipeline's outputs. Called with the run lock held, so no stage of this
/// root is writing them. Returns how many were removed.
pub fn remove_stale_temps(p: &Pipeline, quiet: bool) -> usize {
    let mut dirs = BTreeSet::new();
    for s in &p.stages {
        for o in &s.outputs {
            let abs = p.abs(&o.path);
            if abs.is_dir() {
                dirs.insert(abs.clone());
            }
            for f in &o.files {
                if let Some(d) = p.abs(f).parent() {
                    dirs.insert(d.to_path_buf());
                }
            }
        }
    }
    let mut removed = 0;
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if is_stage_temp(&name.to_string_lossy())
                && e.file_type().is_ok_and(|t| t.is_file())
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
                if !quiet {
                    interrupt::err_line(&format!(
                        "removed stale temporary {} (left by a killed stage)",
                        e.path().display()
                    ));
                }
            }
        }
    }
    removed
}

/// `cevns clean`: remove declared outputs and the lock.
pub fn clean(p: &Pipeline, quiet: bool) -> Result<()> {
    let mut removed = 0;
    for s in &p.stages {
        for o in &s.outputs {
            for f in &o.files {
                let abs = p.abs(f);
                let res = if abs.is_dir() {
                    std::fs::remove_dir_all(&abs)
                } else {
                    std::fs::remove_file(&abs)
                };
                match res {
                    Ok(()) => {
                        removed += 1;
                        if !quiet {
                            eprintln!("removed {f}");
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot remove `{}`", abs.display()));
                    }
                }
            }
            if o.files.len() != 1 || o.files[0] != o.path {
                // A directory output with products: remove it when now empty.
                let _ = std::fs::remove_dir(p.abs(&o.path));
            }
        }
    }
    let lock = cache::lock_path(p);
    match std::fs::remove_file(&lock) {
        Ok(()) => {
            if !quiet {
                eprintln!("removed {}", lock.display());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove `{}`", lock.display())),
    }
    if !quiet {
        eprintln!("pipeline `{}`: removed {removed} output file(s)", p.name);
    }
    Ok(())
}
