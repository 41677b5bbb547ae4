//! A deterministic synthetic stand-in for the release, generated in memory.
//!
//! It has the release's shape (768-d features, 7-class logits and probabilities, four
//! splits, five source datasets) and a visible domain shift: every dataset is offset in
//! feature space, and AffectNet, absent from training, is offset the most and classified
//! worst. It exists so the workbench opens on something when no release is found. It is
//! never mistaken for the release: its origin is [`ReleaseOrigin::SyntheticDemo`] and
//! its first warning is [`SYNTHETIC_NOTICE`].

use std::sync::Arc;

use ndarray::Array2;

use crate::release::{Release, ReleaseOrigin, SYNTHETIC_NOTICE, SplitData};
use crate::{Emotion, EmotionLabel, LabelOrder, RELEASE_LABEL_ORDER, Sample, SplitKind};

/// The seed used when none is given.
pub const DEFAULT_DEMO_SEED: u64 = 2024;

/// Feature width of the demo set (the release's).
pub const DEMO_FEATURE_DIM: usize = 768;

/// The five source datasets, in the release's naming.
pub const DEMO_DATASETS: [&str; 5] = ["FaceEmo-Set", "FER2013", "RAF-DB", "RAVDESS", "AffectNet"];

/// How the rows of one split are drawn.
struct SplitRecipe {
    kind: SplitKind,
    rows: usize,
    /// `(index into DEMO_DATASETS, weight)`.
    dataset_mix: &'static [(usize, f64)],
}

/// The training sources of the release, in proportions like the release's.
const TRAINING_MIX: &[(usize, f64)] = &[(0, 0.35), (1, 0.35), (2, 0.2), (3, 0.1)];

const SPLIT_PLAN: [SplitRecipe; 4] = [
    SplitRecipe {
        kind: SplitKind::Train,
        rows: 2400,
        dataset_mix: TRAINING_MIX,
    },
    SplitRecipe {
        kind: SplitKind::Val,
        rows: 600,
        dataset_mix: TRAINING_MIX,
    },
    SplitRecipe {
        kind: SplitKind::TestFer2013,
        rows: 500,
        dataset_mix: &[(1, 1.0)],
    },
    SplitRecipe {
        kind: SplitKind::TestAffectnet,
        rows: 400,
        dataset_mix: &[(4, 1.0)],
    },
];

/// Length of each emotion's centroid.
const CENTROID_NORM: f64 = 4.0;
/// Length of each dataset's offset; AffectNet (unseen in training) is shifted most.
const DATASET_OFFSET_NORM: [f64; 5] = [4.0, 5.0, 5.0, 6.0, 9.0];
/// Logit noise per dataset: the unseen domain is classified worst.
const LOGIT_NOISE: [f64; 5] = [1.6, 2.0, 1.8, 1.4, 3.0];
/// Class priors per dataset (anger, disgust, fear, happiness, neutral, sadness, surprise).
const CLASS_PRIORS: [[f64; 7]; 5] = [
    [0.14, 0.10, 0.12, 0.20, 0.16, 0.14, 0.14],
    [0.14, 0.02, 0.14, 0.25, 0.17, 0.17, 0.11],
    [0.06, 0.06, 0.02, 0.39, 0.21, 0.16, 0.10],
    [0.14, 0.14, 0.14, 0.14, 0.14, 0.14, 0.16],
    [0.12, 0.10, 0.10, 0.25, 0.17, 0.13, 0.13],
];

/// Generates the synthetic demo set. The same seed always gives the same numbers.
pub fn synthetic_release(seed: u64) -> Release {
    let mut rng = Draws::new(seed);
    let centroids: Vec<Vec<f64>> = (0..RELEASE_LABEL_ORDER.len())
        .map(|_| random_vector(&mut rng, CENTROID_NORM))
        .collect();
    let offsets: Vec<Vec<f64>> = DATASET_OFFSET_NORM
        .iter()
        .map(|&norm| random_vector(&mut rng, norm))
        .collect();
    let readout: Vec<Vec<f64>> = centroids
        .iter()
        .map(|c| c.iter().map(|x| x / CENTROID_NORM).collect())
        .collect();

    let splits = SPLIT_PLAN
        .iter()
        .map(|recipe| generate_split(recipe, &centroids, &offsets, &readout, &mut rng))
        .collect();
    Release {
        origin: ReleaseOrigin::SyntheticDemo { seed },
        labels: LabelOrder::release_default(),
        splits,
        warnings: vec![SYNTHETIC_NOTICE.to_owned()],
    }
}

fn generate_split(
    recipe: &SplitRecipe,
    centroids: &[Vec<f64>],
    offsets: &[Vec<f64>],
    readout: &[Vec<f64>],
    rng: &mut Draws,
) -> SplitData {
    let SplitRecipe {
        kind,
        rows,
        dataset_mix: mix,
    } = recipe;
    let rows = *rows;
    let classes = RELEASE_LABEL_ORDER.len();
    let mut features = Array2::<f32>::zeros((rows, DEMO_FEATURE_DIM));
    let mut logits = Array2::<f32>::zeros((rows, classes));
    let mut probs = Array2::<f32>::zeros((rows, classes));
    let mut samples = Vec::with_capacity(rows);
    let dataset_weights: Vec<f64> = mix.iter().map(|(_, w)| *w).collect();
    let dataset_names: Vec<Arc<str>> = DEMO_DATASETS.iter().map(|&n| Arc::from(n)).collect();
    for row in 0..rows {
        let dataset = mix[rng.pick(&dataset_weights)].0;
        let class = rng.pick(&CLASS_PRIORS[dataset]);
        let mut feature = vec![0.0f64; DEMO_FEATURE_DIM];
        for (d, value) in feature.iter_mut().enumerate() {
            *value = centroids[class][d] + offsets[dataset][d] + rng.normal();
        }
        let mut row_logits: Vec<f64> = readout
            .iter()
            .map(|r| dot(r, &feature) + LOGIT_NOISE[dataset] * rng.normal())
            .collect();
        let max = row_logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for l in &mut row_logits {
            *l -= max;
        }
        let sum: f64 = row_logits.iter().map(|l| l.exp()).sum();
        for (d, value) in feature.iter().enumerate() {
            features[[row, d]] = *value as f32;
        }
        for (k, l) in row_logits.iter().enumerate() {
            logits[[row, k]] = *l as f32;
            probs[[row, k]] = (l.exp() / sum) as f32;
        }
        samples.push(Sample {
            sample_id: format!("demo-{}-{row:05}", kind.name()).into(),
            dataset: Arc::clone(&dataset_names[dataset]),
            emotion: EmotionLabel::Known(RELEASE_LABEL_ORDER[class]),
        });
    }
    SplitData {
        kind: kind.clone(),
        source_file: None,
        features,
        logits,
        probs,
        samples: Some(samples),
        nonfinite_rows: Vec::new(),
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn random_vector(rng: &mut Draws, norm: f64) -> Vec<f64> {
    let v: Vec<f64> = (0..DEMO_FEATURE_DIM).map(|_| rng.normal()).collect();
    let length = dot(&v, &v).sqrt().max(f64::MIN_POSITIVE);
    v.into_iter().map(|x| x * norm / length).collect()
}

/// The demo set's draws on the workspace's one seeded generator (`faceemo_jobs::SplitMix64`):
/// uniforms in the open interval, normals in Box–Muller pairs, weighted picks.
struct Draws {
    bits: faceemo_jobs::SplitMix64,
    spare_normal: Option<f64>,
}

impl Draws {
    fn new(seed: u64) -> Self {
        Self {
            bits: faceemo_jobs::SplitMix64::new(seed),
            spare_normal: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.bits.next_u64()
    }

    /// Uniform in `(0, 1)`.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        if let Some(spare) = self.spare_normal.take() {
            return spare;
        }
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// An index drawn with the given (unnormalised) weights.
    fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

/// Fraction of rows whose arg-max logit is the true emotion (used by the tests and reports).
pub fn accuracy(split: &SplitData, labels: &LabelOrder) -> Option<f64> {
    let samples = split.samples.as_ref()?;
    let predicted = split.predicted_classes();
    let correct = samples
        .iter()
        .zip(&predicted)
        .filter(|&(sample, &p)| {
            sample
                .emotion
                .known()
                .and_then(|e: Emotion| labels.column_of(e))
                == Some(p)
        })
        .count();
    Some(correct as f64 / samples.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_set_is_deterministic() {
        let a = synthetic_release(7);
        let b = synthetic_release(7);
        assert_eq!(a.splits[0].features, b.splits[0].features);
        assert_eq!(a.splits[3].logits, b.splits[3].logits);
        assert_ne!(
            synthetic_release(8).splits[0].features,
            a.splits[0].features
        );
    }

    #[test]
    fn the_demo_set_has_the_release_shape_and_says_it_is_synthetic() {
        let release = synthetic_release(DEFAULT_DEMO_SEED);
        assert!(release.is_synthetic());
        assert!(release.describe_origin().contains("SYNTHETIC"));
        assert_eq!(release.warnings[0], SYNTHETIC_NOTICE);
        let names: Vec<_> = release.splits.iter().map(|s| s.kind.name()).collect();
        assert_eq!(names, ["train", "val", "test_fer2013", "test_affectnet"]);
        assert!((3000..=5000).contains(&release.total_rows()));
        for split in &release.splits {
            assert_eq!(split.feature_dim(), DEMO_FEATURE_DIM);
            assert_eq!(split.num_classes(), 7);
            assert!(split.metadata_joined());
            for row in split.probs.rows() {
                assert!((row.sum() - 1.0).abs() < 1e-4);
            }
        }
        let counts = release.counts();
        assert_eq!(counts.len(), 5, "five source datasets: {counts:?}");
        assert!(counts.values().all(|per_emotion| per_emotion.len() == 7));
    }

    #[test]
    fn the_unseen_domain_is_classified_worst() {
        let release = synthetic_release(DEFAULT_DEMO_SEED);
        let train = accuracy(&release.splits[0], &release.labels).expect("joined");
        let affectnet = accuracy(&release.splits[3], &release.labels).expect("joined");
        assert!(train > 0.55 && train < 0.97, "train accuracy {train}");
        assert!(
            affectnet + 0.05 < train,
            "affectnet {affectnet} vs train {train}"
        );
    }
}
