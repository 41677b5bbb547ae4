//! Any reply to the hub's file listing gives a checked listing or a short reason; a checked
//! listing names only plain relative paths and hex blob ids, so nothing in it can leave the
//! cache folder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match faceemo_hub::parse_listing(data) {
        Ok(listing) => {
            assert_eq!(listing.commit.len(), 40);
            for file in &listing.files {
                assert!(faceemo_hub::is_plain_relative(&file.name));
                assert!(!file.name.split('/').any(|part| part == ".."));
                if let Some(blob) = &file.blob {
                    assert!(blob.hex().bytes().all(|b| b.is_ascii_hexdigit()));
                }
            }
        }
        Err(reason) => assert!(reason.len() < 1024, "{} bytes", reason.len()),
    }
});
