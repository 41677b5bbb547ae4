//! The low-dimensional similarity curve `1 / (1 + a·d^(2b))` fitted to UMAP's target
//! (1 below `min_dist`, then `exp(−(d − min_dist) / spread)`), as umap-learn's
//! `find_ab_params` fits it with SciPy's `curve_fit`: least squares over 300 evenly spaced
//! distances in `[0, 3·spread]`, Levenberg–Marquardt from `a = b = 1`.

/// Distances the curve is fitted at.
const SAMPLES: usize = 300;

/// The `(a, b)` of the curve for `min_dist` and `spread`; `None` when the fit does not
/// converge to finite values (a `min_dist` far above `spread`, say).
pub fn find_ab_params(spread: f64, min_dist: f64) -> Option<(f64, f64)> {
    let xs: Vec<f64> = (0..SAMPLES)
        .map(|i| 3.0 * spread * i as f64 / (SAMPLES - 1) as f64)
        .collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    let cost = |a: f64, b: f64| -> f64 {
        xs.iter()
            .zip(&ys)
            .map(|(&x, &y)| (curve(x, a, b) - y).powi(2))
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let mut damping = 1e-3;
    let mut current = cost(a, b);
    for _ in 0..500 {
        // Normal equations of the Gauss–Newton step: JᵀJ δ = −Jᵀr.
        let (mut jaa, mut jab, mut jbb, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &y) in xs.iter().zip(&ys) {
            let (da, db) = gradient(x, a, b);
            let r = curve(x, a, b) - y;
            jaa += da * da;
            jab += da * db;
            jbb += db * db;
            ga += da * r;
            gb += db * r;
        }
        let mut improved = false;
        while damping < 1e12 {
            let (maa, mbb) = (jaa * (1.0 + damping), jbb * (1.0 + damping));
            let det = maa * mbb - jab * jab;
            if det.abs() < f64::MIN_POSITIVE {
                damping *= 10.0;
                continue;
            }
            let step_a = -(mbb * ga - jab * gb) / det;
            let step_b = -(maa * gb - jab * ga) / det;
            let (na, nb) = (a + step_a, b + step_b);
            let next = cost(na, nb);
            if next.is_finite() && next <= current {
                let settled = (current - next) <= 1e-15 * current.max(1e-300)
                    && step_a.abs() <= 1e-12 * a.abs().max(1.0)
                    && step_b.abs() <= 1e-12 * b.abs().max(1.0);
                a = na;
                b = nb;
                current = next;
                damping = (damping / 10.0).max(1e-12);
                improved = true;
                if settled {
                    return (a.is_finite() && b.is_finite()).then_some((a, b));
                }
                break;
            }
            damping *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0).then_some((a, b))
}

fn curve(x: f64, a: f64, b: f64) -> f64 {
    1.0 / (1.0 + a * x.powf(2.0 * b))
}

/// `(∂f/∂a, ∂f/∂b)` of the curve at `x`.
fn gradient(x: f64, a: f64, b: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 0.0);
    }
    let power = x.powf(2.0 * b);
    let denominator = (1.0 + a * power).powi(2);
    (
        -power / denominator,
        -a * power * 2.0 * x.ln() / denominator,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// umap-learn 0.5's `find_ab_params` (SciPy `curve_fit`), written by
    /// `tests/fixtures/umap/make_reference.py` into `reference.json`.
    #[test]
    fn the_fit_matches_umap_learn_for_three_settings() {
        let reference: Vec<(f64, f64, f64, f64)> = reference_ab();
        assert_eq!(reference.len(), 3);
        for (spread, min_dist, a_ref, b_ref) in reference {
            let (a, b) = find_ab_params(spread, min_dist).expect("a fit");
            assert!(
                (a - a_ref).abs() < 1e-4 * a_ref && (b - b_ref).abs() < 1e-4 * b_ref,
                "spread {spread}, min_dist {min_dist}: ours ({a}, {b}), umap-learn ({a_ref}, {b_ref})"
            );
        }
    }

    fn reference_ab() -> Vec<(f64, f64, f64, f64)> {
        let reference = super::super::tests::reference();
        reference["ab"]
            .as_array()
            .expect("ab")
            .iter()
            .map(|entry| {
                let v = |i: usize| entry[i].as_f64().expect("a number");
                (v(0), v(1), v(2), v(3))
            })
            .collect()
    }
}
