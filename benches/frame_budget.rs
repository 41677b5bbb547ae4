//! The longest frame on the UI thread while jobs run: the real window (through
//! `egui_kittest`, so a frame is the app's `ui` plus egui's layout and tessellation: all the
//! CPU work before the GPU) opened on a release, then while it loads and projects, while
//! t-SNE runs and animates, and while a face is predicted and reconstructed. Prints the
//! longest and the 99th-percentile frame of each phase.
//!
//! `cargo run --release --example frame_budget -- RELEASE_DIR MODEL_DIR IMAGE [STEPS]`
//! (`benches/make_structured_release.py` writes a full-size release stand-in).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use faceemo::{StartOptions, WorkbenchApp};
use faceemo_workbench::{Intent, MapMethod, ReconstructFrom};

/// The core of the window.
fn core(app: &WorkbenchApp) -> &faceemo_workbench::Workbench {
    app.workbench()
}

/// Frame times of one phase.
#[derive(Default)]
struct Phase {
    frames: Vec<Duration>,
}

impl Phase {
    fn report(&mut self, name: &str) {
        self.frames.sort_unstable();
        let count = self.frames.len();
        let longest = self.frames.last().copied().unwrap_or_default();
        let p99 = self
            .frames
            .get((count * 99 / 100).min(count.saturating_sub(1)))
            .copied()
            .unwrap_or_default();
        println!(
            "{name:<28} frames {count:>6}  longest {:>7.2} ms  p99 {:>6.2} ms",
            longest.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}

/// Steps the window, timing each frame, until `done` holds (at most ten minutes).
fn run_until(
    harness: &mut Harness<'_, WorkbenchApp>,
    phase: &mut Phase,
    done: impl Fn(&WorkbenchApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_mins(10);
    while !done(harness.state()) && Instant::now() < deadline {
        let started = Instant::now();
        harness.step();
        phase.frames.push(started.elapsed());
        // About 60 frames a second, as a window would draw while it animates.
        std::thread::sleep(Duration::from_millis(16));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(release), Some(model), Some(image)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: frame_budget RELEASE_DIR MODEL_DIR IMAGE [STEPS]");
        std::process::exit(2);
    };
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let cache = tempfile::tempdir().expect("a temporary map cache");
    let options = StartOptions {
        sources: vec![PathBuf::from(release)],
        model: Some(model),
        map_cache: Some(cache.path().to_owned()),
        ..StartOptions::default()
    };
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| WorkbenchApp::new(cc, options));

    let mut loading = Phase::default();
    run_until(&mut harness, &mut loading, |app| {
        core(app).projection().is_some() && core(app).model().is_some()
    });
    loading.report("load + PCA (+ shift lab)");
    let rows = core(harness.state())
        .release()
        .map_or(0, |r| r.total_rows());
    println!("release: {rows} rows");

    let mut tsne = Phase::default();
    harness.state_mut().ask(Intent::ShowMap(MapMethod::Tsne));
    run_until(&mut harness, &mut tsne, |app| {
        core(app).map().tsne.map.is_some() || core(app).map().method != MapMethod::Tsne
    });
    tsne.report("t-SNE (animated)");

    let mut lab = Phase::default();
    harness.state_mut().ask(Intent::SetInversionSteps(steps));
    harness
        .state_mut()
        .ask(Intent::OpenPaths(vec![PathBuf::from(image)]));
    run_until(&mut harness, &mut lab, |app| {
        core(app).lab().image.is_some()
    });
    harness
        .state_mut()
        .ask(Intent::Reconstruct(ReconstructFrom::DroppedImage));
    run_until(&mut harness, &mut lab, |app| {
        core(app).reconstruction().is_some() && !core(app).is_busy()
    });
    lab.report("predict + reconstruct");

    let mut all = Phase::default();
    for phase in [loading, tsne, lab] {
        all.frames.extend(phase.frames);
    }
    all.report("all phases");
    for message in core(harness.state()).messages() {
        if message.is_error {
            println!("error: {}", message.text);
        }
    }
}
