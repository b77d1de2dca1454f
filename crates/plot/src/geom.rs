//! Plot geometry and number formatting: axis frames, clipping of sampled
//! curves to the frame (plotters draws out-of-range points on the edge rather
//! than clipping them), decade rounding and Unicode scientific notation.

/// Scale of one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear axis.
    Linear,
    /// Base-10 logarithmic axis (values must be > 0).
    Log,
}

impl Scale {
    /// Data value → position along the axis (log10 for a log axis); `None`
    /// when the value cannot be shown (non-finite, or ≤ 0 on a log axis).
    fn forward(self, v: f64) -> Option<f64> {
        match self {
            Scale::Linear => v.is_finite().then_some(v),
            Scale::Log => (v.is_finite() && v > 0.0).then(|| v.log10()),
        }
    }

    /// Inverse of [`Scale::forward`].
    fn inverse(self, u: f64) -> f64 {
        match self {
            Scale::Linear => u,
            Scale::Log => 10f64.powf(u),
        }
    }
}

/// The visible rectangle of a chart, in data units of each axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// x range (lo, hi), data units.
    pub x: (f64, f64),
    /// y range (lo, hi), data units.
    pub y: (f64, f64),
    /// Scale of the x axis.
    pub x_scale: Scale,
    /// Scale of the y axis.
    pub y_scale: Scale,
}

/// A polyline in data units.
pub type Polyline = Vec<(f64, f64)>;

impl Frame {
    /// Cut a sampled curve into polylines lying inside the frame.
    ///
    /// `None` samples (no value at that abscissa) and samples that cannot be
    /// shown on the axes (e.g. ≤ 0 on a log axis) break the line. Segments
    /// that cross the frame are cut exactly at the edge, interpolating
    /// linearly in the axes' own scale (so in log–log space for log axes),
    /// and the part outside is dropped. Polylines of fewer than two points
    /// are discarded.
    pub fn clip(&self, samples: &[Option<(f64, f64)>]) -> Vec<Polyline> {
        let (Some(x0), Some(x1), Some(y0), Some(y1)) = (
            self.x_scale.forward(self.x.0),
            self.x_scale.forward(self.x.1),
            self.y_scale.forward(self.y.0),
            self.y_scale.forward(self.y.1),
        ) else {
            return Vec::new();
        };
        let lo = (x0.min(x1), y0.min(y1));
        let hi = (x0.max(x1), y0.max(y1));
        let fwd = |p: &Option<(f64, f64)>| {
            p.and_then(|(x, y)| Some((self.x_scale.forward(x)?, self.y_scale.forward(y)?)))
        };
        let pts: Vec<Option<(f64, f64)>> = samples.iter().map(fwd).collect();

        let mut out: Vec<Polyline> = Vec::new();
        let mut cur: Polyline = Vec::new();
        let flush = |cur: &mut Polyline, out: &mut Vec<Polyline>| {
            if cur.len() >= 2 {
                out.push(std::mem::take(cur));
            } else {
                cur.clear();
            }
        };
        for w in pts.windows(2) {
            let (Some(a), Some(b)) = (w[0], w[1]) else {
                flush(&mut cur, &mut out);
                continue;
            };
            let Some((t0, t1)) = liang_barsky(a, b, lo, hi) else {
                flush(&mut cur, &mut out);
                continue;
            };
            let at = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if t0 > 0.0 {
                flush(&mut cur, &mut out);
            }
            if cur.is_empty() {
                cur.push(at(t0));
            }
            cur.push(at(t1));
            if t1 < 1.0 {
                flush(&mut cur, &mut out);
            }
        }
        flush(&mut cur, &mut out);
        out.into_iter()
            .map(|line| {
                line.into_iter()
                    .map(|(u, v)| (self.x_scale.inverse(u), self.y_scale.inverse(v)))
                    .collect()
            })
            .collect()
    }
}

/// Liang–Barsky: the parameter interval `[t0, t1]` ⊂ [0, 1] of the segment
/// a→b inside the box `lo`–`hi`, or `None` if the segment misses the box.
fn liang_barsky(
    a: (f64, f64),
    b: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [
        (-dx, a.0 - lo.0),
        (dx, hi.0 - a.0),
        (-dy, a.1 - lo.1),
        (dy, hi.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    Some((t0, t1))
}

/// The largest power of ten ≤ `v` (`v` > 0).
pub fn decade_floor(v: f64) -> f64 {
    10f64.powf(v.log10().floor())
}

/// The smallest power of ten ≥ `v` (`v` > 0).
pub fn decade_ceil(v: f64) -> f64 {
    10f64.powf(v.log10().ceil())
}

/// Unicode superscript form of an integer, e.g. −5 → "⁻⁵".
pub fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            other => other,
        })
        .collect()
}

/// Scientific notation with Unicode exponents and at most `digits`
/// decimals in the mantissa: 1.5e-5 → "1.5×10⁻⁵", 1e-7 → "10⁻⁷",
/// 2.5 → "2.5" (exponent 0 is left out).
pub fn sci(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mut exp = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits as i32);
    let mut mant = (v / 10f64.powi(exp) * scale).round() / scale;
    // Rounding the mantissa may carry it to 10.
    if mant.abs() >= 10.0 {
        mant /= 10.0;
        exp += 1;
    }
    let m = trim_float(mant, digits);
    match (exp, m.as_str()) {
        (0, _) => m,
        (_, "1") => format!("10{}", superscript(exp)),
        (_, "−1") => format!("−10{}", superscript(exp)),
        _ => format!("{m}×10{}", superscript(exp)),
    }
}

/// Plain decimal with at most `digits` significant digits: 0.01, 0.5,
/// 2.2, 1000.
pub fn plain(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exp = v.abs().log10().floor() as i32;
    trim_float(v, (digits as i32 - 1 - exp).max(0) as usize)
}

/// `v` with at most `decimals` decimals, trailing zeros removed, and a
/// typographic minus sign.
fn trim_float(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.replace('-', "−")
    }
}

/// Tick label on an axis of the given scale spanning `range` (data
/// units): a log axis uses plain decimals when the whole range lies within
/// [10⁻³, 10⁴] and scientific notation otherwise; a linear axis uses plain
/// decimals.
pub fn tick(v: f64, scale: Scale, range: (f64, f64)) -> String {
    let plain_range =
        range.0.min(range.1) >= 1e-3 * (1.0 - 1e-9) && range.0.max(range.1) <= 1e4 * (1.0 + 1e-9);
    match scale {
        Scale::Log if !plain_range => sci(v, 1),
        _ => plain(v, 3),
    }
}

/// A solar-neutrino source name with its leading mass number as a
/// superscript: "8B" → "⁸B", "7Be" → "⁷Be", "pp" → "pp".
pub fn nuclide(name: &str) -> String {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<i32>() {
        Ok(a) if !digits.is_empty() => format!("{}{}", superscript(a), &name[digits.len()..]),
        _ => name.to_string(),
    }
}

/// A mass in MeV for a title, shortest exact decimal: 1.0 → "1", 0.5 → "0.5".
pub fn mev(m: f64) -> String {
    format!("{m}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn loglog() -> Frame {
        Frame {
            x: (1e-2, 1e3),
            y: (1e-7, 1e-2),
            x_scale: Scale::Log,
            y_scale: Scale::Log,
        }
    }

    #[test]
    fn inside_curve_is_unchanged() {
        let f = loglog();
        let pts = [Some((0.1, 1e-5)), Some((1.0, 2e-5)), Some((10.0, 3e-5))];
        let out = f.clip(&pts);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 3);
        for (a, b) in out[0].iter().zip(pts.iter().flatten()) {
            assert!((a.0 / b.0 - 1.0).abs() < 1e-12 && (a.1 / b.1 - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn none_breaks_the_line() {
        let f = loglog();
        let pts = [
            Some((0.1, 1e-5)),
            Some((0.2, 1e-5)),
            None,
            Some((1.0, 1e-5)),
            Some((2.0, 1e-5)),
            None,
            Some((5.0, 1e-5)),
        ];
        let out = f.clip(&pts);
        // The isolated last point cannot form a line.
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|l| l.len() == 2));
    }

    #[test]
    fn crossing_is_cut_at_the_edge_in_log_space() {
        let f = loglog();
        // From 1e-4 at m = 1 to 1e0 at m = 1e4 (slope 1 in log-log): leaves
        // the top edge (1e-2) at m = 100.
        let out = f.clip(&[Some((1.0, 1e-4)), Some((1e4, 1.0))]);
        assert_eq!(out.len(), 1);
        let end = out[0][1];
        assert!((end.0 / 100.0 - 1.0).abs() < 1e-9, "{end:?}");
        assert!((end.1 / 1e-2 - 1.0).abs() < 1e-9, "{end:?}");
        // Leaving and re-entering gives two pieces.
        let out = f.clip(&[Some((1.0, 1e-4)), Some((10.0, 1.0)), Some((100.0, 1e-4))]);
        assert_eq!(out.len(), 2);
        // Entirely outside: nothing.
        assert!(f.clip(&[Some((1.0, 1.0)), Some((10.0, 1.0))]).is_empty());
        // Non-positive values on a log axis break the line.
        assert_eq!(
            f.clip(&[Some((1.0, 1e-5)), Some((2.0, 0.0)), Some((3.0, 1e-5))])
                .len(),
            0
        );
    }

    #[test]
    fn linear_x_axis() {
        let f = Frame {
            x: (0.0, 2.0),
            y: (1e-3, 1.0),
            x_scale: Scale::Linear,
            y_scale: Scale::Log,
        };
        let out = f.clip(&[Some((1.0, 1e-2)), Some((3.0, 1e-2))]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 2);
        assert!(
            (out[0][0].0 - 1.0).abs() < 1e-12 && (out[0][1].0 - 2.0).abs() < 1e-12,
            "{out:?}"
        );
        assert!(
            out[0].iter().all(|p| (p.1 / 1e-2 - 1.0).abs() < 1e-12),
            "{out:?}"
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(sci(1.5e-5, 2), "1.5×10⁻⁵");
        assert_eq!(sci(1e-7, 1), "10⁻⁷");
        assert_eq!(sci(9.99e-6, 1), "10⁻⁵");
        assert_eq!(sci(2.5, 1), "2.5");
        assert_eq!(sci(-3e4, 1), "−3×10⁴");
        assert_eq!(plain(0.01, 3), "0.01");
        assert_eq!(plain(1000.0, 3), "1000");
        assert_eq!(plain(2.2000000001, 3), "2.2");
        assert_eq!(plain(-0.5, 3), "−0.5");
        assert_eq!(tick(0.01, Scale::Log, (0.01, 1000.0)), "0.01");
        assert_eq!(tick(0.01, Scale::Log, (1e-7, 1e-2)), "10⁻²");
        assert_eq!(tick(1.4, Scale::Linear, (0.1, 2.5)), "1.4");
        assert_eq!(nuclide("8B"), "⁸B");
        assert_eq!(nuclide("pp"), "pp");
        assert_eq!(mev(1.0), "1");
        assert_eq!(mev(0.5), "0.5");
        assert_eq!(decade_floor(3e-6), 1e-6);
        assert!((decade_ceil(3e-6) / 1e-5 - 1.0).abs() < 1e-12);
    }
}
