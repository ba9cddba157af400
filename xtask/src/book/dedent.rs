//! A preprocessor of our own: strip the common indentation of every code
//! block after `{{#include}}` has filled it in.
//!
//! An anchor inside a function body (`// ANCHOR: recv_auxdata`) includes its
//! lines with the function's indentation; mdBook keeps it, and the listing
//! then starts eight columns in. Removing the indentation the block's lines
//! share keeps the code exactly as written, only shifted left.

use mdbook_driver::book::{Book, BookItem};
use mdbook_driver::errors::Result;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

/// Dedents fenced code blocks; runs after mdBook's `links` preprocessor.
pub struct Dedent;

impl Preprocessor for Dedent {
    fn name(&self) -> &str {
        "rawstack-dedent"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item {
                chapter.content = dedent_code_blocks(&chapter.content);
            }
        });
        Ok(book)
    }
}

/// Removes, inside each ``` fenced block, the leading whitespace that all
/// its non-blank lines share. Text outside code blocks is left alone.
pub fn dedent_code_blocks(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut block: Option<Vec<&str>> = None;
    for line in markdown.split_inclusive('\n') {
        let is_fence = line.trim_start().starts_with("```");
        match block.as_mut() {
            None => {
                out.push_str(line);
                if is_fence {
                    block = Some(Vec::new());
                }
            }
            Some(lines) if is_fence => {
                push_dedented(&mut out, lines);
                out.push_str(line);
                block = None;
            }
            Some(lines) => lines.push(line),
        }
    }
    // An unterminated block is left as it was written.
    if let Some(lines) = block {
        lines.iter().for_each(|line| out.push_str(line));
    }
    out
}

fn push_dedented(out: &mut String, lines: &[&str]) {
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    for line in lines {
        if line.trim().is_empty() {
            out.push_str(line.trim_start_matches([' ', '\t']));
        } else {
            out.push_str(&line[indent..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_shared_indentation_inside_code_blocks_only() {
        let md = "text\n    indented prose stays\n```rust\n        let a = 1;\n\n            if a {}\n```\nafter\n";
        let want =
            "text\n    indented prose stays\n```rust\nlet a = 1;\n\n    if a {}\n```\nafter\n";
        assert_eq!(dedent_code_blocks(md), want);
    }

    #[test]
    fn leaves_unindented_and_unterminated_blocks_alone() {
        let md = "```\nfn x() {\n    y\n}\n```\n```text\n  open\n";
        assert_eq!(dedent_code_blocks(md), md);
    }
}
