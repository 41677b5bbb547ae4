//! How close a reconstruction came: in feature space (cosine, MSE) and, when the original
//! image is known, in pixels (PSNR, SSIM).

use faceemo_model::{PreprocessorConfig, resize_like_pillow};
use image::RgbImage;

/// Cosine similarity of two vectors, in double precision (0 when either is all zeros).
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut norm_a, mut norm_b) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    let norms = (norm_a * norm_b).sqrt();
    if norms > 0.0 { dot / norms } else { 0.0 }
}

/// Mean squared difference of two vectors of the same length.
pub fn mean_squared_error(a: &[f32], b: &[f32]) -> f64 {
    let total: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    total / a.len().max(1) as f64
}

/// Peak signal-to-noise ratio of two 8-bit RGB images of the same size, in dB (infinite
/// for identical images).
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let a_values: Vec<f32> = a.as_raw().iter().map(|&v| f32::from(v)).collect();
    let b_values: Vec<f32> = b.as_raw().iter().map(|&v| f32::from(v)).collect();
    let mse = mean_squared_error(&a_values, &b_values);
    10.0 * (255.0f64.powi(2) / mse).log10()
}

/// Structural similarity (Wang et al. 2004) of two 8-bit RGB images of the same size: an
/// 11 × 11 Gaussian window with σ = 1.5, K1 = 0.01, K2 = 0.03, computed per channel over
/// the positions where the window fits and averaged.
pub fn ssim(a: &RgbImage, b: &RgbImage) -> f64 {
    const RADIUS: usize = 5;
    let (width, height) = (a.width() as usize, a.height() as usize);
    if width <= 2 * RADIUS || height <= 2 * RADIUS {
        return if a == b { 1.0 } else { 0.0 };
    }
    let weights: Vec<f64> = (0..=2 * RADIUS)
        .map(|i| (-((i as f64 - RADIUS as f64).powi(2)) / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let weight_sum: f64 = weights.iter().sum::<f64>().powi(2);
    let c1 = (0.01f64 * 255.0).powi(2);
    let c2 = (0.03f64 * 255.0).powi(2);
    let mut total = 0.0;
    let mut count = 0usize;
    for channel in 0..3 {
        let value = |image: &RgbImage, x: usize, y: usize| {
            f64::from(image.get_pixel(x as u32, y as u32).0[channel])
        };
        for y in RADIUS..height - RADIUS {
            for x in RADIUS..width - RADIUS {
                let mut sums = [0.0f64; 5];
                for (dy, wy) in weights.iter().enumerate() {
                    for (dx, wx) in weights.iter().enumerate() {
                        let weight = wy * wx;
                        let (px, py) = (x + dx - RADIUS, y + dy - RADIUS);
                        let (first, second) = (value(a, px, py), value(b, px, py));
                        sums[0] += weight * first;
                        sums[1] += weight * second;
                        sums[2] += weight * first * first;
                        sums[3] += weight * second * second;
                        sums[4] += weight * first * second;
                    }
                }
                let [mu_a, mu_b, aa, bb, ab] = sums.map(|s| s / weight_sum);
                let var_a = aa - mu_a * mu_a;
                let var_b = bb - mu_b * mu_b;
                let covariance = ab - mu_a * mu_b;
                total += ((2.0 * mu_a * mu_b + c1) * (2.0 * covariance + c2))
                    / ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));
                count += 1;
            }
        }
    }
    total / count as f64
}

/// Pixel agreement between a reconstruction and the original it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PixelComparison {
    /// Peak signal-to-noise ratio, dB.
    pub psnr: f64,
    /// Structural similarity, −1..=1.
    pub ssim: f64,
}

/// Compares a reconstruction (at the model's input size) with the original image, which is
/// first resized as the model's preprocessing resizes it.
pub fn compare_with_original(
    original: &RgbImage,
    reconstruction: &RgbImage,
    preprocessor: &PreprocessorConfig,
) -> PixelComparison {
    let (width, height) = reconstruction.dimensions();
    let resized = resize_like_pillow(original, width, height, preprocessor.resample);
    PixelComparison {
        psnr: psnr(&resized, reconstruction),
        ssim: ssim(&resized, reconstruction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(shift: u8) -> RgbImage {
        RgbImage::from_fn(32, 24, |x, y| {
            image::Rgb([(x * 7) as u8 ^ shift, (y * 9) as u8, ((x + y) * 3) as u8])
        })
    }

    #[test]
    fn cosine_and_mse_of_known_vectors() {
        assert!((cosine_similarity(&[1.0, 0.0], &[1.0, 1.0]) - 0.5f64.sqrt()).abs() < 1e-12);
        assert!(cosine_similarity(&[0.0, 0.0], &[1.0, 1.0]).abs() < f64::EPSILON);
        assert!((mean_squared_error(&[1.0, 2.0], &[0.0, 0.0]) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn identical_images_are_perfectly_similar() {
        let image = pattern(0);
        assert!(psnr(&image, &image).is_infinite());
        assert!((ssim(&image, &image) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn psnr_of_a_uniform_error() {
        let a = RgbImage::from_pixel(8, 8, image::Rgb([100, 100, 100]));
        let b = RgbImage::from_pixel(8, 8, image::Rgb([110, 110, 110]));
        // MSE = 100 → 10·log10(255² / 100) = 28.13 dB.
        assert!((psnr(&a, &b) - 28.1308).abs() < 1e-3);
    }

    #[test]
    fn ssim_drops_with_structure_lost() {
        let original = pattern(0);
        let flat = RgbImage::from_pixel(32, 24, image::Rgb([128, 128, 128]));
        let slightly_off = pattern(1);
        let near = ssim(&original, &slightly_off);
        let far = ssim(&original, &flat);
        assert!(near > 0.99 && far < 0.5, "near {near}, far {far}");
    }
}
