//! Renders an SVG written by `amd plot` to PNG, in pure Rust with the font embedded, so a PNG
//! can be made on a server with no graphics or font libraries installed.

use std::sync::Arc;

use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg::{fontdb, Options, Tree};

use crate::tools::svg::FONT_FAMILY;

/// `svg` as PNG bytes, `scale` times its own size.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let mut fonts = fontdb::Database::new();
    fonts.load_font_data(dejavu::sans::regular().to_vec());
    fonts.load_font_data(dejavu::sans::bold().to_vec());
    let options = Options { font_family: FONT_FAMILY.to_string(), fontdb: Arc::new(fonts), ..Options::default() };
    let tree = Tree::from_str(svg, &options).map_err(|e| format!("cannot render the plot: {e}"))?;
    let size = tree.size().to_int_size().scale_by(scale).ok_or("plot size out of range")?;
    let mut pixmap = Pixmap::new(size.width(), size.height()).ok_or("plot size out of range")?;
    pixmap.fill(Color::WHITE);
    resvg::render(&tree, Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("cannot encode the PNG: {e}"))
}
