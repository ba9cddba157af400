//! A very small SVG writer: elements with attributes, text, and nothing
//! else. SVG is XML, so all it has to get right is that every tag opened
//! is closed, in order, and that text and attribute values escape `<`,
//! `>`, `&` and `"`.
//!
//! Numbers are written with at most one decimal (a tenth of a pixel is
//! finer than any screen shows), so the same drawing always gives the same
//! bytes — what a snapshot test needs.

use std::fmt::Write as _;

/// An attribute: a name and its value, already formatted.
pub type Attr<'a> = (&'a str, String);

/// An SVG document being written. [`Svg::finish`] closes what is still
/// open and returns the text.
#[derive(Debug)]
pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// A document `width` × `height` pixels, its user units the pixels.
    pub fn new(width: f64, height: f64) -> Svg {
        let mut svg = Svg {
            out: String::new(),
            open: Vec::new(),
        };
        svg.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.open(
            "svg",
            &[
                ("xmlns", "http://www.w3.org/2000/svg".to_string()),
                ("width", num(width)),
                ("height", num(height)),
                ("viewBox", format!("0 0 {} {}", num(width), num(height))),
                ("font-family", "sans-serif".to_string()),
                ("font-size", "12".to_string()),
            ],
        );
        svg
    }

    /// Opens `<name attrs…>`; [`Svg::close`] closes it.
    pub fn open(&mut self, name: &'static str, attrs: &[Attr<'_>]) {
        self.start_tag(name, attrs);
        self.out.push_str(">\n");
        self.open.push(name);
    }

    /// Closes the element opened last.
    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.indent();
            let _ = writeln!(self.out, "</{name}>");
        }
    }

    /// An element with no content: `<name attrs…/>`.
    pub fn empty(&mut self, name: &'static str, attrs: &[Attr<'_>]) {
        self.start_tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// An element holding only `text` (escaped): `<name attrs…>text</name>`.
    pub fn text(&mut self, name: &'static str, attrs: &[Attr<'_>], text: &str) {
        self.start_tag(name, attrs);
        let _ = writeln!(self.out, ">{}</{name}>", escape(text));
    }

    /// Closes everything still open and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }

    fn start_tag(&mut self, name: &str, attrs: &[Attr<'_>]) {
        self.indent();
        let _ = write!(self.out, "<{name}");
        for (key, value) in attrs {
            let _ = write!(self.out, " {key}=\"{}\"", escape(value));
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }
}

/// `value` with at most one decimal, and no `-0`: `12`, `12.5`, `-3.2`.
pub fn num(value: f64) -> String {
    let tenths = (value * 10.0).round();
    if !tenths.is_finite() || tenths == 0.0 {
        return "0".to_string();
    }
    if tenths % 10.0 == 0.0 {
        format!("{}", tenths / 10.0)
    } else {
        format!("{:.1}", tenths / 10.0)
    }
}

/// `text` safe inside an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_one_decimal_and_no_negative_zero() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.46), "12.5");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(-3.24), "-3.2");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn text_and_attributes_are_escaped_and_tags_balanced() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.open("g", &[("class", "a\"b".to_string())]);
        svg.text("text", &[], "x < y & z");
        let out = svg.finish();
        assert!(out.contains("class=\"a&quot;b\""));
        assert!(out.contains(">x &lt; y &amp; z</text>"));
        assert!(out.trim_end().ends_with("</svg>"));
        assert_eq!(out.matches("<g").count(), out.matches("</g>").count());
    }
}
