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

/// A colour laid over pixels at a fixed opacity, prepared once for all its points: the
/// source's share of each channel (plus the rounding offset) in two 16-bit lanes per word.
#[derive(Clone, Copy)]
struct Paint {
    /// Red and blue (lanes 0 and 2 of the pixel): `s · α + 128`.
    red_blue: u32,
    /// Green and alpha (lanes 1 and 3).
    green_alpha: u32,
    /// What is kept of the pixel below, `255 − α`.
    keep: u32,
}

impl Paint {
    fn new(colour: Color32, alpha: u8) -> Self {
        let a = u32::from(alpha);
        let [r, g, b, _] = colour.to_array();
        let share =
            |low: u8, high: u8| (u32::from(low) * a + 128) | ((u32::from(high) * a + 128) << 16);
        Self {
            red_blue: share(r, b),
            green_alpha: share(g, 255),
            keep: 255 - a,
        }
    }

    /// `self` over the packed RGBA `destination`: each channel `round((s·α + d·(255 − α)) / 255)`,
    /// two channels per multiplication (`(t + (t >> 8)) >> 8` is that rounding for `t < 2¹⁶`).
    #[inline]
    fn over(self, destination: u32) -> u32 {
        const LANES: u32 = 0x00ff_00ff;
        let divide = |t: u32| ((t + ((t >> 8) & LANES)) >> 8) & LANES;
        let red_blue = divide((destination & LANES) * self.keep + self.red_blue);
        let green_alpha = divide(((destination >> 8) & LANES) * self.keep + self.green_alpha);
        red_blue | (green_alpha << 8)
    }
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
    let radius = style.radius.min(1 << 12);
    // Points whose square can touch the band: rows and columns widened by the radius.
    #[allow(clippy::cast_precision_loss, reason = "image sides are far below 2^52")]
    let (low_row, high_row, high_column) = (
        y_start as f64 - radius as f64,
        (y_start + rows + radius) as f64,
        (width + radius) as f64,
    );
    #[allow(clippy::cast_precision_loss, reason = "the radius is at most 4096")]
    let low_column = -(radius as f64);
    let signed = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let (radius_i, band_top) = (signed(radius), signed(y_start));
    let (row_limit, column_limit, stride) = (signed(rows) - 1, signed(width) - 1, signed(width));
    let mut plot = |point: usize, paint: Paint| {
        let [x, y] = positions[point];
        let py = ((view.max[1] - f64::from(y)) * scale_y).floor();
        if !(py >= low_row && py < high_row) {
            return;
        }
        let px = ((f64::from(x) - view.min[0]) * scale_x).floor();
        if !(px >= low_column && px < high_column) {
            return;
        }
        #[allow(
            clippy::cast_possible_truncation,
            reason = "both lie in the widened band"
        )]
        let (px, py) = (px as i64, py as i64);
        let first_row = (py - radius_i - band_top).max(0);
        let last_row = (py + radius_i - band_top).min(row_limit);
        let first_column = (px - radius_i).max(0);
        let last_column = (px + radius_i).min(column_limit);
        for row in first_row..=last_row {
            let start = row * stride;
            #[allow(clippy::cast_sign_loss, reason = "clamped to the band above")]
            let line = &mut band[(start + first_column) as usize..=(start + last_column) as usize];
            for pixel in line {
                let [red, green, blue, alpha] = paint
                    .over(u32::from_le_bytes(pixel.to_array()))
                    .to_le_bytes();
                *pixel = Color32::from_rgba_premultiplied(red, green, blue, alpha);
            }
        }
    };
    let visible_paints: Vec<Paint> = (0..style.colours.len().max(1))
        .map(|group| {
            let colour = style.colours.get(group).copied().unwrap_or(Color32::GRAY);
            Paint::new(colour, style.alpha)
        })
        .collect();
    let grey = Paint::new(CONTEXT_GREY, 110);
    let hidden = |point: usize| {
        let group = usize::from(style.groups.get(point).copied().unwrap_or(0));
        style.hidden.get(group).copied().unwrap_or(false)
    };
    let any_hidden = style.hidden.contains(&true);
    if any_hidden {
        for point in (0..positions.len()).filter(|&p| hidden(p)) {
            plot(point, grey);
        }
    }
    for point in 0..positions.len() {
        if any_hidden && hidden(point) {
            continue;
        }
        let group = usize::from(style.groups.get(point).copied().unwrap_or(0));
        let paint = visible_paints
            .get(group)
            .copied()
            .unwrap_or_else(|| Paint::new(Color32::GRAY, style.alpha));
        plot(point, paint);
    }
    let outline = Paint::new(Color32::BLACK, 255);
    for &point in style.selected.iter().filter(|&&p| p < positions.len()) {
        plot(point, outline);
    }
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

    /// Straight alpha blending of premultiplied colours, one channel at a time, rounded.
    fn blend_reference(destination: [u8; 4], source: Color32, alpha: u8) -> [u8; 4] {
        let (a, keep) = (u32::from(alpha), 255 - u32::from(alpha));
        let mix = |s: u8, d: u8| ((u32::from(s) * a + u32::from(d) * keep + 127) / 255) as u8;
        let [r, g, b, _] = source.to_array();
        [
            mix(r, destination[0]),
            mix(g, destination[1]),
            mix(b, destination[2]),
            mix(255, destination[3]),
        ]
    }

    #[test]
    fn two_channels_at_a_time_blend_exactly_as_one_at_a_time() {
        let mut random = faceemo_jobs::SplitMix64::new(3);
        for alpha in [0_u8, 1, 37, 110, 128, 200, 254, 255] {
            for _ in 0..20_000 {
                let bits = random.next_u64();
                let [r, g, b, a, sr, sg, sb, _] = bits.to_le_bytes();
                let destination = [r, g, b, a];
                let source = Color32::from_rgba_premultiplied(sr, sg, sb, 255);
                let ours = Paint::new(source, alpha).over(u32::from_le_bytes(destination));
                assert_eq!(
                    ours.to_le_bytes(),
                    blend_reference(destination, source, alpha),
                    "{source:?} over {destination:?} at {alpha}"
                );
            }
        }
        // Every value the division sees: round(x / 255) for x in 0..=255²
        let divide = |t: u32| (t + (t >> 8)) >> 8;
        for x in 0..=255 * 255 {
            assert_eq!(divide(x + 128), (x + 127) / 255, "{x}");
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
