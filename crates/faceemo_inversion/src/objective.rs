//! The loss an inversion minimises, term by term.
//!
//! For an image `x` (normalised pixels, `[1, 3, H, W]`) with CLS feature `f` and logits
//! `z`, and a target feature `t` with logits `t_z`:
//!
//! ```text
//! loss = w_mse · mean((f − t)²)
//!      + w_cos · (1 − cos(f, t))
//!      + w_logit · CE(softmax(t_z), z)      or  w_logit · mean((z − t_z)²)
//!      + w_tv · (mean((x[.., 1:] − x[.., :−1])²) over rows + the same over columns)
//!      + w_l2 · mean(x²)
//! ```
//!
//! `scripts/make_vit_reference.py` computes exactly this in PyTorch.

use burn::prelude::*;
use burn::tensor::activation;

use crate::InversionError;
use crate::settings::LogitLoss;

/// The weight of each loss term; a weight of 0 switches its term off.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// Mean squared difference of the CLS features.
    pub feature_mse: f64,
    /// One minus the cosine similarity of the CLS features.
    pub feature_cosine: f64,
    /// Matching the target's logits.
    pub logit: f64,
    /// How logits are matched.
    pub logit_loss: LogitLoss,
    /// Total variation (squared neighbour differences): smoothness.
    pub total_variation: f64,
    /// Mean squared pixel value: keeps the image near the middle of the range.
    pub l2: f64,
}

impl Default for Objective {
    fn default() -> Self {
        Self {
            feature_mse: 1.0,
            feature_cosine: 1.0,
            logit: 0.0,
            logit_loss: LogitLoss::CrossEntropy,
            total_variation: 0.05,
            l2: 0.001,
        }
    }
}

impl Objective {
    /// Checks that every weight is finite and not negative, and that something is matched.
    pub fn validate(&self) -> Result<(), InversionError> {
        for (name, weight) in [
            ("feature MSE", self.feature_mse),
            ("feature cosine", self.feature_cosine),
            ("logit", self.logit),
            ("total variation", self.total_variation),
            ("L2", self.l2),
        ] {
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(InversionError::Settings(format!(
                    "the {name} weight {weight} must be a finite number ≥ 0"
                )));
            }
        }
        if self.feature_mse == 0.0 && self.feature_cosine == 0.0 && self.logit == 0.0 {
            return Err(InversionError::Settings(
                "nothing to match: the feature MSE, feature cosine and logit weights are all 0"
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

/// The unweighted terms and the weighted total, as tensors of one element.
pub(crate) struct LossTerms {
    pub total: Tensor<1>,
    /// `[mse, 1 − cos, logit, tv, l2]`, unweighted, detached.
    pub parts: Tensor<1>,
}

/// The target an inversion chases, on the device.
pub(crate) struct TargetTensors {
    pub cls: Tensor<2>,
    pub logits: Tensor<2>,
    pub probs: Tensor<2>,
}

impl Objective {
    /// Computes every term for one forward pass. `image` is the optimised leaf (total
    /// variation and L2 apply to it), `cls` and `logits` the network's outputs for it.
    pub(crate) fn terms(
        &self,
        image: &Tensor<4>,
        cls: Tensor<2>,
        logits: Tensor<2>,
        target: &TargetTensors,
    ) -> LossTerms {
        let mse = (cls.clone() - target.cls.clone()).square().mean();
        let dot = (cls.clone() * target.cls.clone()).sum();
        let norms = cls.square().sum().sqrt() * target.cls.clone().square().sum().sqrt();
        let one_minus_cosine = (dot / (norms + 1e-12)).neg() + 1.0;
        let logit = match self.logit_loss {
            LogitLoss::CrossEntropy => (target.probs.clone() * activation::log_softmax(logits, 1))
                .sum()
                .neg(),
            LogitLoss::Mse => (logits - target.logits.clone()).square().mean(),
        };
        let [_, _, height, width] = image.dims();
        let along_rows =
            image.clone().slice_dim(3, 1..width) - image.clone().slice_dim(3, 0..width - 1);
        let along_columns =
            image.clone().slice_dim(2, 1..height) - image.clone().slice_dim(2, 0..height - 1);
        let tv = along_rows.square().mean() + along_columns.square().mean();
        let l2 = image.clone().square().mean();
        let total = mse.clone() * self.feature_mse
            + one_minus_cosine.clone() * self.feature_cosine
            + logit.clone() * self.logit
            + tv.clone() * self.total_variation
            + l2.clone() * self.l2;
        let parts = Tensor::cat(
            [mse, one_minus_cosine, logit, tv, l2]
                .into_iter()
                .map(Tensor::without_autodiff)
                .collect(),
            0,
        );
        LossTerms { total, parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weightless_objective_is_refused() {
        let objective = Objective {
            feature_mse: 0.0,
            feature_cosine: 0.0,
            logit: 0.0,
            ..Objective::default()
        };
        assert!(objective.validate().is_err());
        assert!(
            Objective {
                l2: f64::NAN,
                ..Objective::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn terms_match_their_definitions_on_a_small_example() {
        let device = Device::flex();
        let image = Tensor::<4>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 3.0, 0.0], [1, 1, 2, 2]),
            &device,
        );
        let cls = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0], [1, 2]), &device);
        let target_cls =
            Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [1, 2]), &device);
        let logits = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0], [1, 2]), &device);
        let target = TargetTensors {
            cls: target_cls,
            logits: logits.clone(),
            probs: Tensor::from_data(TensorData::new(vec![0.5f32, 0.5], [1, 2]), &device),
        };
        let terms = Objective::default().terms(&image, cls, logits, &target);
        let parts = terms.parts.into_data().try_to_vec::<f32>().unwrap();
        // mse = (0 + 1) / 2; cosine = 1/√2; CE of uniform logits = ln 2;
        // tv = ((1)² + (−3)²)/2 + ((3)² + (−1)²)/2 = 10; l2 = 10/4.
        let expected = [
            0.5,
            1.0 - std::f32::consts::FRAC_1_SQRT_2,
            std::f32::consts::LN_2,
            10.0,
            2.5,
        ];
        for (got, want) in parts.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{parts:?}");
        }
    }
}
