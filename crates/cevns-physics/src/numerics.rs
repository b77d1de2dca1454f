//! Small numerical helpers shared by the physics modules (interpolation).
//! No physics here: the detector, channel and report code all use these.

/// Log-log interpolation of (x, y) at `x0`, 0 outside the table; falls back to
/// linear interpolation when an endpoint value is 0.
pub fn interp_loglog(x: &[f64], y: &[f64], x0: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    // Tolerate round-off at the ends (grids built with exp/ln).
    let x0 = if (x0 / x[0] - 1.0).abs() < 1e-9 {
        x[0]
    } else if (x0 / x[n - 1] - 1.0).abs() < 1e-9 {
        x[n - 1]
    } else {
        x0
    };
    if !(x0 >= x[0] && x0 <= x[n - 1]) {
        return 0.0;
    }
    if n == 1 {
        return y[0];
    }
    let p = x.partition_point(|&v| v <= x0).clamp(1, n - 1);
    let (xa, xb, ya, yb) = (x[p - 1], x[p], y[p - 1], y[p]);
    if ya > 0.0 && yb > 0.0 {
        let f = (x0 / xa).ln() / (xb / xa).ln();
        (ya.ln() + f * (yb.ln() - ya.ln())).exp()
    } else {
        ya + (yb - ya) * (x0 - xa) / (xb - xa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_loglog_exact_for_power_laws() {
        let x = [1.0, 2.0, 4.0];
        let y = [1.0, 8.0, 64.0];
        assert!((interp_loglog(&x, &y, 3.0) - 27.0).abs() < 1e-12);
        assert_eq!(interp_loglog(&x, &y, 5.0), 0.0);
    }
}
