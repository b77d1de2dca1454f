//! template-response.parquet (stage `quench-smear`, template detector kind):
//! the detection probability P(bin | T_nr; t_ly, t_qy) of each science run
//! of a template detector (XENONnT's mono-energetic efficiency templates),
//! tabulated at the template energies. Consumers fold a recoil spectrum with
//! [`MonoResponse::fold_matrix`] (P linear in T_nr between the energies, 0
//! outside) — the role response.parquet plays for a binned-spectrum detector.

use std::path::Path;

use cevns_physics::likelihood::{MonoResponse, MorphGrid};

use super::{bad, runs};
use crate::error::{IoError, Result};
use crate::table::{Table, TableReader};

/// The stage that writes this table.
pub const STAGE: &str = "quench-smear";

/// template-response.parquet: `run`, `e_kev` [keV], `tly`, `tqy` (yield
/// anchors, σ), `bin` (flattened analysis bin), `p` (dimensionless), one row
/// per run × energy × anchor × bin, in that order.
pub fn template_response_table(runs: &[(String, &MonoResponse)]) -> Table {
    let (mut run, mut e, mut tly, mut tqy, mut bin, mut p) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (name, m) in runs {
        let (x, y, nb) = m.layout();
        for (&ek, g) in m.energies().iter().zip(m.grids()) {
            for (ix, &vx) in x.iter().enumerate() {
                for (iy, &vy) in y.iter().enumerate() {
                    for (b, &v) in g.at_anchor(ix, iy).iter().enumerate().take(nb) {
                        run.push(name.clone());
                        e.push(ek);
                        tly.push(vx);
                        tqy.push(vy);
                        bin.push(b as u32);
                        p.push(v);
                    }
                }
            }
        }
    }
    Table::new()
        .str("run", run)
        .f64("e_kev", "keV", e)
        .f64("tly", "sigma", tly)
        .f64("tqy", "sigma", tqy)
        .u32("bin", "1", bin)
        .f64("p", "1", p)
}

/// Read template-response.parquet: the response of each run, in file order.
/// Rows out of the writer's order, a ragged anchor grid or a bad value are
/// errors naming the file.
pub fn read_template_response(path: &Path) -> Result<Vec<(String, MonoResponse)>> {
    let t = TableReader::open(path)?;
    t.expect_stage(STAGE)?;
    let (run, e, tly, tqy, bin, p) = (
        t.str("run")?,
        t.f64("e_kev")?,
        t.f64("tly")?,
        t.f64("tqy")?,
        t.u32("bin")?,
        t.f64("p")?,
    );
    let phys = |err| IoError::Physics {
        path: path.to_path_buf(),
        err,
    };
    let mut out = Vec::new();
    for (name, r0, r1) in runs(&run) {
        if out.iter().any(|(n, _): &(String, MonoResponse)| *n == name) {
            return Err(bad(
                path,
                format!("run {name}"),
                "rows of the run are not contiguous",
            ));
        }
        let blocks = runs(&e[r0..r1]);
        // Anchors and bin count from the first energy's block.
        let (_, b0, b1) = blocks[0];
        let (s, end) = (r0 + b0, r0 + b1);
        let mut x: Vec<f64> = Vec::new();
        let mut y: Vec<f64> = Vec::new();
        for i in s..end {
            if !x.contains(&tly[i]) {
                x.push(tly[i]);
            }
            if !y.contains(&tqy[i]) {
                y.push(tqy[i]);
            }
        }
        let nb = (end - s) / (x.len() * y.len()).max(1);
        let mut es = Vec::with_capacity(blocks.len());
        let mut grids = Vec::with_capacity(blocks.len());
        for (ek, b0, b1) in blocks {
            let (s, end) = (r0 + b0, r0 + b1);
            if end - s != x.len() * y.len() * nb {
                return Err(bad(
                    path,
                    format!("run {name}, e_kev {ek}"),
                    format!(
                        "{} rows, expected {} anchors × {nb} bins",
                        end - s,
                        x.len() * y.len()
                    ),
                ));
            }
            for (k, i) in (s..end).enumerate() {
                let (ix, iy, b) = (k / (y.len() * nb), (k / nb) % y.len(), k % nb);
                if tly[i] != x[ix] || tqy[i] != y[iy] || bin[i] as usize != b {
                    return Err(bad(
                        path,
                        format!("run {name}, e_kev {ek}, row {i}"),
                        "rows are not in (anchor, bin) order",
                    ));
                }
            }
            es.push(ek);
            grids.push(MorphGrid::new(x.clone(), y.clone(), nb, p[s..end].to_vec()).map_err(phys)?);
        }
        out.push((name, MonoResponse::new(es, grids).map_err(phys)?));
    }
    if out.is_empty() {
        return Err(bad(path, "table", "no rows"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provenance;

    fn mono(scale: f64) -> MonoResponse {
        let es = vec![0.5, 1.0, 2.0];
        let grids = es
            .iter()
            .map(|&e| {
                let v = (0..2 * 3 * 2)
                    .map(|k| scale * e * (1.0 + k as f64))
                    .collect();
                MorphGrid::new(vec![-1.0, 1.0], vec![-1.0, 0.0, 1.0], 2, v).unwrap()
            })
            .collect();
        MonoResponse::new(es, grids).unwrap()
    }

    #[test]
    fn roundtrip_is_exact_and_order_is_checked() {
        let (a, b) = (mono(0.01), mono(0.02));
        let t = template_response_table(&[("sr0".into(), &a), ("sr1".into(), &b)]);
        assert_eq!(t.num_rows(), 2 * 3 * 6 * 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        let prov = Provenance::new(STAGE);
        std::fs::write(&path, t.to_parquet_bytes(&prov).unwrap()).unwrap();
        let back = read_template_response(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, "sr0");
        assert_eq!(back[0].1, a);
        assert_eq!(back[1].1, b);
        // A table with a run split in two is refused.
        let t =
            template_response_table(&[("sr0".into(), &a), ("sr1".into(), &b), ("sr0".into(), &a)]);
        std::fs::write(&path, t.to_parquet_bytes(&prov).unwrap()).unwrap();
        let err = read_template_response(&path).unwrap_err().to_string();
        assert!(err.contains("not contiguous"), "{err}");
    }
}
