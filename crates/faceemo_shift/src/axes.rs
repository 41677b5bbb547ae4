//! Shift axes: every row projected on two directions a researcher picks, each from one
//! group's centroid to another's — say FER2013 → AffectNet across, happiness → sadness up
//! (the custom axes of TensorBoard's embedding projector, made for shift).

use faceemo_data::Release;
use ndarray::Array1;

/// Which metadata column groups the rows of an axis' ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisGroup {
    /// The source dataset.
    Dataset,
    /// The labelled emotion.
    Emotion,
}

/// One axis: from the centroid of group `from` to that of group `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisSpec {
    /// What the ends name.
    pub group: AxisGroup,
    /// The group at 0.
    pub from: String,
    /// The group at 1.
    pub to: String,
}

/// Why an axis cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AxisError {
    /// An end names a group with no measurable row.
    #[error("no row with finite features belongs to {name:?}")]
    EmptyGroup {
        /// The group.
        name: String,
    },
    /// Both ends have the same centroid.
    #[error("{from:?} and {to:?} have the same centroid: there is no direction between them")]
    NoDirection {
        /// One end.
        from: String,
        /// The other.
        to: String,
    },
}

/// A fitted axis: a row's coordinate is `(f − origin) · direction`, so the `from`
/// centroid sits at 0 and the `to` centroid at 1.
#[derive(Clone, Debug)]
pub struct FittedAxis {
    origin: Array1<f64>,
    direction: Array1<f64>,
}

impl FittedAxis {
    /// The coordinate of a feature (`None` for a feature of another width).
    pub fn coordinate(&self, feature: &[f32]) -> Option<f32> {
        (feature.len() == self.origin.len()).then(|| {
            feature
                .iter()
                .zip(&self.origin)
                .zip(&self.direction)
                .map(|((&f, o), d)| (f64::from(f) - o) * d)
                .sum::<f64>() as f32
        })
    }
}

/// The two fitted axes and where every row of the release falls on them.
#[derive(Clone, Debug)]
pub struct ShiftAxes {
    /// The horizontal axis.
    pub x: FittedAxis,
    /// The vertical axis.
    pub y: FittedAxis,
    /// One position per row in release order; NaN for rows with non-finite features.
    pub layout: Vec<[f32; 2]>,
}

impl ShiftAxes {
    /// Where a feature (a dropped image's) falls.
    pub fn place(&self, feature: &[f32]) -> Option<[f32; 2]> {
        Some([self.x.coordinate(feature)?, self.y.coordinate(feature)?])
    }
}

/// Centroid of the finite rows whose group (by `group`) is `name`.
fn centroid(release: &Release, group: AxisGroup, name: &str) -> Result<Array1<f64>, AxisError> {
    let width = release.feature_dim().unwrap_or(0);
    let mut sum = Array1::<f64>::zeros(width);
    let mut count = 0usize;
    for split in release.splits.iter().filter(|s| s.feature_dim() == width) {
        let Some(samples) = &split.samples else {
            continue;
        };
        for (row, sample) in split.features.rows().into_iter().zip(samples) {
            let member = match group {
                AxisGroup::Dataset => &*sample.dataset == name,
                AxisGroup::Emotion => sample.emotion.name() == name,
            };
            if member && row.iter().all(|v| v.is_finite()) {
                sum.zip_mut_with(&row, |s, &v| *s += f64::from(v));
                count += 1;
            }
        }
    }
    if count == 0 {
        return Err(AxisError::EmptyGroup {
            name: name.to_owned(),
        });
    }
    Ok(sum / count as f64)
}

/// Fits one axis: the `from` centroid at 0, the `to` centroid at 1.
pub fn fit_axis(release: &Release, spec: &AxisSpec) -> Result<FittedAxis, AxisError> {
    let origin = centroid(release, spec.group, &spec.from)?;
    let end = centroid(release, spec.group, &spec.to)?;
    let span = &end - &origin;
    let squared = span.dot(&span);
    if !(squared.is_finite() && squared > 0.0) {
        return Err(AxisError::NoDirection {
            from: spec.from.clone(),
            to: spec.to.clone(),
        });
    }
    Ok(FittedAxis {
        origin,
        direction: span / squared,
    })
}

/// Projects every row of `release` on the axes `x` and `y`.
pub fn shift_axes(release: &Release, x: &AxisSpec, y: &AxisSpec) -> Result<ShiftAxes, AxisError> {
    let x = fit_axis(release, x)?;
    let y = fit_axis(release, y)?;
    let layout = release
        .splits
        .iter()
        .flat_map(|split| split.features.rows())
        .map(|row| {
            let feature: Vec<f32> = row.to_vec();
            match (x.coordinate(&feature), y.coordinate(&feature)) {
                (Some(a), Some(b)) if a.is_finite() && b.is_finite() => [a, b],
                _ => [f32::NAN; 2],
            }
        })
        .collect();
    Ok(ShiftAxes { x, y, layout })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(group: AxisGroup, from: &str, to: &str) -> AxisSpec {
        AxisSpec {
            group,
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    #[test]
    fn the_ends_centroids_land_at_zero_and_one() {
        let release = faceemo_data::synthetic_release(2);
        let axes = shift_axes(
            &release,
            &spec(AxisGroup::Dataset, "FER2013", "AffectNet"),
            &spec(AxisGroup::Emotion, "happiness", "sadness"),
        )
        .expect("axes");
        assert_eq!(axes.layout.len(), release.total_rows());
        // The mean coordinate of each end's rows is its end: 0 and 1.
        let mean_x = |dataset: &str| {
            let (sum, n) = release
                .splits
                .iter()
                .flat_map(|s| s.samples.iter().flatten())
                .zip(&axes.layout)
                .filter(|(sample, _)| &*sample.dataset == dataset)
                .fold((0.0f64, 0usize), |(s, n), (_, p)| {
                    (s + f64::from(p[0]), n + 1)
                });
            sum / n as f64
        };
        assert!(mean_x("FER2013").abs() < 1e-4, "{}", mean_x("FER2013"));
        assert!((mean_x("AffectNet") - 1.0).abs() < 1e-4);
    }

    #[test]
    fn unknown_or_identical_ends_are_errors() {
        let release = faceemo_data::synthetic_release(2);
        let happy = spec(AxisGroup::Emotion, "happiness", "sadness");
        let unknown = spec(AxisGroup::Dataset, "FER2013", "nowhere");
        assert_eq!(
            shift_axes(&release, &unknown, &happy).map(|_| ()),
            Err(AxisError::EmptyGroup {
                name: "nowhere".to_owned()
            })
        );
        let same = spec(AxisGroup::Dataset, "FER2013", "FER2013");
        assert!(matches!(
            shift_axes(&release, &same, &happy),
            Err(AxisError::NoDirection { .. })
        ));
    }
}
