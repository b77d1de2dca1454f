//! What every stage binary shares: provenance records, exit codes (0 ok,
//! 1 failure, 2 bad input or usage), logging to stderr, progress bars and the
//! `--threads` / `--quiet` options.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use parquet::file::metadata::KeyValue;
use serde_json::Value;

use crate::error::{IoError, Result};
use crate::fingerprint::file_sha256;

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
}

impl CommonArgs {
    /// Size the global rayon pool.
    pub fn init(&self) -> anyhow::Result<()> {
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

    /// Log a line to stderr unless `--quiet`.
    pub fn log(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
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
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {msg}")
        {
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
        let sha = file_sha256(path)?;
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
pub fn stage_main(name: &str, body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code_for(&e);
            eprintln!("{name}: error: {e:#}");
            ExitCode::from(code)
        }
    }
}
