//! Preprocessing identical to transformers' `ViTImageProcessor` on its PIL path.
//!
//! Decode (any format the `image` crate reads), apply the EXIF orientation, convert to
//! 8-bit RGB (grayscale copied to three channels, alpha dropped as PIL's `convert("RGB")`
//! does), resize with Pillow's resampling arithmetic — separable, antialiased when
//! shrinking, 22-bit fixed-point weights, rounding to 8 bits between the horizontal and
//! the vertical pass — then rescale and normalise with the values of
//! `preprocessor_config.json`. The result is channel-first `f32`.

use std::path::Path;

use image::{DynamicImage, ImageDecoder as _, ImageReader, RgbImage};

use crate::ModelError;
use crate::config::{PreprocessorConfig, Resample};

/// Loads an image file as 8-bit RGB with its EXIF orientation applied.
pub fn load_rgb_image(path: &Path) -> Result<RgbImage, ModelError> {
    let reader = ImageReader::open(path).map_err(|e| ModelError::Image {
        path: path.to_owned(),
        reason: format!("cannot open: {e}"),
    })?;
    let length = std::fs::metadata(path).map_or(0, |m| m.len());
    decode(reader, path, length)
}

/// Decodes an image held in memory (e.g. dropped bytes) as 8-bit RGB, orientation applied;
/// `name` is used in messages.
pub fn decode_rgb_image(bytes: &[u8], name: &str) -> Result<RgbImage, ModelError> {
    decode(
        ImageReader::new(std::io::Cursor::new(bytes)),
        Path::new(name),
        bytes.len() as u64,
    )
}

/// The longest side of an image decoded (no camera makes more; a larger one is refused
/// before any pixel is allocated).
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// The most memory one decode may allocate.
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;
/// Pixels any image may have, whatever its file's size (4096 x 4096).
pub const FREE_PIXELS: u64 = 1 << 24;
/// Past [`FREE_PIXELS`], the most pixels a byte of the file may stand for. Real photos
/// hold far fewer (a flat 48-megapixel PNG, deflate's best case, ~350 a byte); a file
/// that claims more is a decoding bomb: a 612-byte JPEG found by fuzzing declares
/// 6144 x 10240 pixels.
pub const MAX_PIXELS_PER_FILE_BYTE: u64 = 1000;

fn decode<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
    path: &Path,
    file_bytes: u64,
) -> Result<RgbImage, ModelError> {
    let bad_image = |reason: String| ModelError::Image {
        path: path.to_owned(),
        reason,
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    let mut reader = reader
        .with_guessed_format()
        .map_err(|e| bad_image(format!("cannot read: {e}")))?;
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| bad_image(format!("not a readable image: {e}")))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > FREE_PIXELS.max(file_bytes.saturating_mul(MAX_PIXELS_PER_FILE_BYTE)) {
        return Err(bad_image(format!(
            "declares {width} x {height} pixels from only {file_bytes} bytes: a decoding bomb, \
             not a photo"
        )));
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| bad_image(format!("cannot decode: {e}")))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    if image.width() == 0 || image.height() == 0 {
        return Err(bad_image("the image has zero width or height".to_owned()));
    }
    // `to_rgb8` allocates 3 bytes a pixel whatever the source format held.
    let rgb_bytes = u64::from(image.width()) * u64::from(image.height()) * 3;
    if rgb_bytes > MAX_IMAGE_BYTES {
        return Err(bad_image(format!(
            "{} x {} pixels is more than the {MAX_IMAGE_BYTES} bytes an image may take",
            image.width(),
            image.height()
        )));
    }
    Ok(image.to_rgb8())
}

/// Resizes an 8-bit RGB image exactly as Pillow's `Image.resize(size, filter)` does.
pub fn resize_like_pillow(image: &RgbImage, width: u32, height: u32, filter: Resample) -> RgbImage {
    let (in_width, in_height) = image.dimensions();
    let needs_horizontal = width != in_width;
    let needs_vertical = height != in_height;
    let mut current = image.clone();
    if needs_horizontal {
        let coefficients = FixedPointKernel::new(in_width, width, filter);
        current = resample_rows(&current, &coefficients);
    }
    if needs_vertical {
        let coefficients = FixedPointKernel::new(in_height, height, filter);
        current = resample_columns(&current, &coefficients);
    }
    current
}

/// Channel-first pixel values for the model: resize, rescale, normalise. With
/// `do_resize: false` an image already at the model's size is taken as it is; one at any
/// other size is still resized (the network cannot take it otherwise).
pub fn pixel_values(image: &RgbImage, config: &PreprocessorConfig) -> Vec<f32> {
    let resized;
    let image = if config.do_resize || image.dimensions() != (config.width, config.height) {
        resized = resize_like_pillow(image, config.width, config.height, config.resample);
        &resized
    } else {
        image
    };
    let (width, height) = image.dimensions();
    let plane = (width * height) as usize;
    let mut values = vec![0.0f32; plane * 3];
    for (index, pixel) in image.pixels().enumerate() {
        for channel in 0..3 {
            values[channel * plane + index] = normalise(pixel.0[channel], channel, config);
        }
    }
    values
}

/// The model's value for an 8-bit level of one channel: rescale, then normalise.
fn normalise(level: u8, channel: usize, config: &PreprocessorConfig) -> f32 {
    let mut value = f32::from(level);
    if config.do_rescale {
        value = (f64::from(value) * config.rescale_factor) as f32;
    }
    if config.do_normalize {
        value = (value - config.image_mean[channel]) / config.image_std[channel];
    }
    value
}

/// The range of model values a real 8-bit image can produce, per channel: `(level 0, level 255)`.
pub fn pixel_value_range(config: &PreprocessorConfig) -> [(f32, f32); 3] {
    [0, 1, 2].map(|channel| {
        (
            normalise(0, channel, config),
            normalise(u8::MAX, channel, config),
        )
    })
}

/// The inverse of [`pixel_values`] without the resize: channel-first model values of a
/// `width × height` image back to 8-bit RGB, rounded and clipped to the valid range.
pub fn image_from_pixel_values(
    values: &[f32],
    width: u32,
    height: u32,
    config: &PreprocessorConfig,
) -> RgbImage {
    let plane = (width * height) as usize;
    let level = |channel: usize, index: usize| {
        let mut value = f64::from(values.get(channel * plane + index).copied().unwrap_or(0.0));
        if config.do_normalize {
            value = value * f64::from(config.image_std[channel])
                + f64::from(config.image_mean[channel]);
        }
        if config.do_rescale && config.rescale_factor != 0.0 {
            value /= config.rescale_factor;
        }
        value.round().clamp(0.0, 255.0) as u8
    };
    RgbImage::from_fn(width, height, |x, y| {
        let index = (y * width + x) as usize;
        image::Rgb([level(0, index), level(1, index), level(2, index)])
    })
}

/// Pillow's fixed-point precision for 8-bit images.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// The taps of one output pixel: first input index and 22-bit fixed-point weights.
struct FixedPointKernel {
    taps: Vec<(usize, Vec<i32>)>,
}

impl FixedPointKernel {
    /// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`.
    fn new(in_size: u32, out_size: u32, filter: Resample) -> Self {
        let scale = f64::from(in_size) / f64::from(out_size);
        let filter_scale = scale.max(1.0);
        let support = filter.support() * filter_scale;
        let inverse_filter_scale = 1.0 / filter_scale;
        let taps = (0..out_size)
            .map(|out| {
                let center = (f64::from(out) + 0.5) * scale;
                // Pillow truncates toward zero after adding 0.5 ("round the value").
                let first = ((center - support + 0.5) as i64).max(0) as usize;
                let last = ((center + support + 0.5) as i64).min(i64::from(in_size)) as usize;
                let weights: Vec<f64> = (first..last.max(first))
                    .map(|x| filter.weight((x as f64 - center + 0.5) * inverse_filter_scale))
                    .collect();
                let total: f64 = weights.iter().sum();
                let fixed = weights
                    .iter()
                    .map(|w| {
                        let w = if total == 0.0 { *w } else { w / total };
                        let scaled = w * f64::from(1u32 << PRECISION_BITS);
                        if w < 0.0 {
                            (scaled - 0.5) as i32
                        } else {
                            (scaled + 0.5) as i32
                        }
                    })
                    .collect();
                (first, fixed)
            })
            .collect();
        Self { taps }
    }
}

fn clip8(accumulator: i64) -> u8 {
    (accumulator >> PRECISION_BITS).clamp(0, 255) as u8
}

fn resample_rows(image: &RgbImage, kernel: &FixedPointKernel) -> RgbImage {
    let height = image.height();
    let mut out = RgbImage::new(kernel.taps.len() as u32, height);
    for y in 0..height {
        for (x_out, (first, weights)) in kernel.taps.iter().enumerate() {
            let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
            for (offset, weight) in weights.iter().enumerate() {
                let pixel = image.get_pixel((first + offset) as u32, y);
                for (sum, value) in sums.iter_mut().zip(pixel.0) {
                    *sum += i64::from(value) * i64::from(*weight);
                }
            }
            out.put_pixel(x_out as u32, y, image::Rgb(sums.map(clip8)));
        }
    }
    out
}

fn resample_columns(image: &RgbImage, kernel: &FixedPointKernel) -> RgbImage {
    let width = image.width();
    let mut out = RgbImage::new(width, kernel.taps.len() as u32);
    for (y_out, (first, weights)) in kernel.taps.iter().enumerate() {
        for x in 0..width {
            let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
            for (offset, weight) in weights.iter().enumerate() {
                let pixel = image.get_pixel(x, (first + offset) as u32);
                for (sum, value) in sums.iter_mut().zip(pixel.0) {
                    *sum += i64::from(value) * i64::from(*weight);
                }
            }
            out.put_pixel(x, y_out as u32, image::Rgb(sums.map(clip8)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_past_the_size_limits_is_refused_with_its_name() {
        let mut bytes = std::io::Cursor::new(Vec::new());
        RgbImage::new(MAX_IMAGE_SIDE + 1, 1)
            .write_to(&mut bytes, image::ImageFormat::Png)
            .expect("png");
        let error = decode_rgb_image(bytes.get_ref(), "wide.png")
            .expect_err("too wide")
            .to_string();
        assert!(error.contains("wide.png"), "{error}");
        assert!(error.to_lowercase().contains("limit"), "{error}");
        let mut bytes = std::io::Cursor::new(Vec::new());
        RgbImage::new(4000, 1)
            .write_to(&mut bytes, image::ImageFormat::Png)
            .expect("png");
        assert_eq!(
            decode_rgb_image(bytes.get_ref(), "strip.png")
                .expect("a 4000 x 1 strip is fine")
                .dimensions(),
            (4000, 1)
        );
    }

    #[test]
    fn pixel_values_invert_back_to_the_same_image() {
        let config = PreprocessorConfig {
            image_mean: [0.485, 0.456, 0.406],
            image_std: [0.229, 0.224, 0.225],
            ..PreprocessorConfig::vit_defaults(6)
        };
        let image = RgbImage::from_fn(6, 6, |x, y| image::Rgb([x as u8 * 51, y as u8 * 50, 255]));
        let values = pixel_values(&image, &config);
        assert_eq!(image_from_pixel_values(&values, 6, 6, &config), image);
        let range = pixel_value_range(&config);
        assert!((range[0].0 - (-0.485 / 0.229)).abs() < 1e-5);
        assert!((range[2].1 - (0.594 / 0.225)).abs() < 1e-5);
    }

    #[test]
    fn resizing_to_the_same_size_changes_nothing() {
        let image = RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 50, 7]));
        assert_eq!(resize_like_pillow(&image, 5, 4, Resample::Bilinear), image);
    }

    #[test]
    fn a_flat_image_stays_flat_at_any_size() {
        let image = RgbImage::from_pixel(37, 23, image::Rgb([200, 17, 90]));
        for (w, h) in [(224, 224), (8, 8), (50, 11)] {
            let resized = resize_like_pillow(&image, w, h, Resample::Bilinear);
            assert!(resized.pixels().all(|p| p.0 == [200, 17, 90]), "{w}x{h}");
        }
    }

    #[test]
    fn shrinking_averages_over_the_whole_footprint() {
        // A 1-pixel-wide stripe pattern shrunk 4x: antialiasing averages it to grey.
        let image = RgbImage::from_fn(64, 4, |x, _| {
            let v = if x % 2 == 0 { 0 } else { 255 };
            image::Rgb([v, v, v])
        });
        let resized = resize_like_pillow(&image, 16, 4, Resample::Bilinear);
        for pixel in resized.pixels().skip(1).take(14) {
            assert!((120..=135).contains(&pixel.0[0]), "{:?}", pixel.0);
        }
    }
}
