//! UMAP's spectral initialisation: the eigenvectors of the normalised graph Laplacian
//! `I − D^-½ W D^-½` for its second and third smallest eigenvalues, as umap-learn's
//! `spectral_layout` takes them (there with ARPACK's `eigsh`, here with a Lanczos run with
//! full reorthogonalisation, the trivial eigenvector `√d` projected out). A disconnected
//! graph has no single spectral layout: the caller falls back to a random start.

use faceemo_jobs::SplitMix64;
use nalgebra::DMatrix;
use rayon::prelude::*;

use super::fuzzy::FuzzyGraph;

/// Lanczos steps at most (umap-learn's `eigsh` keeps √N vectors).
const MAX_LANCZOS_STEPS: usize = 128;

/// The root of `x`'s set, halving the path on the way.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// Whether every vertex of `graph` reaches every other.
pub(crate) fn is_connected(graph: &FuzzyGraph) -> bool {
    let rows = graph.rows();
    if rows == 0 {
        return true;
    }
    let mut parent: Vec<u32> = (0..rows as u32).collect();
    let mut components = rows;
    for row in 0..rows {
        for &column in graph.row(row).0 {
            let (a, b) = (find(&mut parent, row as u32), find(&mut parent, column));
            if a != b {
                parent[a as usize] = b;
                components -= 1;
            }
        }
    }
    components == 1
}

/// The two spectral coordinates of every vertex, or `None` when the graph is disconnected
/// or has too few vertices.
pub(crate) fn spectral_layout(graph: &FuzzyGraph, seed: u64) -> Option<Vec<[f64; 2]>> {
    let rows = graph.rows();
    if rows < 4 || !is_connected(graph) {
        return None;
    }
    let degree: Vec<f64> = (0..rows)
        .map(|r| graph.row(r).1.iter().map(|&w| f64::from(w)).sum())
        .collect();
    if degree.iter().any(|&d| d <= 0.0) {
        return None;
    }
    let inverse_sqrt: Vec<f64> = degree.iter().map(|d| 1.0 / d.sqrt()).collect();
    let mut trivial: Vec<f64> = degree.iter().map(|d| d.sqrt()).collect();
    normalise(&mut trivial);
    // y = D^-½ W D^-½ x
    let apply = |x: &[f64], y: &mut [f64]| {
        y.par_iter_mut().enumerate().for_each(|(row, out)| {
            let (columns, weights) = graph.row(row);
            let sum: f64 = columns
                .iter()
                .zip(weights)
                .map(|(&c, &w)| f64::from(w) * inverse_sqrt[c as usize] * x[c as usize])
                .sum();
            *out = inverse_sqrt[row] * sum;
        });
    };
    let steps = MAX_LANCZOS_STEPS.min(rows - 2);
    let mut random = SplitMix64::new(seed);
    let mut v: Vec<f64> = (0..rows).map(|_| random.normal()).collect();
    project_out(&mut v, &trivial);
    normalise(&mut v);
    let mut basis: Vec<Vec<f64>> = vec![v];
    let (mut alpha, mut beta) = (Vec::new(), Vec::new());
    let mut w = vec![0.0; rows];
    for step in 0..steps {
        apply(&basis[step], &mut w);
        let a = dot(&w, &basis[step]);
        alpha.push(a);
        // Full reorthogonalisation (twice), against the trivial vector too.
        for _ in 0..2 {
            project_out(&mut w, &trivial);
            for q in &basis {
                project_out(&mut w, q);
            }
        }
        let b = dot(&w, &w).sqrt();
        if step + 1 == steps || b < 1e-10 {
            break;
        }
        beta.push(b);
        basis.push(w.iter().map(|x| x / b).collect());
    }
    let m = alpha.len();
    let tridiagonal = DMatrix::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i + 1 == j {
            beta[i]
        } else if j + 1 == i {
            beta[j]
        } else {
            0.0
        }
    });
    let eigen = nalgebra::SymmetricEigen::new(tridiagonal);
    let mut order: Vec<usize> = (0..m).collect();
    // Largest of D^-½WD^-½ = smallest of the Laplacian.
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    if m < 2 {
        return None;
    }
    let ritz = |which: usize| -> Vec<f64> {
        let y = eigen.eigenvectors.column(order[which]);
        let mut out = vec![0.0; rows];
        for (q, &coefficient) in basis.iter().zip(y.iter()) {
            out.iter_mut()
                .zip(q)
                .for_each(|(o, &x)| *o += coefficient * x);
        }
        out
    };
    let (first, second) = (ritz(0), ritz(1));
    let layout: Vec<[f64; 2]> = first.iter().zip(&second).map(|(&x, &y)| [x, y]).collect();
    layout
        .iter()
        .all(|p| p[0].is_finite() && p[1].is_finite())
        .then_some(layout)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.par_iter().zip(b).map(|(x, y)| x * y).sum()
}

fn project_out(v: &mut [f64], unit: &[f64]) {
    let along = dot(v, unit);
    v.par_iter_mut()
        .zip(unit)
        .for_each(|(x, u)| *x -= along * u);
}

fn normalise(v: &mut [f64]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring of `n` vertices, each joined to its two neighbours; a chain without the
    /// edge that closes it.
    fn ring_or_chain(n: usize, closed: bool) -> FuzzyGraph {
        let mut graph = FuzzyGraph {
            offsets: vec![0],
            ..FuzzyGraph::default()
        };
        for i in 0..n {
            let mut columns: Vec<u32> = [(i + n - 1) % n, (i + 1) % n]
                .into_iter()
                .filter(|&j| closed || j.abs_diff(i) == 1)
                .map(|j| j as u32)
                .collect();
            columns.sort_unstable();
            graph.weights.extend(columns.iter().map(|_| 1.0));
            graph.columns.extend(columns);
            graph.offsets.push(graph.columns.len());
        }
        graph
    }

    fn ring(n: usize) -> FuzzyGraph {
        ring_or_chain(n, true)
    }

    #[test]
    fn a_chain_is_laid_out_in_its_order() {
        // The first non-trivial eigenvector of a path's random walk is a cosine along it,
        // monotonic; the normalised Laplacian's is that times √degree (lower at the ends).
        let layout = spectral_layout(&ring_or_chain(80, false), 1).expect("connected");
        let first: Vec<f64> = layout[1..79].iter().map(|p| p[0]).collect();
        let rising = first.windows(2).all(|w| w[1] > w[0]);
        let falling = first.windows(2).all(|w| w[1] < w[0]);
        assert!(rising || falling, "{first:?}");
    }

    #[test]
    fn two_rings_are_disconnected_and_get_no_layout() {
        let mut graph = ring(10);
        let other = ring(10);
        let base = graph.columns.len();
        for row in 0..10 {
            let (columns, weights) = other.row(row);
            graph.columns.extend(columns.iter().map(|c| c + 10));
            graph.weights.extend_from_slice(weights);
            graph.offsets.push(base + other.offsets[row + 1]);
        }
        assert!(!is_connected(&graph));
        assert!(spectral_layout(&graph, 1).is_none());
        assert!(is_connected(&ring(10)));
    }
}
