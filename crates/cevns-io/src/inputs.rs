//! Every file a stage reads, reported to the runner.
//!
//! The loaders of this crate ([`crate::data::load_yaml`],
//! [`crate::data::read_numeric_table`], [`crate::data::load_dataset`],
//! [`crate::TableReader::open`], [`crate::fingerprint::file_sha256`]) call
//! [`record`] for every file they open, including files named *inside* an
//! input (spectrum tables named in a solar-model YAML, `.lmt` overlay tables
//! named in an overlays YAML, tabulated quenching/efficiency curves named in
//! a detector YAML). When the stage succeeds, [`crate::stage_main`] writes
//! the list to the file named by the environment variable [`INPUTS_ENV`] if
//! the runner set it. The runner hashes those files into its cache key, so no
//! pipeline needs a hand-kept list of nested files: what is hashed is, by
//! construction, what the stage read.
//!
//! Stages also take `--list-inputs` (see [`CommonArgs`](crate::stage::CommonArgs)):
//! print, one per line, every file they would read given their arguments
//! (inputs and the files named inside them, via [`list`]) and exit without
//! writing anything. `cevns export --snakemake` uses it to declare nested
//! files as rule inputs.
//!
//! Report format (UTF-8, one file per line, sorted by path):
//! `<sha256 or ->\t<path as the stage opened it>`. The hash is the SHA-256
//! of the bytes the stage actually read when the loader had them in memory
//! (YAML, CSV, numeric tables, Parquet), so an edit made while the stage
//! runs cannot be recorded as the version the outputs were computed from;
//! `-` when a file was only opened, not read whole, and the runner hashes it
//! itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::fingerprint::sha256_hex;

/// Environment variable naming the file the read-set is written to.
pub const INPUTS_ENV: &str = "CEVNS_INPUTS_FILE";

/// Header line of the report (format version).
pub const HEADER: &str = "# cevns-inputs v1";

static READS: Mutex<BTreeMap<PathBuf, Option<String>>> = Mutex::new(BTreeMap::new());

/// Record that `path` was read; `content`: the bytes read, when the caller
/// has them (their SHA-256 is recorded).
pub fn record(path: &Path, content: Option<&[u8]>) {
    record_hash(path, content.map(sha256_hex));
}

/// Record that `path` was read, with the SHA-256 of its content when the
/// caller already computed it.
pub fn record_hash(path: &Path, sha: Option<String>) {
    if let Ok(mut m) = READS.lock() {
        match m.get_mut(path) {
            // Keep a known hash; a later streamed read does not erase it.
            Some(old) => {
                if sha.is_some() {
                    *old = sha;
                }
            }
            None => {
                m.insert(path.to_path_buf(), sha);
            }
        }
    }
}

/// The SHA-256 recorded for `path`'s content, if it was read whole.
pub fn recorded_hash(path: &Path) -> Option<String> {
    READS.lock().ok()?.get(path).cloned().flatten()
}

/// Every file recorded so far, sorted, with the hash of its content when known.
pub fn recorded() -> Vec<(PathBuf, Option<String>)> {
    READS
        .lock()
        .map(|m| m.iter().map(|(p, s)| (p.clone(), s.clone())).collect())
        .unwrap_or_default()
}

/// The report text for `reads`.
pub fn render(reads: &[(PathBuf, Option<String>)]) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for (p, sha) in reads {
        let p = p.to_string_lossy();
        if p.contains('\n') {
            continue;
        }
        s.push_str(sha.as_deref().unwrap_or("-"));
        s.push('\t');
        s.push_str(&p);
        s.push('\n');
    }
    s
}

/// Parse a report: (path, sha256 if recorded). Lines that do not follow the
/// format are errors (the runner then ignores the report and says so).
pub fn parse(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!("first line is not `{HEADER}`"));
    }
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let (sha, path) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected `<sha256 or ->\\t<path>`", i + 2))?;
        if path.is_empty() {
            return Err(format!("line {}: empty path", i + 2));
        }
        let sha = match sha {
            "-" => None,
            s if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => Some(s.to_string()),
            s => return Err(format!("line {}: `{s}` is not a sha256", i + 2)),
        };
        out.push((path.to_string(), sha));
    }
    Ok(out)
}

/// Write the report to `$CEVNS_INPUTS_FILE` when the runner asked for it.
pub fn write_report_if_requested() -> std::io::Result<()> {
    let Some(dest) = std::env::var_os(INPUTS_ENV) else {
        return Ok(());
    };
    if dest.is_empty() {
        return Ok(());
    }
    std::fs::write(PathBuf::from(dest), render(&recorded()))
}

/// One input of a stage, for `--list-inputs`: a plain file, or a file whose
/// loader reads further files named inside it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A file read as is (a Parquet table, a YAML without nested files, a
    /// CSV). Listed without being opened (it may not exist yet).
    File(&'a Path),
    /// A solar-model YAML and the spectrum tables it names.
    SolarModel(&'a Path),
    /// A solar-model YAML with some continuum tables replaced.
    SolarModelWith(&'a Path, &'a [crate::data::ContinuumOverride]),
    /// A detector YAML and its tabulated quenching/efficiency curves.
    Detector(&'a Path),
    /// An overlays YAML and the `.lmt` tables it names.
    Overlays(&'a Path),
}

/// Every file the inputs name, resolved by the same loaders the stages use
/// (so exactly the files the stage would read), in argument order, without
/// duplicates. Reads the YAML files with nested files; nothing else.
pub fn list(inputs: &[Input<'_>]) -> crate::error::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut push = |p: PathBuf| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    for i in inputs {
        match *i {
            Input::File(p) => push(p.to_path_buf()),
            Input::SolarModel(p) => {
                for f in crate::data::load_solar_model(p)?.files {
                    push(f);
                }
            }
            Input::SolarModelWith(p, o) => {
                for f in crate::data::load_solar_model_with(p, o)?.files {
                    push(f);
                }
            }
            Input::Detector(p) => {
                push(p.to_path_buf());
                for f in crate::data::load_detector(p)?.extra_files(p) {
                    push(f);
                }
            }
            Input::Overlays(p) => {
                push(p.to_path_buf());
                for o in crate::data::Overlays::load(p)?.overlays {
                    push(o.file);
                }
            }
        }
    }
    Ok(out)
}

/// `--list-inputs`: print [`list`] on stdout, one path per line.
pub fn print_list(inputs: &[Input<'_>]) -> anyhow::Result<()> {
    use std::io::Write;
    let files = list(inputs)?;
    let mut text = String::new();
    for f in files {
        text.push_str(&f.to_string_lossy());
        text.push('\n');
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write the input list: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn render_parse_roundtrip() {
        let reads = vec![
            (PathBuf::from("a/b.yaml"), Some(sha256_hex(b"x"))),
            (PathBuf::from("c.parquet"), None),
        ];
        let text = render(&reads);
        let back = parse(&text).unwrap();
        assert_eq!(back[0], ("a/b.yaml".to_string(), Some(sha256_hex(b"x"))));
        assert_eq!(back[1], ("c.parquet".to_string(), None));
        assert!(parse("nope\n").is_err());
        assert!(parse(&format!("{HEADER}\nzz\tp\n")).is_err());
        assert!(parse(&format!("{HEADER}\nno-tab\n")).is_err());
    }

    #[test]
    fn record_keeps_known_hash() {
        let p = Path::new("/nonexistent/record_keeps_known_hash.yaml");
        record(p, Some(b"abc"));
        record(p, None);
        let r = recorded();
        let (_, sha) = r.iter().find(|(q, _)| q == p).unwrap();
        assert_eq!(sha.as_deref(), Some(sha256_hex(b"abc").as_str()));
    }
}
