//! Colours for groups: a categorical palette that stays readable on light and dark
//! backgrounds, with fixed meanings where a colouring has them.

use egui::Color32;

use super::points::Colouring;

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
