//! XENONnT public 8B CEvNS likelihood (data/xenonnt): the PRL 133, 191002
//! check with the collaboration's templates, our xenon spectrum against the
//! collaboration's, the SR0–SR2 fit and limits, and bad inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{Rates, ok, rates_chain, repo, run, s};

/// fit.parquet as item/run → (value, lo, hi).
fn fit_table(path: &Path) -> BTreeMap<(String, String), (f64, f64, f64)> {
    let t = cevns_io::TableReader::open(path).unwrap();
    let (item, r, v, lo, hi) = (
        t.str("item").unwrap(),
        t.str("run").unwrap(),
        t.f64("value").unwrap(),
        t.f64("lo").unwrap(),
        t.f64("hi").unwrap(),
    );
    (0..item.len())
        .map(|i| ((item[i].clone(), r[i].clone()), (v[i], lo[i], hi[i])))
        .collect()
}

fn get(t: &BTreeMap<(String, String), (f64, f64, f64)>, item: &str, r: &str) -> (f64, f64, f64) {
    *t.get(&(item.to_string(), r.to_string()))
        .unwrap_or_else(|| panic!("no {item}/{r} in the fit table"))
}

#[test]
fn prl_check_reproduces_prl_133_191002() {
    let dir = tempfile::tempdir().unwrap();
    let fit = dir.path().join("fit.parquet");
    ok(
        "chi2-scan",
        &[
            "--likelihood",
            "data/xenonnt/prl2024/likelihood.yaml",
            "--out-fit",
            s(&fit),
            "--out-profile",
            s(&dir.path().join("profile.parquet")),
        ],
    );
    let t = fit_table(&fit);
    // PRL 133, 191002: 37 events, 26.4 expected background, 11.9 expected 8B.
    assert_eq!(get(&t, "observed", "all").0, 37.0);
    let bkg = get(&t, "expected_nominal:background", "all").0;
    assert!((bkg - 26.4).abs() <= 0.2, "background {bkg} vs 26.4 ± 0.2");
    let b8 = get(&t, "expected_nominal:b8", "all").0;
    assert!((b8 - 11.9).abs() <= 0.1, "8B {b8} vs 11.9");
    // Flux (4.7 +3.6 −2.3)e6 cm⁻² s⁻¹: centre within 5 %, edges within 10 %.
    let (f, lo, hi) = get(&t, "flux_cm2_s", "all");
    assert!((f / 4.7e6 - 1.0).abs() <= 0.05, "flux {f:e}");
    assert!(
        (lo / 2.4e6 - 1.0).abs() <= 0.10,
        "lower edge {lo:e} vs 2.4e6"
    );
    assert!(
        (hi / 8.3e6 - 1.0).abs() <= 0.10,
        "upper edge {hi:e} vs 8.3e6"
    );
    // Background-only rejected at 2.73σ (asymptotic √q0 lands slightly below).
    let z = get(&t, "significance_sigma", "all").0;
    assert!((z - 2.73).abs() <= 0.15, "significance {z} vs 2.73");
    // The profile passes through 0 at the best fit and 1 at the edges.
    let p = cevns_io::TableReader::open(&dir.path().join("profile.parquet")).unwrap();
    let (x, d) = (p.f64("flux_cm2_s").unwrap(), p.f64("delta_nll").unwrap());
    let at = |v: f64| {
        let i = x.partition_point(|&a| a < v).clamp(1, x.len() - 1);
        d[i - 1] + (d[i] - d[i - 1]) * (v - x[i - 1]) / (x[i] - x[i - 1])
    };
    assert!(at(f) < 0.05, "profile at the best fit {}", at(f));
    assert!((at(hi) - 1.0).abs() < 0.1 && (at(lo) - 1.0).abs() < 0.1);
    // The report section puts the published numbers beside ours.
    let md = dir.path().join("REPORT.md");
    ok(
        "report",
        &["--xenonnt-fit", s(&fit), "--prl", "true", "--out", s(&md)],
    );
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("PRL 133, 191002") && text.contains("| observed | 37 | 37 |"),
        "{text}"
    );
}

/// A copy of data/xenonnt into a scratch root, with `edit` applied.
fn scratch_xenonnt(edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(
        &repo().join("data/xenonnt"),
        &dir.path().join("data/xenonnt"),
    );
    edit(&dir.path().join("data/xenonnt"));
    dir
}

fn expect_bad(root: &Path, config: &str, names: &str) {
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let fit = out.join("fit.parquet");
    let o = std::process::Command::new(crate::common::bin("chi2-scan"))
        .args([
            "--likelihood",
            s(&root.join(config)),
            "--out-fit",
            s(&fit),
            "--out-bins",
            s(&out.join("bins.parquet")),
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "want exit 2: {err}");
    assert!(err.contains(names), "error should name {names}: {err}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing may be written"
    );
}

#[test]
fn bad_xenonnt_inputs_exit_2_naming_the_file() {
    // Missing template file.
    let d = scratch_xenonnt(|x| std::fs::remove_file(x.join("prl2024/templates.parquet")).unwrap());
    expect_bad(
        d.path(),
        "data/xenonnt/prl2024/likelihood.yaml",
        "templates.parquet",
    );
    // Binning of data and templates differ.
    let d = scratch_xenonnt(|x| {
        let p = x.join("binning.csv");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replacen("170.16177368164", "171.0", 1)).unwrap();
    });
    expect_bad(
        d.path(),
        "data/xenonnt/prl2024/likelihood.yaml",
        "templates.parquet",
    );
    // Observed counts that are not the binned events.
    let d = scratch_xenonnt(|x| {
        let p = x.join("observed.csv");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replacen("sr0,0,0", "sr0,0,1", 1)).unwrap();
    });
    expect_bad(
        d.path(),
        "data/xenonnt/prl2024/likelihood.yaml",
        "observed.csv",
    );
    // A component without templates.
    let d = scratch_xenonnt(|x| {
        let p = x.join("prl2024/likelihood.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replacen("{ name: er,", "{ name: neutrinos,", 1)).unwrap();
    });
    expect_bad(
        d.path(),
        "data/xenonnt/prl2024/likelihood.yaml",
        "no template",
    );
}

/// fluxes + xsec + rates for natural xenon (B16-GS98) into `out`.
fn xenon_rates(out: &Path) {
    xenon_rates_with(out, &[]);
}

/// As [`xenon_rates`], with extra `flux-prep` arguments.
fn xenon_rates_with(out: &Path, flux_flags: &[&str]) {
    let r = Rates {
        solar: "data/solar/b16-gs98.yaml",
        target: "data/targets/xe-nat.yaml",
        xsec_flags: &["--t-min-kev", "1e-4", "--t-max-kev", "12"],
        flux_flags,
        ..Rates::default()
    };
    rates_chain(out, r);
}

/// Our ⁸B CEνNS recoil rate on natural xenon over [a, b] keV at the SNO
/// flux 5.25e6 cm⁻²s⁻¹, events t⁻¹ yr⁻¹, and the collaboration's
/// (`cevns_spectrum.json`, CDF × 335.5965 t⁻¹ yr⁻¹ on 0.45–10 keV).
struct SpectrumPair {
    grid: Vec<f64>,
    b8: Vec<f64>,
    cdf: Vec<f64>,
    e: Vec<f64>,
}

impl SpectrumPair {
    fn load(rates: &Path) -> Self {
        let (grid, sources) = cevns_io::schema::read_rates(rates).unwrap();
        let b8 = sources.iter().find(|s| s.source == "8B").unwrap().total();
        let rows = cevns_io::data::read_numeric_table(
            &repo().join("data/xenonnt/prl2024/cevns_spectrum.csv"),
        )
        .unwrap();
        let (cdf, e) = rows.iter().map(|r| (r[0], r[1])).unzip();
        Self {
            grid: grid.points().to_vec(),
            b8,
            cdf,
            e,
        }
    }

    /// ∫_a^b dR/dT dT by the trapezoid rule on 2000 sub-intervals of the
    /// log-log interpolated rate (a masked quadrature of the log grid would
    /// be off by ~1 % at the window edges). B16-GS98 8B flux 5.46e6 → 5.25e6;
    /// counts kg⁻¹ day⁻¹ → t⁻¹ yr⁻¹.
    fn ours(&self, a: f64, b: f64) -> f64 {
        let scale = 5.25e6 / 5.46e6 * 1000.0 * 365.25;
        let n = 2000;
        let h = (b - a) / n as f64;
        let f = |t: f64| cevns_physics::rate::interp_loglog(&self.grid, &self.b8, t);
        (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n { 0.5 } else { 1.0 };
                w * f(a + h * i as f64)
            })
            .sum::<f64>()
            * h
            * scale
    }

    fn theirs(&self, a: f64, b: f64) -> f64 {
        let at = |x: f64| {
            let (c, e) = (&self.cdf, &self.e);
            let i = e.partition_point(|&v| v < x).clamp(1, e.len() - 1);
            c[i - 1] + (c[i] - c[i - 1]) * (x - e[i - 1]) / (e[i] - e[i - 1])
        };
        (at(b) - at(a)) * 335.596_469_108_941_7
    }

    fn ratio(&self, a: f64, b: f64) -> f64 {
        self.ours(a, b) / self.theirs(a, b)
    }
}

/// Recoil-energy bins of the comparison, keV (the 3–4 keV bin holds 1e-4
/// of the rate above 0.5 keV).
const SPECTRUM_BINS: [f64; 8] = [0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0];

#[test]
fn our_8b_spectrum_on_xenon_matches_the_collaborations() {
    // The cause of the difference is the ⁸B neutrino spectrum shape: ours
    // is Winter et al. 2006 (the default of every solar model here), the
    // collaboration's spectrum follows Bahcall et al. 1996 (mean E_ν 6.735
    // against 6.770 MeV; 7 % more flux above 12 MeV in Winter's).
    // With `flux-prep --continuum 8B=<Bahcall 1996>` our spectrum agrees
    // within the 2 %.
    let dir = tempfile::tempdir().unwrap();
    xenon_rates(dir.path());
    let winter = SpectrumPair::load(&dir.path().join("rates.parquet"));
    let dir_b = tempfile::tempdir().unwrap();
    xenon_rates_with(
        dir_b.path(),
        &["--continuum", "8B=data/solar/spectra/B8_bahcall1996.dat"],
    );
    let bahcall = SpectrumPair::load(&dir_b.path().join("rates.parquet"));
    let per_bin = |p: &SpectrumPair| -> Vec<f64> {
        SPECTRUM_BINS
            .windows(2)
            .map(|w| p.ratio(w[0], w[1]))
            .collect()
    };
    let (rw, rb) = (per_bin(&winter), per_bin(&bahcall));
    eprintln!("ours/theirs per bin {SPECTRUM_BINS:?}: Winter {rw:.4?}, Bahcall 1996 {rb:.4?}");
    // Bahcall 1996 shape (their convention): within 2 % in every bin up to
    // 3 keV and above every threshold; MEASURED +0.56 % … +1.61 %, rising
    // slowly (the nuclear masses: ours are the isotopes' AME masses − Z mₑ,
    // an independent calculation with M = A·u flattens the ratio to
    // +0.53 % in every bin); the 3–4 keV bin +2.5 %.
    for (w, r) in SPECTRUM_BINS.windows(2).zip(&rb) {
        let tol = if w[0] >= 3.0 { 0.03 } else { 0.02 };
        assert!(
            (r - 1.0).abs() < tol,
            "Bahcall 1996, [{}, {}] keV: {r:.4}",
            w[0],
            w[1]
        );
    }
    for a in [0.5, 1.0, 2.0] {
        let r = bahcall.ratio(a, 4.0) - 1.0;
        assert!(r.abs() < 0.02, "Bahcall 1996, [{a}, 4] keV: {r:+.4}");
    }
    // Winter 2006 shape (our default): NOT within 2 % — a harder spectrum,
    // +3.0 % above 0.5 keV, +4.6 % above 1 keV, +9.0 % above 2 keV; pinned
    // so that a change of either spectrum is noticed.
    for (a, lo, hi) in [(0.5, 0.02, 0.04), (1.0, 0.035, 0.06), (2.0, 0.07, 0.11)] {
        let r = winter.ratio(a, 4.0) - 1.0;
        assert!(
            r > lo && r < hi,
            "Winter, [{a}, 4] keV: ours/theirs − 1 = {r:+.4}"
        );
    }
    // The shape, not the normalisation: the two agree at low recoil
    // energy (both at 5.46e6, the same flux) and part above 1.5 keV.
    assert!((rw[0] / rb[0] - 1.0).abs() < 0.02);
    assert!(rw[4] / rb[4] > 1.06);
    // Provenance names the replacement.
    let meta = cevns_io::TableReader::open(&dir_b.path().join("fluxes.parquet"))
        .unwrap()
        .meta_json("cevns.params")
        .unwrap();
    assert!(
        meta["continuum_override"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("B8_bahcall1996.dat"),
        "{meta}"
    );
}

#[test]
fn sr0_to_sr2_fit_and_limits_on_real_data() {
    let dir = tempfile::tempdir().unwrap();
    xenon_rates(dir.path());
    let o = |f: &str| dir.path().join(f);
    ok(
        "chi2-scan",
        &[
            "--likelihood",
            "data/xenonnt/release2026/likelihood.yaml",
            "--rates",
            s(&o("rates.parquet")),
            "--fluxes",
            s(&o("fluxes.parquet")),
            "--models",
            "data/models/u1prime.yaml",
            "--m-min-mev",
            "0.01",
            "--m-max-mev",
            "1000",
            "--m-points",
            "6",
            "--out-fit",
            s(&o("fit.parquet")),
            "--out-limits",
            s(&o("limits.parquet")),
            "--out-csv",
            s(&o("limits.csv")),
            "--out-scan",
            s(&o("scan.parquet")),
        ],
    );
    let t = fit_table(&o("fit.parquet"));
    assert_eq!(get(&t, "observed", "all").0, 62.0);
    // Expected 8B counts per run from the mono-template fold, at our flux:
    // every run sees a few events, SR2 (longest) the most.
    let per_run: Vec<f64> = ["sr0", "sr1", "sr2"]
        .iter()
        .map(|r| get(&t, "expected_nominal:b8", r).0)
        .collect();
    assert!(per_run.iter().all(|&n| n > 2.0 && n < 12.0), "{per_run:?}");
    assert!(per_run[2] > per_run[1] && per_run[1] > per_run[0]);
    // The flux interval contains the SNO flux and excludes 0; > 2σ.
    let (_, lo, hi) = get(&t, "flux_cm2_s", "all");
    assert!(lo > 0.0 && lo < 5.25e6 && hi > 5.25e6, "{lo:e} {hi:e}");
    assert!(get(&t, "significance_sigma", "all").0 > 2.0);
    // Limits exist for every model and mass, flat for m ≪ q, ∝ m for m ≫ q.
    let rows = crate::common::limits(&o("limits.parquet"));
    assert_eq!(rows.len(), 4 * 6);
    assert!(rows.iter().all(|r| r.2 > 1e-7 && r.2 < 1e-2), "{rows:?}");
    let g = |m: &str, x: f64| crate::common::g90(&rows, m, x);
    for m in ["B-L", "B-3Le", "B-3Lmu", "B-3Ltau"] {
        assert!((g(m, 0.1) / g(m, 0.01) - 1.0).abs() < 2e-3, "{m} flat");
        let ratio = g(m, 1000.0) / g(m, 100.0) / 10.0;
        assert!((ratio - 1.0).abs() < 0.05, "{m}: ∝ m (ratio {ratio})");
    }
    let meta = cevns_io::TableReader::open(&o("limits.parquet"))
        .unwrap()
        .meta_json("cevns.extra")
        .unwrap();
    assert!(meta["data_kind"].as_str().unwrap().starts_with("measured"));
    assert!(
        meta["flux_in_limits"]
            .as_str()
            .unwrap()
            .starts_with("constrained")
    );
    // For g → 0 the scan flattens onto the SM fit (the data allow a dip of
    // a few 1e-3 in −2 ln L at g ≈ 1e-5 for these models, so Δ(g_min) is
    // not exactly 0, but it no longer depends on g).
    let sc = cevns_io::TableReader::open(&o("scan.parquet")).unwrap();
    let d = sc.f64_nonnull("delta_chi2").unwrap();
    assert!(d[0] >= 0.0 && d[0] < 0.01, "Δ at g_min = {}", d[0]);
    // The scan of a mass stops far above its limit: the couplings it did
    // not evaluate are NaN (never a made-up value), all after a value past
    // the threshold, and the rest of that mass's row is NaN too.
    let m = sc.f64("m_zp_mev").unwrap();
    let mut nan_rows = 0;
    for i in (0..d.len()).filter(|&i| d[i].is_nan()) {
        let start = (0..i)
            .rev()
            .take_while(|&j| m[j] == m[i])
            .last()
            .unwrap_or(i);
        assert!(
            d[start..i].iter().any(|&x| x.is_nan() || x > 100.0 * 2.706),
            "row {i}: NaN before the scan passed its limit: {:?}",
            &d[start..i]
        );
        nan_rows += 1;
    }
    assert!(nan_rows > 0, "the early stop is exercised");
    assert!(
        (d[0] - d[1]).abs() < 1e-5,
        "flat at small g: {} vs {}",
        d[0],
        d[1]
    );
    let _ = run;
}

/// The template detector kind of quench-smear: its response, consumed by
/// chi2-scan, gives exactly the numbers of the configuration's own mono
/// templates; wrong inputs are exit 2 with nothing written.
#[test]
fn quench_smear_template_detector_feeds_chi2_scan_identically() {
    let dir = tempfile::tempdir().unwrap();
    xenon_rates(dir.path());
    let o = |f: &str| dir.path().join(f);
    let cfg = "data/xenonnt/release2026/likelihood.yaml";
    ok(
        "quench-smear",
        &[
            "--rates",
            s(&o("rates.parquet")),
            "--detector",
            cfg,
            "--out-response",
            s(&o("template-response.parquet")),
        ],
    );
    let resp = cevns_io::schema::read_template_response(&o("template-response.parquet")).unwrap();
    let names: Vec<&str> = resp.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["sr0", "sr1", "sr2"]);
    for (_, m) in &resp {
        assert_eq!(m.energies().len(), 46);
        assert!((m.energies()[0] - 0.5).abs() < 1e-12 && (m.energies()[45] - 5.0).abs() < 1e-12);
        assert_eq!(m.layout().0.len() * m.layout().1.len(), 49);
        assert_eq!(m.layout().2, 81);
    }
    let (rates, fluxes, r) = (
        o("rates.parquet"),
        o("fluxes.parquet"),
        o("template-response.parquet"),
    );
    let fit = |name: &str, response: bool| {
        let out = o(name);
        let mut a = vec![
            "--likelihood",
            cfg,
            "--rates",
            s(&rates),
            "--fluxes",
            s(&fluxes),
            "--out-fit",
            s(&out),
        ];
        if response {
            a.extend(["--response", s(&r)]);
        }
        ok("chi2-scan", &a);
        fit_table(&out)
    };
    let (with, without) = (fit("fit-r.parquet", true), fit("fit.parquet", false));
    assert_eq!(with, without, "same numbers from the stage's response");
    assert!(get(&with, "expected_nominal:b8", "all").0 > 10.0);

    // A template detector writes only the response.
    let bad = |args: &[&str], names: &str| {
        let out = tempfile::tempdir().unwrap();
        let mut a: Vec<&str> = args.to_vec();
        let r = out.path().join("r.parquet");
        a.extend(["--out-response", s(&r)]);
        let res = crate::common::run("quench-smear", &a);
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "want exit 2: {err}");
        assert!(err.contains(names), "error should name {names}: {err}");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    };
    let binned = o("binned.parquet");
    bad(
        &[
            "--rates",
            s(&rates),
            "--detector",
            cfg,
            "--out-binned",
            s(&binned),
        ],
        "template detector",
    );
    // The PRL-era configuration uses the collaboration's folded templates.
    bad(
        &[
            "--rates",
            s(&rates),
            "--detector",
            "data/xenonnt/prl2024/likelihood.yaml",
        ],
        "signal.from: mono",
    );
    bad(
        &[
            "--rates",
            s(&rates),
            "--detector",
            cfg,
            "--spectrum-source",
            "9B",
        ],
        "9B",
    );
    // A response of other runs is refused by chi2-scan.
    let one = cevns_io::schema::template_response_table(&[(resp[0].0.clone(), &resp[0].1)]);
    let p = o("one-run.parquet");
    std::fs::write(
        &p,
        one.to_parquet_bytes(&cevns_io::Provenance::new("quench-smear"))
            .unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let fit_out = out.path().join("fit.parquet");
    let res = crate::common::run(
        "chi2-scan",
        &[
            "--likelihood",
            cfg,
            "--rates",
            s(&rates),
            "--fluxes",
            s(&fluxes),
            "--response",
            s(&p),
            "--out-fit",
            s(&fit_out),
        ],
    );
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(err.contains("one-run.parquet"), "{err}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
