//! Mean and spread over seeds, and how they are printed.

/// Mean and sample standard deviation (n - 1) of `values`; the deviation is `None` for fewer
/// than two values.
pub fn mean_sd(values: &[f64]) -> Option<(f64, Option<f64>)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((mean, sd))
}

/// `a - b` (fractions) in percentage points, without the float noise of the subtraction: test
/// sets of a few hundred examples move accuracy in quarter points, and 0.65 - 0.6225 must read
/// 2.75 (not 2.7499999999999947, printed as 2.7) and meet a bar at 2.75.
pub fn points(a: f64, b: f64) -> f64 {
    without_noise(100.0 * (a - b))
}

/// `points` rounded to a billionth of a point: below any real difference, above float noise.
/// A tie is +0 (a difference that rounds to zero from below would print `-0.00`).
pub fn without_noise(points: f64) -> f64 {
    (points * 1e9).round() / 1e9 + 0.0
}

/// `72.3 ± 1.2`, `72.3` for one value, `–` for none; `scale` turns fractions into percent.
pub fn cell(values: &[f64], scale: f64, decimals: usize) -> String {
    match mean_sd(values) {
        None => "–".to_string(),
        Some((mean, None)) => format!("{:.*}", decimals, scale * mean),
        Some((mean, Some(sd))) => format!("{:.*} ± {:.*}", decimals, scale * mean, decimals, scale * sd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_deviation() {
        let (mean, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(mean, 2.5);
        assert!((sd.unwrap() - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(mean_sd(&[5.0]), Some((5.0, None)));
        assert_eq!(mean_sd(&[]), None);
    }

    #[test]
    fn points_are_exact_to_the_quarter() {
        assert_eq!(points(0.65, 0.6225), 2.75);
        assert_eq!(format!("{:+.2}", points(0.6225, 0.65)), "-2.75");
        assert_eq!(points(0.81, 0.78), 3.0);
        assert_eq!(format!("{:+.2}", points(0.557, 0.557 + 1e-12)), "+0.00");
    }

    #[test]
    fn cells_show_the_spread_only_when_there_is_one() {
        assert_eq!(cell(&[0.7, 0.8], 100.0, 1), "75.0 ± 7.1");
        assert_eq!(cell(&[0.725], 100.0, 1), "72.5");
        assert_eq!(cell(&[], 100.0, 1), "–");
    }
}
