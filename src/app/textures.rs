//! Images of the core (`Arc<RgbImage>`) as egui textures, uploaded once per image.

use std::sync::Arc;

/// One texture slot: the image it shows and its texture.
#[derive(Default)]
pub struct TextureSlot {
    shown: Option<(Arc<image::RgbImage>, egui::TextureHandle)>,
}

impl TextureSlot {
    /// The texture of `image`, uploaded only when the image differs from the last one.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        image: &Arc<image::RgbImage>,
        options: egui::TextureOptions,
    ) -> egui::TextureHandle {
        match &self.shown {
            Some((shown, texture)) if Arc::ptr_eq(shown, image) => texture.clone(),
            _ => {
                let texture = ctx.load_texture(name, super::rgb_to_color_image(image), options);
                self.shown = Some((Arc::clone(image), texture.clone()));
                texture
            }
        }
    }
}
