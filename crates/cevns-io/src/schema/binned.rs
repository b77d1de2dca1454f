//! binned.parquet (stage `quench-smear`): the SM rate per detector bin and
//! flux source.

use std::collections::BTreeMap;
use std::path::Path;

use super::bad;
use crate::error::Result;
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "quench-smear";

/// One source's SM rate in every bin.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedSource {
    /// Source name.
    pub source: String,
    /// Pull width σ_j.
    pub sigma_frac: f64,
    /// Rate per bin [counts kg⁻¹ keVee⁻¹ day⁻¹].
    pub r_sm: Vec<f64>,
}

/// binned.parquet read back: bin edges and per-source rates.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedRates {
    /// Bin edges [keVee] (n + 1).
    pub edges: Vec<f64>,
    /// Sources in file order.
    pub sources: Vec<BinnedSource>,
}

impl BinnedRates {
    /// Rate integrated over the bins [counts kg⁻¹ day⁻¹] per source.
    pub fn integrated(&self) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for s in &self.sources {
            let e = out.entry(s.source.clone()).or_default();
            for (i, r) in s.r_sm.iter().enumerate() {
                *e += r * (self.edges[i + 1] - self.edges[i]);
            }
        }
        out
    }

    /// The analysis window [keVee].
    pub fn window(&self) -> (f64, f64) {
        (
            self.edges.first().copied().unwrap_or(f64::NAN),
            self.edges.last().copied().unwrap_or(f64::NAN),
        )
    }
}

/// binned.parquet: `bin`, `bin_lo_kevee`, `bin_hi_kevee` [keVee], `source`,
/// `r_sm` [counts kg⁻¹ keVee⁻¹ day⁻¹], `sigma_frac`.
pub fn binned_table(b: &BinnedRates) -> Table {
    let (mut bb, mut blo, mut bhi, mut bsrc, mut brate, mut bsig) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for s in &b.sources {
        for (i, v) in s.r_sm.iter().enumerate() {
            bb.push(i as u32);
            blo.push(b.edges[i]);
            bhi.push(b.edges[i + 1]);
            bsrc.push(s.source.clone());
            brate.push(*v);
            bsig.push(s.sigma_frac);
        }
    }
    Table::new()
        .u32("bin", "1", bb)
        .f64("bin_lo_kevee", "keVee", blo)
        .f64("bin_hi_kevee", "keVee", bhi)
        .str("source", bsrc)
        .f64("r_sm", "counts kg^-1 keVee^-1 day^-1", brate)
        .f64("sigma_frac", "1", bsig)
}

/// Read binned.parquet: every source must cover the same contiguous bins.
pub fn read_binned(path: &Path) -> Result<BinnedRates> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let (src, lo, hi, r, sig) = (
        t.str("source")?,
        t.f64("bin_lo_kevee")?,
        t.f64("bin_hi_kevee")?,
        t.f64("r_sm")?,
        t.f64("sigma_frac")?,
    );
    let mut edges: Option<Vec<f64>> = None;
    let mut sources = Vec::new();
    for (source, s, e) in super::runs(&src) {
        let mut ed = vec![lo[s]];
        for i in s..e {
            if (lo[i] - ed[ed.len() - 1]).abs() > 1e-9 || hi[i] <= lo[i] {
                return Err(bad(
                    path,
                    format!("row {i}"),
                    "bins are not contiguous and increasing",
                ));
            }
            ed.push(hi[i]);
        }
        match &edges {
            Some(e0) if *e0 != ed => {
                return Err(bad(
                    path,
                    format!("source `{source}`"),
                    "bins differ between sources",
                ));
            }
            Some(_) => {}
            None => edges = Some(ed),
        }
        sources.push(BinnedSource {
            source,
            sigma_frac: sig[s],
            r_sm: r[s..e].to_vec(),
        });
    }
    let edges = edges.ok_or_else(|| bad(path, "table", "no rows"))?;
    Ok(BinnedRates { edges, sources })
}
