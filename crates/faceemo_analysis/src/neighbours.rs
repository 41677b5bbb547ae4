//! Exact nearest neighbours by cosine similarity, over several feature blocks (one per
//! split) without copying them.

use ndarray::{ArrayView1, ArrayView2};

/// One neighbour of a query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Which block (split) it is in.
    pub block: usize,
    /// Its row in that block.
    pub row: usize,
    /// Cosine similarity to the query.
    pub similarity: f32,
}

/// Row norms of feature blocks, computed once, so each query costs one pass of dot products.
#[derive(Clone, Debug, Default)]
pub struct CosineIndex {
    norms: Vec<Vec<f32>>,
}

impl CosineIndex {
    /// Indexes the blocks (rows are samples). Rows that are all zeros or not finite are
    /// never returned.
    pub fn new(blocks: &[ArrayView2<'_, f32>]) -> Self {
        let norms = blocks
            .iter()
            .map(|block| block.rows().into_iter().map(|row| norm(&row)).collect())
            .collect();
        Self { norms }
    }

    /// The `k` rows most similar to `query`, best first. The blocks must be the ones indexed.
    pub fn nearest(
        &self,
        blocks: &[ArrayView2<'_, f32>],
        query: &[f32],
        k: usize,
    ) -> Vec<Neighbour> {
        let query = ArrayView1::from(query);
        let query_norm = norm(&query);
        if k == 0 || query_norm == 0.0 || !query_norm.is_finite() {
            return Vec::new();
        }
        let mut best: Vec<Neighbour> = Vec::with_capacity(k + 1);
        for (block_index, (block, norms)) in blocks.iter().zip(&self.norms).enumerate() {
            if block.ncols() != query.len() {
                continue;
            }
            for (row_index, (row, &row_norm)) in block.rows().into_iter().zip(norms).enumerate() {
                if row_norm == 0.0 || !row_norm.is_finite() {
                    continue;
                }
                let similarity = row.dot(&query) / (row_norm * query_norm);
                if best.len() == k
                    && best
                        .last()
                        .is_some_and(|worst| similarity <= worst.similarity)
                {
                    continue;
                }
                let at = best.partition_point(|n| n.similarity >= similarity);
                best.insert(
                    at,
                    Neighbour {
                        block: block_index,
                        row: row_index,
                        similarity,
                    },
                );
                best.truncate(k);
            }
        }
        best
    }
}

fn norm(row: &ArrayView1<'_, f32>) -> f32 {
    row.dot(row).sqrt()
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn nearest_rows_come_best_first_across_blocks() {
        let a = array![[1.0f32, 0.0], [0.0, 1.0], [0.0, 0.0]];
        let b = array![[1.0f32, 0.1], [-1.0, 0.0]];
        let blocks = [a.view(), b.view()];
        let index = CosineIndex::new(&blocks);
        let found = index.nearest(&blocks, &[2.0, 0.0], 3);
        let places: Vec<(usize, usize)> = found.iter().map(|n| (n.block, n.row)).collect();
        assert_eq!(places, vec![(0, 0), (1, 0), (0, 1)]);
        assert!((found[0].similarity - 1.0).abs() < 1e-6);
        assert!(found[2].similarity.abs() < 1e-6);
    }

    #[test]
    fn zero_and_nan_rows_and_queries_are_skipped() {
        let a = array![[f32::NAN, 1.0], [0.0, 0.0], [0.5, 0.5]];
        let blocks = [a.view()];
        let index = CosineIndex::new(&blocks);
        let found = index.nearest(&blocks, &[1.0, 1.0], 5);
        assert_eq!(found.len(), 1);
        assert!(index.nearest(&blocks, &[0.0, 0.0], 5).is_empty());
    }
}
