//! The Parquet tables stages exchange: one place for their column names,
//! units, writers and checked readers.
//!
//! | file | stage | one row per |
//! |---|---|---|
//! | fluxes.parquet | flux-prep | source × flavour × spectrum node (or line) |
//! | xsec.parquet | xsec-tables | isotope × recoil-grid point |
//! | xsec_grid.parquet | xsec-tables | isotope × E_ν × T_nr ([`xsec_grid`]) |
//! | rates.parquet | rate-convolve | source × flavour × isotope × recoil-grid point |
//! | response.parquet | quench-smear | detector bin × recoil-grid point |
//! | template-response.parquet | quench-smear (template detector) | run × template energy × yield anchor × bin ([`template_response`]) |
//! | binned.parquet | quench-smear | detector bin × source ([`binned`]) |
//! | spectrum.parquet | quench-smear | benchmark curve × T_ee point ([`spectrum`]) |
//! | limits.parquet | chi2-scan | model × mediator mass ([`limits`]) |
//! | scan.parquet | chi2-scan | model × mass × coupling ([`scan`]) |
//!
//! Every table has exactly one writer (`*_table`, a [`Table`] with units)
//! and one checked reader (`read_*`) here; stages, `report`, `plot` and
//! `compare` go through them. Column names are the `COL_*` constants of the
//! table's module.

pub mod binned;
pub mod limits;
pub mod scan;
pub mod spectrum;
pub mod template_response;
pub mod xsec_grid;

pub use binned::{BinnedRates, BinnedSource, binned_table, read_binned};
pub use limits::{
    AsimovSetup, Calibration, DataKind, Limits, LimitsExtra, ModelLimit, NoLimit, limits_table,
    read_limits,
};
pub use scan::{ScanBlock, ScanPoint, read_scan, scan_table};
pub use spectrum::{SpectrumCurve, read_spectrum, spectrum_table};
pub use template_response::{read_template_response, template_response_table};
pub use xsec_grid::{XsecGridPoint, read_xsec_grid, xsec_grid_table};

use std::path::Path;

use cevns_physics::channel::{Cevns, Target};
use cevns_physics::detector::resolution::Bins;
use cevns_physics::detector::{DetectorResponse, RecoilGrid, Response, Species};
use cevns_physics::flux::{Line, PiecewiseLinear, Spectrum};
use cevns_physics::nucleus::Nucleus;
use cevns_physics::oscillation::Flavour;
use cevns_physics::rate::{RatePart, SourceRates};
use rayon::prelude::*;

use crate::error::{IoError, Result};
use crate::table::{Table, TableReader};

pub(crate) fn bad(path: &Path, what: impl Into<String>, reason: impl Into<String>) -> IoError {
    IoError::BadValue {
        path: path.to_path_buf(),
        what: what.into(),
        reason: reason.into(),
    }
}

/// Group consecutive equal keys: returns (key, start, end) ranges.
pub(crate) fn runs<K: PartialEq + Clone>(keys: &[K]) -> Vec<(K, usize, usize)> {
    runs_by(keys.len(), |i| keys[i].clone())
}

/// [`runs`] over rows `0..n` whose key `key(i)` is computed on the fly (no
/// key table for long tables).
pub(crate) fn runs_by<K: PartialEq>(n: usize, key: impl Fn(usize) -> K) -> Vec<(K, usize, usize)> {
    let mut out: Vec<(K, usize, usize)> = Vec::new();
    for i in 0..n {
        let k = key(i);
        match out.last_mut() {
            Some((last, _, end)) if *last == k => *end = i + 1,
            _ => out.push((k, i, i + 1)),
        }
    }
    out
}

/// Every group of rows of a table must sample the same recoil grid: set it
/// from the first group, compare the others with it.
fn same_grid(path: &Path, grid: &mut Option<RecoilGrid>, t_kev: &[f64]) -> Result<()> {
    match grid {
        Some(g0) => check_grid(path, g0, t_kev),
        None => {
            *grid = Some(grid_of(path, t_kev)?);
            Ok(())
        }
    }
}

/// The recoil grid of a table's first group of rows (validated).
fn grid_of(path: &Path, t_kev: &[f64]) -> Result<RecoilGrid> {
    RecoilGrid::from_points(t_kev.to_vec()).map_err(|err| IoError::Physics {
        path: path.to_path_buf(),
        err,
    })
}

/// Another group of rows must sample `grid` exactly (equal to a validated
/// grid: valid, no second validation).
fn check_grid(path: &Path, grid: &RecoilGrid, t_kev: &[f64]) -> Result<()> {
    if grid.points() == t_kev {
        Ok(())
    } else {
        Err(bad(
            path,
            "column `t_nr_kev`",
            "row groups use different recoil grids",
        ))
    }
}

// ---------------------------------------------------------------- fluxes

/// One source and flavour of the flux at Earth.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxEntry {
    /// Source name.
    pub source: String,
    /// Pull width σ_j.
    pub sigma_frac: f64,
    /// Flavour at Earth.
    pub flavour: Flavour,
    /// Oscillation probability P(ν_e → flavour) already applied, one per
    /// spectrum node or line, or a single value for all of them (the
    /// paper's energy-independent eq 8–11).
    pub probability: Vec<f64>,
    /// Spectrum at Earth for this flavour.
    pub spectrum: Spectrum,
}

/// fluxes.parquet: `source`, `flavour`, `kind` (continuum|line), `e_nu_mev`,
/// `dphi_de` (cm⁻² s⁻¹ MeV⁻¹, continua), `line_flux` (cm⁻² s⁻¹, lines),
/// `probability`, `sigma_frac`.
pub fn fluxes_table(entries: &[FluxEntry]) -> Table {
    let (mut src, mut fl, mut kind, mut e, mut d, mut l, mut p, mut s) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    for x in entries {
        let mut node = 0;
        let mut push = |k: &str, en: f64, dd: f64, ll: f64| {
            src.push(x.source.clone());
            fl.push(x.flavour.as_str().to_string());
            kind.push(k.to_string());
            e.push(en);
            d.push(dd);
            l.push(ll);
            let pi = match x.probability.as_slice() {
                [one] => *one,
                all => all.get(node).copied().unwrap_or(f64::NAN),
            };
            p.push(pi);
            node += 1;
            s.push(x.sigma_frac);
        };
        match &x.spectrum {
            Spectrum::Continuum(pl) => {
                for (en, v) in pl.energies().iter().zip(pl.values()) {
                    push("continuum", *en, *v, 0.0);
                }
            }
            Spectrum::Lines(lines) => {
                for line in lines {
                    push("line", line.energy_mev, 0.0, line.flux);
                }
            }
        }
    }
    Table::new()
        .str("source", src)
        .str("flavour", fl)
        .str("kind", kind)
        .f64("e_nu_mev", "MeV", e)
        .f64("dphi_de", "cm^-2 s^-1 MeV^-1", d)
        .f64("line_flux", "cm^-2 s^-1", l)
        .f64("probability", "1", p)
        .f64("sigma_frac", "1", s)
}

/// Read fluxes.parquet back into spectra.
pub fn read_fluxes(path: &Path) -> Result<Vec<FluxEntry>> {
    let t = TableReader::open(path)?;
    t.expect_stage("flux-prep")?;
    let (src, fl, kind) = (t.str("source")?, t.str("flavour")?, t.str("kind")?);
    let (e, d, l, p, s) = (
        t.f64("e_nu_mev")?,
        t.f64("dphi_de")?,
        t.f64("line_flux")?,
        t.f64("probability")?,
        t.f64("sigma_frac")?,
    );
    let keys: Vec<(String, String, String)> = (0..src.len())
        .map(|i| (src[i].clone(), fl[i].clone(), kind[i].clone()))
        .collect();
    let mut out = Vec::new();
    for ((source, flavour, k), a, b) in runs(&keys) {
        let flavour = Flavour::parse(&flavour)
            .map_err(|e| bad(path, format!("row {a} column `flavour`"), e.to_string()))?;
        let spectrum = match k.as_str() {
            "continuum" => Spectrum::Continuum(
                PiecewiseLinear::new(&source, e[a..b].to_vec(), d[a..b].to_vec()).map_err(
                    |err| IoError::Physics {
                        path: path.to_path_buf(),
                        err,
                    },
                )?,
            ),
            "line" => Spectrum::Lines(
                (a..b)
                    .map(|i| Line {
                        energy_mev: e[i],
                        flux: l[i],
                    })
                    .collect(),
            ),
            other => {
                return Err(bad(
                    path,
                    format!("row {a} column `kind`"),
                    format!("`{other}` is not continuum|line"),
                ));
            }
        };
        out.push(FluxEntry {
            source,
            sigma_frac: s[a],
            flavour,
            probability: p[a..b].to_vec(),
            spectrum,
        });
    }
    if out.is_empty() {
        return Err(bad(path, "table", "no rows"));
    }
    Ok(out)
}

// ---------------------------------------------------------------- xsec

/// Cross-section tables of one isotope on the recoil grid.
#[derive(Debug, Clone, PartialEq)]
pub struct XsecIsotope {
    /// The isotope.
    pub nucleus: Nucleus,
    /// Q_SM (eq 2).
    pub q_sm: f64,
    /// κ = 1/(√2 G_F Q_SM), MeV².
    pub kappa_mev2: f64,
    /// Helm |F|² on the grid.
    pub ff2: Vec<f64>,
    /// K(T) = dσ_SM/dT / (1 − m_N T/2E²), cm² keV⁻¹, on the grid (for
    /// ν–e: G_F² m_e Z_eff(T)/2π per atom).
    pub k_sm: Vec<f64>,
    /// The interaction channel: `cevns`, or `nu-e` for the electrons of the
    /// atom (then `nucleus` has A = N = 0, the electron mass, and atoms per
    /// kg; `ff2` holds Z_eff(T)).
    pub channel: String,
    /// sin²θ_W of the couplings (ν–e needs it at convolution time).
    pub sin2_theta_w: f64,
}

impl XsecIsotope {
    /// The channel this row describes, ready for the flux convolution.
    pub fn channel(&self) -> cevns_physics::channel::AnyChannel {
        use cevns_physics::channel::{AnyChannel, NuElectron};
        match self.channel.as_str() {
            "nu-e" => AnyChannel::NuElectron(NuElectron {
                z: self.nucleus.z,
                atoms_per_kg: self.nucleus.targets_per_kg,
                sin2_theta_w: self.sin2_theta_w,
            }),
            _ => AnyChannel::Cevns(Cevns {
                nucleus: self.nucleus,
                kappa_mev2: self.kappa_mev2,
            }),
        }
    }
}

/// xsec.parquet: `a`, `z`, `n`, `abundance`, `mass_mev`, `targets_per_kg`,
/// `q_sm`, `kappa_mev2`, `t_nr_kev`, `ff2`, `k_sm_cm2_per_kev`, `e_nu_min_mev`.
pub fn xsec_table(grid: &RecoilGrid, isotopes: &[XsecIsotope]) -> Table {
    let n = grid.len();
    let rep = |f: &dyn Fn(&XsecIsotope) -> f64| -> Vec<f64> {
        isotopes
            .iter()
            .flat_map(|x| std::iter::repeat_n(f(x), n))
            .collect()
    };
    let repu = |f: &dyn Fn(&XsecIsotope) -> u32| -> Vec<u32> {
        isotopes
            .iter()
            .flat_map(|x| std::iter::repeat_n(f(x), n))
            .collect()
    };
    let t: Vec<f64> = isotopes
        .iter()
        .flat_map(|_| grid.points().iter().copied())
        .collect();
    let emin: Vec<f64> = isotopes
        .iter()
        .flat_map(|x| {
            grid.points().iter().map(move |&t| {
                cevns_physics::kinematics::e_nu_min_mev(
                    x.nucleus.mass_mev,
                    cevns_physics::units::kev_to_mev(t),
                )
            })
        })
        .collect();
    let t = Table::new()
        .u32("a", "1", repu(&|x| x.nucleus.a))
        .u32("z", "1", repu(&|x| x.nucleus.z))
        .u32("n", "1", repu(&|x| x.nucleus.n))
        .f64("abundance", "1", rep(&|x| x.nucleus.abundance))
        .f64("mass_mev", "MeV", rep(&|x| x.nucleus.mass_mev))
        .f64(
            "targets_per_kg",
            "kg^-1",
            rep(&|x| x.nucleus.targets_per_kg),
        )
        .f64("q_sm", "1", rep(&|x| x.q_sm))
        .f64("kappa_mev2", "MeV^2", rep(&|x| x.kappa_mev2))
        .f64("t_nr_kev", "keV", t)
        .f64(
            "ff2",
            "1",
            isotopes
                .iter()
                .flat_map(|x| x.ff2.iter().copied())
                .collect(),
        )
        .f64(
            "k_sm_cm2_per_kev",
            "cm^2 keV^-1",
            isotopes
                .iter()
                .flat_map(|x| x.k_sm.iter().copied())
                .collect(),
        )
        .f64("e_nu_min_mev", "MeV", emin);
    // Tables with a second channel say which row is which; CEvNS-only
    // tables keep the original columns.
    if isotopes.iter().any(|x| x.channel != "cevns") {
        t.str(
            "channel",
            isotopes
                .iter()
                .flat_map(|x| std::iter::repeat_n(x.channel.clone(), n))
                .collect(),
        )
        .f64("sin2_theta_w", "1", rep(&|x| x.sin2_theta_w))
    } else {
        t
    }
}

/// Read xsec.parquet: the recoil grid and per-isotope tables.
pub fn read_xsec(path: &Path) -> Result<(RecoilGrid, Vec<XsecIsotope>)> {
    let t = TableReader::open(path)?;
    t.expect_stage("xsec-tables")?;
    let (a, z, n) = (t.u32("a")?, t.u32("z")?, t.u32("n")?);
    let (ab, m, npk, q, k) = (
        t.f64("abundance")?,
        t.f64("mass_mev")?,
        t.f64("targets_per_kg")?,
        t.f64("q_sm")?,
        t.f64("kappa_mev2")?,
    );
    let (tk, ff2, ksm) = (
        t.f64("t_nr_kev")?,
        t.f64("ff2")?,
        t.f64("k_sm_cm2_per_kev")?,
    );
    let (chan, s2w) = if t.has("channel") {
        (t.str("channel")?, t.f64("sin2_theta_w")?)
    } else {
        (vec!["cevns".to_string(); a.len()], vec![f64::NAN; a.len()])
    };
    let keys: Vec<(String, u32, u32)> = (0..a.len())
        .map(|i| (chan[i].clone(), z[i], a[i]))
        .collect();
    let mut grid: Option<RecoilGrid> = None;
    let mut out = Vec::new();
    for ((channel, _, _), s, e) in runs(&keys) {
        if channel != "cevns" && channel != "nu-e" {
            return Err(bad(
                path,
                format!("row {s} column `channel`"),
                format!("`{channel}` is not cevns|nu-e"),
            ));
        }
        same_grid(path, &mut grid, &tk[s..e])?;
        if m[s] <= 0.0 || npk[s] < 0.0 {
            return Err(bad(
                path,
                format!("row {s}"),
                "nuclear mass must be > 0 and targets_per_kg >= 0",
            ));
        }
        out.push(XsecIsotope {
            nucleus: Nucleus {
                z: z[s],
                n: n[s],
                a: a[s],
                mass_mev: m[s],
                targets_per_kg: npk[s],
                abundance: ab[s],
            },
            q_sm: q[s],
            kappa_mev2: k[s],
            ff2: ff2[s..e].to_vec(),
            k_sm: ksm[s..e].to_vec(),
            channel,
            sin2_theta_w: s2w[s],
        });
    }
    let grid = grid.ok_or_else(|| bad(path, "table", "no rows"))?;
    Ok((grid, out))
}

// ---------------------------------------------------------------- rates

/// rates.parquet: `source`, `flavour`, `a`, `z`, `n`, `mass_mev`,
/// `kappa_mev2`, `sigma_frac`, `t_nr_kev`, `dr_dt` (SM dR/dT_nr,
/// counts kg⁻¹ keV⁻¹ day⁻¹). The Z' part follows from κ, Z, N and m_N
/// (eq 7): dR = dR_SM (1 + x)², x = g² Q'_ℓ q_N κ/(m_Z'² + 2 m_N T).
pub fn rates_table(grid: &RecoilGrid, sources: &[SourceRates]) -> Table {
    let (mut src, mut fl, mut a, mut z, mut n, mut m, mut k, mut s, mut t, mut r) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let (mut ch, mut r1, mut r2) = (vec![], vec![], vec![]);
    for sr in sources {
        for p in &sr.parts {
            // Electrons: A = N = 0 and the electron mass.
            let (na, nz, nn) = match p.target {
                Target::Nucleus(nuc) => (nuc.a, nuc.z, nuc.n),
                Target::Electrons { z, .. } => (0, z, 0),
            };
            for (j, &tt) in grid.points().iter().enumerate() {
                src.push(sr.source.as_str());
                fl.push(p.flavour.as_str());
                a.push(na);
                z.push(nz);
                n.push(nn);
                m.push(p.target.recoil_mass_mev());
                ch.push(p.channel.as_str());
                r1.push(p.rate_x1[j]);
                r2.push(p.rate_x2[j]);
                k.push(p.kappa_mev2);
                s.push(sr.sigma_frac);
                t.push(tt);
                r.push(p.rate[j]);
            }
        }
    }
    let table = Table::new()
        .str_ref("source", src)
        .str_ref("flavour", fl)
        .u32("a", "1", a)
        .u32("z", "1", z)
        .u32("n", "1", n)
        .f64("mass_mev", "MeV", m)
        .f64("kappa_mev2", "MeV^2", k)
        .f64("sigma_frac", "1", s)
        .f64("t_nr_kev", "keV", t)
        .f64("dr_dt", "counts kg^-1 keV^-1 day^-1", r);
    // With a second channel the Z' pieces are not (1 + x)² of the SM rate:
    // store them (CEvNS-only tables keep the original columns).
    if ch.iter().any(|c| *c != "cevns") {
        table
            .str_ref("channel", ch)
            .f64("dr_dt_x1", "counts kg^-1 keV^-1 day^-1", r1)
            .f64("dr_dt_x2", "counts kg^-1 keV^-1 day^-1", r2)
    } else {
        table
    }
}

/// Read rates.parquet.
pub fn read_rates(path: &Path) -> Result<(RecoilGrid, Vec<SourceRates>)> {
    let t = TableReader::open(path)?;
    t.expect_stage("rate-convolve")?;
    // Few distinct names over many rows: read them as keys into the names.
    let ((src, src_i), (fl, fl_i)) = (t.str_keys("source")?, t.str_keys("flavour")?);
    // The numeric columns are borrowed from the decoded file, not copied.
    let (a, z, n) = (t.u32_ref("a")?, t.u32_ref("z")?, t.u32_ref("n")?);
    let (m, k, s, tk, r) = (
        t.f64_ref("mass_mev")?,
        t.f64_ref("kappa_mev2")?,
        t.f64_ref("sigma_frac")?,
        t.f64_ref("t_nr_kev")?,
        t.f64_ref("dr_dt")?,
    );
    if let Some(i) = r.iter().position(|v| *v < 0.0) {
        return Err(bad(
            path,
            format!("column `dr_dt` row {i}"),
            "rate must be >= 0",
        ));
    }
    let (ch, x1, x2) = if t.has("channel") {
        (
            Some(t.str_keys("channel")?),
            Some(t.f64_ref("dr_dt_x1")?),
            Some(t.f64_ref("dr_dt_x2")?),
        )
    } else {
        (None, None, None)
    };
    // Row keys are the string columns' codes (integer comparisons, no
    // per-row string work), compared row to row without a key table.
    let (zs, as_) = (&*z, &*a);
    let runs = match &ch {
        Some((_, ci)) => runs_by(src_i.len(), |i| (src_i[i], fl_i[i], ci[i], zs[i], as_[i])),
        None => runs_by(src_i.len(), |i| (src_i[i], fl_i[i], 0, zs[i], as_[i])),
    };
    let Some(&(_, b0, e0)) = runs.first() else {
        return Err(bad(path, "table", "no rows"));
    };
    let grid = grid_of(path, &tk[b0..e0])?;
    // One part per run of rows, built side by side (each copies its rates).
    let parts: Vec<Result<(i32, RatePart)>> = runs
        .par_iter()
        .map(|&((source, flavour, channel, _, _), b, e)| {
            check_grid(path, &grid, &tk[b..e])?;
            let channel = ch
                .as_ref()
                .map_or("cevns", |(c, _)| c[channel as usize].as_str());
            let flavour = Flavour::parse(&fl[flavour as usize])
                .map_err(|e| bad(path, format!("row {b} column `flavour`"), e.to_string()))?;
            let target = match channel {
                "cevns" => Target::Nucleus(Nucleus {
                    z: z[b],
                    n: n[b],
                    a: a[b],
                    mass_mev: m[b],
                    targets_per_kg: 0.0,
                    abundance: 0.0,
                }),
                "nu-e" => Target::Electrons {
                    z: z[b],
                    atoms_per_kg: 0.0,
                },
                other => {
                    return Err(bad(
                        path,
                        format!("row {b} column `channel`"),
                        format!("`{other}` is not cevns|nu-e"),
                    ));
                }
            };
            let rate = r[b..e].to_vec();
            let (rate_x1, rate_x2) = match (&x1, &x2) {
                (Some(x1), Some(x2)) => (x1[b..e].to_vec(), x2[b..e].to_vec()),
                // CEvNS-only table: dR = dR_SM (1 + x)² (eq 7).
                _ => (Cevns::interference_rate(&rate), rate.clone()),
            };
            let part = RatePart {
                channel: channel.to_string(),
                target,
                kappa_mev2: k[b],
                flavour,
                rate_x1,
                rate_x2,
                rate,
            };
            Ok((source, part))
        })
        .collect();
    let mut out: Vec<SourceRates> = Vec::new();
    for (part, &(_, b, _)) in parts.into_iter().zip(&runs) {
        let (source, part) = part?;
        let source = src[source as usize].as_str();
        match out.iter_mut().find(|x| x.source == source) {
            Some(x) => x.parts.push(part),
            None => out.push(SourceRates {
                source: source.to_string(),
                sigma_frac: s[b],
                parts: vec![part],
            }),
        }
    }
    Ok((grid, out))
}

// ---------------------------------------------------------------- response

/// response.parquet: `z`, `bin`, `bin_lo_kevee`, `bin_hi_kevee`, `t_nr_kev`,
/// `weight` (keV_nr keVee⁻¹): Rᵢ = Σ_Z Σₜ weight · dR_Z/dT_nr(t), one block of
/// rows per element Z of the target.
pub fn response_table(grid: &RecoilGrid, resp: &DetectorResponse) -> Table {
    let (mut zs, mut bin, mut lo, mut hi, mut t, mut w) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (sp, r) in resp.parts() {
        // z = 0 marks the electron-recoil response.
        let z = match sp {
            Species::Nucleus(z) => z,
            Species::Electron => &0,
        };
        for i in 0..r.bins.len() {
            let (l, h) = r.bins.bin(i);
            for (j, &tt) in grid.points().iter().enumerate() {
                zs.push(*z);
                bin.push(i as u32);
                lo.push(l);
                hi.push(h);
                t.push(tt);
                w.push(r.w[i * r.n_t + j]);
            }
        }
    }
    Table::new()
        .u32("z", "1", zs)
        .u32("bin", "1", bin)
        .f64("bin_lo_kevee", "keVee", lo)
        .f64("bin_hi_kevee", "keVee", hi)
        .f64("t_nr_kev", "keV", t)
        .f64("weight", "keV keVee^-1", w)
}

/// Read response.parquet; its recoil grid must equal `grid`.
pub fn read_response(path: &Path, grid: &RecoilGrid) -> Result<DetectorResponse> {
    let t = TableReader::open(path)?;
    t.expect_stage("quench-smear")?;
    let (zs, bin, lo, hi, tk, w) = (
        t.u32("z")?,
        t.u32("bin")?,
        t.f64("bin_lo_kevee")?,
        t.f64("bin_hi_kevee")?,
        t.f64("t_nr_kev")?,
        t.f64("weight")?,
    );
    let phys = |err| IoError::Physics {
        path: path.to_path_buf(),
        err,
    };
    let mut parts = Vec::new();
    for (z, zs0, ze) in runs(&zs) {
        let mut edges = Vec::new();
        for (i, (_, s, e)) in runs(&bin[zs0..ze]).into_iter().enumerate() {
            let (s, e) = (s + zs0, e + zs0);
            if tk[s..e] != *grid.points() {
                return Err(bad(
                    path,
                    format!("Z = {z}, bin {i}"),
                    "recoil grid differs from the rates table's (rerun quench-smear)",
                ));
            }
            if i == 0 {
                edges.push(lo[s]);
            } else if let Some(last) = edges.last()
                && (lo[s] - last).abs() > 1e-9
            {
                return Err(bad(
                    path,
                    format!("Z = {z}, bin {i}"),
                    "bins are not contiguous",
                ));
            }
            edges.push(hi[s]);
        }
        let bins = Bins::from_edges(edges).map_err(phys)?;
        parts.push((
            if z == 0 {
                Species::Electron
            } else {
                Species::Nucleus(z)
            },
            Response::from_parts(bins, w[zs0..ze].to_vec(), grid.len()).map_err(phys)?,
        ));
    }
    DetectorResponse::new(parts).map_err(phys)
}
