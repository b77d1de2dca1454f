//! What every stage binary shares: provenance records, exit codes (0 ok,
//! 1 failure, 2 bad input or usage), logging to stderr, progress bars and the
//! `--threads` / `--quiet` options.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use parquet::file::metadata::KeyValue;
use serde_json::Value;

use crate::error::{IoError, Result};
use crate::fingerprint::input_sha256;

/// A bad-input error raised by a stage itself (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Shorthand: `Err(bad_input(format!(...)))?`.
pub fn bad_input(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(msg.into()))
}

/// Options shared by all stages.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Worker threads for parallel work (default: all cores). Snakemake
    /// passes `{threads}` here.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but errors on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print every file this stage would read with these arguments (its
    /// input files and the files named inside them, one per line) and exit
    /// without reading tables or writing anything.
    #[arg(long)]
    pub list_inputs: bool,
}

impl CommonArgs {
    /// Size the global rayon pool.
    ///
    /// Stages handle `--list-inputs` before calling this; reaching it with
    /// the flag set means the stage does not implement it (an error, never a
    /// full run).
    pub fn init(&self) -> anyhow::Result<()> {
        if self.list_inputs {
            return Err(bad_input("this stage does not implement --list-inputs"));
        }
        if let Some(n) = self.threads {
            if n == 0 {
                return Err(bad_input("--threads must be >= 1"));
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .map_err(|e| anyhow::anyhow!("cannot size the thread pool: {e}"))?;
        }
        Ok(())
    }

    /// Log a line to stderr unless `--quiet`. A closed stderr (EPIPE) is
    /// not an error of the stage: the line is dropped, the work goes on.
    pub fn log(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            err_line(msg.as_ref());
        }
    }

    /// A progress bar on stderr (hidden with `--quiet` or when stderr is
    /// not a terminal, e.g. in CI logs).
    pub fn progress(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        if self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::with_draw_target(
            Some(len),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix:>14} [{bar:30}] {pos}/{len} ETA {eta} {msg}",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_prefix(what.to_string());
        pb
    }
}

/// Where an output came from: stage, tool version, parameters, input
/// fingerprints and stage-specific facts.
#[derive(Debug, Clone)]
pub struct Provenance {
    stage: String,
    params: BTreeMap<String, Value>,
    inputs: BTreeMap<String, Value>,
    extra: BTreeMap<String, Value>,
}

impl Provenance {
    /// Start a record for `stage`.
    pub fn new(stage: &str) -> Self {
        Self {
            stage: stage.to_string(),
            params: BTreeMap::new(),
            inputs: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Record a parameter.
    pub fn param(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.params.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// Record an extra fact (e.g. a calibrated constant).
    pub fn extra(mut self, key: &str, value: impl serde::Serialize) -> Self {
        self.extra.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// Record every field of a typed extras struct (e.g.
    /// [`crate::schema::LimitsExtra`]) as an extra fact; read it back with
    /// [`crate::TableReader::extra`].
    pub fn typed_extra(mut self, extra: &impl serde::Serialize) -> Self {
        if let Ok(Value::Object(map)) = serde_json::to_value(extra) {
            self.extra.extend(map);
        }
        self
    }

    /// Record an input file by role, with its content hash. Only the file
    /// name is kept, so that runs in different directories stay
    /// byte-identical.
    pub fn input(mut self, role: &str, path: &Path) -> Result<Self> {
        let sha = input_sha256(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.inputs.insert(
            role.to_string(),
            serde_json::json!({ "file": name, "sha256": sha }),
        );
        Ok(self)
    }

    /// Record several input files under one role (`role[0]`, `role[1]`, ...).
    pub fn inputs<'a>(
        mut self,
        role: &str,
        paths: impl IntoIterator<Item = &'a Path>,
    ) -> Result<Self> {
        for (i, p) in paths.into_iter().enumerate() {
            self = self.input(&format!("{role}[{i}]"), p)?;
        }
        Ok(self)
    }

    /// The stage name.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Key–value pairs for Parquet metadata, in a fixed order.
    pub fn key_values(&self) -> Vec<KeyValue> {
        let js = |m: &BTreeMap<String, Value>| serde_json::to_string(m).unwrap_or_default();
        vec![
            KeyValue::new("cevns.stage".to_string(), self.stage.clone()),
            KeyValue::new("cevns.version".to_string(), crate::TOOL_VERSION.to_string()),
            KeyValue::new("cevns.params".to_string(), js(&self.params)),
            KeyValue::new("cevns.inputs".to_string(), js(&self.inputs)),
            KeyValue::new("cevns.extra".to_string(), js(&self.extra)),
        ]
    }

    /// The same record as a JSON object (for CSV/Markdown side files).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "stage": self.stage,
            "version": crate::TOOL_VERSION,
            "params": self.params,
            "inputs": self.inputs,
            "extra": self.extra,
        })
    }
}

/// Parse the command line of a stage. On a usage error (unknown flag, bad
/// number, missing option) the outputs named on the command line by
/// `--out*` flags are removed before exiting with code 2, as for any other
/// failure: a stale file from an earlier run must not pass for this run's.
/// `--help` / `--version` print and exit 0 as usual.
pub fn parse_args<A: clap::Parser>() -> A {
    match A::try_parse() {
        Ok(a) => a,
        Err(e) => {
            if e.use_stderr() {
                let args: Vec<String> = std::env::args_os()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                remove_named_outputs(&args);
            }
            e.exit()
        }
    }
}

/// Remove the regular files given to `--out*` flags in `args` (and the
/// `.json` provenance sidecar of `--out-csv`). Directories are left alone.
pub fn remove_named_outputs(args: &[String]) -> Vec<std::path::PathBuf> {
    let mut removed = Vec::new();
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        let Some(flag) = a.strip_prefix("--").filter(|f| f.starts_with("out")) else {
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, v.to_string()),
            None => match it.peek() {
                Some(v) if !v.starts_with("--") => (flag, (*v).clone()),
                _ => continue,
            },
        };
        let mut files = vec![std::path::PathBuf::from(&value)];
        if name == "out-csv" {
            files.push(std::path::PathBuf::from(format!("{value}.json")));
        }
        for f in files {
            if f.is_file() && std::fs::remove_file(&f).is_ok() {
                removed.push(f);
            }
        }
    }
    removed
}

/// Write a line to stderr, ignoring a closed pipe (`eprintln!` would panic).
pub fn err_line(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}

/// Exit code for an error chain: 2 when the cause is bad input, 1 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<InputError>().is_some() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<IoError>() {
            return if e.is_input_error() { 2 } else { 1 };
        }
        if let Some(e) = cause.downcast_ref::<cevns_physics::PhysicsError>() {
            return match e {
                cevns_physics::PhysicsError::Numerical(_) => 1,
                _ => 2,
            };
        }
        if let Some(e) = cause.downcast_ref::<clap::Error>() {
            return if e.use_stderr() { 2 } else { 0 };
        }
    }
    1
}

/// Run a stage's body, print any error chain to stderr and map it to the
/// exit code.
///
/// On success, the files the stage read are reported to the runner when it
/// asked for them (see [`crate::inputs`]).
pub fn stage_main(name: &str, body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    let result = body().and_then(|()| {
        crate::inputs::write_report_if_requested().map_err(|e| {
            anyhow::anyhow!(
                "cannot write the list of files read to ${} ({e})",
                crate::inputs::INPUTS_ENV
            )
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code_for(&e);
            err_line(&format!("{name}: error: {e:#}"));
            ExitCode::from(code)
        }
    }
}
