//! A uniform grid over a map's points, built once with the layout, so hover, click, box
//! and lasso hit-tests look only at the cells they touch instead of every point.

/// Points bucketed into square-ish cells of the layout's bounding box. Points with a NaN
/// or infinite coordinate are left out (they are not on the map).
#[derive(Clone, Debug, Default)]
pub struct PointGrid {
    min: [f64; 2],
    cell: [f64; 2],
    columns: usize,
    rows: usize,
    /// `starts[c]..starts[c + 1]` indexes `points` for cell `c` (row-major).
    starts: Vec<u32>,
    /// Point indices, grouped by cell, ascending within a cell.
    points: Vec<u32>,
    bounds: Option<([f32; 2], [f32; 2])>,
}

/// Cells per side at most (a million cells: 4 MB of offsets).
const MAX_SIDE: usize = 1024;

impl PointGrid {
    /// Buckets `positions` (about four points a cell on average).
    pub fn new(positions: &[[f32; 2]]) -> Self {
        let bounds = bounds(positions);
        let Some((min, max)) = bounds else {
            return Self::default();
        };
        let finite = positions
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .count();
        let side = ((finite as f64 / 4.0).sqrt().ceil() as usize).clamp(1, MAX_SIDE);
        let span = |d: usize| (f64::from(max[d]) - f64::from(min[d])).max(f64::MIN_POSITIVE);
        let mut grid = Self {
            min: [f64::from(min[0]), f64::from(min[1])],
            cell: [span(0) / side as f64, span(1) / side as f64],
            columns: side,
            rows: side,
            starts: vec![0; side * side + 1],
            points: Vec::with_capacity(finite),
            bounds,
        };
        let cells: Vec<Option<usize>> = positions
            .iter()
            .map(|p| grid.cell_of(f64::from(p[0]), f64::from(p[1])))
            .collect();
        for cell in cells.iter().flatten() {
            grid.starts[cell + 1] += 1;
        }
        for c in 0..side * side {
            grid.starts[c + 1] += grid.starts[c];
        }
        let mut next: Vec<u32> = grid.starts[..side * side].to_vec();
        grid.points = vec![0; finite];
        for (index, cell) in cells.iter().enumerate() {
            if let Some(cell) = cell {
                grid.points[next[*cell] as usize] = index as u32;
                next[*cell] += 1;
            }
        }
        grid
    }

    /// The bounding box of the points on the map, `(min, max)`.
    pub fn bounds(&self) -> Option<([f32; 2], [f32; 2])> {
        self.bounds
    }

    fn cell_of(&self, x: f64, y: f64) -> Option<usize> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let column = self.clamped(0, x);
        let row = self.clamped(1, y);
        Some(row * self.columns + column)
    }

    /// The cell coordinate of `value` along axis `d`, clamped into the grid.
    fn clamped(&self, d: usize, value: f64) -> usize {
        let limit = if d == 0 { self.columns } else { self.rows };
        let at = ((value - self.min[d]) / self.cell[d]).floor();
        if at <= 0.0 {
            0
        } else {
            (at as usize).min(limit - 1)
        }
    }

    /// Every point in cells overlapping the rectangle `[lo, hi]`, in ascending order.
    fn candidates(&self, lo: [f64; 2], hi: [f64; 2]) -> Vec<u32> {
        let mut found = self.unsorted_candidates(lo, hi);
        found.sort_unstable();
        found
    }

    /// Every point in cells overlapping the rectangle `[lo, hi]`, cell by cell.
    fn unsorted_candidates(&self, lo: [f64; 2], hi: [f64; 2]) -> Vec<u32> {
        if self.points.is_empty() {
            return Vec::new();
        }
        let (c0, c1) = (self.clamped(0, lo[0]), self.clamped(0, hi[0]));
        let (r0, r1) = (self.clamped(1, lo[1]), self.clamped(1, hi[1]));
        let mut found = Vec::new();
        for row in r0..=r1 {
            let start = self.starts[row * self.columns + c0] as usize;
            let end = self.starts[row * self.columns + c1 + 1] as usize;
            found.extend_from_slice(&self.points[start..end]);
        }
        found
    }

    /// The point nearest `at` within `reach` (data units), if any; ties go to the lower
    /// index.
    pub fn nearest(&self, positions: &[[f32; 2]], at: [f64; 2], reach: f64) -> Option<usize> {
        if !(reach.is_finite() && reach >= 0.0) {
            return None;
        }
        let lo = [at[0] - reach, at[1] - reach];
        let hi = [at[0] + reach, at[1] + reach];
        if self.outside(lo, hi) {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        for index in self.unsorted_candidates(lo, hi) {
            let index = index as usize;
            let Some(p) = positions.get(index) else {
                continue;
            };
            let dx = f64::from(p[0]) - at[0];
            let dy = f64::from(p[1]) - at[1];
            let distance = dx * dx + dy * dy;
            let better =
                best.is_none_or(|(i, d)| distance.total_cmp(&d).then(index.cmp(&i)).is_lt());
            if distance <= reach * reach && better {
                best = Some((index, distance));
            }
        }
        best.map(|(index, _)| index)
    }

    /// Whether the rectangle misses the points' bounding box entirely.
    fn outside(&self, lo: [f64; 2], hi: [f64; 2]) -> bool {
        let Some((min, max)) = self.bounds else {
            return true;
        };
        hi[0] < f64::from(min[0])
            || hi[1] < f64::from(min[1])
            || lo[0] > f64::from(max[0])
            || lo[1] > f64::from(max[1])
    }

    /// The points inside the rectangle spanned by corners `a` and `b` (either order),
    /// ascending.
    pub fn in_box(&self, positions: &[[f32; 2]], a: [f64; 2], b: [f64; 2]) -> Vec<usize> {
        let lo = [a[0].min(b[0]), a[1].min(b[1])];
        let hi = [a[0].max(b[0]), a[1].max(b[1])];
        if self.outside(lo, hi) {
            return Vec::new();
        }
        self.candidates(lo, hi)
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| {
                positions.get(i).is_some_and(|p| {
                    let (x, y) = (f64::from(p[0]), f64::from(p[1]));
                    (lo[0]..=hi[0]).contains(&x) && (lo[1]..=hi[1]).contains(&y)
                })
            })
            .collect()
    }

    /// The points inside a polygon (even–odd rule), ascending. Fewer than three corners
    /// enclose nothing.
    pub fn in_polygon(&self, positions: &[[f32; 2]], polygon: &[[f64; 2]]) -> Vec<usize> {
        if polygon.len() < 3 {
            return Vec::new();
        }
        let lo = polygon
            .iter()
            .fold([f64::INFINITY; 2], |m, p| [m[0].min(p[0]), m[1].min(p[1])]);
        let hi = polygon.iter().fold([f64::NEG_INFINITY; 2], |m, p| {
            [m[0].max(p[0]), m[1].max(p[1])]
        });
        if !(lo[0].is_finite() && lo[1].is_finite() && hi[0].is_finite() && hi[1].is_finite())
            || self.outside(lo, hi)
        {
            return Vec::new();
        }
        self.candidates(lo, hi)
            .into_iter()
            .map(|i| i as usize)
            .filter(|&i| {
                positions
                    .get(i)
                    .is_some_and(|p| inside(polygon, f64::from(p[0]), f64::from(p[1])))
            })
            .collect()
    }
}

/// The bounding box of the finite positions, `(min, max)`.
pub fn bounds(positions: &[[f32; 2]]) -> Option<([f32; 2], [f32; 2])> {
    positions
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .fold(None, |bounds, p| {
            let ([x0, y0], [x1, y1]) = bounds.unwrap_or((*p, *p));
            Some(([x0.min(p[0]), y0.min(p[1])], [x1.max(p[0]), y1.max(p[1])]))
        })
}

/// Whether `(x, y)` is inside `polygon` by the even–odd rule.
fn inside(polygon: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut previous = polygon.len() - 1;
    for (current, &[xi, yi]) in polygon.iter().enumerate() {
        let [xj, yj] = polygon[previous];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        previous = current;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 10 × 10 lattice of points at integer coordinates 0..9, point `10 y + x`, plus one
    /// NaN point (index 100) that is on no map.
    fn lattice() -> Vec<[f32; 2]> {
        let mut points: Vec<[f32; 2]> = (0..100)
            .map(|i| [(i % 10) as f32, (i / 10) as f32])
            .collect();
        points.push([f32::NAN, 1.0]);
        points
    }

    /// What a scan of every point finds, for comparison.
    fn scan(points: &[[f32; 2]], keep: impl Fn(f64, f64) -> bool) -> Vec<usize> {
        (0..points.len())
            .filter(|&i| keep(f64::from(points[i][0]), f64::from(points[i][1])))
            .collect()
    }

    #[test]
    fn a_box_finds_exactly_the_points_inside_whichever_corner_comes_first() {
        let points = lattice();
        let grid = PointGrid::new(&points);
        let expected = scan(&points, |x, y| {
            (2.5..=5.0).contains(&x) && (1.0..=3.5).contains(&y)
        });
        assert_eq!(expected, [13, 14, 15, 23, 24, 25, 33, 34, 35]);
        assert_eq!(grid.in_box(&points, [2.5, 1.0], [5.0, 3.5]), expected);
        assert_eq!(grid.in_box(&points, [5.0, 3.5], [2.5, 1.0]), expected);
        assert!(grid.in_box(&points, [20.0, 20.0], [30.0, 30.0]).is_empty());
        assert_eq!(grid.in_box(&points, [-1.0, -1.0], [10.0, 10.0]).len(), 100);
    }

    #[test]
    fn a_concave_lasso_selects_inside_and_leaves_its_notch_out() {
        let points = lattice();
        let grid = PointGrid::new(&points);
        // A U shape: x in (0.5, 6.5), y in (0.5, 6.5), minus the notch x in (2.5, 4.5),
        // y > 2.5. No lattice point lies on an edge.
        let u = [
            [0.5, 0.5],
            [6.5, 0.5],
            [6.5, 6.5],
            [4.5, 6.5],
            [4.5, 2.5],
            [2.5, 2.5],
            [2.5, 6.5],
            [0.5, 6.5],
        ];
        let selected = grid.in_polygon(&points, &u);
        let expected = scan(&points, |x, y| {
            (1.0..=6.0).contains(&x)
                && (1.0..=6.0).contains(&y)
                && !((3.0..=4.0).contains(&x) && y >= 3.0)
        });
        assert_eq!(selected, expected);
        assert!(selected.contains(&11) && selected.contains(&62) && selected.contains(&32));
        assert!(!selected.contains(&33), "the notch is outside");
        assert!(!selected.contains(&0) && !selected.contains(&100));
        assert!(grid.in_polygon(&points, &u[..2]).is_empty());
    }

    #[test]
    fn the_nearest_point_within_reach_wins_and_nothing_beyond_it() {
        let points = lattice();
        let grid = PointGrid::new(&points);
        assert_eq!(grid.nearest(&points, [3.2, 4.1], 0.5), Some(43));
        assert_eq!(grid.nearest(&points, [3.5, 4.5], 0.3), None);
        assert_eq!(grid.nearest(&points, [-5.0, -5.0], 1.0), None);
        assert_eq!(grid.nearest(&points, [9.4, 9.4], 100.0), Some(99));
        assert_eq!(
            grid.bounds(),
            Some(([0.0, 0.0], [9.0, 9.0])),
            "the NaN point is on no map"
        );
    }

    #[test]
    fn degenerate_layouts_work() {
        let same = vec![[2.0f32, 2.0]; 5];
        let grid = PointGrid::new(&same);
        assert_eq!(grid.in_box(&same, [1.0, 1.0], [3.0, 3.0]).len(), 5);
        assert_eq!(grid.nearest(&same, [2.0, 2.0], 0.1), Some(0));
        let empty = PointGrid::new(&[]);
        assert!(empty.in_box(&[], [0.0, 0.0], [1.0, 1.0]).is_empty());
        assert_eq!(empty.nearest(&[], [0.0, 0.0], 1.0), None);
    }
}
