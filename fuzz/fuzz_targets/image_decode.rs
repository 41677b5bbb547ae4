//! Any bytes dropped as an image decode (within the size limits) and preprocess to the
//! model's input, or give an error naming the image; never a panic or an oversized allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = faceemo_model::decode_rgb_image(data, "dropped.png") else {
        return;
    };
    assert!(image.width() <= faceemo_model::MAX_IMAGE_SIDE);
    assert!(image.height() <= faceemo_model::MAX_IMAGE_SIDE);
    let config = faceemo_model::PreprocessorConfig::vit_defaults(32);
    let values = faceemo_model::pixel_values(&image, &config);
    assert_eq!(values.len(), 3 * 32 * 32);
    assert!(values.iter().all(|v| v.is_finite()));
});
