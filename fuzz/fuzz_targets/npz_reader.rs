//! Any bytes given to the NPZ split reader give arrays or an error, never a panic or an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.npz");
    if let Ok(arrays) = faceemo_data::read_split_arrays(std::io::Cursor::new(data), path) {
        assert_eq!(arrays.features.nrows(), arrays.logits.nrows());
        assert_eq!(arrays.logits.ncols(), arrays.probs.ncols());
        arrays.nonfinite_rows();
    }
});
