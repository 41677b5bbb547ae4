//! Any settings file (eframe's RON) gives settings within the window's ranges, or the
//! defaults; never a panic.
#![no_main]

use faceemo_workbench::{MAX_INVERSION_STEPS, MAX_POINT_RADIUS, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(settings) = ron::from_str::<Settings>(text) else {
        return;
    };
    let settings = settings.validated();
    assert!(settings.point_radius <= MAX_POINT_RADIUS);
    assert!((1..=MAX_INVERSION_STEPS).contains(&settings.inversion_steps));
    assert!(["auto", "wgpu", "cpu"].contains(&settings.backend.as_str()));
    assert!(settings.until_cosine.is_none_or(|c| (0.5..=1.0).contains(&c)));
});
