//! Any `config.json` + `preprocessor_config.json` pair gives a checked configuration or an
//! error naming the file, never a panic, and a checked one describes a ViT that can be built.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The two files are separated by the first NUL byte (neither JSON text holds one).
    let (config, preprocessor) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(config_text) = std::str::from_utf8(config) else {
        return;
    };
    let Ok(config) = faceemo_model::VitConfig::from_json(config_text, Path::new("config.json"))
    else {
        return;
    };
    let labels = config.labels().expect("a checked config has labels");
    assert!(!labels.is_empty());
    assert_eq!(config.hidden_size % config.num_attention_heads, 0);
    assert!(config.sequence_length() > 1);
    let path = Path::new("preprocessor_config.json");
    let Some(Ok(text)) = preprocessor.map(std::str::from_utf8) else {
        return;
    };
    if let Ok(preprocessor) = faceemo_model::PreprocessorConfig::from_json(text, path, config.image_size)
        && preprocessor.fits(config.image_size, path).is_ok()
    {
        assert_eq!(preprocessor.width as usize, config.image_size);
        assert!(!preprocessor.image_std.contains(&0.0));
    }
});
