//! `cevns dag` (text / dot / mermaid), `cevns export --snakemake` and
//! `cevns export --cwl` (in `export/cwl.rs`).

pub mod cwl;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::exec::shell_quote;
use crate::spec::{Pipeline, Stage};

/// Resources of one run of a stage on a batch system: the pipeline's
/// `resources:` over the defaults of the stage binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Threads (cores), passed to the stage as `--threads`.
    pub threads: u32,
    /// Peak memory, MB.
    pub mem_mb: u64,
    /// Wall-time limit, minutes.
    pub runtime_min: u64,
}

/// Defaults per stage binary: (threads, mem MB, minutes). Peak RSS of the
/// paper pipeline's stages is below 200 MB (measured with `/usr/bin/time
/// -v`); the defaults leave a wide margin for larger grids. The stages that
/// use rayon (xsec-tables, rate-convolve, quench-smear, chi2-scan) get 2
/// threads. Unknown binaries: 1 thread, 1 GB, 1 hour.
fn default_needs(run: &str) -> Needs {
    let bin = run.rsplit('/').next().unwrap_or(run);
    let (threads, mem_mb, runtime_min) = match bin {
        "flux-prep" | "report" => (1, 500, 10),
        "xsec-tables" | "rate-convolve" | "quench-smear" => (2, 1000, 10),
        "chi2-scan" => (2, 1000, 30),
        "plot" => (1, 1000, 10),
        "compare" => (1, 2000, 10),
        _ => (1, 1000, 60),
    };
    Needs {
        threads,
        mem_mb,
        runtime_min,
    }
}

/// What a stage needs: its `resources:` block over the binary's defaults.
pub fn needs(s: &Stage) -> Needs {
    let d = default_needs(&s.run);
    Needs {
        threads: s.resources.threads.unwrap_or(d.threads),
        mem_mb: s.resources.mem_mb.unwrap_or(d.mem_mb),
        runtime_min: s.resources.runtime_min.unwrap_or(d.runtime_min),
    }
}

/// Output flags that name a directory: a stage with `products`, or a flag
/// ending in `dir` (`--out-dir` of plot and compare). The Snakefile declares
/// them as `directory(...)` (without `products`), CWL as `Directory`.
pub(crate) fn is_dir_output(st: &Stage, flag: &str) -> bool {
    st.outputs
        .iter()
        .any(|o| o.flag == flag && (o.files.len() != 1 || o.files[0] != o.path))
        || flag.ends_with("dir")
}

/// Output format of `cevns dag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DagFormat {
    Text,
    Dot,
    Mermaid,
}

fn downstream(p: &Pipeline, i: usize) -> Vec<usize> {
    (0..p.stages.len())
        .filter(|&j| p.stages[j].upstream.contains(&i))
        .collect()
}

/// Files stage `u` writes that stage `d` reads.
fn edge_files(p: &Pipeline, u: usize, d: usize) -> Vec<String> {
    let s = &p.stages[d];
    let mut files: Vec<String> = s
        .input_files()
        .chain(s.depends.iter())
        .filter(|f| p.producer_of(f) == Some(u))
        .map(|f| {
            Path::new(f)
                .file_name()
                .map_or_else(|| f.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    files.dedup();
    files
}

/// Render the DAG.
pub fn dag(p: &Pipeline, format: DagFormat) -> String {
    let mut out = String::new();
    match format {
        DagFormat::Text => {
            let _ = writeln!(out, "{}", p.name);
            let roots: Vec<usize> = (0..p.stages.len())
                .filter(|&i| p.stages[i].upstream.is_empty())
                .collect();
            let mut seen = BTreeSet::new();
            for (k, &r) in roots.iter().enumerate() {
                tree(p, r, "", k + 1 == roots.len(), &mut seen, &mut out);
            }
        }
        DagFormat::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{", p.name);
            let _ = writeln!(out, "  rankdir=LR;\n  node [shape=box];");
            for s in &p.stages {
                let _ = writeln!(out, "  \"{}\";", s.name);
            }
            for (d, s) in p.stages.iter().enumerate() {
                for &u in &s.upstream {
                    let _ = writeln!(
                        out,
                        "  \"{}\" -> \"{}\" [label=\"{}\"];",
                        p.stages[u].name,
                        s.name,
                        edge_files(p, u, d).join("\\n")
                    );
                }
            }
            out.push_str("}\n");
        }
        DagFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            let id = |i: usize| format!("s{i}");
            for (i, s) in p.stages.iter().enumerate() {
                let _ = writeln!(out, "  {}[\"{}\"]", id(i), s.name);
            }
            for (d, s) in p.stages.iter().enumerate() {
                for &u in &s.upstream {
                    let _ = writeln!(
                        out,
                        "  {} -->|{}| {}",
                        id(u),
                        edge_files(p, u, d).join(", "),
                        id(d)
                    );
                }
            }
        }
    }
    out
}

fn tree(
    p: &Pipeline,
    i: usize,
    indent: &str,
    last: bool,
    seen: &mut BTreeSet<usize>,
    out: &mut String,
) {
    let branch = if last { "└── " } else { "├── " };
    let s = &p.stages[i];
    let again = !seen.insert(i);
    let extra = if again {
        " (see above)".to_string()
    } else if s.upstream.len() > 1 {
        let ups: Vec<&str> = s
            .upstream
            .iter()
            .map(|&u| p.stages[u].name.as_str())
            .collect();
        format!("  [needs {}]", ups.join(", "))
    } else {
        String::new()
    };
    let _ = writeln!(out, "{indent}{branch}{}{extra}", s.name);
    if again {
        return;
    }
    let kids = downstream(p, i);
    let child_indent = format!("{indent}{}", if last { "    " } else { "│   " });
    for (k, &c) in kids.iter().enumerate() {
        tree(p, c, &child_indent, k + 1 == kids.len(), seen, out);
    }
}

const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// A Python identifier from a stage or flag name.
fn ident(s: &str) -> String {
    let mut id: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    if PY_KEYWORDS.contains(&id.as_str())
        || [
            "all", "input", "output", "params", "threads", "depends", "products", "nested",
        ]
        .contains(&id.as_str())
    {
        id.push('_');
    }
    id
}

/// A Python string literal (JSON strings are valid Python literals).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Escape braces for Snakemake's `str.format` of paths and shell commands.
fn braces(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// A Snakefile with one rule per stage; commands identical to the native
/// runner's (same binary, same flags, same root-relative paths).
/// `nested[i]`: files stage `i` reads that are named inside its inputs
/// (from the stage's `--list-inputs`), declared as the rule's `nested` input.
pub fn snakemake(
    p: &Pipeline,
    pipeline_file: &str,
    bin_dir: &str,
    nested: &[Vec<String>],
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Generated by `cevns export --snakemake` from {pipeline_file}; do not edit."
    );
    if let Some(d) = &p.description {
        let _ = writeln!(o, "# {}: {}", p.name, d.replace('\n', " "));
    }
    o.push_str(
        "#\n# Run from the repository root (all paths are relative to it), e.g.\n\
         #   snakemake -s Snakefile --cores 4\n\
         #   snakemake -s Snakefile --profile profiles/local-cluster   # batch-style\n\
         # Stage binaries are looked up in config[\"cevns_bin\"] (override with\n\
         # --config cevns_bin=/path/to/target/release). Each rule declares the\n\
         # threads, memory (mem_mb) and wall time (runtime, minutes) its stage\n\
         # needs (the pipeline's `resources:` or the stage's defaults);\n\
         # --config threads=N overrides the threads of every rule.\n\n",
    );
    let _ = writeln!(
        o,
        "CEVNS_BIN = config.get(\"cevns_bin\", {})",
        py_str(bin_dir)
    );
    o.push_str(
        "\n\ndef _threads(n):\n    return int(config[\"threads\"]) if \"threads\" in config else n\n\n\n",
    );

    o.push_str("rule all:\n    input:\n");
    for s in &p.stages {
        for f in s.output_files() {
            let _ = writeln!(o, "        {},", py_str(&braces(f)));
        }
    }
    o.push('\n');

    let mut used = BTreeSet::new();
    for (i, s) in p.stages.iter().enumerate() {
        let nested = nested.get(i).map_or(&[][..], Vec::as_slice);
        // A shard `stage[value]` is a rule `stage__value` of its own.
        let base = match &s.shard {
            Some(sh) => ident(&format!("{}__{}", sh.stage, sh.safe)),
            None => ident(&s.name),
        };
        let mut rule = base.clone();
        let mut k = 2;
        while !used.insert(rule.clone()) {
            rule = format!("{base}_{k}");
            k += 1;
        }
        let _ = writeln!(o, "rule {rule}:");
        if !s.inputs.is_empty() || !s.depends.is_empty() || !nested.is_empty() {
            o.push_str("    input:\n");
            for (k, v) in &s.inputs {
                if let [one] = v.as_slice() {
                    let _ = writeln!(o, "        {}={},", ident(k), py_str(&braces(one)));
                } else {
                    let list: Vec<String> = v.iter().map(|f| py_str(&braces(f))).collect();
                    let _ = writeln!(o, "        {}=[{}],", ident(k), list.join(", "));
                }
            }
            if !s.depends.is_empty() {
                let list: Vec<String> = s.depends.iter().map(|d| py_str(&braces(d))).collect();
                let _ = writeln!(o, "        depends=[{}],", list.join(", "));
            }
            if !nested.is_empty() {
                let list: Vec<String> = nested.iter().map(|d| py_str(&braces(d))).collect();
                let _ = writeln!(o, "        nested=[{}],", list.join(", "));
            }
        }
        o.push_str("    output:\n");
        for out in &s.outputs {
            if out.files.len() == 1 && out.files[0] == out.path {
                // A directory without declared products (compare's
                // `--out-dir` in a sweep): Snakemake tracks it as a whole.
                let path = py_str(&braces(&out.path));
                let path = if is_dir_output(s, &out.flag) {
                    format!("directory({path})")
                } else {
                    path
                };
                let _ = writeln!(o, "        {}={path},", ident(&out.flag));
            } else {
                let list: Vec<String> = out.files.iter().map(|f| py_str(&braces(f))).collect();
                let _ = writeln!(o, "        {}=[{}],", ident(&out.flag), list.join(", "));
            }
        }
        if !s.params.is_empty() {
            o.push_str("    params:\n");
            for (k, v) in &s.params {
                let _ = writeln!(o, "        {}={},", ident(k), py_str(v));
            }
        }
        let n = needs(s);
        let _ = writeln!(o, "    threads: _threads({})", n.threads);
        let _ = writeln!(
            o,
            "    resources:\n        mem_mb={},\n        runtime={},",
            n.mem_mb, n.runtime_min
        );
        o.push_str("    shell:\n");
        let args: Vec<String> = s.args().iter().map(|a| braces(&shell_quote(a))).collect();
        let tail = format!(" {} --threads {{threads}}", args.join(" "));
        if s.run.contains('/') {
            let _ = writeln!(
                o,
                "        {}\n",
                py_str(&format!("{}{tail}", braces(&shell_quote(&s.run))))
            );
        } else {
            let _ = writeln!(
                o,
                "        CEVNS_BIN + {}\n",
                py_str(&format!("/{}{tail}", s.run))
            );
        }
    }
    o
}
