//! Any file in the map cache is a map of the asked-for size or ignored; never a panic, and a
//! map that comes back is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;

thread_local! {
    static FOLDER: tempfile::TempDir = tempfile::tempdir().expect("scratch folder");
}

fuzz_target!(|data: &[u8]| {
    // The row count the file's length allows, so the reader looks inside; the first byte
    // moves it off by one sometimes.
    let Some((&skew, bytes)) = data.split_first() else {
        return;
    };
    let rows = (bytes.len().saturating_sub(28) / 8) + usize::from(skew % 4 == 0);
    FOLDER.with(|folder| {
        let cache = faceemo_projection::MapCache::new(folder.path());
        std::fs::write(folder.path().join("key.map"), bytes).expect("scratch write");
        if let Some(map) = cache.load("key", rows) {
            assert_eq!(map.layout.len(), rows);
            assert!(map.layout.iter().flatten().all(|v| v.is_finite()));
        }
    });
});
