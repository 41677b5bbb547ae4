//! Frame CPU time of the map while the view moves (every frame pans, so every frame
//! redraws the points), at 10k / 100k / 1M points: the workbench's texture layer against
//! `egui_plot`'s own `Points`, the same plot, the same `egui::Context`, in one run.
//! A frame here is `Context::run_ui` plus tessellation: all the CPU work before the GPU.
//!
//! `cargo run --release --example map_frame [-- FRAMES]`

use std::time::{Duration, Instant};

use egui_plot::{Plot, PlotBounds, PlotPoints, Points};
use faceemo::app::{PointLayer, PointStyle};

fn main() {
    let frames: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    println!("points,method,median_ms,min_ms");
    for count in [10_000usize, 100_000, 1_000_000] {
        let (positions, groups) = clustered_points(count);
        let colours = [
            egui::Color32::RED,
            egui::Color32::GREEN,
            egui::Color32::BLUE,
            egui::Color32::GOLD,
            egui::Color32::BROWN,
        ];
        let ours = time_frames(frames, |ui, frame| {
            let response = Plot::new("map").show(ui, |plot| plot.set_plot_bounds(panned(frame)));
            let style = PointStyle {
                groups: &groups,
                colours: &colours,
                hidden: &[false; 5],
                selected: &[],
                radius: 1,
                alpha: 200,
            };
            LAYER.with_borrow_mut(|layer| {
                layer.paint(ui, &response.transform, &positions, &style, 0);
            });
        });
        report(count, "faceemo texture layer", &ours);
        if count > 100_000 && std::env::var_os("MAP_FRAME_ALL").is_none() {
            println!("{count},egui_plot Points,skipped (set MAP_FRAME_ALL=1; seconds per frame),");
            continue;
        }
        let peer = time_frames(frames.min(10), |ui, frame| {
            Plot::new("map").show(ui, |plot| {
                plot.set_plot_bounds(panned(frame));
                for group in 0..5u16 {
                    let series: PlotPoints<'_> = positions
                        .iter()
                        .zip(&groups)
                        .filter(|(_, g)| **g == group)
                        .map(|(p, _)| [f64::from(p[0]), f64::from(p[1])])
                        .collect();
                    plot.points(
                        Points::new(format!("group {group}"), series)
                            .radius(1.5)
                            .color(colours[usize::from(group)]),
                    );
                }
            });
        });
        report(count, "egui_plot Points", &peer);
    }
}

thread_local! {
    static LAYER: std::cell::RefCell<PointLayer> = std::cell::RefCell::new(PointLayer::default());
}

fn panned(frame: usize) -> PlotBounds {
    let shift = frame as f64 * 0.01;
    PlotBounds::from_min_max([-3.0 + shift, -3.0], [3.0 + shift, 3.0])
}

fn time_frames(frames: usize, mut draw: impl FnMut(&mut egui::Ui, usize)) -> Vec<Duration> {
    let ctx = egui::Context::default();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames + 2 {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1000.0, 800.0),
            )),
            ..egui::RawInput::default()
        };
        let started = Instant::now();
        let output = ctx.run_ui(input, |ui| draw(ui, frame));
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        if frame >= 2 {
            times.push(started.elapsed());
        }
    }
    times
}

fn report(count: usize, method: &str, times: &[Duration]) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    println!("{count},{method},{:.2},{:.2}", ms[ms.len() / 2], ms[0]);
}

/// Five Gaussian clusters, deterministic.
fn clustered_points(count: usize) -> (Vec<[f32; 2]>, Vec<u16>) {
    let mut random = faceemo_jobs::SplitMix64::new(1);
    let centres = [
        [-1.5, -1.0],
        [1.0, 1.5],
        [1.5, -1.0],
        [-1.0, 1.0],
        [0.0, 0.0],
    ];
    (0..count)
        .map(|i| {
            let group = i % 5;
            let [cx, cy] = centres[group];
            let x = cx + 0.5 * random.normal();
            let y = cy + 0.5 * random.normal();
            ([x as f32, y as f32], group as u16)
        })
        .unzip()
}
