//! `cevns export --cwl -o DIR`: the pipeline as CWL v1.2, one
//! `CommandLineTool` per stage (`DIR/<stage>.cwl`) and one `Workflow`
//! (`DIR/<pipeline>.cwl`).
//!
//! Every tool runs its binary (found on PATH) with the runner's command
//! line: the same flags in the same order and the same root-relative paths.
//! CWL runs each tool in a fresh directory, so the tool stages every file it
//! reads at its pipeline path (`InitialWorkDirRequirement` with `entryname`
//! = the path) and finds its outputs there (`glob` = the path): a tool
//! writes byte-identical files to the native runner's, and the stages
//! resolve files named inside their YAML inputs (spectra, overlays) the same
//! way. Files no stage writes are workflow inputs whose defaults point into
//! the repository by paths relative to DIR (no absolute path is written).
//!
//! A swept stage is one tool and one workflow step with `scatter` over the
//! swept param, its output paths and the inputs that differ between shards
//! (`scatterMethod: dotproduct`); a gathered input (`${sweep:STAGE}`) takes
//! the scattered step's output array.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde_yaml_ng::{Mapping, Value};

use crate::cache;
use crate::error::bad_input;
use crate::export::{is_dir_output, needs};
use crate::spec::{Pipeline, Stage};

/// A YAML mapping from key/value pairs, in order.
fn m<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Mapping::new();
    for (k, v) in pairs {
        map.insert(Value::String(k.to_string()), v);
    }
    Value::Mapping(map)
}

fn s(x: impl Into<String>) -> Value {
    Value::String(x.into())
}

fn seq(v: impl IntoIterator<Item = Value>) -> Value {
    Value::Sequence(v.into_iter().collect())
}

fn insert(map: &mut Value, key: &str, v: Value) {
    if let Value::Mapping(mm) = map {
        mm.insert(s(key), v);
    }
}

/// A CWL identifier from a flag, stage or path.
fn id(x: &str) -> String {
    let mut o: String = x
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if o.is_empty() || o.starts_with(|c: char| c.is_ascii_digit()) {
        o.insert(0, '_');
    }
    o
}

/// The CWL type and value of a rendered param: int, float or string
/// (lists are passed as their comma-joined string, as by the runner).
fn param_value(v: &str) -> (&'static str, Value) {
    let numeric = |c: char| c.is_ascii_digit() || "+-.eE".contains(c);
    if v.chars().all(numeric) {
        if let Ok(i) = v.parse::<i64>() {
            return ("int", Value::Number(i.into()));
        }
        if let Ok(f) = v.parse::<f64>()
            && f.is_finite()
        {
            return ("float", Value::Number(f.into()));
        }
    }
    ("string", s(v))
}

/// One stage as written (all shards of a swept stage).
struct Group {
    name: String,
    step: String,
    shards: Vec<usize>,
}

/// Where a file comes from in the workflow.
#[derive(Debug, Clone, PartialEq)]
enum Src {
    /// A workflow input.
    Wf(String),
    /// Output `out` of step `step`; `idx` = the shard when the step is scattered.
    Step {
        step: String,
        out: String,
        idx: Option<usize>,
    },
}

impl Src {
    fn source(&self) -> String {
        match self {
            Src::Wf(w) => w.clone(),
            Src::Step { step, out, .. } => format!("{step}/{out}"),
        }
    }
}

struct Ctx<'a> {
    p: &'a Pipeline,
    groups: Vec<Group>,
    /// stage index -> (group index, shard position).
    of: Vec<(usize, usize)>,
    /// workflow input id -> path (files no stage writes).
    wf_files: BTreeMap<String, String>,
    by_path: BTreeMap<String, String>,
    /// The deepest directory holding every output of the pipeline
    /// (`outputs/<name>`, or "" when they share none); see [`flat_name`].
    out_root: String,
}

impl<'a> Ctx<'a> {
    fn new(p: &'a Pipeline) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        let mut of = vec![(0, 0); p.stages.len()];
        for (i, st) in p.stages.iter().enumerate() {
            let name = st
                .shard
                .as_ref()
                .map_or_else(|| st.name.clone(), |sh| sh.stage.clone());
            match groups.iter().position(|g| g.name == name) {
                Some(g) => {
                    of[i] = (g, groups[g].shards.len());
                    groups[g].shards.push(i);
                }
                None => {
                    of[i] = (groups.len(), 0);
                    groups.push(Group {
                        step: id(&name),
                        name,
                        shards: vec![i],
                    });
                }
            }
        }
        let out_root = out_root(
            p.stages
                .iter()
                .flat_map(|s| s.outputs.iter().map(|o| &o.path)),
        );
        Self {
            p,
            groups,
            of,
            wf_files: BTreeMap::new(),
            by_path: BTreeMap::new(),
            out_root,
        }
    }

    /// Whether a source is a scattered step's whole output array.
    fn is_array(&self, src: &Src) -> bool {
        matches!(src, Src::Step { idx: Some(_), .. })
    }

    fn scattered(&self, g: usize) -> bool {
        self.p.stages[self.groups[g].shards[0]].shard.is_some()
    }

    /// The source of a file a stage reads.
    fn src(&mut self, path: &str) -> Src {
        if let Some(i) = self.p.producer_of(path) {
            let st = &self.p.stages[i];
            let (g, pos) = self.of[i];
            let out = st
                .outputs
                .iter()
                .find_map(|o| {
                    if o.path == path {
                        Some(id(&o.flag))
                    } else {
                        let rel = Path::new(path).strip_prefix(&o.path).ok()?;
                        Some(format!("{}__{}", id(&o.flag), id(&rel.to_string_lossy())))
                    }
                })
                .unwrap_or_default();
            return Src::Step {
                step: self.groups[g].step.clone(),
                out,
                idx: self.scattered(g).then_some(pos),
            };
        }
        if let Some(w) = self.by_path.get(path) {
            return Src::Wf(w.clone());
        }
        let mut w = id(path);
        while self.wf_files.contains_key(&w) {
            w.push('_');
        }
        self.wf_files.insert(w.clone(), path.to_string());
        self.by_path.insert(path.to_string(), w.clone());
        Src::Wf(w)
    }

    /// Step input for a list of files (one tool input: File, or File[] when
    /// `want_list`). Returns (value, needs MultipleInputFeature, needs
    /// StepInputExpression).
    fn files_in(
        &mut self,
        paths: &[String],
        want_list: bool,
        what: &str,
    ) -> Result<(Value, bool, bool)> {
        let srcs: Vec<Src> = paths.iter().map(|f| self.src(f)).collect();
        if let ([one], false) = (srcs.as_slice(), want_list) {
            return Ok(match one {
                Src::Step {
                    idx: Some(j),
                    step,
                    out,
                } => (
                    m([
                        ("source", s(format!("{step}/{out}"))),
                        ("valueFrom", s(format!("$(self[{j}])"))),
                    ]),
                    false,
                    true,
                ),
                _ => (s(one.source()), false, false),
            });
        }
        // A list: runs of whole scattered outputs (in shard order) or
        // single files, merged into one array.
        let mut parts = Vec::new();
        let mut k = 0;
        while k < srcs.len() {
            match &srcs[k] {
                Src::Step {
                    step,
                    out,
                    idx: Some(0),
                } => {
                    let g = self
                        .groups
                        .iter()
                        .position(|g| &g.step == step)
                        .unwrap_or_default();
                    let n = self.groups[g].shards.len();
                    let whole = (0..n).all(|j| {
                        srcs.get(k + j)
                            == Some(&Src::Step {
                                step: step.clone(),
                                out: out.clone(),
                                idx: Some(j),
                            })
                    });
                    if !whole {
                        return Err(bad_input(format!(
                            "CWL export: {what} reads some shards of `{}`; only all of them \
                             (`${{sweep:{}}}`) or one can be exported",
                            self.groups[g].name, self.groups[g].name
                        )));
                    }
                    parts.push(s(format!("{step}/{out}")));
                    k += n;
                }
                Src::Step { idx: Some(_), .. } => {
                    return Err(bad_input(format!(
                        "CWL export: {what} lists single shards of a swept stage; \
                         not expressible without JavaScript"
                    )));
                }
                other => {
                    parts.push(s(other.source()));
                    k += 1;
                }
            }
        }
        // One whole scattered output is already the array.
        if let ([one], true) = (parts.as_slice(), self.is_array(&srcs[0])) {
            return Ok((one.clone(), false, false));
        }
        Ok((
            m([("source", seq(parts)), ("linkMerge", s("merge_flattened"))]),
            true,
            false,
        ))
    }
}

/// The last component of a path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The deepest directory that contains every path (by components; "" when
/// the paths share no directory).
fn out_root<'a>(paths: impl Iterator<Item = &'a String>) -> String {
    let mut common: Option<Vec<&str>> = None;
    for p in paths {
        let dirs: Vec<&str> = p.split('/').collect();
        let dirs = &dirs[..dirs.len().saturating_sub(1)];
        common = Some(match common {
            None => dirs.to_vec(),
            Some(c) => c
                .iter()
                .zip(dirs)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

/// Separator that replaces `/` in the name of a workflow output (see
/// [`flat_name`]).
const FLAT_SEP: &str = "__";

/// The name of an output in the runner's flat `--outdir`: its path relative
/// to the pipeline's output root with `/` replaced by `__`
/// (`outputs/sweep/ge/xsec.parquet` -> `ge__xsec.parquet`). cwltool copies
/// workflow outputs into one directory by basename, so outputs of different
/// steps or shards with the same file name (`ge/xsec.parquet`,
/// `si/xsec.parquet`) would collide (cwltool then appends `_2`, in an order
/// that says nothing about which is which). Outputs directly in the root keep
/// their name.
fn flat_name(root: &str, path: &str) -> String {
    let rel = if root.is_empty() {
        path
    } else {
        path.strip_prefix(root)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path)
    };
    rel.replace('/', FLAT_SEP)
}

/// `outputEval` that renames the globbed output to [`flat_name`] of the
/// path the tool was given (`inputs.<pid>`, different per shard). CWL can
/// only rename by an expression; `flat_name` is mirrored here in JavaScript.
fn rename_eval(root: &str, pid: &str) -> String {
    let js = |x: &str| serde_json::to_string(x).unwrap_or_else(|_| format!("{x:?}"));
    let strip = if root.is_empty() {
        String::new()
    } else {
        // JavaScript counts UTF-16 units.
        format!(
            "if (p.indexOf({}) == 0) {{ p = p.substring({}); }} ",
            js(root),
            root.encode_utf16().count() + 1
        )
    };
    format!(
        "${{ var o = self[0]; var p = inputs.{pid}; {strip}o.basename = \
         p.split(\"/\").join({}); return o; }}",
        js(FLAT_SEP)
    )
}

/// `path` relative to `from` (both absolute, lexically normalised).
fn relative(path: &Path, from: &Path) -> PathBuf {
    let a: Vec<Component> = path.components().collect();
    let b: Vec<Component> = from.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// The `--help` text of a stage binary (the tool's `doc`).
fn help_text(run: &str, root: &Path) -> Option<String> {
    let bin = cache::resolve_binary(run, root)?;
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    })
}

/// The help paragraph of `--flag` in a clap `--help` text.
fn flag_doc(help: &str, flag: &str) -> Option<String> {
    let lines: Vec<&str> = help.lines().collect();
    let key = format!("--{flag}");
    let at = lines.iter().position(|l| {
        let t = l.trim_start();
        t == key || t.starts_with(&format!("{key} ")) || t.starts_with(&format!("{key}="))
    })?;
    let mut doc = Vec::new();
    for l in &lines[at + 1..] {
        if l.trim().is_empty() {
            break;
        }
        doc.push(l.trim());
    }
    (!doc.is_empty()).then(|| doc.join(" "))
}

/// The tool of one group and its workflow step.
fn tool_and_step(cx: &mut Ctx, g: usize, help: Option<&str>) -> Result<(Value, Value, bool)> {
    let p = cx.p;
    let group = &cx.groups[g];
    let shards: Vec<&Stage> = group.shards.iter().map(|&i| &p.stages[i]).collect();
    let st0 = shards[0];
    let name = group.name.clone();
    let scatter_group = st0.shard.is_some();

    let mut inputs = Mapping::new();
    let mut listing = Vec::new();
    let mut step_in = Mapping::new();
    let mut scatter = Vec::new();
    let mut needs_multi = false;
    let mut needs_step_expr = false;
    let mut position = 0i64;
    let doc_of = |flag: &str| help.and_then(|h| flag_doc(h, flag));

    // Inputs (files), then params, then outputs: the runner's order.
    let mut file_flags: Vec<(String, bool)> =
        st0.inputs.keys().map(|k| (k.clone(), true)).collect();
    if !st0.depends.is_empty() {
        file_flags.push(("depends".to_string(), false));
    }
    for (flag, passed) in file_flags {
        let lists: Vec<&Vec<String>> = shards
            .iter()
            .map(|st| {
                if passed {
                    &st.inputs[&flag]
                } else {
                    &st.depends
                }
            })
            .collect();
        let varies = lists.iter().any(|l| *l != lists[0]);
        let n = lists[0].len();
        let is_dir = |f: &str| {
            p.producer_of(f).is_some_and(|i| {
                let st = &p.stages[i];
                st.outputs
                    .iter()
                    .any(|o| o.path == f && is_dir_output(st, &o.flag))
            }) || (p.producer_of(f).is_none() && p.root.join(f).is_dir())
        };
        let class = if is_dir(&lists[0][0]) {
            "Directory"
        } else {
            "File"
        };
        let list = !passed || n > 1;
        let fid = id(&flag);
        let pid = format!("{fid}_path");
        let ty = if list {
            format!("{class}[]")
        } else {
            class.to_string()
        };
        let mut fin = m([("type", s(ty))]);
        if let Some(d) = if passed { doc_of(&flag) } else { None } {
            insert(&mut fin, "doc", s(d));
        } else if !passed {
            insert(
                &mut fin,
                "doc",
                s("Files the stage reads through its other inputs (pipeline `depends`)"),
            );
        }
        inputs.insert(s(&fid), fin);
        let path_default = if list {
            seq(lists[0].iter().map(s))
        } else {
            s(&lists[0][0])
        };
        let mut pin = m([
            ("type", s(if list { "string[]" } else { "string" })),
            ("default", path_default),
        ]);
        insert(
            &mut pin,
            "doc",
            s(format!(
                "Path (relative to the working directory) at which `{fid}` is staged and passed"
            )),
        );
        if passed {
            position += 1;
            let mut b = m([("position", Value::Number(position.into()))]);
            insert(&mut b, "prefix", s(format!("--{flag}")));
            if list {
                insert(&mut b, "itemSeparator", s(","));
            }
            insert(&mut pin, "inputBinding", b);
        }
        inputs.insert(s(&pid), pin);
        if list {
            for j in 0..n {
                listing.push(m([
                    ("entry", s(format!("$(inputs.{fid}[{j}])"))),
                    ("entryname", s(format!("$(inputs.{pid}[{j}])"))),
                ]));
            }
        } else {
            listing.push(m([
                ("entry", s(format!("$(inputs.{fid})"))),
                ("entryname", s(format!("$(inputs.{pid})"))),
            ]));
        }
        // Step wiring.
        if varies {
            if list {
                return Err(bad_input(format!(
                    "CWL export: stage `{name}`: the list input `{flag}` differs between shards"
                )));
            }
            let srcs: Vec<Src> = lists.iter().map(|l| cx.src(&l[0])).collect();
            let first = match &srcs[0] {
                Src::Step {
                    step,
                    out,
                    idx: Some(0),
                } => Some((step.clone(), out.clone())),
                _ => None,
            };
            let Some((ustep, uout)) = first.filter(|(ustep, uout)| {
                let ug = cx.groups.iter().position(|g| &g.step == ustep);
                ug.is_some_and(|ug| cx.groups[ug].shards.len() == srcs.len())
                    && srcs.iter().enumerate().all(|(j, x)| {
                        *x == Src::Step {
                            step: ustep.clone(),
                            out: uout.clone(),
                            idx: Some(j),
                        }
                    })
            }) else {
                return Err(bad_input(format!(
                    "CWL export: stage `{name}`: input `{flag}` differs between shards but \
                     does not read the matching shard of one swept stage"
                )));
            };
            step_in.insert(s(&fid), s(format!("{ustep}/{uout}")));
            step_in.insert(
                s(&pid),
                m([("default", seq(lists.iter().map(|l| s(&l[0]))))]),
            );
            scatter.push(s(&fid));
            scatter.push(s(&pid));
        } else {
            let (v, multi, expr) =
                cx.files_in(lists[0], list, &format!("stage `{name}` `{flag}`"))?;
            needs_multi |= multi;
            needs_step_expr |= expr;
            step_in.insert(s(&fid), v);
        }
    }

    for (k, v0) in &st0.params {
        let ty = param_value(v0).0;
        let pid = id(k);
        let values: Vec<&String> = shards.iter().map(|st| &st.params[k]).collect();
        let varies = values.iter().any(|v| *v != v0);
        // A param whose values have different types is passed as a string.
        let ty = if values.iter().all(|v| param_value(v).0 == ty) {
            ty
        } else {
            "string"
        };
        let typed = |v: &str| {
            if ty == "string" {
                s(v)
            } else {
                param_value(v).1
            }
        };
        position += 1;
        let mut pin = m([("type", s(ty)), ("default", typed(v0))]);
        if let Some(d) = doc_of(k) {
            insert(&mut pin, "doc", s(d));
        }
        insert(
            &mut pin,
            "inputBinding",
            m([
                ("position", Value::Number(position.into())),
                ("prefix", s(format!("--{k}"))),
            ]),
        );
        inputs.insert(s(&pid), pin);
        if varies {
            step_in.insert(
                s(&pid),
                m([("default", seq(values.iter().map(|v| typed(v))))]),
            );
            scatter.push(s(&pid));
        }
    }

    let mut outputs = Mapping::new();
    let mut outs = Vec::new();
    let mut needs_js = false;
    for (oi, o) in st0.outputs.iter().enumerate() {
        let fid = id(&o.flag);
        let pid = format!("{fid}_path");
        let paths: Vec<&String> = shards.iter().map(|st| &st.outputs[oi].path).collect();
        position += 1;
        let mut pin = m([("type", s("string")), ("default", s(&o.path))]);
        if let Some(d) = doc_of(&o.flag) {
            insert(&mut pin, "doc", s(d));
        }
        insert(
            &mut pin,
            "inputBinding",
            m([
                ("position", Value::Number(position.into())),
                ("prefix", s(format!("--{}", o.flag))),
            ]),
        );
        inputs.insert(s(&pid), pin);
        if paths.iter().any(|x| *x != &o.path) {
            step_in.insert(s(&pid), m([("default", seq(paths.iter().map(|x| s(*x))))]));
            scatter.push(s(&pid));
        }
        let class = if is_dir_output(st0, &o.flag) {
            "Directory"
        } else {
            "File"
        };
        let mut binding = m([("glob", s(format!("$(inputs.{pid})")))]);
        // Unique names in a flat --outdir (see `flat_name`); outputs in
        // the output root keep theirs and need no expression.
        if paths
            .iter()
            .any(|x| flat_name(&cx.out_root, x) != file_name(x))
        {
            insert(
                &mut binding,
                "outputEval",
                s(rename_eval(&cx.out_root, &pid)),
            );
            needs_js = true;
        }
        outputs.insert(s(&fid), m([("type", s(class)), ("outputBinding", binding)]));
        outs.push(s(&fid));
        // Products: one File output each (downstream may read one).
        if o.files.len() != 1 || o.files[0] != o.path {
            for f in &o.files {
                let rel = Path::new(f)
                    .strip_prefix(&o.path)
                    .map(|r| r.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let oid = format!("{fid}__{}", id(&rel));
                outputs.insert(
                    s(&oid),
                    m([
                        ("type", s("File")),
                        (
                            "outputBinding",
                            m([("glob", s(format!("$(inputs.{pid})/{rel}")))]),
                        ),
                    ]),
                );
                outs.push(s(&oid));
            }
        }
    }

    let n = needs(st0);
    let mut requirements = m([
        ("InitialWorkDirRequirement", m([("listing", seq(listing))])),
        (
            "ResourceRequirement",
            m([
                ("coresMin", Value::Number(n.threads.into())),
                ("ramMin", Value::Number(n.mem_mb.into())),
            ]),
        ),
        (
            "ToolTimeLimit",
            m([("timelimit", Value::Number((n.runtime_min * 60).into()))]),
        ),
    ]);
    if needs_js {
        insert(&mut requirements, "InlineJavascriptRequirement", m([]));
    }
    let base = st0.run.rsplit('/').next().unwrap_or(&st0.run).to_string();
    let mut tool = m([
        ("cwlVersion", s("v1.2")),
        ("class", s("CommandLineTool")),
        (
            "label",
            s(format!("cevns-pipeline stage `{name}` ({base})")),
        ),
    ]);
    insert(
        &mut tool,
        "doc",
        s(help.map_or_else(|| format!("Stage binary `{base}`."), str::to_string)),
    );
    insert(&mut tool, "baseCommand", s(base));
    insert(
        &mut tool,
        "arguments",
        seq([m([
            ("position", Value::Number((position + 1).into())),
            ("prefix", s("--threads")),
            ("valueFrom", s("$(runtime.cores)")),
        ])]),
    );
    insert(&mut tool, "requirements", requirements);
    insert(&mut tool, "inputs", Value::Mapping(inputs));
    insert(&mut tool, "outputs", Value::Mapping(outputs));

    let mut step = m([
        ("run", s(format!("{name}.cwl"))),
        ("in", Value::Mapping(step_in)),
        ("out", seq(outs)),
    ]);
    if scatter_group {
        if scatter.is_empty() {
            return Err(bad_input(format!(
                "CWL export: stage `{name}`: shards do not differ"
            )));
        }
        insert(&mut step, "scatter", seq(scatter));
        insert(&mut step, "scatterMethod", s("dotproduct"));
    }
    if needs_step_expr {
        insert(
            &mut step,
            "requirements",
            m([("StepInputExpressionRequirement", m([]))]),
        );
    }
    Ok((tool, step, needs_multi))
}

/// Write the tools and the workflow into `dir`; returns the number of tools.
pub fn write(p: &Pipeline, pipeline_file: &str, dir: &Path) -> Result<usize> {
    let mut cx = Ctx::new(p);
    // Workflow outputs land in one flat directory: their names must differ.
    let mut flat: BTreeMap<String, &str> = BTreeMap::new();
    for o in p.stages.iter().flat_map(|s| &s.outputs) {
        if let Some(other) = flat.insert(flat_name(&cx.out_root, &o.path), &o.path) {
            return Err(bad_input(format!(
                "CWL export: outputs `{other}` and `{}` would both be named `{}` in the \
                 runner's flat output directory (`/` below `{}` becomes `{FLAT_SEP}`); rename one",
                o.path,
                flat_name(&cx.out_root, &o.path),
                cx.out_root
            )));
        }
    }
    let root = std::path::absolute(&p.root).context("resolving the root")?;
    let root = PathBuf::from(crate::spec::normalize(&root.to_string_lossy()));
    let adir = std::path::absolute(dir).context("resolving -o")?;
    let adir = PathBuf::from(crate::spec::normalize(&adir.to_string_lossy()));
    std::fs::create_dir_all(&adir).with_context(|| format!("creating {}", adir.display()))?;

    let header = format!(
        "# Generated by `cevns export --cwl` from {pipeline_file}; do not edit.\n\
         # Run from anywhere with the stage binaries on PATH, e.g.\n\
         #   cwltool --no-container {}.cwl\n",
        p.name
    );
    let mut steps = Mapping::new();
    let mut wf_outputs = Mapping::new();
    let mut multi = false;
    let mut any_scatter = false;
    let mut helps: BTreeMap<String, Option<String>> = BTreeMap::new();
    for g in 0..cx.groups.len() {
        let run = p.stages[cx.groups[g].shards[0]].run.clone();
        let help = helps
            .entry(run.clone())
            .or_insert_with(|| help_text(&run, &p.root))
            .clone();
        let (tool, step, mm) = tool_and_step(&mut cx, g, help.as_deref())?;
        multi |= mm;
        let group = &cx.groups[g];
        let scattered = cx.scattered(g);
        any_scatter |= scattered;
        let text = serde_yaml_ng::to_string(&tool).context("rendering a CWL tool")?;
        let file = adir.join(format!("{}.cwl", group.name));
        cache::write_atomic(
            &file,
            format!("#!/usr/bin/env cwl-runner\n{header}{text}").as_bytes(),
        )?;
        // Workflow outputs: every declared output (not the products).
        let st0 = &p.stages[group.shards[0]];
        for o in &st0.outputs {
            let class = if is_dir_output(st0, &o.flag) {
                "Directory"
            } else {
                "File"
            };
            let ty = if scattered {
                format!("{class}[]")
            } else {
                class.to_string()
            };
            wf_outputs.insert(
                s(format!("{}__{}", group.step, id(&o.flag))),
                m([
                    ("type", s(ty)),
                    ("outputSource", s(format!("{}/{}", group.step, id(&o.flag)))),
                ]),
            );
        }
        steps.insert(s(&group.step), step);
    }

    let mut wf_inputs = Mapping::new();
    for (w, path) in &cx.wf_files {
        let abs = root.join(path);
        let class = if abs.is_dir() { "Directory" } else { "File" };
        let loc = relative(&abs, &adir);
        wf_inputs.insert(
            s(w),
            m([
                ("type", s(class)),
                (
                    "default",
                    m([("class", s(class)), ("location", s(loc.to_string_lossy()))]),
                ),
            ]),
        );
    }
    let mut reqs = Mapping::new();
    if any_scatter {
        reqs.insert(s("ScatterFeatureRequirement"), m([]));
    }
    if multi {
        reqs.insert(s("MultipleInputFeatureRequirement"), m([]));
    }
    reqs.insert(s("StepInputExpressionRequirement"), m([]));
    let mut wf = m([
        ("cwlVersion", s("v1.2")),
        ("class", s("Workflow")),
        ("label", s(format!("cevns-pipeline `{}`", p.name))),
    ]);
    if let Some(d) = &p.description {
        insert(&mut wf, "doc", s(d));
    }
    insert(&mut wf, "requirements", Value::Mapping(reqs));
    insert(&mut wf, "inputs", Value::Mapping(wf_inputs));
    insert(&mut wf, "outputs", Value::Mapping(wf_outputs));
    insert(&mut wf, "steps", Value::Mapping(steps));
    let text = serde_yaml_ng::to_string(&wf).context("rendering the CWL workflow")?;
    cache::write_atomic(
        &adir.join(format!("{}.cwl", p.name)),
        format!("#!/usr/bin/env cwl-runner\n{header}{text}").as_bytes(),
    )?;
    Ok(cx.groups.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_typed() {
        assert_eq!(param_value("2001").0, "int");
        assert_eq!(param_value("0.0001").0, "float");
        assert_eq!(param_value("1.5e-5").0, "float");
        assert_eq!(param_value("detector").0, "string");
        assert_eq!(param_value("1.0,5.0").0, "string");
        assert_eq!(param_value("inf").0, "string");
        assert_eq!(param_value("e").0, "string");
    }

    #[test]
    fn flat_names_are_unique_below_the_output_root() {
        let paths: Vec<String> = [
            "outputs/sw/fluxes.parquet",
            "outputs/sw/ge/xsec.parquet",
            "outputs/sw/si/xsec.parquet",
            "outputs/sw/figures",
        ]
        .map(String::from)
        .to_vec();
        let root = out_root(paths.iter());
        assert_eq!(root, "outputs/sw");
        let flat: Vec<String> = paths.iter().map(|p| flat_name(&root, p)).collect();
        assert_eq!(
            flat,
            [
                "fluxes.parquet",
                "ge__xsec.parquet",
                "si__xsec.parquet",
                "figures"
            ]
        );
        assert_eq!(
            out_root(["a.txt".to_string(), "o/b.txt".to_string()].iter()),
            ""
        );
        assert_eq!(flat_name("", "o/b.txt"), "o__b.txt");
        assert_eq!(
            rename_eval("outputs/sw", "out_path"),
            "${ var o = self[0]; var p = inputs.out_path; if (p.indexOf(\"outputs/sw\") == 0) \
             { p = p.substring(11); } o.basename = p.split(\"/\").join(\"__\"); return o; }"
        );
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/r/data/x.yaml"), Path::new("/r/outputs/cwl")),
            PathBuf::from("../../data/x.yaml")
        );
        assert_eq!(
            relative(Path::new("/r/data/x.yaml"), Path::new("/r")),
            PathBuf::from("data/x.yaml")
        );
    }

    #[test]
    fn finds_flag_docs() {
        let help = "Options:\n      --rates <PARQUET>\n          rates.parquet from\n          rate-convolve.\n\n      --k <K>\n          Lindhard k\n";
        assert_eq!(
            flag_doc(help, "rates").as_deref(),
            Some("rates.parquet from rate-convolve.")
        );
        assert_eq!(flag_doc(help, "k").as_deref(), Some("Lindhard k"));
        assert_eq!(flag_doc(help, "x"), None);
    }
}
