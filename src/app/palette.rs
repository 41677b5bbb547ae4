//! Colours for groups: a categorical palette that stays readable on light and dark
//! backgrounds, with fixed meanings where a colouring has them.

use egui::Color32;

use faceemo_workbench::Colouring;

/// Tableau 10: ten distinct hues.
const CATEGORICAL: [Color32; 10] = [
    Color32::from_rgb(78, 121, 167),
    Color32::from_rgb(242, 142, 43),
    Color32::from_rgb(225, 87, 89),
    Color32::from_rgb(118, 183, 178),
    Color32::from_rgb(89, 161, 79),
    Color32::from_rgb(237, 201, 72),
    Color32::from_rgb(176, 122, 161),
    Color32::from_rgb(255, 157, 167),
    Color32::from_rgb(156, 117, 95),
    Color32::from_rgb(186, 176, 172),
];

/// Viridis at five steps, low to high.
const SEQUENTIAL: [Color32; 5] = [
    Color32::from_rgb(68, 1, 84),
    Color32::from_rgb(59, 82, 139),
    Color32::from_rgb(33, 145, 140),
    Color32::from_rgb(94, 201, 98),
    Color32::from_rgb(253, 231, 37),
];

/// The colour of each group under a colouring.
pub fn group_colours(colouring: Colouring, names: &[String]) -> Vec<Color32> {
    names
        .iter()
        .enumerate()
        .map(|(index, name)| match colouring {
            Colouring::Correctness => match name.as_str() {
                "correct" => Color32::from_rgb(44, 160, 44),
                "incorrect" => Color32::from_rgb(214, 39, 40),
                _ => Color32::GRAY,
            },
            Colouring::Confidence => SEQUENTIAL[index.min(SEQUENTIAL.len() - 1)],
            _ if name == "unlabelled" => Color32::GRAY,
            _ => CATEGORICAL[index % CATEGORICAL.len()],
        })
        .collect()
}

/// A colour on the viridis scale for `t` in `0..=1` (interpolated between its five steps).
pub fn scale_colour(t: f32) -> Color32 {
    let position = t.clamp(0.0, 1.0) * (SEQUENTIAL.len() - 1) as f32;
    let low = position.floor() as usize;
    let high = (low + 1).min(SEQUENTIAL.len() - 1);
    let f = position - low as f32;
    let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * f).round() as u8;
    let (a, b) = (SEQUENTIAL[low], SEQUENTIAL[high]);
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// Black or white, whichever reads better on `fill`.
pub fn text_on(fill: Color32) -> Color32 {
    let luminance =
        0.299 * f32::from(fill.r()) + 0.587 * f32::from(fill.g()) + 0.114 * f32::from(fill.b());
    if luminance > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}
