//! The plot stage's inputs: the benchmark spectra written by `quench-smear`
//! and the limits written by `chi2-scan` (read through their one typed
//! reader in `cevns_io::schema`), and the overlay list
//! (`data/overlays/*.yaml`) with its DARKCAST `.lmt` tables.

pub use cevns_io::data::{OverlayGroup as Group, Overlays};
pub use cevns_io::schema::limits::{Limits, ModelLimit, read_limits};
pub use cevns_io::schema::spectrum::{Spectrum, SpectrumCurve, read_spectrum};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn overlay_yaml_is_strict_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(
            dir.path().join("d/a.lmt"),
            "#  mass lower\n 1.0e-3 2.0e-5\n 2.0e-3 1.0e+05\n 3.0e-3 3.0e-5\n",
        )
        .unwrap();
        let y = dir.path().join("o.yaml");
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: nu-scattering}\n",
        )
        .unwrap();
        let o = Overlays::load(&y).unwrap();
        assert_eq!(o.model, "B-L");
        assert_eq!(o.overlays[0].group, Group::NuScattering);
        assert_eq!(o.overlays[0].curve.mass_mev, vec![1.0, 2.0, 3.0]);
        assert_eq!(
            o.overlays[0].curve.lower,
            vec![Some(2.0e-5), None, Some(3.0e-5)]
        );

        std::fs::write(&y, "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: nu-scattering, colour: red}\n").unwrap();
        let e = format!("{:#}", Overlays::load(&y).unwrap_err());
        assert!(e.contains("colour"), "{e}");
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/a.lmt, group: other}\n",
        )
        .unwrap();
        assert!(Overlays::load(&y).is_err());
        std::fs::write(
            &y,
            "model: B-L\noverlays:\n  - {label: A, file: d/missing.lmt, group: nu-scattering}\n",
        )
        .unwrap();
        let e = format!("{:#}", Overlays::load(&y).unwrap_err());
        assert!(e.contains("missing.lmt"), "{e}");
    }

    #[test]
    fn shipped_overlays_load() {
        let y = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/overlays/b-l.yaml");
        let o = Overlays::load(&y).unwrap();
        assert_eq!(o.model, "B-L");
        assert_eq!(o.overlays.len(), 9);
        for ov in &o.overlays {
            assert!(
                ov.curve.lower.iter().flatten().all(|&g| g > 0.0 && g < 1.0),
                "{}",
                ov.label
            );
            assert!(ov.curve.mass_mev.iter().all(|&m| m > 0.0), "{}", ov.label);
        }
        // BaBar has "no limit" (1e5) rows: they must come through as gaps.
        let babar = o
            .overlays
            .iter()
            .find(|x| x.label.starts_with("BaBar"))
            .unwrap();
        assert!(babar.curve.lower.iter().any(Option::is_none));
    }
}
