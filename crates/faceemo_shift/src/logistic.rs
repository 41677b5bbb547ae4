//! L2-regularised logistic regression as scikit-learn's `LogisticRegression(C)` fits it
//! (½‖w‖² + C·Σ log-loss, intercept not penalised, binary with one weight vector,
//! multinomial with one per class), on standardised features, by L-BFGS.

use faceemo_jobs::{Cancelled, JobContext};
use faceemo_projection::matmul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Most L-BFGS iterations of one fit.
const MAX_ITERATIONS: usize = 500;
/// A fit stops once the largest gradient entry of the mean loss is below this.
const GRADIENT_TOLERANCE: f64 = 1e-6;
/// Curvature pairs L-BFGS keeps.
const MEMORY: usize = 10;

/// Column means and scales of training rows (scikit-learn's `StandardScaler`: population
/// standard deviation, 1 for a constant column).
#[derive(Clone, Debug)]
pub struct Standardiser {
    mean: Array1<f32>,
    scale: Array1<f32>,
}

impl Standardiser {
    /// Fits the columns of `rows`.
    pub fn fit(rows: ArrayView2<'_, f32>) -> Self {
        let n = rows.nrows().max(1) as f64;
        let mut sums = Array1::<f64>::zeros(rows.ncols());
        for row in rows.rows() {
            sums.zip_mut_with(&row, |s, &v| *s += f64::from(v));
        }
        let mean = sums / n;
        let mut squares = Array1::<f64>::zeros(rows.ncols());
        for row in rows.rows() {
            for ((s, &v), &m) in squares.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let scale = squares.mapv(|s| {
            let sd = (s / n).sqrt();
            if sd < 10.0 * f64::EPSILON { 1.0 } else { sd }
        });
        Self {
            mean: mean.mapv(|m| m as f32),
            scale: scale.mapv(|s| s as f32),
        }
    }

    /// `(rows − mean) / scale`.
    pub fn apply(&self, rows: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut out = &rows - &self.mean;
        out /= &self.scale;
        out
    }
}

/// A smooth objective over a parameter vector: its value and gradient.
trait Objective {
    fn evaluate(&self, parameters: &[f64], gradient: &mut [f64]) -> f64;
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `objective` from zero by L-BFGS with a backtracking (Armijo) line search.
fn minimise(
    objective: &dyn Objective,
    size: usize,
    job: JobContext<'_>,
) -> Result<Vec<f64>, Cancelled> {
    let mut x = vec![0.0; size];
    let mut gradient = vec![0.0; size];
    let mut value = objective.evaluate(&x, &mut gradient);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::with_capacity(MEMORY);
    let mut trial_gradient = vec![0.0; size];
    for _ in 0..MAX_ITERATIONS {
        job.check_cancelled()?;
        if gradient.iter().all(|g| g.abs() <= GRADIENT_TOLERANCE) {
            break;
        }
        // Two-loop recursion: direction = −H g.
        let mut direction: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let alpha = rho * dot(s, &direction);
            for (d, yi) in direction.iter_mut().zip(y) {
                *d -= alpha * yi;
            }
            alphas.push(alpha);
        }
        let gamma = history.last().map_or(
            1.0 / dot(&gradient, &gradient).sqrt().max(1e-12),
            |(s, y, _)| dot(s, y) / dot(y, y),
        );
        for d in &mut direction {
            *d *= gamma;
        }
        for ((s, y, rho), alpha) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &direction);
            for (d, si) in direction.iter_mut().zip(s) {
                *d += (alpha - beta) * si;
            }
        }
        let mut slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            // Not a descent direction (rounding): restart from steepest descent.
            history.clear();
            direction = gradient.iter().map(|g| -g).collect();
            slope = dot(&gradient, &direction);
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let trial: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(p, d)| p + step * d)
                .collect();
            let trial_value = objective.evaluate(&trial, &mut trial_gradient);
            if trial_value <= value + 1e-4 * step * slope {
                accepted = Some((trial, trial_value));
                break;
            }
            step *= 0.5;
        }
        let Some((trial, trial_value)) = accepted else {
            break;
        };
        let s: Vec<f64> = trial.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if history.len() == MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        let decrease = value - trial_value;
        x = trial;
        value = trial_value;
        gradient.copy_from_slice(&trial_gradient);
        if decrease.abs() <= 1e-14 * value.abs().max(1.0) {
            break;
        }
    }
    Ok(x)
}

/// Binary objective: mean log-loss + ‖w‖² / (2 C n), labels ±1, parameters `[w…, b]`.
struct BinaryLoss<'a> {
    x: ArrayView2<'a, f32>,
    sign: Vec<f64>,
    c: f64,
}

impl Objective for BinaryLoss<'_> {
    fn evaluate(&self, parameters: &[f64], gradient: &mut [f64]) -> f64 {
        let d = self.x.ncols();
        let n = self.x.nrows() as f64;
        let weights = Array2::from_shape_fn((d, 1), |(i, _)| parameters[i] as f32);
        let bias = parameters[d];
        let scores = matmul(self.x, weights.view());
        let mut loss = 0.0;
        let mut residual = Array2::<f32>::zeros((self.x.nrows(), 1));
        for ((score, &y), r) in scores.iter().zip(&self.sign).zip(residual.iter_mut()) {
            let margin = y * (f64::from(*score) + bias);
            // log(1 + e^−m) and its derivative, stable for both signs.
            loss += if margin > 0.0 {
                (-margin).exp().ln_1p()
            } else {
                -margin + margin.exp().ln_1p()
            };
            let sigmoid = 1.0 / (1.0 + margin.exp());
            *r = (-y * sigmoid) as f32;
        }
        let back = matmul(self.x.t(), residual.view());
        let penalty = 1.0 / (self.c * n);
        let mut norm = 0.0;
        for i in 0..d {
            gradient[i] = f64::from(back[[i, 0]]) / n + penalty * parameters[i];
            norm += parameters[i] * parameters[i];
        }
        gradient[d] = residual.iter().map(|&r| f64::from(r)).sum::<f64>() / n;
        loss / n + 0.5 * penalty * norm
    }
}

/// A fitted binary classifier.
#[derive(Clone, Debug)]
pub struct BinaryModel {
    weights: Array1<f32>,
    bias: f64,
}

impl BinaryModel {
    /// Fits rows `x` (standardised) to labels (`true` = positive class).
    pub fn fit(
        x: ArrayView2<'_, f32>,
        positive: &[bool],
        c: f64,
        job: JobContext<'_>,
    ) -> Result<Self, Cancelled> {
        let d = x.ncols();
        let loss = BinaryLoss {
            x,
            sign: positive
                .iter()
                .map(|&p| if p { 1.0 } else { -1.0 })
                .collect(),
            c,
        };
        let parameters = minimise(&loss, d + 1, job)?;
        Ok(Self {
            weights: parameters[..d].iter().map(|&w| w as f32).collect(),
            bias: parameters[d],
        })
    }

    /// The decision function `x·w + b` of each row.
    pub fn decision(&self, x: ArrayView2<'_, f32>) -> Vec<f64> {
        x.dot(&self.weights)
            .iter()
            .map(|&s| f64::from(s) + self.bias)
            .collect()
    }
}

/// Multinomial objective: mean cross-entropy + ‖W‖² / (2 C n), parameters `W` (d × k)
/// row-major then `b` (k).
struct MultinomialLoss<'a> {
    x: ArrayView2<'a, f32>,
    class: Vec<usize>,
    classes: usize,
    c: f64,
}

impl Objective for MultinomialLoss<'_> {
    fn evaluate(&self, parameters: &[f64], gradient: &mut [f64]) -> f64 {
        let (rows, d) = self.x.dim();
        let k = self.classes;
        let n = rows as f64;
        let weights = Array2::from_shape_fn((d, k), |(i, j)| parameters[i * k + j] as f32);
        let bias = &parameters[d * k..];
        let mut scores = matmul(self.x, weights.view());
        let mut loss = 0.0;
        let mut bias_gradient = vec![0.0; k];
        for (mut row, &class) in scores.axis_iter_mut(Axis(0)).zip(&self.class) {
            let logits: Vec<f64> = row
                .iter()
                .zip(bias)
                .map(|(&s, b)| f64::from(s) + b)
                .collect();
            let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = logits.iter().map(|z| (z - top).exp()).sum();
            loss += top + sum.ln() - logits[class];
            for (j, (out, z)) in row.iter_mut().zip(&logits).enumerate() {
                let residual = (z - top).exp() / sum - f64::from(u8::from(j == class));
                bias_gradient[j] += residual;
                *out = residual as f32;
            }
        }
        let back = matmul(self.x.t(), scores.view());
        let penalty = 1.0 / (self.c * n);
        let mut norm = 0.0;
        for (i, (g, &w)) in gradient[..d * k]
            .iter_mut()
            .zip(&parameters[..d * k])
            .enumerate()
        {
            *g = f64::from(back[[i / k, i % k]]) / n + penalty * w;
            norm += w * w;
        }
        for (g, b) in gradient[d * k..].iter_mut().zip(bias_gradient) {
            *g = b / n;
        }
        loss / n + 0.5 * penalty * norm
    }
}

/// A fitted multinomial classifier over classes `0..classes`.
#[derive(Clone, Debug)]
pub struct MultinomialModel {
    weights: Array2<f32>,
    bias: Vec<f64>,
}

impl MultinomialModel {
    /// Fits rows `x` (standardised) to classes `class` (each below `classes`).
    pub fn fit(
        x: ArrayView2<'_, f32>,
        class: &[usize],
        classes: usize,
        c: f64,
        job: JobContext<'_>,
    ) -> Result<Self, Cancelled> {
        let d = x.ncols();
        let loss = MultinomialLoss {
            x,
            class: class.to_vec(),
            classes,
            c,
        };
        let parameters = minimise(&loss, d * classes + classes, job)?;
        Ok(Self {
            weights: Array2::from_shape_fn((d, classes), |(i, j)| {
                parameters[i * classes + j] as f32
            }),
            bias: parameters[d * classes..].to_vec(),
        })
    }

    /// The most likely class of each row.
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Vec<usize> {
        let scores = matmul(x, self.weights.view());
        scores
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .zip(&self.bias)
                    .map(|(&s, b)| f64::from(s) + b)
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (j, z)| {
                        if z > best.1 { (j, z) } else { best }
                    })
                    .0
            })
            .collect()
    }
}

/// Area under the ROC curve of `scores` for the `positive` rows (the Mann–Whitney
/// statistic, ties counted half). `None` without both classes.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]].total_cmp(&scores[order[start]]).is_eq() {
            end += 1;
        }
        // Ranks start..end (1-based: start+1..=end) share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        rank_sum += mean_rank * order[start..end].iter().filter(|&&i| positive[i]).count() as f64;
        start = end;
    }
    let positives = positive.iter().filter(|&&p| p).count() as f64;
    let negatives = positive.len() as f64 - positives;
    (positives > 0.0 && negatives > 0.0)
        .then(|| (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// The test fold of each row as scikit-learn's `StratifiedKFold(folds)` (no shuffle)
/// assigns them, for labels `class` numbered by first appearance. `None` when a class has
/// fewer rows than folds.
pub fn stratified_folds(class: &[usize], folds: usize) -> Option<Vec<usize>> {
    let classes = class.iter().max().map_or(0, |&c| c + 1);
    let mut counts = vec![0usize; classes];
    for &c in class {
        counts[c] += 1;
    }
    if folds < 2 || counts.iter().any(|&n| n < folds) {
        return None;
    }
    // Sorted labels dealt round-robin: allocation[f][c] rows of class c go to fold f.
    let sorted: Vec<usize> = (0..classes)
        .flat_map(|c| std::iter::repeat_n(c, counts[c]))
        .collect();
    let mut allocation = vec![vec![0usize; classes]; folds];
    for (position, &c) in sorted.iter().enumerate() {
        allocation[position % folds][c] += 1;
    }
    let mut next = vec![(0usize, 0usize); classes]; // (fold, used in that fold)
    let mut assigned = Vec::with_capacity(class.len());
    for &c in class {
        let (mut fold, mut used) = next[c];
        while used == allocation[fold][c] {
            fold += 1;
            used = 0;
        }
        assigned.push(fold);
        next[c] = (fold, used + 1);
    }
    Some(assigned)
}

#[cfg(test)]
mod tests {
    use faceemo_jobs::{CancelToken, IgnoreProgress, SplitMix64};
    use ndarray::array;

    use super::*;

    fn context(cancel: &CancelToken) -> JobContext<'_> {
        JobContext::new(&IgnoreProgress, cancel)
    }

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(
            roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(roc_auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn folds_follow_scikit_learns_stratified_k_fold() {
        // y = [0]*7 + [1]*4, 3 folds: sklearn gives [0,0,0,1,1,2,2, 0,1,1,2]... checked by
        // hand from its allocation rule: sorted labels dealt round-robin.
        let class = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        let folds = stratified_folds(&class, 3).expect("folds");
        // sorted = 0×7, 1×4; positions mod 3 -> fold 0 gets 0,3,6 (class 0) and 9 (class 1)...
        assert_eq!(folds, vec![0, 0, 0, 1, 1, 2, 2, 0, 1, 1, 2]);
        assert_eq!(stratified_folds(&[0, 0, 1], 2), None);
    }

    #[test]
    fn the_binary_fit_solves_its_optimality_condition() {
        let mut random = SplitMix64::new(3);
        let x = Array2::from_shape_simple_fn((80, 3), || random.normal() as f32);
        let positive: Vec<bool> = x
            .rows()
            .into_iter()
            .map(|r| r[0] + 0.5 * r[1] > 0.2)
            .collect();
        let cancel = CancelToken::new();
        let model = BinaryModel::fit(x.view(), &positive, 1.0, context(&cancel)).expect("fit");
        // At the optimum: Σ (σ(s) − y) x + w / C = 0 and Σ (σ(s) − y) = 0.
        let scores = model.decision(x.view());
        let residual: Vec<f64> = scores
            .iter()
            .zip(&positive)
            .map(|(s, &p)| 1.0 / (1.0 + (-s).exp()) - f64::from(u8::from(p)))
            .collect();
        assert!(residual.iter().sum::<f64>().abs() < 1e-3);
        for j in 0..3 {
            let g: f64 = residual
                .iter()
                .zip(x.column(j))
                .map(|(r, &v)| r * f64::from(v))
                .sum();
            assert!((g + f64::from(model.weights[j])).abs() < 1e-3, "{j}: {g}");
        }
        let auc = roc_auc(&scores, &positive).expect("auc");
        assert!(auc > 0.95, "{auc}");
    }

    #[test]
    fn the_multinomial_fit_separates_three_clusters() {
        let mut random = SplitMix64::new(5);
        let centres = array![[0.0f32, 3.0], [3.0, 0.0], [-3.0, -3.0]];
        let class: Vec<usize> = (0..90).map(|i| i % 3).collect();
        let x = Array2::from_shape_fn((90, 2), |(i, j)| {
            centres[[class[i], j]] + random.normal() as f32 * 0.5
        });
        let standard = Standardiser::fit(x.view()).apply(x.view());
        let cancel = CancelToken::new();
        let model =
            MultinomialModel::fit(standard.view(), &class, 3, 1.0, context(&cancel)).expect("fit");
        assert_eq!(model.predict(standard.view()), class);
    }

    #[test]
    fn a_constant_column_keeps_scale_one() {
        let x = array![[1.0f32, 5.0], [3.0, 5.0]];
        let s = Standardiser::fit(x.view()).apply(x.view());
        assert_eq!(s, array![[-1.0f32, 0.0], [1.0, 0.0]]);
    }

    #[test]
    fn a_cancelled_fit_stops() {
        let x = array![[1.0f32], [2.0], [3.0]];
        let cancel = CancelToken::new();
        cancel.cancel();
        assert!(BinaryModel::fit(x.view(), &[true, false, true], 1.0, context(&cancel)).is_err());
    }
}
