//! Pipeline YAML: parsing, `${var}` expansion, `--set` overrides and full
//! validation (unknown keys, unknown variables, duplicate outputs, missing
//! inputs, cycles) into a resolved DAG.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::error::bad_input;

/// Flags every stage binary understands and the runner sets itself.
const RESERVED_FLAGS: &[&str] = &["threads", "quiet", "help", "version"];

/// `${sweep}`: the file-name-safe value of the shard, in a swept stage.
const SWEEP_VAR: &str = "sweep";

/// The pipeline file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    pub stages: Vec<RawStage>,
}

/// One stage as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: String,
    pub run: String,
    /// flag -> path, or a list of paths (passed joined with commas; each
    /// may gather a different swept stage with `${sweep:STAGE}`).
    #[serde(default)]
    pub inputs: BTreeMap<String, RawPaths>,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    #[serde(default)]
    pub depends: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    /// `{ param: [v1, v2, ...] }`: one shard of the stage per value.
    #[serde(default)]
    pub sweep: Option<BTreeMap<String, Value>>,
    /// What one run of the stage needs on a batch system (exported to
    /// Snakemake `threads`/`resources` and CWL `ResourceRequirement`; the
    /// native runner ignores it). Unset fields take the stage's defaults.
    #[serde(default)]
    pub resources: Option<Resources>,
}

/// One input path or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawPaths {
    One(String),
    Many(Vec<String>),
}

impl RawPaths {
    fn as_slice(&self) -> &[String] {
        match self {
            RawPaths::One(s) => std::slice::from_ref(s),
            RawPaths::Many(v) => v,
        }
    }
}

/// Resources of one stage run (`resources:` in the pipeline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Resources {
    /// Threads (cores) the stage uses (`--threads`).
    pub threads: Option<u32>,
    /// Peak memory, MB.
    pub mem_mb: Option<u64>,
    /// Wall-time limit, minutes.
    pub runtime_min: Option<u64>,
}

/// The shard of a swept stage this stage is.
#[derive(Debug, Clone)]
pub struct Shard {
    /// Name of the stage as written in the pipeline (`chi2-scan`).
    pub stage: String,
    /// The swept param (flag name).
    pub param: String,
    /// The value passed to the stage.
    pub value: String,
    /// Its file-name-safe form (what `${sweep}` expands to).
    pub safe: String,
}

/// An output flag of a stage and the files it declares.
#[derive(Debug, Clone)]
pub struct Output {
    /// Flag name (without `--`).
    pub flag: String,
    /// The path passed to the stage.
    pub path: String,
    /// Files the cache tracks: `path` itself, or `path/<product>` for each
    /// declared product when the stage has `products`.
    pub files: Vec<String>,
}

/// A stage after expansion and validation.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub run: String,
    /// flag -> paths (normalised), sorted by flag. One path, or one per
    /// shard for an input gathering a swept stage (`${sweep:STAGE}`),
    /// passed joined with commas.
    pub inputs: BTreeMap<String, Vec<String>>,
    /// flag -> rendered value (lists joined with commas), sorted by flag.
    pub params: BTreeMap<String, String>,
    /// Sorted by flag.
    pub outputs: Vec<Output>,
    /// Extra files hashed for the cache (normalised paths).
    pub depends: Vec<String>,
    /// Indices of the stages this one reads outputs of.
    pub upstream: BTreeSet<usize>,
    /// Set when the stage is one shard of a swept stage.
    pub shard: Option<Shard>,
    /// `resources:` as written (defaults are filled in by the exporters).
    pub resources: Resources,
}

impl Stage {
    /// Every input file (gathered inputs contribute one path per shard).
    pub fn input_files(&self) -> impl Iterator<Item = &String> {
        self.inputs.values().flatten()
    }

    /// Every file this stage declares as output.
    pub fn output_files(&self) -> impl Iterator<Item = &String> {
        self.outputs.iter().flat_map(|o| o.files.iter())
    }

    /// Stage arguments (without `--threads` / `--quiet`): inputs, params,
    /// outputs, each sorted by flag.
    pub fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        for (k, v) in &self.inputs {
            a.push(format!("--{k}"));
            a.push(v.join(","));
        }
        for (k, v) in &self.params {
            a.push(format!("--{k}"));
            a.push(v.clone());
        }
        for o in &self.outputs {
            a.push(format!("--{}", o.flag));
            a.push(o.path.clone());
        }
        a
    }
}

/// A validated pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub name: String,
    pub description: Option<String>,
    /// Directory relative paths are resolved against (the repo root).
    pub root: PathBuf,
    /// Stages in a deterministic topological order.
    pub stages: Vec<Stage>,
    /// Declared output file (normalised) -> index of the producing stage.
    pub producers: HashMap<String, usize>,
}

impl Pipeline {
    /// The stage called `name`, or every shard of the swept stage `name`.
    pub fn indices_of(&self, name: &str) -> Result<Vec<usize>> {
        let found: Vec<usize> = (0..self.stages.len())
            .filter(|&i| {
                let s = &self.stages[i];
                s.name == name || s.shard.as_ref().is_some_and(|sh| sh.stage == name)
            })
            .collect();
        if found.is_empty() {
            let mut known: Vec<&str> = Vec::new();
            for s in &self.stages {
                let n = s
                    .shard
                    .as_ref()
                    .map_or(s.name.as_str(), |sh| sh.stage.as_str());
                if !known.contains(&n) {
                    known.push(n);
                }
            }
            return Err(bad_input(format!(
                "unknown stage `{name}` (stages: {})",
                known.join(", ")
            )));
        }
        Ok(found)
    }

    /// Absolute location of a pipeline path.
    pub fn abs(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    /// Indices of `i` and every stage downstream of it.
    pub fn downstream_of(&self, i: usize) -> BTreeSet<usize> {
        let mut set = BTreeSet::from([i]);
        // Stages are topologically sorted: one forward sweep is enough.
        for (j, s) in self.stages.iter().enumerate().skip(i + 1) {
            if s.upstream.iter().any(|u| set.contains(u)) {
                set.insert(j);
            }
        }
        set
    }

    /// Stage producing `path`, if any (exact file, product, or a file
    /// inside a directory output).
    pub fn producer_of(&self, path: &str) -> Option<usize> {
        if let Some(&i) = self.producers.get(path) {
            return Some(i);
        }
        for (i, s) in self.stages.iter().enumerate() {
            for o in &s.outputs {
                if path == o.path || Path::new(path).starts_with(&o.path) {
                    return Some(i);
                }
            }
        }
        None
    }
}

/// A `--set STAGE.FLAG=VALUE` override: any flag of the stage (a param of
/// the pipeline or not); an input flag gets a new path.
#[derive(Debug, Clone)]
pub struct Override {
    pub stage: String,
    pub param: String,
    pub value: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (lhs, value) = s.split_once('=').ok_or("expected STAGE.FLAG=VALUE")?;
        let (stage, param) = lhs.split_once('.').ok_or("expected STAGE.FLAG=VALUE")?;
        if stage.is_empty() || param.is_empty() {
            return Err("expected STAGE.FLAG=VALUE".into());
        }
        Ok(Self {
            stage: stage.into(),
            param: param.into(),
            value: value.into(),
        })
    }
}

/// A pipeline that `extends:` another one and states only what differs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChild {
    /// The base pipeline file, relative to this file's directory.
    extends: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Added to (or replacing) the base's vars, key by key.
    #[serde(default)]
    vars: BTreeMap<String, String>,
    /// Changes to stages of the base, matched by name.
    #[serde(default)]
    stages: Vec<RawPatch>,
}

/// Changes to one stage of the base pipeline. Maps are merged key by key; a
/// `null` value removes the key. Lists and `run` replace the base's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatch {
    name: String,
    #[serde(default)]
    run: Option<String>,
    #[serde(default)]
    inputs: BTreeMap<String, Option<RawPaths>>,
    #[serde(default)]
    params: BTreeMap<String, Value>,
    #[serde(default)]
    outputs: BTreeMap<String, Option<String>>,
    #[serde(default)]
    depends: Option<Vec<String>>,
    #[serde(default)]
    products: Option<Vec<String>>,
    #[serde(default)]
    sweep: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    resources: Option<Resources>,
}

/// Key-wise merge: `Some` sets, `None` (YAML `null`) removes.
fn merge_map<V>(
    base: &mut BTreeMap<String, V>,
    patch: BTreeMap<String, Option<V>>,
    what: &str,
) -> Result<()> {
    for (k, v) in patch {
        match v {
            Some(v) => {
                base.insert(k, v);
            }
            None => {
                if base.remove(&k).is_none() {
                    return Err(bad_input(format!(
                        "{what}.{k}: `null` removes a key of the base pipeline, which has none"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Read a pipeline file, following `extends:` (cycles are an error).
fn read_raw(file: &Path, chain: &mut Vec<PathBuf>) -> Result<RawPipeline> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read pipeline `{}`", file.display()))
        .map_err(|e| bad_input(format!("{e:#}")))?;
    let value: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
    let extends = matches!(&value, Value::Mapping(m) if m.contains_key("extends"));
    if !extends {
        return serde_yaml_ng::from_value(value)
            .map_err(|e| bad_input(format!("{}: {e}", file.display())));
    }
    let child: RawChild = serde_yaml_ng::from_value(value)
        .map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
    let me = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let base_file = file.parent().unwrap_or(Path::new(".")).join(&child.extends);
    let base_canon = std::fs::canonicalize(&base_file).unwrap_or_else(|_| base_file.clone());
    chain.push(me);
    if chain.contains(&base_canon) {
        let names: Vec<String> = chain
            .iter()
            .chain(std::iter::once(&base_canon))
            .map(|p| p.display().to_string())
            .collect();
        return Err(bad_input(format!(
            "{}: extends: pipelines extend each other in a cycle ({})",
            file.display(),
            names.join(" -> ")
        )));
    }
    let mut base = read_raw(&base_file, chain)
        .map_err(|e| e.context(format!("{}: extends `{}`", file.display(), child.extends)))?;
    chain.pop();
    merge_child(&mut base, child).map_err(|e| bad_input(format!("{}: {e:#}", file.display())))?;
    Ok(base)
}

/// Apply `child` to its base pipeline (see [`RawChild`], [`RawPatch`]).
fn merge_child(base: &mut RawPipeline, child: RawChild) -> Result<()> {
    base.name = child.name;
    if child.description.is_some() {
        base.description = child.description;
    }
    base.vars.extend(child.vars);
    let mut seen = BTreeSet::new();
    for patch in child.stages {
        let what = format!("stage `{}`", patch.name);
        if !seen.insert(patch.name.clone()) {
            return Err(bad_input(format!("{what}: changed twice")));
        }
        let Some(st) = base.stages.iter_mut().find(|s| s.name == patch.name) else {
            let known: Vec<&str> = base.stages.iter().map(|s| s.name.as_str()).collect();
            return Err(bad_input(format!(
                "{what}: the base pipeline has no such stage (stages: {})",
                known.join(", ")
            )));
        };
        if let Some(run) = patch.run {
            st.run = run;
        }
        merge_map(&mut st.inputs, patch.inputs, &format!("{what}: inputs"))?;
        merge_map(&mut st.outputs, patch.outputs, &format!("{what}: outputs"))?;
        for (k, v) in patch.params {
            if v.is_null() {
                if st.params.remove(&k).is_none() {
                    return Err(bad_input(format!(
                        "{what}: params.{k}: `null` removes a key of the base pipeline, which \
                         has none"
                    )));
                }
            } else {
                st.params.insert(k, v);
            }
        }
        if let Some(d) = patch.depends {
            st.depends = d;
        }
        if let Some(p) = patch.products {
            st.products = p;
        }
        if patch.sweep.is_some() {
            st.sweep = patch.sweep;
        }
        if patch.resources.is_some() {
            st.resources = patch.resources;
        }
    }
    Ok(())
}

/// Load, expand and validate a pipeline file.
/// `check_files`: missing inputs no stage produces are an error (run,
/// status); `dag`, `export` and `clean` do not need the data to exist.
pub fn load(
    file: &Path,
    root: &Path,
    overrides: &[Override],
    check_files: bool,
) -> Result<Pipeline> {
    let raw = read_raw(file, &mut Vec::new())?;
    resolve(raw, root, overrides, check_files).map_err(|e| {
        if e.downcast_ref::<crate::error::BadInput>().is_some() {
            bad_input(format!("{}: {e:#}", file.display()))
        } else {
            e
        }
    })
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !s.starts_with('-')
}

/// Expand `${name}` using `vars`; `what` names the key for error messages.
fn expand(s: &str, vars: &BTreeMap<String, String>, what: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("${") {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| bad_input(format!("{what}: unterminated `${{` in `{s}`")))?;
        let name = &after[..end];
        if !vars.contains_key(name) {
            if name == SWEEP_VAR {
                return Err(bad_input(format!(
                    "{what}: `${{sweep}}` is only defined in a stage with `sweep:`"
                )));
            }
            if let Some(stage) = name.strip_prefix("sweep:") {
                return Err(bad_input(format!(
                    "{what}: `${{sweep:{stage}}}` (gather the shards of a swept stage) is only \
                     allowed in inputs and depends"
                )));
            }
        }
        let val = vars.get(name).ok_or_else(|| {
            let known: Vec<&str> = vars.keys().map(String::as_str).collect();
            bad_input(format!(
                "{what}: unknown variable `${{{name}}}` (vars: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        out.push_str(val);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expand vars that refer to other vars (no cycles).
fn resolve_vars(raw: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut vars = raw.clone();
    for _ in 0..=raw.len() {
        let mut changed = false;
        for (k, v) in raw {
            if v.contains("${") {
                let cur = vars.get(k).cloned().unwrap_or_default();
                let new = expand(&cur, &vars, &format!("vars.{k}"))?;
                if new != cur {
                    vars.insert(k.clone(), new);
                    changed = true;
                }
            }
        }
        if !changed {
            return Ok(vars);
        }
    }
    Err(bad_input("vars: variables refer to each other in a cycle"))
}

/// Lexically normalise a relative or absolute path (`./a//b/../c` -> `a/c`).
pub fn normalize(p: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in Path::new(p).components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(parts.last(), Some(l) if l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..".into());
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::Prefix(pre) => parts.push(pre.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

fn render_scalar(v: &Value, what: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(bad_input(format!("{what}: empty value"))),
        Value::Sequence(_) => Err(bad_input(format!("{what}: nested lists are not allowed"))),
        Value::Mapping(_) => Err(bad_input(format!(
            "{what}: maps are not allowed (use a scalar or a list)"
        ))),
        Value::Tagged(_) => Err(bad_input(format!("{what}: YAML tags are not allowed"))),
    }
}

fn render_param(v: &Value, what: &str) -> Result<String> {
    match v {
        Value::Sequence(items) => {
            if items.is_empty() {
                return Err(bad_input(format!("{what}: empty list")));
            }
            let parts = items
                .iter()
                .map(|i| render_scalar(i, what))
                .collect::<Result<Vec<_>>>()?;
            Ok(parts.join(","))
        }
        other => render_scalar(other, what),
    }
}

fn check_flag(flag: &str, what: &str) -> Result<()> {
    if !valid_name(flag) {
        return Err(bad_input(format!(
            "{what}: `{flag}` is not a valid flag name (letters, digits, `-`, `_`; no leading `-`)"
        )));
    }
    if RESERVED_FLAGS.contains(&flag) {
        return Err(bad_input(format!(
            "{what}: `{flag}` is reserved (the runner sets --{flag} itself)"
        )));
    }
    Ok(())
}

/// File-name-safe form of a sweep value: ASCII letters, digits, `.`, `_`
/// and `-` are kept, anything else becomes `_`.
pub fn safe_form(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Swept stages: stage name -> (param, [(value, file-name-safe form)]).
type Sweeps = BTreeMap<String, (String, Vec<(String, String)>)>;

/// `sweep: { param: [v1, v2, ...] }` -> (param, [(value, safe form)]).
fn parse_sweep(
    sweep: &BTreeMap<String, Value>,
    vars: &BTreeMap<String, String>,
    what: &str,
) -> Result<(String, Vec<(String, String)>)> {
    let mut it = sweep.iter();
    let (param, list) = match (it.next(), it.next()) {
        (Some(one), None) => one,
        (None, _) => {
            return Err(bad_input(format!(
                "{what}: needs one param and its values, e.g. `sweep: {{ k: [0.15, 0.162] }}`"
            )));
        }
        (Some(_), Some(_)) => {
            let keys: Vec<&str> = sweep.keys().map(String::as_str).collect();
            return Err(bad_input(format!(
                "{what}: only one param can be swept, found {} ({})",
                keys.len(),
                keys.join(", ")
            )));
        }
    };
    let what = format!("{what}.{param}");
    check_flag(param, &what)?;
    let Value::Sequence(items) = list else {
        return Err(bad_input(format!(
            "{what}: expected a list of values, e.g. `[a, b]`"
        )));
    };
    if items.is_empty() {
        return Err(bad_input(format!("{what}: empty list")));
    }
    let mut values: Vec<(String, String)> = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let w = format!("{what}[{j}]");
        let value = expand(&render_scalar(item, &w)?, vars, &w)?;
        let safe = safe_form(&value);
        if value.is_empty() || safe == "." || safe == ".." {
            return Err(bad_input(format!(
                "{w}: `{value}` cannot be used in a file name"
            )));
        }
        if let Some((v, _)) = values.iter().find(|(v, s)| *v == value || *s == safe) {
            let msg = if *v == value {
                format!("{w}: `{value}` is listed twice")
            } else {
                format!("{w}: `{value}` and `{v}` have the same file-name form `{safe}`")
            };
            return Err(bad_input(msg));
        }
        values.push((value, safe));
    }
    Ok((param.clone(), values))
}

/// Expand a path that may gather the shards of a swept stage with
/// `${sweep:STAGE}`: one path per shard value (in sweep order), else one.
fn expand_paths(
    s: &str,
    vars: &BTreeMap<String, String>,
    sweeps: &Sweeps,
    this: &str,
    what: &str,
) -> Result<Vec<String>> {
    let mut names = BTreeSet::new();
    let mut rest = s;
    while let Some(pos) = rest.find("${sweep:") {
        let after = &rest[pos + "${sweep:".len()..];
        let end = after
            .find('}')
            .ok_or_else(|| bad_input(format!("{what}: unterminated `${{` in `{s}`")))?;
        names.insert(&after[..end]);
        rest = &after[end + 1..];
    }
    let mut names = names.into_iter();
    let (name, None) = (names.next(), names.next()) else {
        return Err(bad_input(format!(
            "{what}: `{s}` gathers more than one swept stage; use one `${{sweep:STAGE}}` per input"
        )));
    };
    let Some(name) = name else {
        let p = expand(s, vars, what)?;
        if p.trim().is_empty() {
            return Err(bad_input(format!("{what}: empty path")));
        }
        return Ok(vec![normalize(&p)]);
    };
    if name == this {
        return Err(bad_input(format!(
            "{what}: a stage cannot gather its own shards (`${{sweep:{name}}}`)"
        )));
    }
    let Some((_, values)) = sweeps.get(name) else {
        let known: Vec<&str> = sweeps.keys().map(String::as_str).collect();
        return Err(bad_input(format!(
            "{what}: `${{sweep:{name}}}`: `{name}` is not a swept stage (swept stages: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let token = format!("${{sweep:{name}}}");
    let mut out = Vec::with_capacity(values.len());
    for (_, safe) in values {
        let p = normalize(&expand(&s.replace(&token, safe), vars, what)?);
        if p.contains(',') {
            return Err(bad_input(format!(
                "{what}: gathered path `{p}` contains `,` (the paths are passed comma-separated)"
            )));
        }
        out.push(p);
    }
    Ok(out)
}

/// One stage (or one shard of a swept stage) after expansion.
fn build_stage(
    rs: &RawStage,
    shard: Option<Shard>,
    vars: &BTreeMap<String, String>,
    sets: &[&Override],
    sweeps: &Sweeps,
    sw: &str,
) -> Result<Stage> {
    let run = expand(rs.run.trim(), vars, &format!("{sw}: run"))?;
    if run.is_empty() {
        return Err(bad_input(format!("{sw}: run: empty")));
    }
    if rs.outputs.is_empty() {
        return Err(bad_input(format!(
            "{sw}: outputs: a stage must declare at least one output"
        )));
    }
    let mut flags = BTreeSet::new();
    let mut inputs = BTreeMap::new();
    for (k, v) in &rs.inputs {
        let what = format!("{sw}: inputs.{k}");
        check_flag(k, &what)?;
        flags.insert(k.clone());
        let mut paths = Vec::new();
        let list = v.as_slice();
        if list.is_empty() {
            return Err(bad_input(format!("{what}: empty list")));
        }
        for (j, one) in list.iter().enumerate() {
            let what = match v {
                RawPaths::One(_) => what.clone(),
                RawPaths::Many(_) => format!("{what}[{j}]"),
            };
            let got = expand_paths(one, vars, sweeps, &rs.name, &what)?;
            if list.len() > 1
                && let Some(p) = got.iter().find(|p| p.contains(','))
            {
                return Err(bad_input(format!(
                    "{what}: `{p}` contains `,` (a list is passed comma-separated)"
                )));
            }
            paths.extend(got);
        }
        inputs.insert(k.clone(), paths);
    }
    let mut params = BTreeMap::new();
    for (k, v) in &rs.params {
        let what = format!("{sw}: params.{k}");
        check_flag(k, &what)?;
        if !flags.insert(k.clone()) {
            return Err(bad_input(format!("{what}: flag `--{k}` is also an input")));
        }
        let val = expand(&render_param(v, &what)?, vars, &what)?;
        params.insert(k.clone(), val);
    }
    // `--set`: an input flag gets a new path, any other flag a value
    // (outputs and the swept param were rejected in `resolve`).
    for o in sets {
        let what = format!("--set {}.{}", o.stage, o.param);
        if inputs.contains_key(&o.param) {
            inputs.insert(
                o.param.clone(),
                expand_paths(&o.value, vars, sweeps, &rs.name, &what)?,
            );
        } else {
            flags.insert(o.param.clone());
            params.insert(o.param.clone(), expand(&o.value, vars, &what)?);
        }
    }
    if let Some(sh) = &shard {
        flags.insert(sh.param.clone());
        params.insert(sh.param.clone(), sh.value.clone());
    }
    let mut products = Vec::new();
    for (j, p) in rs.products.iter().enumerate() {
        let what = format!("{sw}: products[{j}]");
        let p = normalize(&expand(p, vars, &what)?);
        if p.starts_with('/') || p.starts_with("..") || p == "." {
            return Err(bad_input(format!(
                "{what}: `{p}` must be a file name inside the output directory"
            )));
        }
        products.push(p);
    }
    if !products.is_empty() && rs.outputs.len() != 1 {
        return Err(bad_input(format!(
            "{sw}: products: need exactly one (directory) output, found {}",
            rs.outputs.len()
        )));
    }
    let mut outputs = Vec::new();
    for (k, v) in &rs.outputs {
        let what = format!("{sw}: outputs.{k}");
        check_flag(k, &what)?;
        if !flags.insert(k.clone()) {
            return Err(bad_input(format!(
                "{what}: flag `--{k}` is also an input or param"
            )));
        }
        let p = expand(v, vars, &what)?;
        if p.trim().is_empty() {
            return Err(bad_input(format!("{what}: empty path")));
        }
        let path = normalize(&p);
        let files = if products.is_empty() {
            vec![path.clone()]
        } else {
            products.iter().map(|f| format!("{path}/{f}")).collect()
        };
        outputs.push(Output {
            flag: k.clone(),
            path,
            files,
        });
    }
    let mut depends = Vec::new();
    for (j, d) in rs.depends.iter().enumerate() {
        let what = format!("{sw}: depends[{j}]");
        depends.extend(expand_paths(d, vars, sweeps, &rs.name, &what)?);
    }
    if let Some(r) = &rs.resources
        && (r.threads == Some(0) || r.mem_mb == Some(0) || r.runtime_min == Some(0))
    {
        return Err(bad_input(format!(
            "{sw}: resources: threads, mem-mb and runtime-min must be >= 1"
        )));
    }
    let name = match &shard {
        Some(sh) => format!("{}[{}]", rs.name, sh.safe),
        None => rs.name.clone(),
    };
    Ok(Stage {
        name,
        run,
        inputs,
        params,
        outputs,
        depends,
        upstream: BTreeSet::new(),
        shard,
        resources: rs.resources.unwrap_or_default(),
    })
}

fn resolve(
    raw: RawPipeline,
    root: &Path,
    overrides: &[Override],
    check_files: bool,
) -> Result<Pipeline> {
    if !valid_name(&raw.name) {
        return Err(bad_input(format!(
            "name: `{}` is not a valid pipeline name",
            raw.name
        )));
    }
    if raw.stages.is_empty() {
        return Err(bad_input("stages: the pipeline has no stages"));
    }
    if raw.vars.contains_key(SWEEP_VAR) {
        return Err(bad_input(
            "vars.sweep: `sweep` is reserved (`${sweep}` is the value of a swept stage's shard)",
        ));
    }
    let vars = resolve_vars(&raw.vars)?;

    // Sweeps: stage name -> (param, [(value, safe form)]).
    let mut sweeps: Sweeps = BTreeMap::new();
    for rs in &raw.stages {
        if let Some(sw) = &rs.sweep {
            let what = format!("stage `{}`: sweep", rs.name);
            sweeps.insert(rs.name.clone(), parse_sweep(sw, &vars, &what)?);
        }
    }

    // Overrides: unknown stages / params are errors.
    let mut by_stage: HashMap<&str, Vec<&Override>> = HashMap::new();
    for o in overrides {
        let Some(st) = raw.stages.iter().find(|s| s.name == o.stage) else {
            let known: Vec<&str> = raw.stages.iter().map(|s| s.name.as_str()).collect();
            return Err(bad_input(format!(
                "--set {}.{}: unknown stage `{}` (stages: {})",
                o.stage,
                o.param,
                o.stage,
                known.join(", ")
            )));
        };
        if let Some((param, _)) = sweeps.get(&st.name)
            && *param == o.param
        {
            return Err(bad_input(format!(
                "--set {}.{}: `{}` is swept (sweep: in the pipeline); edit its values there",
                o.stage, o.param, o.param
            )));
        }
        let what = format!("--set {}.{}", o.stage, o.param);
        check_flag(&o.param, &what)?;
        if st.outputs.contains_key(&o.param) {
            return Err(bad_input(format!(
                "{what}: `--{}` is an output of stage `{}`; change output paths in the pipeline \
                 (or its `vars`), not with --set",
                o.param, o.stage
            )));
        }
        let list = by_stage.entry(o.stage.as_str()).or_default();
        if let Some(prev) = list.iter().find(|p| p.param == o.param) {
            if prev.value != o.value {
                return Err(bad_input(format!(
                    "{what}: contradictory overrides `{}` and `{}`",
                    prev.value, o.value
                )));
            }
            continue;
        }
        list.push(o);
    }

    let mut stages = Vec::with_capacity(raw.stages.len());
    let mut seen = HashMap::new();
    for (i, rs) in raw.stages.iter().enumerate() {
        let sw = format!("stages[{i}]");
        if !valid_name(&rs.name) {
            return Err(bad_input(format!(
                "{sw}.name: `{}` is not a valid stage name",
                rs.name
            )));
        }
        if let Some(prev) = seen.insert(rs.name.clone(), i) {
            return Err(bad_input(format!(
                "{sw}.name: stage `{}` is defined twice (also stages[{prev}])",
                rs.name
            )));
        }
        let sw = format!("stage `{}`", rs.name);
        let sets = by_stage
            .get(rs.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        match sweeps.get(&rs.name) {
            None => stages.push(build_stage(rs, None, &vars, sets, &sweeps, &sw)?),
            Some((param, values)) => {
                if let Some(k) = rs
                    .inputs
                    .keys()
                    .chain(rs.outputs.keys())
                    .find(|k| *k == param)
                {
                    return Err(bad_input(format!(
                        "{sw}: sweep.{param}: flag `--{k}` is also an input or output"
                    )));
                }
                if rs.params.contains_key(param) {
                    return Err(bad_input(format!(
                        "{sw}: sweep.{param}: `{param}` is also in params; remove it there"
                    )));
                }
                for (k, v) in &rs.outputs {
                    if !v.contains("${sweep}") {
                        return Err(bad_input(format!(
                            "{sw}: outputs.{k}: must contain `${{sweep}}` (the stage is swept \
                             over `{param}`, one output per value)"
                        )));
                    }
                }
                for (value, safe) in values {
                    let shard = Shard {
                        stage: rs.name.clone(),
                        param: param.clone(),
                        value: value.clone(),
                        safe: safe.clone(),
                    };
                    let mut v = vars.clone();
                    v.insert(SWEEP_VAR.to_string(), safe.clone());
                    stages.push(build_stage(rs, Some(shard), &v, sets, &sweeps, &sw)?);
                }
            }
        }
    }
    // Producers: two stages (or two flags) writing one file is an error.
    let mut producers: HashMap<String, (usize, String)> = HashMap::new();
    for (i, s) in stages.iter().enumerate() {
        for o in &s.outputs {
            let mut keys = o.files.clone();
            if o.files.len() != 1 || o.files[0] != o.path {
                keys.push(o.path.clone());
            }
            for f in keys {
                let what = format!("stage `{}`: outputs.{}", s.name, o.flag);
                if let Some((j, w)) = producers.get(&f) {
                    let msg = if *j == i {
                        format!("{what}: `{f}` is declared twice in this stage (also {w})")
                    } else {
                        format!(
                            "{what}: `{f}` is also written by {w}; two stages cannot write one file"
                        )
                    };
                    return Err(bad_input(msg));
                }
                producers.insert(f, (i, what));
            }
        }
    }
    // Outputs nested inside another stage's output directory.
    for (i, s) in stages.iter().enumerate() {
        for o in &s.outputs {
            for (j, t) in stages.iter().enumerate() {
                for p in &t.outputs {
                    if (i, &o.flag) != (j, &p.flag)
                        && Path::new(&o.path).starts_with(&p.path)
                        && o.path != p.path
                    {
                        return Err(bad_input(format!(
                            "stage `{}`: outputs.{}: `{}` lies inside `{}` (outputs.{} of stage `{}`)",
                            s.name, o.flag, o.path, p.path, p.flag, t.name
                        )));
                    }
                }
            }
        }
    }

    // Edges + missing inputs.
    let producer_of = |path: &str| -> Option<usize> {
        if let Some((i, _)) = producers.get(path) {
            return Some(*i);
        }
        stages.iter().position(|s| {
            s.outputs
                .iter()
                .any(|o| Path::new(path).starts_with(&o.path))
        })
    };
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); stages.len()];
    for (i, s) in stages.iter().enumerate() {
        let reads = s
            .inputs
            .iter()
            .flat_map(|(k, ps)| ps.iter().map(move |p| (format!("inputs.{k}"), p)))
            .chain(
                s.depends
                    .iter()
                    .enumerate()
                    .map(|(j, p)| (format!("depends[{j}]"), p)),
            );
        for (what, p) in reads {
            match producer_of(p) {
                Some(j) => {
                    edges[i].insert(j);
                }
                None => {
                    if check_files && !root.join(p).exists() {
                        return Err(bad_input(format!(
                            "stage `{}`: {what}: `{p}` does not exist and no stage produces it",
                            s.name
                        )));
                    }
                }
            }
        }
    }
    for (s, e) in stages.iter_mut().zip(&edges) {
        s.upstream = e.clone();
    }

    // Topological order (Kahn; ties broken by file order).
    let n = stages.len();
    let mut indeg: Vec<usize> = edges.iter().map(BTreeSet::len).collect();
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while let Some(i) = (0..n).find(|&i| !done[i] && indeg[i] == 0) {
        done[i] = true;
        order.push(i);
        for (j, e) in edges.iter().enumerate() {
            if e.contains(&i) {
                indeg[j] -= 1;
            }
        }
    }
    if order.len() < n {
        let stuck: Vec<String> = (0..n)
            .filter(|&i| !done[i])
            .map(|i| {
                let ups: Vec<&str> = edges[i]
                    .iter()
                    .filter(|&&j| !done[j])
                    .map(|&j| stages[j].name.as_str())
                    .collect();
                format!("`{}` (needs {})", stages[i].name, ups.join(", "))
            })
            .collect();
        return Err(bad_input(format!(
            "stages form a cycle: {}",
            stuck.join("; ")
        )));
    }
    let mut new_index = vec![0; n];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut sorted: Vec<Option<Stage>> = stages.into_iter().map(Some).collect();
    let mut stages = Vec::with_capacity(n);
    for &old in &order {
        if let Some(mut s) = sorted[old].take() {
            s.upstream = s.upstream.iter().map(|&u| new_index[u]).collect();
            stages.push(s);
        }
    }
    let producers = producers
        .into_iter()
        .map(|(k, (i, _))| (k, new_index[i]))
        .collect();
    Ok(Pipeline {
        name: raw.name,
        description: raw.description,
        root: root.to_path_buf(),
        stages,
        producers,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./a//b/../c"), "a/c");
        assert_eq!(normalize("/x/./y"), "/x/y");
        assert_eq!(normalize("../a"), "../a");
    }

    #[test]
    fn expands() {
        let vars = BTreeMap::from([("out".to_string(), "o/p".to_string())]);
        assert_eq!(
            expand("${out}/f.parquet", &vars, "k").unwrap(),
            "o/p/f.parquet"
        );
        let e = expand("${nope}/f", &vars, "stage `a`: inputs.x").unwrap_err();
        assert!(format!("{e}").contains("inputs.x"));
    }

    #[test]
    fn safe_forms() {
        assert_eq!(safe_form("B-3Lmu"), "B-3Lmu");
        assert_eq!(safe_form("1.5e-5"), "1.5e-5");
        assert_eq!(safe_form("a b/c,d"), "a_b_c_d");
    }

    #[test]
    fn parses_sweep_pipeline() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let p = load(&root.join("pipelines/sweep-models.yaml"), root, &[], false).unwrap();
        let shards = p.indices_of("chi2-scan").unwrap();
        assert_eq!(shards.len(), 4);
        let s = &p.stages[shards[1]];
        assert_eq!(s.name, "chi2-scan[B-3Le]");
        assert_eq!(s.params["model-names"], "B-3Le");
        assert_eq!(
            s.outputs[1].path,
            "outputs/sweep-models/limits-B-3Le.parquet"
        );
    }

    #[test]
    fn b16gs98_is_the_paper_with_its_changes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let paper = load(&root.join("pipelines/paper.yaml"), root, &[], false).unwrap();
        let v = load(&root.join("pipelines/paper-b16gs98.yaml"), root, &[], false).unwrap();
        assert_eq!(v.name, "paper-b16gs98");
        let names = |p: &Pipeline| p.stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&paper), names(&v));
        for (a, b) in paper.stages.iter().zip(&v.stages) {
            // Same command up to the output directory and the stated changes.
            let expect: Vec<String> = a
                .args()
                .iter()
                .map(|x| x.replace("outputs/paper/", "outputs/paper-b16gs98/"))
                .collect();
            match a.name.as_str() {
                "flux-prep" => {
                    assert_eq!(b.inputs["solar-model"], ["data/solar/b16-gs98.yaml"]);
                    let e: Vec<String> = expect
                        .iter()
                        .map(|x| x.replace("bs05-op", "b16-gs98"))
                        .collect();
                    assert_eq!(b.args(), e);
                }
                "chi2-scan" => {
                    assert_eq!(b.inputs["delta-from"], ["outputs/paper/limits.parquet"]);
                    assert!(!b.params.keys().any(|k| k.starts_with("calibrate")));
                    assert_eq!(b.params.len(), a.params.len() - 3);
                }
                _ => assert_eq!(b.args(), expect, "stage {}", a.name),
            }
        }
    }

    #[test]
    fn set_any_flag_and_reject_contradictions() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let file = root.join("pipelines/paper.yaml");
        let set = |s: &[&str]| -> Vec<Override> { s.iter().map(|x| x.parse().unwrap()).collect() };
        let p = load(&file, root, &set(&["quench-smear.ee-points=100"]), false).unwrap();
        let qs = &p.stages[p.indices_of("quench-smear").unwrap()[0]];
        assert_eq!(qs.params["ee-points"], "100");
        let p = load(
            &file,
            root,
            &set(&["quench-smear.detector=data/detectors/./xenon-example.yaml"]),
            false,
        )
        .unwrap();
        let qs = &p.stages[p.indices_of("quench-smear").unwrap()[0]];
        assert_eq!(qs.inputs["detector"], ["data/detectors/xenon-example.yaml"]);
        // Same value twice is fine; two values are not.
        assert!(load(&file, root, &set(&["plot.x=1", "plot.x=1"]), false).is_ok());
        let e = load(&file, root, &set(&["plot.x=1", "plot.x=2"]), false).unwrap_err();
        assert_eq!(crate::error::exit_code(&e), 2);
        assert!(format!("{e:#}").contains("contradictory"), "{e:#}");
        let e = load(&file, root, &set(&["plot.out-dir=x"]), false).unwrap_err();
        assert!(format!("{e:#}").contains("output"), "{e:#}");
    }

    #[test]
    fn parses_paper_pipeline() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let p = load(&root.join("pipelines/paper.yaml"), root, &[], false).unwrap();
        assert_eq!(p.stages.len(), 7);
        let qs = &p.stages[p.indices_of("quench-smear").unwrap()[0]];
        assert_eq!(qs.params["benchmark-masses-mev"], "1.0,5.0");
        assert_eq!(qs.params["benchmark-models"], "B-L,B-3Le,B-3Lmu,B-3Ltau");
        let plot = &p.stages[p.indices_of("plot").unwrap()[0]];
        assert_eq!(plot.outputs[0].files.len(), 12);
        // Topological: every upstream comes first.
        for (i, s) in p.stages.iter().enumerate() {
            assert!(s.upstream.iter().all(|&u| u < i));
        }
    }
}
