//! Exclusive run lock: `<root>/.cevns/run.lock`, created with O_EXCL and
//! holding the pid of the running `cevns`. A lock left by a dead process is
//! removed; one held by a live process makes the new run refuse (exit 1).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Held for the lifetime of a run; removes the lock file on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(true)
}

impl RunLock {
    pub fn acquire(state_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("cannot create `{}`", state_dir.display()))?;
        let path = state_dir.join("run.lock");
        for attempt in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id())
                        .with_context(|| format!("cannot write `{}`", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt == 0 => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if pid_alive(pid) => bail!(
                            "another cevns run (pid {pid}) holds `{}`; wait for it to finish \
                             (or remove the file if that process is not cevns)",
                            path.display()
                        ),
                        Ok(pid) => {
                            eprintln!("removing stale run lock of dead process {pid}");
                            let _ = std::fs::remove_file(&path);
                        }
                        Err(_) => {
                            // Being written right now, or garbage: give the writer a moment.
                            std::thread::sleep(std::time::Duration::from_millis(200));
                            let again = std::fs::read_to_string(&path).unwrap_or_default();
                            if again.trim().is_empty() || again.trim().parse::<u32>().is_err() {
                                eprintln!("removing unreadable run lock `{}`", path.display());
                                let _ = std::fs::remove_file(&path);
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => break,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot create the run lock `{}`", path.display())
                    });
                }
            }
        }
        bail!(
            "another cevns run holds `{}`; wait for it to finish",
            path.display()
        )
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
