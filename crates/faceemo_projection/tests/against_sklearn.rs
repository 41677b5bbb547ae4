//! PCA against scikit-learn on the same data (`scripts/make_projection_reference.py`).
#![allow(clippy::needless_pass_by_value)] // ndarray views are cheap handles

use std::path::Path;

use faceemo_projection::Pca;
use ndarray::{Array1, Array2, ArrayView1};
use ndarray_npy::NpzReader;

fn reference() -> NpzReader<std::fs::File> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/projection/pca_reference.npz");
    NpzReader::new(std::fs::File::open(path).expect("reference")).expect("npz")
}

fn correlation(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    let (ma, mb) = (a.mean().unwrap_or(0.0), b.mean().unwrap_or(0.0));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn pca_agrees_with_scikit_learn() {
    let mut npz = reference();
    let data: Array2<f32> = npz.by_name("data").expect("data");
    let want_ratio: Array1<f64> = npz.by_name("explained_variance_ratio").expect("ratio");
    let want_coords: Array2<f64> = npz.by_name("coords").expect("coords");

    // Fit on the first 400 rows, transform all 600: out-of-sample rows too.
    let pca = Pca::fit(data.slice(ndarray::s![..400, ..]), 3).expect("fit");
    for (got, want) in pca.explained_variance_ratio.iter().zip(&want_ratio) {
        assert!(
            (got - want).abs() < 1e-4,
            "ratio {got} vs scikit-learn {want}"
        );
    }
    let coords = pca
        .transform(data.view())
        .expect("transform")
        .map(|&x| f64::from(x));
    for k in 0..3 {
        let r = correlation(coords.column(k), want_coords.column(k)).abs();
        assert!(r >= 0.9999, "component {k}: correlation {r}");
        // Equal up to sign, value by value.
        let sign = if correlation(coords.column(k), want_coords.column(k)) < 0.0 {
            -1.0
        } else {
            1.0
        };
        let worst = coords
            .column(k)
            .iter()
            .zip(want_coords.column(k))
            .map(|(a, b)| (sign * a - b).abs())
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-3, "component {k}: coordinates differ by {worst}");
    }
}
