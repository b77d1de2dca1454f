//! Loader of a template-likelihood configuration (XENONnT 8B CEvNS release,
//! `data/xenonnt/*/likelihood.yaml`): runs, observed counts, binning,
//! background and signal templates, mono-energetic template responses and the
//! likelihood parameters, turned into a [`PoissonModel`].
//!
//! Checks (all errors name the file): every template present for every
//! run/component/anchor, no negative or non-finite template value, the
//! templates' binning (Parquet metadata `xenonnt.binning`) equal to the
//! binning table, the observed counts equal to the events binned with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use cevns_physics::likelihood::{Channel, Component, MonoResponse, MorphGrid, Param, PoissonModel};

use crate::data::load_yaml;
use crate::error::{IoError, Result};
use crate::table::TableReader;

/// Number of bins per science run (3 per axis, 4 axes).
pub const N_BINS: usize = 81;

/// One likelihood parameter as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Name.
    pub name: String,
    /// Start and nominal value.
    pub init: f64,
    /// Lower fit bound.
    pub lo: f64,
    /// Upper fit bound.
    pub hi: f64,
    /// Gaussian width of the constraint (absent/null: free).
    #[serde(default)]
    pub sigma: Option<f64>,
    /// Mean of the constraint (default: `init`).
    #[serde(default)]
    pub mean: Option<f64>,
    /// Where the numbers come from.
    pub source: String,
}

/// A component of a run and its multipliers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// Component name in the template tables (e.g. `ac`, `nr`, `b8`).
    pub name: String,
    /// Parameters multiplying it.
    pub multipliers: Vec<String>,
}

/// A science run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Name (`sr0`, ...), as in the tables.
    pub name: String,
    /// Exposure, tonne-years.
    pub livetime_tyr: f64,
    /// Where it comes from.
    pub livetime_source: String,
    /// Components.
    pub components: Vec<ComponentSpec>,
}

/// An external constraint on the 8B flux (used for limits).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FluxConstraint {
    /// Central value, cm⁻² s⁻¹.
    pub central_cm2_s: f64,
    /// Relative 1σ width.
    pub sigma_frac: f64,
    /// Where it comes from.
    pub source: String,
}

/// Where the signal template comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    /// Component name of the signal.
    pub component: String,
    /// The rate multiplier of the signal (the flux in units of the nominal).
    pub flux_parameter: String,
    /// `templates`: the collaboration's folded templates; `mono`: our
    /// spectrum folded with the mono-energetic templates.
    pub from: SignalFrom,
    /// Flux the signal templates correspond to (for `templates`), cm⁻² s⁻¹.
    #[serde(default)]
    pub nominal_flux_cm2_s: Option<f64>,
    /// Where it comes from.
    #[serde(default)]
    pub nominal_flux_source: Option<String>,
    /// Mono-energetic template tables per run (for `mono`).
    #[serde(default)]
    pub mono: BTreeMap<String, String>,
    /// Flux constraint applied to limits (measurements leave the flux free).
    #[serde(default)]
    pub flux_constraint: Option<FluxConstraint>,
}

/// Signal source kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalFrom {
    /// Folded templates in the template tables.
    Templates,
    /// Mono-energetic templates folded with a recoil spectrum.
    Mono,
}

/// The configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LikelihoodFile {
    /// Name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Binning table (sr,axis,axis_index,e0..e3).
    pub binning: String,
    /// Observed counts (sr,bin,n).
    pub observed: String,
    /// Events (sr, 4 observables), checked against `observed`.
    pub events: String,
    /// Template tables (sr, component, e_kev, tly, tqy, bin, value).
    pub templates: Vec<String>,
    /// The signal.
    pub signal: SignalSpec,
    /// The two yield nuisances (t_ly, t_qy), by name.
    pub yields: [String; 2],
    /// Parameters.
    pub parameters: Vec<ParamSpec>,
    /// Science runs.
    pub runs: Vec<RunSpec>,
}

/// A loaded template likelihood: the model with the signal template set to
/// the collaboration's (templates mode) or to zero (mono mode: fill it with
/// [`TemplateLikelihood::with_signal`]).
#[derive(Debug, Clone)]
pub struct TemplateLikelihood {
    /// The configuration.
    pub config: LikelihoodFile,
    /// The model.
    pub model: PoissonModel,
    /// Per run: (channel index, component index) of the signal.
    pub signal_slots: Vec<(usize, usize)>,
    /// Per run (mono mode): the mono-energetic response.
    pub mono: Vec<MonoResponse>,
    /// Index of the flux parameter.
    pub flux_index: usize,
    /// Every file read (for provenance).
    pub files: Vec<PathBuf>,
}

fn resolve(base: &Path, rel: &str) -> PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.parent().unwrap_or(Path::new(".")).join(p)
    }
}

fn bad(path: &Path, what: &str, reason: impl Into<String>) -> IoError {
    IoError::BadValue {
        path: path.to_path_buf(),
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// Data rows of a CSV: (line number, fields).
type CsvRows = Vec<(usize, Vec<String>)>;

/// Rows of a small CSV with a header: (header, rows of fields).
fn read_csv(path: &Path) -> Result<(Vec<String>, CsvRows)> {
    let text = std::fs::read_to_string(path).map_err(|err| IoError::Read {
        path: path.to_path_buf(),
        err,
    })?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let header = lines
        .next()
        .map(|(_, l)| l.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let rows = lines
        .map(|(i, l)| (i + 1, l.split(',').map(|s| s.trim().to_string()).collect()))
        .collect();
    Ok((header, rows))
}

fn num(path: &Path, line: usize, s: &str) -> Result<f64> {
    s.parse::<f64>().map_err(|_| IoError::Csv {
        path: path.to_path_buf(),
        line,
        msg: format!("`{s}` is not a number"),
    })
}

/// Binning per run: 4 axes × 4 edges.
pub type Binning = BTreeMap<String, Vec<Vec<f64>>>;

/// Whether `path` is a template-likelihood configuration (a YAML mapping with
/// `runs`, `signal` and `templates`), i.e. a template detector for
/// quench-smear, rather than a binned-spectrum detector file. Unreadable or
/// non-YAML files are not (the detector loader then reports them).
pub fn is_template_likelihood(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) {
        Ok(serde_yaml_ng::Value::Mapping(m)) => ["runs", "signal", "templates"]
            .iter()
            .all(|k| m.contains_key(*k)),
        _ => false,
    }
}

/// Read `binning.csv`.
pub fn load_binning(path: &Path) -> Result<Binning> {
    let (h, rows) = read_csv(path)?;
    if h != ["sr", "axis", "axis_index", "e0", "e1", "e2", "e3"] {
        return Err(bad(path, "header", format!("{h:?}")));
    }
    let mut out: Binning = BTreeMap::new();
    for (line, r) in rows {
        if r.len() != 7 {
            return Err(IoError::Csv {
                path: path.to_path_buf(),
                line,
                msg: "need 7 fields".into(),
            });
        }
        let e = r[3..]
            .iter()
            .map(|s| num(path, line, s))
            .collect::<Result<Vec<f64>>>()?;
        if e.iter().any(|v| !v.is_finite()) || e.windows(2).any(|w| w[1] <= w[0]) {
            return Err(IoError::Csv {
                path: path.to_path_buf(),
                line,
                msg: "edges must increase".into(),
            });
        }
        let axes = out.entry(r[0].clone()).or_default();
        let idx = num(path, line, &r[2])? as usize;
        if idx != axes.len() {
            return Err(IoError::Csv {
                path: path.to_path_buf(),
                line,
                msg: "axes must be listed in order 0..3".into(),
            });
        }
        axes.push(e);
    }
    if out.values().any(|a| a.len() != 4) {
        return Err(bad(path, "axes", "every run needs 4 axes"));
    }
    Ok(out)
}

/// Bin index of an event (C order over 4 axes of 3 bins), None if outside.
pub fn bin_of(edges: &[Vec<f64>], x: &[f64]) -> Option<usize> {
    let mut idx = 0;
    for (e, &v) in edges.iter().zip(x) {
        if !(v >= e[0] && v <= e[e.len() - 1]) {
            return None;
        }
        let i = (e.partition_point(|&b| b <= v).max(1) - 1).min(e.len() - 2);
        idx = idx * (e.len() - 1) + i;
    }
    Some(idx)
}

/// Observed counts per run from `observed.csv`, checked against `events.csv`
/// binned with `binning`.
pub fn load_observed(
    observed: &Path,
    events: &Path,
    binning: &Binning,
) -> Result<BTreeMap<String, Vec<f64>>> {
    let (h, rows) = read_csv(observed)?;
    if h != ["sr", "bin", "n"] {
        return Err(bad(observed, "header", format!("{h:?}")));
    }
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (line, r) in rows {
        if r.len() != 3 {
            return Err(IoError::Csv {
                path: observed.to_path_buf(),
                line,
                msg: "need 3 fields".into(),
            });
        }
        let b = num(observed, line, &r[1])?;
        let n = num(observed, line, &r[2])?;
        if !(b >= 0.0 && (b as usize) < N_BINS && n >= 0.0 && n.fract() == 0.0) {
            return Err(IoError::Csv {
                path: observed.to_path_buf(),
                line,
                msg: format!("bin {b} / count {n} out of range"),
            });
        }
        out.entry(r[0].clone()).or_insert_with(|| vec![0.0; N_BINS])[b as usize] += n;
    }
    let (h, rows) = read_csv(events)?;
    if h.len() != 5 || h[0] != "sr" {
        return Err(bad(events, "header", format!("{h:?}")));
    }
    let mut binned: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (line, r) in rows {
        let Some(edges) = binning.get(&r[0]) else {
            return Err(IoError::Csv {
                path: events.to_path_buf(),
                line,
                msg: format!("run `{}` has no binning", r[0]),
            });
        };
        let x = r[1..]
            .iter()
            .map(|s| num(events, line, s))
            .collect::<Result<Vec<f64>>>()?;
        let Some(b) = bin_of(edges, &x) else {
            return Err(IoError::Csv {
                path: events.to_path_buf(),
                line,
                msg: "event outside the binning".into(),
            });
        };
        binned
            .entry(r[0].clone())
            .or_insert_with(|| vec![0.0; N_BINS])[b] += 1.0;
    }
    for (sr, counts) in &out {
        let ev = binned.get(sr).cloned().unwrap_or_else(|| vec![0.0; N_BINS]);
        if &ev != counts {
            return Err(bad(
                observed,
                &format!("run {sr}"),
                format!(
                    "counts differ from {} binned with the binning table",
                    events.display()
                ),
            ));
        }
    }
    Ok(out)
}

/// Rows of a template table, keyed by (sr, component, e_kev bits).
type TemplateRows = BTreeMap<(String, String, u64), BTreeMap<(i64, i64), Vec<Option<f64>>>>;

fn anchor_key(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

fn read_templates(
    path: &Path,
    binning: &Binning,
    runs: &[String],
    rows: &mut TemplateRows,
) -> Result<()> {
    let t = TableReader::open(path)?;
    let meta = t.meta("xenonnt.binning").ok_or_else(|| {
        bad(
            path,
            "metadata `xenonnt.binning`",
            "absent (convert with scripts/convert_xenonnt.py)",
        )
    })?;
    let edges: BTreeMap<String, BTreeMap<String, Vec<f64>>> = serde_json::from_str(meta)
        .map_err(|e| bad(path, "metadata `xenonnt.binning`", e.to_string()))?;
    let axis_order = [
        "cs2",
        "s2_shadow_s2_time_shadow_quantile",
        "s1_bdt_score",
        "s2_bdt_score",
    ];
    for (sr, axes) in &edges {
        if !runs.contains(sr) {
            continue;
        }
        let Some(want) = binning.get(sr) else {
            continue;
        };
        for (i, name) in axis_order.iter().enumerate() {
            let got = axes.get(*name).cloned().unwrap_or_default();
            if got.len() != want[i].len()
                || got
                    .iter()
                    .zip(&want[i])
                    .any(|(a, b)| (a - b).abs() > 1e-9 * b.abs().max(1.0))
            {
                return Err(bad(
                    path,
                    &format!("binning of {sr}/{name}"),
                    format!(
                        "template edges {got:?} differ from the binning table {:?}",
                        want[i]
                    ),
                ));
            }
        }
    }
    let sr = t.str("sr")?;
    let comp = t.str("component")?;
    let e = t.f64("e_kev")?;
    let tly = t.f64("tly")?;
    let tqy = t.f64("tqy")?;
    let bin = t.u32("bin")?;
    let value = t.f64("value")?;
    for i in 0..sr.len() {
        if !runs.contains(&sr[i]) {
            continue;
        }
        if value[i] < 0.0 {
            return Err(bad(
                path,
                &format!("row {i} ({} {} bin {})", sr[i], comp[i], bin[i]),
                format!("template value {} is negative", value[i]),
            ));
        }
        let b = bin[i] as usize;
        if b >= N_BINS {
            return Err(bad(
                path,
                &format!("row {i}"),
                format!("bin {b} >= {N_BINS}"),
            ));
        }
        let cell = rows
            .entry((sr[i].clone(), comp[i].clone(), e[i].to_bits()))
            .or_default()
            .entry((anchor_key(tly[i]), anchor_key(tqy[i])))
            .or_insert_with(|| vec![None; N_BINS]);
        if cell[b].replace(value[i]).is_some() {
            return Err(bad(
                path,
                &format!("row {i}"),
                "duplicate (sr, component, e, tly, tqy, bin)",
            ));
        }
    }
    Ok(())
}

/// Assemble a [`MorphGrid`] from the rows of one (sr, component, e).
fn grid_of(
    path_hint: &str,
    cells: &BTreeMap<(i64, i64), Vec<Option<f64>>>,
) -> std::result::Result<MorphGrid, String> {
    let xs: Vec<i64> = {
        let mut v: Vec<i64> = cells.keys().map(|k| k.0).collect();
        v.dedup();
        v
    };
    let ys: Vec<i64> = {
        let mut v: Vec<i64> = cells.keys().map(|k| k.1).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut values = Vec::with_capacity(xs.len() * ys.len() * N_BINS);
    for &x in &xs {
        for &y in &ys {
            let Some(c) = cells.get(&(x, y)) else {
                return Err(format!(
                    "{path_hint}: anchor tly={} tqy={} missing",
                    x as f64 / 1e3,
                    y as f64 / 1e3
                ));
            };
            for (b, v) in c.iter().enumerate() {
                values.push(v.ok_or_else(|| {
                    format!(
                        "{path_hint}: tly={} tqy={} bin {b} missing",
                        x as f64 / 1e3,
                        y as f64 / 1e3
                    )
                })?);
            }
        }
    }
    let f = |v: &[i64]| v.iter().map(|&k| k as f64 / 1e3).collect::<Vec<f64>>();
    MorphGrid::new(f(&xs), f(&ys), N_BINS, values).map_err(|e| format!("{path_hint}: {e}"))
}

impl TemplateLikelihood {
    /// Load a configuration and everything it refers to.
    pub fn load(path: &Path) -> Result<Self> {
        let config: LikelihoodFile = load_yaml(path)?;
        let mut files = vec![path.to_path_buf()];
        let run_names: Vec<String> = config.runs.iter().map(|r| r.name.clone()).collect();
        let binning_path = resolve(path, &config.binning);
        let binning = load_binning(&binning_path)?;
        for r in &run_names {
            if !binning.contains_key(r) {
                return Err(bad(&binning_path, &format!("run {r}"), "no binning"));
            }
        }
        let observed_path = resolve(path, &config.observed);
        let events_path = resolve(path, &config.events);
        let observed = load_observed(&observed_path, &events_path, &binning)?;
        files.extend([binning_path.clone(), observed_path.clone(), events_path]);

        // Parameters.
        let mut params = Vec::new();
        for p in &config.parameters {
            if params.iter().any(|q: &Param| q.name == p.name) {
                return Err(bad(path, &format!("parameter {}", p.name), "listed twice"));
            }
            params.push(Param {
                name: p.name.clone(),
                init: p.init,
                lo: p.lo,
                hi: p.hi,
                constraint: p.sigma.map(|s| (p.mean.unwrap_or(p.init), s)),
            });
        }
        let index = |name: &str| -> Result<usize> {
            params.iter().position(|p| p.name == name).ok_or_else(|| {
                bad(
                    path,
                    &format!("parameter `{name}`"),
                    "not defined under `parameters`",
                )
            })
        };
        let yields = (index(&config.yields[0])?, index(&config.yields[1])?);
        let flux_index = index(&config.signal.flux_parameter)?;

        // Templates.
        let mut rows = TemplateRows::new();
        let mut template_paths = Vec::new();
        for t in &config.templates {
            let p = resolve(path, t);
            read_templates(&p, &binning, &run_names, &mut rows)?;
            template_paths.push(p);
        }
        files.extend(template_paths.iter().cloned());
        let hint = template_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");

        // Mono responses.
        let mut mono = Vec::new();
        if config.signal.from == SignalFrom::Mono {
            for r in &run_names {
                let Some(rel) = config.signal.mono.get(r) else {
                    return Err(bad(
                        path,
                        "signal.mono",
                        format!("no mono-energetic table for run {r}"),
                    ));
                };
                let p = resolve(path, rel);
                let mut mrows = TemplateRows::new();
                read_templates(&p, &binning, std::slice::from_ref(r), &mut mrows)?;
                let mut es = Vec::new();
                let mut grids = Vec::new();
                let mut entries: Vec<_> = mrows
                    .iter()
                    .filter(|((sr, c, _), _)| sr == r && c == "mono")
                    .map(|((_, _, e), cells)| (f64::from_bits(*e), cells))
                    .collect();
                entries.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (e, cells) in entries {
                    es.push(e);
                    grids.push(
                        grid_of(&p.display().to_string(), cells)
                            .map_err(|m| bad(&p, "mono template", m))?,
                    );
                }
                if es.is_empty() {
                    return Err(bad(&p, "mono template", format!("no rows for run {r}")));
                }
                let m = MonoResponse::new(es, grids).map_err(|err| IoError::Physics {
                    path: p.clone(),
                    err,
                })?;
                mono.push(m);
                files.push(p);
            }
        }

        // Channels.
        let mut channels = Vec::new();
        let mut signal_slots = Vec::new();
        for (ci, r) in config.runs.iter().enumerate() {
            if !(r.livetime_tyr.is_finite() && r.livetime_tyr > 0.0) {
                return Err(bad(
                    path,
                    &format!("run {} livetime_tyr", r.name),
                    "must be > 0",
                ));
            }
            let Some(obs) = observed.get(&r.name) else {
                return Err(bad(
                    &observed_path,
                    &format!("run {}", r.name),
                    "no observed counts",
                ));
            };
            let mut comps = Vec::new();
            for c in &r.components {
                let multipliers = c
                    .multipliers
                    .iter()
                    .map(|m| index(m))
                    .collect::<Result<Vec<_>>>()?;
                let is_signal = c.name == config.signal.component;
                let template = if is_signal && config.signal.from == SignalFrom::Mono {
                    signal_slots.push((ci, comps.len()));
                    let (x, y, nb) = mono[ci].layout();
                    MorphGrid::new(
                        x.to_vec(),
                        y.to_vec(),
                        nb,
                        vec![0.0; x.len() * y.len() * nb],
                    )
                    .map_err(|err| IoError::Physics {
                        path: path.to_path_buf(),
                        err,
                    })?
                } else {
                    if is_signal {
                        signal_slots.push((ci, comps.len()));
                    }
                    let key = (r.name.clone(), c.name.clone(), 0.0f64.to_bits());
                    let Some(cells) = rows.get(&key) else {
                        return Err(bad(
                            path,
                            &format!("run {} component {}", r.name, c.name),
                            format!("no template in {hint}"),
                        ));
                    };
                    grid_of(&hint, cells)
                        .map_err(|m| bad(path, &format!("{}/{}", r.name, c.name), m))?
                };
                comps.push(Component {
                    name: c.name.clone(),
                    template,
                    scale: r.livetime_tyr,
                    multipliers,
                });
            }
            channels.push(Channel {
                name: r.name.clone(),
                observed: obs.clone(),
                components: comps,
            });
        }
        if signal_slots.len() != config.runs.len() {
            return Err(bad(
                path,
                "signal.component",
                format!(
                    "`{}` must be a component of every run",
                    config.signal.component
                ),
            ));
        }
        let model = PoissonModel {
            params,
            channels,
            yields: Some(yields),
        };
        model.validate().map_err(|err| IoError::Physics {
            path: path.to_path_buf(),
            err,
        })?;
        Ok(Self {
            config,
            model,
            signal_slots,
            mono,
            flux_index,
            files,
        })
    }

    /// The model with the signal template of each run replaced.
    pub fn with_signal(&self, signal: Vec<MorphGrid>) -> PoissonModel {
        let mut m = self.model.clone();
        for (&(ci, k), t) in self.signal_slots.iter().zip(signal) {
            m.channels[ci].components[k].template = t;
        }
        m
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, StringArray, UInt32Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;

    #[test]
    fn bin_index_is_c_order_and_edges_are_inclusive() {
        let e = vec![vec![0.0, 1.0, 2.0, 3.0]; 4];
        assert_eq!(bin_of(&e, &[0.0, 0.0, 0.0, 0.0]), Some(0));
        assert_eq!(bin_of(&e, &[3.0, 0.5, 0.5, 1.5]), Some(27 * 2 + 1));
        assert_eq!(bin_of(&e, &[3.1, 0.5, 0.5, 1.5]), None);
    }

    /// A template table of one fixed component `ac` for run sr0 with the
    /// given 81 values, binned like `edges`.
    fn write_template(path: &Path, values: Vec<f64>, edges: &[Vec<f64>]) {
        let n = values.len();
        let schema = Arc::new(Schema::new(vec![
            Field::new("sr", DataType::Utf8, false),
            Field::new("component", DataType::Utf8, false),
            Field::new("e_kev", DataType::Float64, false),
            Field::new("tly", DataType::Float64, false),
            Field::new("tqy", DataType::Float64, false),
            Field::new("bin", DataType::UInt32, false),
            Field::new("value", DataType::Float64, true),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["sr0"; n])),
            Arc::new(StringArray::from(vec!["ac"; n])),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(UInt32Array::from((0..n as u32).collect::<Vec<_>>())),
            Arc::new(Float64Array::from(values)),
        ];
        let names = [
            "cs2",
            "s2_shadow_s2_time_shadow_quantile",
            "s1_bdt_score",
            "s2_bdt_score",
        ];
        let meta: BTreeMap<String, BTreeMap<&str, Vec<f64>>> = [(
            "sr0".to_string(),
            names.iter().copied().zip(edges.iter().cloned()).collect(),
        )]
        .into();
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "xenonnt.binning".to_string(),
                serde_json::to_string(&meta).unwrap(),
            )]))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
        w.write(&RecordBatch::try_new(schema, cols).unwrap())
            .unwrap();
        w.close().unwrap();
    }

    fn binning() -> Binning {
        [("sr0".to_string(), vec![vec![0.0, 1.0, 2.0, 3.0]; 4])].into()
    }

    fn load(values: Vec<f64>, edges: &[Vec<f64>]) -> Result<TemplateRows> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_template(&p, values, edges);
        let mut rows = TemplateRows::new();
        read_templates(&p, &binning(), &["sr0".to_string()], &mut rows).map(|()| rows)
    }

    #[test]
    fn template_tables_are_checked() {
        let edges = vec![vec![0.0, 1.0, 2.0, 3.0]; 4];
        let rows = load(vec![1.0; 81], &edges).unwrap();
        let cells = &rows[&("sr0".to_string(), "ac".to_string(), 0.0f64.to_bits())];
        assert_eq!(grid_of("t", cells).unwrap().total_at(0.0, 0.0), 81.0);
        let mut neg = vec![1.0; 81];
        neg[7] = -1e-6;
        let e = load(neg, &edges).unwrap_err().to_string();
        assert!(e.contains("t.parquet") && e.contains("negative"), "{e}");
        let mut nan = vec![1.0; 81];
        nan[3] = f64::NAN;
        let e = load(nan, &edges).unwrap_err().to_string();
        assert!(e.contains("t.parquet"), "{e}");
        let mut other = edges.clone();
        other[2][1] = 1.5;
        let e = load(vec![1.0; 81], &other).unwrap_err().to_string();
        assert!(e.contains("binning of sr0/s1_bdt_score"), "{e}");
        // A missing bin is named when the grid is assembled.
        let rows = load(vec![1.0; 80], &edges).unwrap();
        let cells = &rows[&("sr0".to_string(), "ac".to_string(), 0.0f64.to_bits())];
        assert!(grid_of("t", cells).unwrap_err().contains("bin 80 missing"));
    }
}
