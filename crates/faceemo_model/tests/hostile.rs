//! Model folders and images made by a careless or hostile hand: each gives a decoded image
//! or an error naming the file, never a panic, and no pickled code runs.

use std::path::{Path, PathBuf};

use faceemo_model::{EmotionModel, cpu_backend, decode_rgb_image, load_rgb_image};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

#[test]
fn a_16_bit_grayscale_png_decodes_to_8_bit_rgb() {
    let image = load_rgb_image(&fixtures().join("images/gray16.png")).expect("decoded");
    assert_eq!(image.dimensions(), (40, 24));
    let first = image.get_pixel(0, 0).0;
    let last = image.get_pixel(39, 23).0;
    assert_eq!(first, [0, 0, 0]);
    assert!(
        last[0] > 200 && last[0] == last[1] && last[1] == last[2],
        "{last:?}"
    );
}

#[test]
fn a_cmyk_jpeg_decodes_to_rgb() {
    let image = load_rgb_image(&fixtures().join("images/cmyk.jpg")).expect("decoded");
    assert_eq!(image.dimensions(), (40, 24));
    // Cyan grows from left to right, so red falls.
    let left = image.get_pixel(0, 12).0;
    let right = image.get_pixel(39, 12).0;
    assert!(left[0] > right[0] + 100, "{left:?} {right:?}");
}

#[test]
fn an_image_past_the_side_limit_is_refused_before_it_is_decoded() {
    let mut png = Vec::new();
    image::RgbImage::new(20_000, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let error = decode_rgb_image(&png, "wide.png").expect_err("too wide");
    let message = error.to_string();
    assert!(message.contains("wide.png"), "{message}");
}

#[test]
fn a_tiny_file_declaring_a_huge_image_is_refused_before_it_is_decoded() {
    // Found by the image_decode fuzz target: 612 bytes of JPEG declaring 6144 x 10240.
    let path = fixtures().join("images/jpeg_bomb.jpg");
    let message = load_rgb_image(&path).expect_err("a bomb").to_string();
    assert!(
        message.contains("jpeg_bomb.jpg") && message.contains("decoding bomb"),
        "{message}"
    );
    let bytes = std::fs::read(&path).expect("read");
    assert!(decode_rgb_image(&bytes, "dropped.jpg").is_err());
}

#[test]
fn a_pickle_that_would_run_a_command_is_refused_and_runs_nothing() {
    let marker = Path::new("/tmp/faceemo_hostile_pickle_ran");
    std::fs::remove_file(marker).ok();
    let folder = fixtures().join("models/hostile_pickle");
    let error = EmotionModel::load(&folder, cpu_backend()).expect_err("refused");
    let message = format!("{error:#}");
    assert!(message.contains("pytorch_model.bin"), "{message}");
    assert!(!marker.exists(), "the pickled os.system ran");
}

/// How a lie changes a tensor's `data_offsets`.
type Lie = fn(u64, u64) -> (u64, u64);

#[test]
fn a_safetensors_header_that_lies_about_offsets_is_refused_naming_the_file() {
    let folder = tempfile::tempdir().expect("tempdir");
    let tiny = fixtures().join("models/tiny32");
    for name in ["config.json", "preprocessor_config.json"] {
        std::fs::copy(tiny.join(name), folder.path().join(name)).expect("copy");
    }
    let bytes = std::fs::read(tiny.join("model.safetensors")).expect("weights");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).expect("header");
    let lies: [(&str, Lie); 2] = [
        ("past the end", |a, b| (a, b + 1_000_000_000)),
        ("backwards", |a, b| (b, a)),
    ];
    for (lie, offsets) in lies {
        let mut header = header.clone();
        let tensor = header
            .as_object_mut()
            .and_then(|m| m.values_mut().find(|v| v.get("data_offsets").is_some()))
            .expect("a tensor");
        let old = tensor["data_offsets"].clone();
        let (a, b) = offsets(
            old[0].as_u64().expect("start"),
            old[1].as_u64().expect("end"),
        );
        tensor["data_offsets"] = serde_json::json!([a, b]);
        let mut text = serde_json::to_vec(&header).expect("json");
        text.resize(header_len.max(text.len()), b' ');
        let mut lying = (text.len() as u64).to_le_bytes().to_vec();
        lying.extend_from_slice(&text);
        lying.extend_from_slice(&bytes[8 + header_len..]);
        std::fs::write(folder.path().join("model.safetensors"), lying).expect("write");
        let error = EmotionModel::load(folder.path(), cpu_backend()).expect_err(lie);
        let message = format!("{error:#}");
        assert!(message.contains("model.safetensors"), "{lie}: {message}");
    }
}
