//! A few SVG elements written as text: all `amd plot` draws. Writing them directly keeps the
//! SVG output free of any library, and the same text is what the PNG is rendered from.

use std::fmt::Write;

/// Where a text's x coordinate is: its start, middle or end.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// The font every text asks for; the PNG renderer embeds it, so both outputs look the same.
pub const FONT_FAMILY: &str = "DejaVu Sans";

pub struct Svg {
    out: String,
}

/// Text made safe for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            _ => s.push(c),
        }
    }
    s
}

impl Svg {
    pub fn new(width: u32, height: u32) -> Svg {
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}, sans-serif">"#
        );
        Svg { out }
    }

    /// `extra` is further attributes, e.g. `stroke-dasharray="6 4"`.
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64, extra: &str) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}" {extra}/>"#
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, extra: &str) {
        let _ = writeln!(self.out, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" {extra}/>"#);
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, extra: &str) {
        if points.len() < 2 {
            return;
        }
        self.out.push_str("<polyline points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(self.out, "{}{x:.1},{y:.1}", if i == 0 { "" } else { " " });
        }
        let _ = writeln!(self.out, r#"" fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round" {extra}/>"#);
    }

    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, fill: &str, text: &str) {
        self.text_with(x, y, size, anchor, fill, "", text);
    }

    /// Text with further attributes, e.g. `font-weight="bold"` or a rotation.
    #[allow(clippy::too_many_arguments)]
    pub fn text_with(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, fill: &str, extra: &str, text: &str) {
        let _ = writeln!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{}" fill="{fill}" {extra}>{}</text>"#,
            anchor.as_str(),
            escape(text)
        );
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_with_escaped_text_is_well_formed() {
        let mut svg = Svg::new(100, 50);
        svg.rect(0.0, 0.0, 100.0, 50.0, "white", "");
        svg.line((0.0, 1.0), (10.0, 1.0), "red", 1.0, r#"stroke-dasharray="4 2""#);
        svg.polyline(&[(0.0, 0.0), (5.0, 5.0)], "blue", 1.0, "");
        svg.text(5.0, 5.0, 12.0, Anchor::Middle, "black", r#"a < b & "c""#);
        let doc = svg.finish();
        let tree = roxmltree::Document::parse(&doc).expect("well-formed");
        let text = tree.descendants().find(|n| n.has_tag_name("text")).unwrap();
        assert_eq!(text.text(), Some(r#"a < b & "c""#));
    }
}
