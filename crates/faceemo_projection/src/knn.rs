//! k-nearest-neighbour preservation: how many of each point's neighbours in the feature
//! space are still its neighbours on the map.

use ndarray::{ArrayView2, Axis};

use faceemo_jobs::SplitMix64;

/// `count` distinct row indices out of `rows`, drawn with a seeded generator and sorted.
pub fn sample_rows(rows: usize, count: usize, seed: u64) -> Vec<usize> {
    let count = count.min(rows);
    // Partial Fisher–Yates with SplitMix64: the same rows for the same seed everywhere.
    let mut indices: Vec<usize> = (0..rows).collect();
    let mut random = SplitMix64::new(seed);
    for i in 0..count {
        let j = i + (random.next_u64() % (rows - i) as u64) as usize;
        indices.swap(i, j);
    }
    let mut sample = indices[..count].to_vec();
    sample.sort_unstable();
    sample
}

/// Queries per block: the block's distances to every row are one matrix product.
const QUERY_BLOCK: usize = 128;

/// For each row in `queries`, the `k` nearest rows of `data` (Euclidean, itself excluded;
/// ties broken by index, so equal distances give the same neighbours everywhere).
fn nearest_neighbours(data: ArrayView2<'_, f32>, queries: &[usize], k: usize) -> Vec<Vec<usize>> {
    let norms: Vec<f32> = data.axis_iter(Axis(0)).map(|r| r.dot(&r)).collect();
    let mut result = Vec::with_capacity(queries.len());
    for block in queries.chunks(QUERY_BLOCK) {
        let points = data.select(Axis(0), block);
        // ‖x − q‖² − ‖q‖² = ‖x‖² − 2 x·q: the query's own norm does not change the order.
        let dots = points.dot(&data.t());
        for (query, row) in block.iter().zip(dots.axis_iter(Axis(0))) {
            let mut distances: Vec<(f32, usize)> = row
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != *query)
                .map(|(i, &dot)| (norms[i] - 2.0 * dot, i))
                .collect();
            let k = k.min(distances.len());
            if k == 0 {
                result.push(Vec::new());
                continue;
            }
            distances.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            result.push(distances[..k].iter().map(|&(_, i)| i).collect());
        }
    }
    result
}

/// Mean fraction, over the `sample` rows, of each row's `k` nearest neighbours in `high`
/// that are also among its `k` nearest neighbours in `low` (the map). 1 is perfect.
pub fn knn_preservation(
    high: ArrayView2<'_, f32>,
    low: ArrayView2<'_, f32>,
    sample: &[usize],
    k: usize,
) -> f64 {
    if sample.is_empty() || k == 0 {
        return 0.0;
    }
    let in_high = nearest_neighbours(high, sample, k);
    let in_low = nearest_neighbours(low, sample, k);
    let total: f64 = in_high
        .iter()
        .zip(&in_low)
        .map(|(h, l)| h.iter().filter(|i| l.contains(i)).count() as f64 / h.len().max(1) as f64)
        .sum();
    total / sample.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn samples_are_distinct_sorted_and_repeatable() {
        let a = sample_rows(1000, 50, 7);
        assert_eq!(a, sample_rows(1000, 50, 7));
        assert_ne!(a, sample_rows(1000, 50, 8));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_rows(5, 50, 1), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn an_isometric_map_preserves_every_neighbour() {
        // Integer coordinates keep every distance exact in f32; then a rigid shift.
        let data = Array2::from_shape_fn((60, 3), |(i, j)| {
            ((i as u64 * 2_654_435_761 + j as u64 * 40_503).wrapping_mul(2_246_822_519) % 101)
                as f32
        });
        let shifted = &data + 5.0;
        let sample = sample_rows(60, 20, 1);
        let preserved = knn_preservation(data.view(), shifted.view(), &sample, 5);
        assert!((preserved - 1.0).abs() < 1e-12, "{preserved}");
    }

    #[test]
    fn a_scrambled_map_preserves_few_neighbours() {
        let data = Array2::from_shape_fn((200, 2), |(i, j)| (i * (j + 1)) as f32);
        let scrambled =
            Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7919 + j * 104_729) % 211) as f32);
        let sample = sample_rows(200, 50, 3);
        assert!(knn_preservation(data.view(), scrambled.view(), &sample, 10) < 0.3);
    }
}
