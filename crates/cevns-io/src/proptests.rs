//! Property tests of the readers of user-edited files: whatever the bytes,
//! a reader returns an error naming the file or a value that satisfies the
//! reader's contract (finite numbers, rates >= 0, unique names) — it never
//! panics and never hands a non-finite number to the physics.
//!
//! Case counts are fixed (see `CASES_*`), so the suite stays fast (~1 s):
//! 1 408 generated inputs (256 + 384 + 384 + 256 + 128), 1 792 reader calls
//! (the last 128 inputs go through four readers each).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use proptest::prelude::*;

use crate::data::{
    load_dataset, load_detector, load_models, load_oscillation, load_solar_model, load_target,
};

const CASES_BYTES: u32 = 256;
const CASES_CSV: u32 = 384;
const CASES_MODELS: u32 = 384;
const CASES_SOLAR: u32 = 256;
const CASES_YAML_TEXT: u32 = 128;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The contract of a loaded dataset.
fn check_dataset(d: &crate::data::Dataset) -> Result<(), TestCaseError> {
    prop_assert!(d.edges.len() >= 2);
    prop_assert_eq!(d.r_obs.len() + 1, d.edges.len());
    prop_assert!(d.edges.windows(2).all(|w| w[0].is_finite() && w[1] > w[0]));
    prop_assert!(d.r_obs.iter().all(|v| v.is_finite() && *v >= 0.0));
    prop_assert!(d.background.iter().all(|v| v.is_finite() && *v >= 0.0));
    if let Some(delta) = &d.delta {
        prop_assert!(delta.iter().all(|v| v.is_finite() && *v > 0.0));
    }
    Ok(())
}

/// Field values that reach every branch of the dataset reader.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        Just("-0".to_string()),
        Just("-5".to_string()),
        Just("nan".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("1e309".to_string()),
        Just("1e-320".to_string()),
        Just("abc".to_string()),
        Just(" 0.5 ".to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        (0u32..100).prop_map(|v| format!("{}", f64::from(v) / 10.0)),
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        4 => Just("bin_lo_kevee,bin_hi_kevee,r_obs,background,delta".to_string()),
        1 => Just("bin_lo_kevee,bin_hi_kevee,r_obs,background".to_string()),
        1 => Just("# comment".to_string()),
        1 => Just(String::new()),
    ];
    // Mostly contiguous bins, so that the value checks are reached.
    let row = (0u32..30, 1u32..5, field(), field(), field(), 0u8..10).prop_map(
        |(lo, w, o, b, d, shape)| {
            let (lo, hi) = (f64::from(lo) / 10.0, f64::from(lo + w) / 10.0);
            match shape {
                0 => format!("{lo},{hi},{o},{b}"),
                1 => format!("{lo},{hi},{o},{b},{d},extra"),
                2 => format!("{o},{b},{d},{lo},{hi}"),
                _ => format!("{lo},{hi},{o},{b},{d}"),
            }
        },
    );
    (header, prop::collection::vec(row, 0..8), any::<bool>()).prop_map(|(h, rows, contiguous)| {
        let mut text = format!("{h}\n");
        let mut edge = 0.1;
        for r in rows {
            if contiguous {
                // Rewrite the edges into a contiguous sequence.
                let f: Vec<&str> = r.splitn(3, ',').collect();
                if f.len() == 3 {
                    let next = edge + 0.1;
                    text.push_str(&format!("{edge},{next},{}\n", f[2]));
                    edge = next;
                    continue;
                }
            }
            text.push_str(&r);
            text.push('\n');
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_BYTES))]
    #[test]
    fn dataset_reader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "d.csv", &bytes);
        if let Ok(d) = load_dataset(&p) {
            check_dataset(&d)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_CSV))]
    #[test]
    fn dataset_reader_accepts_only_finite_nonnegative_rates(text in csv_text()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "d.csv", text.as_bytes());
        match load_dataset(&p) {
            Ok(d) => check_dataset(&d)?,
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("d.csv"), "error names the file: {}", msg);
            }
        }
    }
}

fn charge() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("-3".to_string()),
        Just("0.3333333333333333".to_string()),
        Just("1e308".to_string()),
        Just(".nan".to_string()),
        Just(".inf".to_string()),
        Just("x".to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
    ]
}

fn models_yaml() -> impl Strategy<Value = String> {
    let name = prop_oneof![Just("B-L"), Just("B-3Le"), Just("X"), Just("")];
    let model = (name, charge(), charge(), charge(), charge(), charge()).prop_map(
        |(n, u, d, e, m, t)| {
            format!(
                "  - name: \"{n}\"\n    charges: {{ u: {u}, d: {d}, nu_e: {e}, nu_mu: {m}, nu_tau: {t} }}\n"
            )
        },
    );
    (prop::collection::vec(model, 0..4), any::<bool>()).prop_map(|(ms, key)| {
        let mut s = String::from(if key { "models:\n" } else { "model:\n" });
        for m in ms {
            s.push_str(&m);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_MODELS))]
    #[test]
    fn models_reader_rejects_duplicates_and_unphysical_charges(text in models_yaml()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "m.yaml", text.as_bytes());
        if let Ok(models) = load_models(&p) {
            prop_assert!(!models.is_empty());
            for (i, m) in models.iter().enumerate() {
                prop_assert!(models[..i].iter().all(|o| o.name != m.name), "duplicate {}", m.name);
                let c = m.charges;
                for v in [c.u, c.d, c.nu_e, c.nu_mu, c.nu_tau] {
                    prop_assert!(v.is_finite() && v.abs() <= cevns_physics::model::MAX_CHARGE);
                }
            }
        }
    }
}

fn flux() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("5.94e10".to_string()),
        Just("1e308".to_string()),
        Just("1e21".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just(".nan".to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_SOLAR))]
    #[test]
    fn solar_reader_bounds_fluxes(f in flux(), sigma in flux(), e in flux()) {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "name: t\ncitation: c\nsources:\n  - name: pep\n    flux_cm2_s: {f}\n    sigma_frac: {sigma}\n    lines:\n      - {{ energy_mev: {e}, fraction: 1.0 }}\n"
        );
        let p = write(dir.path(), "s.yaml", text.as_bytes());
        if let Ok(m) = load_solar_model(&p) {
            let total: f64 = m
                .sources
                .iter()
                .map(|s| match &s.spectrum {
                    cevns_physics::flux::Spectrum::Lines(l) => l.iter().map(|x| x.flux).sum(),
                    cevns_physics::flux::Spectrum::Continuum(_) => 0.0,
                })
                .sum();
            prop_assert!(total.is_finite() && total > 0.0);
            prop_assert!(total <= cevns_physics::flux::MAX_FLUX_CM2_S);
        }
    }
}

/// YAML-looking text: keys, punctuation, numbers and indentation.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("name: x\n"),
        Just("models:\n"),
        Just("  - "),
        Just("- "),
        Just("{ "),
        Just(" }"),
        Just("[1, 2]"),
        Just(": "),
        Just("\n"),
        Just("  "),
        Just("1e308"),
        Just(".nan"),
        Just("-1"),
        Just("'"),
        Just("\""),
        Just("&a "),
        Just("*a"),
        Just("!!binary "),
        Just("---\n"),
        Just("# c\n"),
        Just("bins: { start_kevee: 0.16, width_kevee: 0.1, count: 3 }\n"),
        Just("elements:\n"),
        Just("mixing: { sin2_theta12: 0.3, sin2_theta13: 0.02, sin2_theta23: 0.5 }\n"),
    ];
    prop::collection::vec(token, 0..24).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES_YAML_TEXT))]
    #[test]
    fn yaml_readers_never_panic(text in yamlish()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "f.yaml", text.as_bytes());
        // Each reader either fails with the file named, or validates.
        for res in [
            load_models(&p).map(|_| ()),
            load_detector(&p).map(|_| ()),
            load_target(&p).map(|_| ()),
            load_oscillation(&p).map(|_| ()),
        ] {
            if let Err(e) = res {
                prop_assert!(e.to_string().contains("f.yaml"), "{}", e);
            }
        }
    }
}

#[test]
fn empty_yaml_names_the_expected_kind() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "e.yaml", b"# nothing here\n\n");
    let e = load_models(&p).unwrap_err().to_string();
    assert!(
        e.contains("empty") && e.contains("U(1)' models file"),
        "{e}"
    );
    let e = load_detector(&p).unwrap_err().to_string();
    assert!(e.contains("detector file"), "{e}");
    // A file of another kind: the missing key and the expected kind.
    let p = write(dir.path(), "o.yaml", b"citation: x\nmixing: {}\n");
    let e = load_models(&p).unwrap_err().to_string();
    assert!(e.contains("expected a U(1)' models file"), "{e}");
}
