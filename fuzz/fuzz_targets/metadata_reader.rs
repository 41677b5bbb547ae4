//! Any bytes given to the metadata CSV reader give a table or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.csv");
    if let Ok(table) = faceemo_data::read_metadata(data, path) {
        let unknown: usize = table.unknown_emotions.values().sum();
        assert!(unknown <= table.rows.len());
    }
});
