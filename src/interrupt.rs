//! Stopping a run cleanly: SIGINT, SIGTERM and a closed output pipe.
//!
//! The handlers only set a flag. The scheduler then starts no new stage, the
//! running stages' process groups get the same signal (each stage runs in a
//! process group of its own, so the terminal's Ctrl-C reaches the runner only
//! and the runner decides), the runner waits for them, drops the run lock and
//! exits with 128 + signal. A second SIGINT/SIGTERM while stopping exits at
//! once (the dead runner's lock is recognised as stale by the next run).
//!
//! A closed stdout/stderr (EPIPE, e.g. `cevns run … 2>&1 | head -1`) is
//! treated like SIGPIPE: the run stops the same way, without printing.

use std::io::Write;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// SIGINT.
pub const SIGINT: i32 = signal_hook::consts::SIGINT;
/// SIGTERM.
pub const SIGTERM: i32 = signal_hook::consts::SIGTERM;
/// SIGPIPE (recorded when an output pipe is closed; never installed).
pub const SIGPIPE: i32 = signal_hook::consts::SIGPIPE;

struct Flags {
    /// The first signal received (0: none).
    signal: Arc<AtomicUsize>,
    /// Set by any signal; a second one then terminates at once.
    stopping: Arc<AtomicBool>,
}

fn flags() -> &'static Flags {
    static F: OnceLock<Flags> = OnceLock::new();
    F.get_or_init(|| Flags {
        signal: Arc::new(AtomicUsize::new(0)),
        stopping: Arc::new(AtomicBool::new(false)),
    })
}

/// Install the SIGINT/SIGTERM handlers (call once, before running stages).
pub fn install() -> anyhow::Result<()> {
    let f = flags();
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the shutdown check sees the flag of an earlier signal.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&f.stopping))?;
        signal_hook::flag::register(sig, Arc::clone(&f.stopping))?;
        // Remember the first signal only.
        let slot = Arc::clone(&f.signal);
        signal_hook::flag::register_usize(sig, slot, sig as usize)?;
    }
    Ok(())
}

/// Record a stop request (used for EPIPE on our own output).
pub fn request(sig: i32) {
    let f = flags();
    let _ = f
        .signal
        .compare_exchange(0, sig as usize, Ordering::SeqCst, Ordering::SeqCst);
    f.stopping.store(true, Ordering::SeqCst);
}

/// The signal that asked the run to stop, if any.
pub fn requested() -> Option<i32> {
    match flags().signal.load(Ordering::SeqCst) {
        0 => None,
        s => i32::try_from(s).ok(),
    }
}

/// Human name of a signal for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGPIPE => "a closed output pipe",
        _ => "a signal",
    }
}

/// Error returned by a run that was stopped by a signal or a closed pipe.
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", name(self.0))
    }
}

impl std::error::Error for Interrupted {}

/// Send `sig` to the process group `pgid` (a stage started with its own group).
pub fn signal_group(pgid: u32, sig: i32) {
    let (Ok(raw), Some(s)) = (
        i32::try_from(pgid),
        rustix::process::Signal::from_named_raw(sig),
    ) else {
        return;
    };
    if let Some(pid) = rustix::process::Pid::from_raw(raw) {
        let _ = rustix::process::kill_process_group(pid, s);
    }
}

/// Stop a running stage: forward `sig` to its process group, wait up to
/// `grace` for it to exit, then SIGKILL the group. Returns its status.
pub fn stop_child(
    child: &mut std::process::Child,
    sig: i32,
    grace: Duration,
) -> std::io::Result<std::process::ExitStatus> {
    let pgid = child.id();
    // SIGPIPE would not stop a stage that writes nothing: use SIGTERM.
    let fwd = if sig == SIGPIPE { SIGTERM } else { sig };
    signal_group(pgid, fwd);
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        if t.elapsed() > grace {
            signal_group(pgid, signal_hook::consts::SIGKILL);
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Write a line to stderr; on a closed pipe, request a stop instead of
/// panicking like `eprintln!`.
pub fn err_line(s: &str) {
    let mut e = std::io::stderr().lock();
    if writeln!(e, "{s}").is_err() {
        request(SIGPIPE);
    }
}

/// Stdout was closed by the reader (`cevns status | head -1`): the command
/// ends quietly with exit 0, like a tool killed by SIGPIPE ends the pipe.
#[derive(Debug)]
pub struct ClosedStdout;

impl std::fmt::Display for ClosedStdout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout closed")
    }
}

impl std::error::Error for ClosedStdout {}

/// Write to stdout; a closed pipe returns [`ClosedStdout`].
pub fn out(s: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(ClosedStdout))
        }
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
    }
}
