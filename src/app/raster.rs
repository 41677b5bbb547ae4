//! Drawing hundreds of thousands of points fast: rasterise them on the CPU into one image
//! that becomes a texture, redrawn only when the view, colours or visibility change.
//!
//! A point is a small square with alpha blending; hidden groups are drawn first in grey as
//! context, visible points over them, selected points last with a dark outline. Horizontal
//! bands of the image are drawn on parallel threads.

use egui::{Color32, ColorImage};

/// The part of the data plane the image shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RasterView {
    /// Data coordinates of the image's bottom-left corner.
    pub min: [f64; 2],
    /// Data coordinates of the image's top-right corner.
    pub max: [f64; 2],
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
}

/// How the points look.
#[derive(Clone, Debug)]
pub struct PointStyle<'a> {
    /// The group of each point.
    pub groups: &'a [u16],
    /// The colour of each group.
    pub colours: &'a [Color32],
    /// Whether each group is hidden (drawn grey).
    pub hidden: &'a [bool],
    /// Selected points (drawn last, outlined).
    pub selected: &'a [usize],
    /// Half the side of a point's square, in pixels (0 = one pixel).
    pub radius: usize,
    /// Opacity of visible points, 0–255.
    pub alpha: u8,
}

/// The grey of hidden points.
pub const CONTEXT_GREY: Color32 = Color32::from_rgb(170, 170, 170);

/// Draws `positions` into a transparent image of the view's size.
pub fn rasterize(positions: &[[f32; 2]], style: &PointStyle<'_>, view: &RasterView) -> ColorImage {
    let (width, height) = (view.width.max(1), view.height.max(1));
    let mut pixels = vec![Color32::TRANSPARENT; width * height];
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    let band_height = height.div_ceil(threads);
    std::thread::scope(|scope| {
        for (band, chunk) in pixels.chunks_mut(band_height * width).enumerate() {
            let y_start = band * band_height;
            let draw = move || draw_band(positions, style, view, chunk, y_start, width);
            let spawned = std::thread::Builder::new()
                .name(format!("rasterise band {band}"))
                .spawn_scoped(scope, draw);
            if let Err(error) = spawned {
                eprintln!("cannot start a drawing thread: {error}");
            }
        }
    });
    ColorImage::new([width, height], pixels)
}

fn draw_band(
    positions: &[[f32; 2]],
    style: &PointStyle<'_>,
    view: &RasterView,
    band: &mut [Color32],
    y_start: usize,
    width: usize,
) {
    let rows = band.len() / width;
    let scale_x = view.width as f64 / (view.max[0] - view.min[0]).max(f64::MIN_POSITIVE);
    let scale_y = view.height as f64 / (view.max[1] - view.min[1]).max(f64::MIN_POSITIVE);
    let radius = i64::try_from(style.radius).unwrap_or(0);
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let columns = i64::try_from(width).unwrap_or(i64::MAX);
    let y_start = i64::try_from(y_start).unwrap_or(i64::MAX);
    let mut plot = |point: usize, colour: Color32, alpha: u8| {
        let [x, y] = positions[point];
        let px = ((f64::from(x) - view.min[0]) * scale_x).floor();
        let py = ((view.max[1] - f64::from(y)) * scale_y).floor();
        if !(px.is_finite() && py.is_finite()) {
            return;
        }
        let (px, py) = (px as i64, py as i64 - y_start);
        for dy in -radius..=radius {
            let row = py + dy;
            if row < 0 || row >= rows {
                continue;
            }
            for dx in -radius..=radius {
                let column = px + dx;
                if column < 0 || column >= columns {
                    continue;
                }
                let pixel = &mut band[(row * columns + column) as usize];
                *pixel = blend(*pixel, colour, alpha);
            }
        }
    };
    let hidden = |point: usize| {
        let group = usize::from(style.groups.get(point).copied().unwrap_or(0));
        style.hidden.get(group).copied().unwrap_or(false)
    };
    for point in (0..positions.len()).filter(|&p| hidden(p)) {
        plot(point, CONTEXT_GREY, 110);
    }
    for point in (0..positions.len()).filter(|&p| !hidden(p)) {
        let group = usize::from(style.groups.get(point).copied().unwrap_or(0));
        let colour = style.colours.get(group).copied().unwrap_or(Color32::GRAY);
        plot(point, colour, style.alpha);
    }
    for &point in style.selected.iter().filter(|&&p| p < positions.len()) {
        plot(point, Color32::BLACK, 255);
    }
}

/// `source` over `destination` with opacity `alpha` (premultiplied colours).
fn blend(destination: Color32, source: Color32, alpha: u8) -> Color32 {
    let a = u16::from(alpha);
    let keep = 255 - a;
    let mix = |s: u8, d: u8| ((u16::from(s) * a + u16::from(d) * keep + 127) / 255) as u8;
    Color32::from_rgba_premultiplied(
        mix(source.r(), destination.r()),
        mix(source.g(), destination.g()),
        mix(source.b(), destination.b()),
        mix(255, destination.a()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> RasterView {
        RasterView {
            min: [0.0, 0.0],
            max: [10.0, 10.0],
            width: 10,
            height: 10,
        }
    }

    #[test]
    fn a_point_lands_on_its_pixel_with_y_up() {
        let style = PointStyle {
            groups: &[0],
            colours: &[Color32::RED],
            hidden: &[false],
            selected: &[],
            radius: 0,
            alpha: 255,
        };
        let image = rasterize(&[[2.5, 7.5]], &style, &view());
        // x = 2.5 → column 2; y = 7.5 → row 10 − 7.5 = 2.5 → row 2.
        assert_eq!(image.pixels[2 * 10 + 2], Color32::RED);
        assert_eq!(
            image
                .pixels
                .iter()
                .filter(|p| **p != Color32::TRANSPARENT)
                .count(),
            1
        );
    }

    #[test]
    fn hidden_groups_are_grey_context_and_visible_points_cover_them() {
        let style = PointStyle {
            groups: &[1, 0],
            colours: &[Color32::BLUE, Color32::GREEN],
            hidden: &[false, true],
            selected: &[],
            radius: 1,
            alpha: 255,
        };
        let image = rasterize(&[[5.5, 5.5], [5.5, 5.5]], &style, &view());
        assert_eq!(image.pixels[4 * 10 + 5], Color32::BLUE);
        let grey_only = rasterize(
            &[[5.5, 5.5]],
            &PointStyle {
                groups: &[1],
                ..style
            },
            &view(),
        );
        let pixel = grey_only.pixels[4 * 10 + 5];
        assert!(
            pixel.r() == pixel.g() && pixel.g() == pixel.b() && pixel.a() < 255,
            "{pixel:?}"
        );
    }

    #[test]
    fn points_outside_the_view_or_not_finite_are_skipped() {
        let style = PointStyle {
            groups: &[0, 0, 0],
            colours: &[Color32::RED],
            hidden: &[false],
            selected: &[],
            radius: 2,
            alpha: 255,
        };
        let image = rasterize(
            &[[-50.0, 5.0], [f32::NAN, 1.0], [5.0, 50.0]],
            &style,
            &view(),
        );
        assert!(image.pixels.iter().all(|p| *p == Color32::TRANSPARENT));
    }
}
