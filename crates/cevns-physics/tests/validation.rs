//! Physics validation against independent numbers: published tables, analytic
//! limits and quadratures written here independently of the library.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use cevns_io::data::{load_models, load_oscillation, load_solar_model, load_target};
use cevns_physics::channel::{Cevns, Channel};
use cevns_physics::detector::{DetectorResponse, Efficiency, RecoilGrid, Response};
use cevns_physics::flux::Spectrum;
use cevns_physics::form_factor::HelmParams;
use cevns_physics::nucleus::Nucleus;
use cevns_physics::oscillation::Flavour;
use cevns_physics::quenching::{Lindhard, Quenching};
use cevns_physics::rate::{RatePart, SourceRates, channel_rates};
use cevns_physics::resolution::{Bins, Resolution};
use cevns_physics::stats::{BinnedData, LimitOptions, upper_limit};
use cevns_physics::xsec::{kappa_mev2, sm_prefactor_cm2_per_kev};
use cevns_physics::zprime::BinnedModel;

/// SM CEvNS dR/dT on `t_kev` through the generic channel convolution.
fn sm_rate(n: &Nucleus, t_kev: &[f64], k: &[f64], spectrum: &Spectrum) -> Vec<f64> {
    let [r0, _, _] = channel_rates(&Cevns::new(*n, S2W), t_kev, k, Flavour::E, spectrum);
    r0
}

/// ∫ Φ(E)(1 − m_N T/2E²) dE from E_min(T) (eq 12's energy integral), via the
/// CEvNS channel's 1/E terms.
fn kinematic_integral(spectrum: &Spectrum, n: &Nucleus, t_mev: f64) -> f64 {
    let c = Cevns::new(*n, S2W);
    let terms = c.energy_terms(Flavour::E, t_mev);
    spectrum.moment_integral(c.e_nu_min_mev(t_mev), terms.sm, true)
}

/// The workspace root (this file is in `crates/cevns-physics/tests/`).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/reference` beside the checkout (present in CI); `None` with a
/// message when absent.
fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared/reference");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: {} not found; reference cross-checks need it",
            p.display()
        );
        None
    }
}

const S2W: f64 = 0.23863;

#[test]
fn spectra_are_normalised_and_end_at_their_endpoints() {
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    // Published tables integrate to 1 (Winter et al.: 1000 in 1e-3 MeV⁻¹),
    // to the accuracy of their printed digits.
    for (name, area) in &m.table_areas {
        let expected = if name == "8B" { 1000.0 } else { 1.0 };
        assert!(
            (area / expected - 1.0).abs() < 5e-3,
            "{name}: table area {area}"
        );
    }
    // Endpoints (MeV): pp 0.42341, hep 18.784 (Bahcall 1997), CNO: 13N 1.199,
    // 15O 1.732, 17F 1.740 (Bahcall & Ulrich 1988); 8B: Winter et al. table
    // is non-zero to 15.2 MeV at its printed precision.
    let expect = [
        ("pp", 0.42341),
        ("hep", 18.784),
        ("13N", 1.199),
        ("15O", 1.732),
        ("17F", 1.740),
        ("8B", 15.3),
    ];
    for (name, end) in expect {
        let s = m.sources.iter().find(|s| s.name == name).unwrap();
        assert!(
            (s.spectrum.max_energy() / end - 1.0).abs() < 2e-3,
            "{name}: endpoint {}",
            s.spectrum.max_energy()
        );
    }
}

/// Parse the BS05(OP) total fluxes from the header row of Bahcall's export
/// file (units 1e10 cm⁻² s⁻¹, order pp pep hep 7Be 8B 13N 15O 17F).
fn bs05_header(path: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    lines
        .find(|l| l.contains("cumulative neutrino fluxes"))
        .unwrap();
    let row = lines.find(|l| !l.trim().is_empty()).unwrap();
    row.split_whitespace()
        .map(|v| v.parse::<f64>().unwrap() * 1e10)
        .collect()
}

#[test]
fn total_fluxes_match_the_ssm_table() {
    let table = bs05_header(&repo().join("data/solar/tables/bs2005opflux.dat"));
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let probs = load_oscillation(&repo().join("data/oscillation/desalas2021-no.yaml"))
        .unwrap()
        .probabilities()
        .unwrap();
    for (name, phi) in ["pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F"]
        .iter()
        .zip(table)
    {
        let s = m.sources.iter().find(|s| s.name == *name).unwrap();
        // The flux at Earth summed over flavours is the SSM flux (unitarity).
        let total: f64 = Flavour::ALL
            .iter()
            .map(|f| s.spectrum.scaled(probs[f.index()]).total())
            .sum();
        assert!((total / phi - 1.0).abs() < 1e-9, "{name}: {total} vs {phi}");
    }
    if let Some(sh) = shared() {
        assert_eq!(
            bs05_header(&sh.join("solar_flux/bs2005opflux.dat")),
            bs05_header(&repo().join("data/solar/tables/bs2005opflux.dat"))
        );
    }
}

/// An independent implementation of eq 1 with the Helm form factor, written
/// out here from the formulas (not calling the library's cross section).
fn dsigma_independent(a: f64, z: f64, m_n: f64, e: f64, t_kev: f64) -> f64 {
    let gf = 1.1663788e-11; // MeV⁻²
    let hbarc_cm = 1.973269804e-11;
    let t = t_kev * 1e-3;
    let n = a - z;
    let qsm = 0.5 * (1.0 - 4.0 * S2W) * z - 0.5 * n;
    let q = (2.0 * m_n * t).sqrt() / 197.3269804; // fm⁻¹
    let c = 1.23 * a.powf(1.0 / 3.0) - 0.60;
    let rn =
        (c * c + 7.0 / 3.0 * std::f64::consts::PI.powi(2) * 0.52f64.powi(2) - 5.0 * 0.81).sqrt();
    let x = q * rn;
    let ff = if x < 1e-3 {
        1.0
    } else {
        3.0 * (x.sin() - x * x.cos()) / x.powi(3)
    } * (-(q * 0.9).powi(2) / 2.0).exp();
    let kin = (1.0 - m_n * t / (2.0 * e * e)).max(0.0);
    gf * gf * m_n / std::f64::consts::PI * qsm * qsm * kin * ff * ff * hbarc_cm * hbarc_cm * 1e-3
}

#[test]
fn flux_averaged_8b_cross_section_matches_direct_quadrature() {
    // ⟨σ⟩ = (1/Φ) ∫dT ∫dE Φ(E) dσ/dT on ⁷⁴Ge, by the library's I₀/I₂ method on
    // its recoil grid versus a plain midpoint quadrature in (E, T) here.
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let b8 = m.sources.iter().find(|s| s.name == "8B").unwrap();
    let target = load_target(&repo().join("data/targets/ge-nat.yaml")).unwrap();
    let ge74 = target
        .nuclei()
        .unwrap()
        .into_iter()
        .find(|n| n.a == 74)
        .unwrap();
    let helm = HelmParams::default();
    let grid = RecoilGrid::log(1e-4, 12.0, 2001).unwrap();
    let k: Vec<f64> = grid
        .points()
        .iter()
        .map(|&t| sm_prefactor_cm2_per_kev(&ge74, &helm, S2W, t))
        .collect();
    let lib: f64 = grid.integrate(
        &grid
            .points()
            .iter()
            .zip(&k)
            .map(|(&t, k)| k * kinematic_integral(&b8.spectrum, &ge74, t * 1e-3))
            .collect::<Vec<_>>(),
    ) / b8.spectrum.total();

    let Spectrum::Continuum(p) = &b8.spectrum else {
        panic!("8B is a continuum")
    };
    let (ne, nt) = (3000, 3000);
    let (e_max, t_max) = (16.0, 8.0);
    let mut direct = 0.0;
    for i in 0..ne {
        let e = (i as f64 + 0.5) * e_max / ne as f64;
        let phi = p.eval(e);
        if phi == 0.0 {
            continue;
        }
        let tmax = 2.0 * e * e / (2.0 * e + ge74.mass_mev) * 1e3;
        let dt = tmax.min(t_max) / nt as f64;
        let mut s = 0.0;
        for j in 0..nt {
            let t = (j as f64 + 0.5) * dt;
            s += dsigma_independent(74.0, 32.0, ge74.mass_mev, e, t) * dt;
        }
        direct += phi * s * e_max / ne as f64;
    }
    direct /= b8.spectrum.total();
    assert!(
        (lib / direct - 1.0).abs() < 1e-3,
        "library {lib:e} vs direct {direct:e}"
    );
    // Analytic limit (Freedman 1974): F → 1, T ≪ E: σ(E) = G_F² Q_W² E²/(4π);
    // the form factor only lowers it, by less than 10 % for ⁸B on Ge.
    let qw = 42.0 - (1.0 - 4.0 * S2W) * 32.0;
    let e2: f64 = {
        let n = 20_000;
        let h = 16.0 / n as f64;
        (0..n)
            .map(|i| {
                let e = (i as f64 + 0.5) * h;
                p.eval(e) * e * e * h
            })
            .sum::<f64>()
            / p.integral()
    };
    let freedman =
        (1.1663788e-11f64 * 1.973269804e-11).powi(2) * qw * qw * e2 / (4.0 * std::f64::consts::PI);
    assert!(
        lib < freedman && lib > 0.9 * freedman,
        "⟨σ⟩ = {lib:e}, point-nucleus {freedman:e}"
    );
}

/// The ⁸B part of the CDEX-10 binned model from the shipped data files.
fn cdex_b8() -> (RecoilGrid, DetectorResponse, Vec<SourceRates>) {
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let probs = load_oscillation(&repo().join("data/oscillation/desalas2021-no.yaml"))
        .unwrap()
        .probabilities()
        .unwrap();
    let target = load_target(&repo().join("data/targets/ge-nat.yaml")).unwrap();
    let helm = HelmParams::default();
    let grid = RecoilGrid::log(1e-4, 12.0, 2001).unwrap();
    let mut sources = Vec::new();
    for s in m
        .sources
        .iter()
        .filter(|s| s.name == "8B" || s.name == "hep")
    {
        let mut parts = Vec::new();
        for n in target.nuclei().unwrap() {
            let k: Vec<f64> = grid
                .points()
                .iter()
                .map(|&t| sm_prefactor_cm2_per_kev(&n, &helm, S2W, t))
                .collect();
            for f in Flavour::ALL {
                let rate = sm_rate(&n, grid.points(), &k, &s.spectrum.scaled(probs[f.index()]));
                parts.push(RatePart {
                    channel: "cevns".into(),
                    target: cevns_physics::channel::Target::Nucleus(n),
                    kappa_mev2: kappa_mev2(&n, S2W),
                    flavour: f,
                    rate_x1: rate.iter().map(|v| 2.0 * v).collect(),
                    rate_x2: rate.clone(),
                    rate,
                });
            }
        }
        sources.push(SourceRates {
            source: s.name.clone(),
            sigma_frac: s.sigma_frac,
            parts,
        });
    }
    let q = Lindhard::new(0.162, 32).unwrap();
    let res = Resolution {
        sigma0_ev: 35.8,
        sigma_sqrt_ev: 16.6,
        sigma_lin_ev: 0.0,
    };
    let bins = Bins::uniform(0.16, 0.1, 20).unwrap();
    let resp = Response::build(
        &grid,
        &Quenching::Lindhard(q),
        &res,
        &bins,
        &Efficiency::Constant(1.0),
        2.96e-3,
    )
    .unwrap();
    let resp =
        DetectorResponse::new(vec![(cevns_physics::detector::Species::Nucleus(32), resp)]).unwrap();
    (grid, resp, sources)
}

#[test]
fn zero_coupling_is_exactly_the_sm() {
    let (grid, resp, sources) = cdex_b8();
    let models = load_models(&repo().join("data/models/u1prime.yaml")).unwrap();
    for model in &models {
        let bm = BinnedModel::new(&resp, &sources, model);
        let poly = bm.polynomial(&resp, &grid, 1.0);
        assert_eq!(poly.at(0.0), bm.r0, "{}", model.name);
    }
}

#[test]
fn limit_equals_the_fine_grid_crossing() {
    let (grid, resp, sources) = cdex_b8();
    let models = load_models(&repo().join("data/models/u1prime.yaml")).unwrap();
    let bm = BinnedModel::new(&resp, &sources, &models[0]);
    let poly = bm.polynomial(&resp, &grid, 3.0);
    let data = BinnedData {
        residual: vec![0.0; 20],
        delta: vec![1.3e-2; 20],
    };
    let chi2 = |g: f64| poly.chi2(&data, &bm.sigma, g);
    let c0 = chi2(0.0);
    let g90 = upper_limit(chi2, c0, &LimitOptions::default()).unwrap();
    // Fine linear grid from 0 to 2·g90: the first point with Δχ² ≥ 4.605.
    let n = 200_000;
    let h = 2.0 * g90 / n as f64;
    let first = (1..=n)
        .map(|i| i as f64 * h)
        .find(|&g| chi2(g) - c0 >= 4.605_170_185_988_091)
        .unwrap();
    assert!(
        (first - g90).abs() <= 1.001 * h,
        "root {g90:e} vs grid {first:e}"
    );
}

#[test]
fn b8_spectrum_choice_winter_vs_bahcall() {
    // Reference cross-check: the Winter et al. (2006) and Bahcall et al.
    // (1996) ⁸B spectra give CEvNS rates above 1 keV_nr on Ge within 5 %.
    let Some(sh) = shared() else { return };
    let rows = cevns_io::data::read_numeric_table(&sh.join("solar_spectra/solarnu_bahcall/B8.dat"))
        .unwrap();
    let (e, v): (Vec<f64>, Vec<f64>) = rows.iter().map(|r| (r[0], r[1])).unzip();
    let (bahcall, _) =
        cevns_physics::flux::normalised_continuum("B8 Bahcall", e, v, 5.691e6).unwrap();
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let winter = &m.sources.iter().find(|s| s.name == "8B").unwrap().spectrum;
    let target = load_target(&repo().join("data/targets/ge-nat.yaml")).unwrap();
    let n = target.nuclei().unwrap()[3];
    let grid = RecoilGrid::log(1.0, 12.0, 501).unwrap();
    let helm = HelmParams::default();
    let k: Vec<f64> = grid
        .points()
        .iter()
        .map(|&t| sm_prefactor_cm2_per_kev(&n, &helm, S2W, t))
        .collect();
    let rw = grid.integrate(&sm_rate(&n, grid.points(), &k, winter));
    let rb = grid.integrate(&sm_rate(
        &n,
        grid.points(),
        &k,
        &Spectrum::Continuum(bahcall),
    ));
    assert!(
        (rw / rb - 1.0).abs() < 0.05,
        "Winter {rw:e} vs Bahcall {rb:e}"
    );
}

#[test]
fn b8_flux_weighted_cross_section_on_xenon_agrees_with_xenonnt() {
    // XENONnT, PRL 133, 191002 (2024), arXiv:2408.02877: measured ⁸B
    // flux-weighted CEvNS cross section on Xe (1.1 +0.8 −0.5)×10⁻³⁹ cm²,
    // "consistent with the Standard Model". Our SM prediction (all recoils,
    // Helm form factor, natural Xe) must lie in the 1σ band.
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let b8 = &m.sources.iter().find(|s| s.name == "8B").unwrap().spectrum;
    let xe = load_target(&repo().join("data/targets/xe-nat.yaml")).unwrap();
    let helm = HelmParams::default();
    let grid = RecoilGrid::log(1e-4, 8.0, 2001).unwrap();
    let mut sigma = 0.0;
    for n in xe.nuclei().unwrap() {
        let k: Vec<f64> = grid
            .points()
            .iter()
            .map(|&t| sm_prefactor_cm2_per_kev(&n, &helm, S2W, t))
            .collect();
        let j: Vec<f64> = grid
            .points()
            .iter()
            .zip(&k)
            .map(|(&t, k)| k * kinematic_integral(b8, &n, t * 1e-3))
            .collect();
        sigma += n.abundance * grid.integrate(&j) / b8.total();
    }
    assert!(
        (0.6e-39..=1.9e-39).contains(&sigma),
        "⟨σ⟩_Xe = {sigma:e} cm²"
    );
}

/// Published solar ν–e rate (data/validation/solar-nu-e-xenon.yaml).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedNuE {
    #[allow(dead_code)]
    citation: String,
    sources: Vec<String>,
    window_kev: [f64; 2],
    events: f64,
    fiducial_t: f64,
    live_yr: f64,
}

/// SM ν–e rate of the named solar sources in natural Xe integrated over
/// `[t_lo, t_hi]` keV, events/(t·yr), with the MSW probabilities of
/// data/oscillation/desalas2021-no-msw.yaml, BS05(OP) fluxes and `binding`.
fn xe_nu_e_window_rate(
    sources: &[String],
    binding: &cevns_physics::channel::electron::Binding,
    t_lo: f64,
    t_hi: f64,
) -> f64 {
    use cevns_physics::channel::NuElectron;
    use cevns_physics::units::{AVOGADRO, GRAMS_PER_KG};
    let m = load_solar_model(&repo().join("data/solar/bs05-op.yaml")).unwrap();
    let names: Vec<String> = m.sources.iter().map(|s| s.name.clone()).collect();
    let osc = cevns_io::data::load_oscillation_setup(
        &repo().join("data/oscillation/desalas2021-no-msw.yaml"),
        &names,
    )
    .unwrap();
    let xe = load_target(&repo().join("data/targets/xe-nat.yaml")).unwrap();
    let ch = NuElectron {
        z: 54,
        atoms_per_kg: GRAMS_PER_KG * AVOGADRO / xe.molar_mass_g_per_mol,
        sin2_theta_w: S2W,
    };
    // 0.01 keV steps: the stepping Z_eff(T) jumps at the L edges (4.8–5.5 keV).
    let n = ((t_hi - t_lo) / 0.01).round() as usize + 1;
    let t: Vec<f64> = (0..n)
        .map(|i| t_lo + (t_hi - t_lo) * i as f64 / (n - 1) as f64)
        .collect();
    let k: Vec<f64> = t
        .iter()
        .map(|&t| ch.prefactor_cm2_per_kev(binding, t))
        .collect();
    let mut dr = vec![0.0; n]; // events/(kg·day·keV)
    for (s, (name, o)) in m.sources.iter().zip(&osc.per_source) {
        assert_eq!(&s.name, name);
        if !sources.contains(&s.name) {
            continue;
        }
        for f in Flavour::ALL {
            let sp = s
                .spectrum
                .weighted(&s.name, |e| o.probabilities_at(e).unwrap()[f.index()])
                .unwrap();
            let [r0, _, _] = channel_rates(&ch, &t, &k, f, &sp);
            dr.iter_mut().zip(&r0).for_each(|(a, b)| *a += b);
        }
    }
    let h = t[1] - t[0];
    let integral = h * (dr.iter().sum::<f64>() - 0.5 * (dr[0] + dr[n - 1]));
    // events/(kg·day) → events/(t·yr), Julian year.
    integral * 1e3 * 365.25
}

#[test]
fn pp_nu_e_rate_in_xenon_matches_baudis_2014() {
    // Baudis et al., JCAP 01 (2014) 044: 5900 pp events in 2–30 keV for
    // 14 t × 5 yr of natural Xe = 84.3 events/(t·yr) (the data file's note).
    // Their paper predates the binding treatments of the Xe literature; we
    // assume (not read from its body) that it counts all 54 electrons as free
    // and compare our free-electron rate at 7 %: the inputs legitimately differ by a few per cent (P_ee:
    // MSW 0.537 flux-weighted here vs the ≈ 0.55 then in use, +1.5 %;
    // sin²θ_W 0.2386 vs 0.231, −1.8 %; pp flux of the SSM; resolution at the
    // 2 keV edge), while a wrong flux normalisation, P_ee, electron count or
    // unit is ≥ 30 %. Measured: 80.7 (free, −4.3 %), 76.3 (stepping, −9.5 %).
    use cevns_physics::channel::electron::Binding;
    let p: PublishedNuE =
        cevns_io::data::load_yaml(&repo().join("data/validation/solar-nu-e-xenon.yaml")).unwrap();
    let published = p.events / (p.fiducial_t * p.live_yr);
    let [lo, hi] = p.window_kev;
    let free = xe_nu_e_window_rate(&p.sources, &Binding::Free, lo, hi);
    let binding =
        cevns_io::data::load_binding(&repo().join("data/atomic/binding-energies.yaml"), 54)
            .unwrap();
    let stepping = xe_nu_e_window_rate(&p.sources, &binding, lo, hi);
    eprintln!(
        "pp ν–e in Xe, {lo}–{hi} keV [events/(t·yr)]: published {published:.2}, \
         ours free {free:.2} ({:+.1} %), stepping {stepping:.2} ({:+.1} %)",
        100.0 * (free / published - 1.0),
        100.0 * (stepping / published - 1.0)
    );
    assert!(
        (free / published - 1.0).abs() < 0.07,
        "free-electron pp rate {free} vs published {published}"
    );
    // Stepping vs free, by hand: the K shell (2 of 54 electrons, 34.6 keV) is
    // closed over the whole window (−3.7 %) and the 8 L electrons (4.8–5.5 keV)
    // below ≈ 5 keV, ≈ 3 of the 28 keV of a nearly flat spectrum
    // (−8/54 × 0.105 ≈ −1.6 %): ratio ≈ 0.947.
    let ratio = stepping / free;
    assert!(
        (0.94..0.955).contains(&ratio),
        "stepping/free = {ratio} (hand estimate 0.947)"
    );
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ShellRow {
    shell: String,
    binding_ev: f64,
    electrons: u32,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementShells {
    z: u32,
    #[allow(dead_code)]
    name: String,
    shells: Vec<ShellRow>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ShellFile {
    elements: Vec<ElementShells>,
}

#[test]
fn binding_energies_agree_with_carlson_1975() {
    // Our shells (X-Ray Data Booklet) against a second source, Carlson (1975)
    // free-atom values (data/atomic/binding-energies-carlson1975.yaml, via
    // Geant4's G4AtomicShells.cc). Expected offsets: Ge is a solid (booklet:
    // Fermi level; Carlson: vacuum), +3–5 eV; Xe agrees to ≤ 9 eV except N2
    // (4p½: booklet 146.7, Carlson 157.0 eV, the one real disagreement; see
    // docs/physics.md). A transcription slip in a deep shell is ≫ 11 eV.
    // Valence shells (< 20 eV) differ by convention and are not compared.
    let ours: ShellFile =
        cevns_io::data::load_yaml(&repo().join("data/atomic/binding-energies.yaml")).unwrap();
    let carlson: ShellFile =
        cevns_io::data::load_yaml(&repo().join("data/atomic/binding-energies-carlson1975.yaml"))
            .unwrap();
    let mut compared = 0;
    let mut worst = (0.0_f64, String::new());
    for el in &ours.elements {
        let other = carlson.elements.iter().find(|e| e.z == el.z).unwrap();
        for s in el.shells.iter().filter(|s| s.binding_ev >= 20.0) {
            let c = other
                .shells
                .iter()
                .find(|c| c.shell == s.shell)
                .unwrap_or_else(|| panic!("Z = {}: shell {} not in Carlson", el.z, s.shell));
            assert_eq!(c.electrons, s.electrons, "Z = {} {}", el.z, s.shell);
            let d = c.binding_ev - s.binding_ev;
            assert!(
                d.abs() <= 11.0,
                "Z = {} {}: ours {} eV vs Carlson {} eV",
                el.z,
                s.shell,
                s.binding_ev,
                c.binding_ev
            );
            if d.abs() > worst.0.abs() {
                worst = (d, format!("Z = {} {}", el.z, s.shell));
            }
            compared += 1;
        }
        // The solid's offset has one sign: vacuum-level energies are higher.
        if el.z == 32 {
            for s in el
                .shells
                .iter()
                .filter(|s| (20.0..5000.0).contains(&s.binding_ev))
            {
                let c = other.shells.iter().find(|c| c.shell == s.shell).unwrap();
                // L1 is the exception in these tables (−1.6 eV).
                if s.shell != "L1" {
                    assert!(c.binding_ev > s.binding_ev, "Ge {}", s.shell);
                }
            }
        }
    }
    eprintln!(
        "binding energies: {compared} shells compared, largest Carlson − ours = {:+.1} eV ({})",
        worst.0, worst.1
    );
    assert_eq!(compared, 9 + 15, "Ge K–M5, Xe K–O1");
}
