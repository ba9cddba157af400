//! The book's checker: every include, anchor and internal link must resolve.
//!
//! mdBook's `links` preprocessor forgives too much for a book whose listings
//! come from code: a misspelled anchor includes nothing, a line range past the
//! end of a file is quietly cut short, and a link to a renamed chapter is a
//! 404 the reader finds first. This module reads the book's Markdown the way
//! mdBook does (the same directive syntax and anchor rules, from
//! `mdbook-driver`'s `links.rs` and `take_lines.rs`) and turns each of those
//! into a [`Problem`] with a file and a line, before anything is built.
//!
//! What it checks, chapter by chapter (the chapters are the files SUMMARY.md
//! links to):
//!
//! - `{{#include path}}`, `{{#include path:anchor}}`, `{{#include path:a:b}}`
//!   and the same forms of `{{#rustdoc_include}}`: the file exists, the anchor
//!   has a start and an end, the line range lies inside the file, and what is
//!   selected is not blank; an insta snapshot (`*.snap`) is included from
//!   after its YAML header. `{{#playground path}}`: the file exists. Any other
//!   `{{#name}}` (except `{{#title}}`) is a typo. `\{{#…}}` is an escape and
//!   is left alone, as mdBook does.
//! - Markdown links and images outside code: a relative target must exist
//!   inside the book's source directory, a `.md` target must be a chapter of
//!   SUMMARY.md (only those become pages), and a `#fragment` must name a
//!   heading of the target page (ids made as mdBook makes them).
//!
//! Not followed: includes inside included files (mdBook expands those too;
//! this book has none), and headings that only exist in included text.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// One thing wrong with the book, at a place in one of its source files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The Markdown file the problem is in.
    pub file: PathBuf,
    /// The line (from 1) where the offending directive or link starts.
    pub line: usize,
    /// What is wrong, for a person.
    pub message: String,
}

impl Problem {
    /// `file:line: message`, with `file` shown relative to `root` when it
    /// lies under it (so the line is clickable in a terminal or an editor).
    pub fn display_relative_to<'a>(&'a self, root: &'a Path) -> impl fmt::Display + 'a {
        struct Shown<'a>(&'a Problem, &'a Path);
        impl fmt::Display for Shown<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let Shown(problem, root) = self;
                let file = problem.file.strip_prefix(root).unwrap_or(&problem.file);
                write!(
                    f,
                    "{}:{}: {}",
                    file.display(),
                    problem.line,
                    problem.message
                )
            }
        }
        Shown(self, root)
    }
}

/// What checking the book found.
#[derive(Debug, Default)]
pub struct Report {
    /// Everything wrong, in the order of the chapters in SUMMARY.md.
    pub problems: Vec<Problem>,
    /// Every file the book reads: SUMMARY.md, the chapters and the files
    /// they include. `--serve` watches these for changes.
    pub inputs: BTreeSet<PathBuf>,
}

/// Checks the book whose Markdown lives in `src_dir` (the directory holding
/// SUMMARY.md).
pub fn check_book(src_dir: &Path) -> Report {
    let mut report = Report::default();
    let src_dir = normalize(src_dir);
    let summary_path = src_dir.join("SUMMARY.md");
    let summary = match fs::read_to_string(&summary_path) {
        Ok(text) => text,
        Err(err) => {
            report.problems.push(Problem {
                file: summary_path,
                line: 1,
                message: format!("cannot read the book's table of contents: {err}"),
            });
            return report;
        }
    };
    report.inputs.insert(summary_path.clone());

    // SUMMARY.md first: every chapter it lists must exist. Draft chapters,
    // `- [Title]()`, have no target and no file.
    let mut chapters = Vec::new();
    for link in markdown_links(&summary) {
        let path = normalize(&src_dir.join(&link.target));
        if path.is_file() {
            chapters.push(path);
        } else {
            report.problems.push(Problem {
                file: summary_path.clone(),
                line: link.line,
                message: format!("chapter file `{}` does not exist", link.target),
            });
        }
    }
    let book = Book {
        src_dir: &src_dir,
        chapters: chapters.iter().cloned().collect(),
    };

    for chapter in &chapters {
        report.inputs.insert(chapter.clone());
        let text = match fs::read_to_string(chapter) {
            Ok(text) => text,
            Err(err) => {
                report.problems.push(Problem {
                    file: chapter.clone(),
                    line: 1,
                    message: format!("cannot read this chapter: {err}"),
                });
                continue;
            }
        };
        book.check_directives(chapter, &text, &mut report);
        book.check_links(chapter, &text, &mut report.problems);
    }
    report
}

/// The book being checked: where its sources are and which files are pages.
struct Book<'a> {
    src_dir: &'a Path,
    /// The chapters SUMMARY.md links to, normalized.
    chapters: HashSet<PathBuf>,
}

impl Book<'_> {
    /// Checks every `{{#…}}` directive of one chapter.
    fn check_directives(&self, chapter: &Path, text: &str, report: &mut Report) {
        let dir = chapter.parent().unwrap_or(self.src_dir);
        for directive in directives(text) {
            let problem = |message: String| Problem {
                file: chapter.to_path_buf(),
                line: directive.line,
                message: format!("{}: {message}", directive.text),
            };
            let Some(argument) = directive.argument.split_whitespace().next() else {
                continue;
            };
            match directive.name {
                "include" | "rustdoc_include" => {
                    let (path, spec) = match argument.split_once(':') {
                        Some((path, spec)) => (path, Some(spec)),
                        None => (argument, None),
                    };
                    let target = normalize(&dir.join(path));
                    match fs::read_to_string(&target) {
                        Ok(content) => {
                            let selection = Selection::parse(spec);
                            let checked = select(&content, &selection)
                                .and_then(|_| skips_snapshot_header(&target, &content, &selection));
                            if let Err(message) = checked {
                                report.problems.push(problem(format!("`{path}` {message}")));
                            }
                            report.inputs.insert(target);
                        }
                        Err(err) => report
                            .problems
                            .push(problem(format!("cannot read `{path}`: {err}"))),
                    }
                }
                "playground" | "playpen" => {
                    let target = normalize(&dir.join(argument));
                    if target.is_file() {
                        report.inputs.insert(target);
                    } else {
                        report
                            .problems
                            .push(problem(format!("`{argument}` does not exist")));
                    }
                }
                "title" => {}
                other => report.problems.push(problem(format!(
                    "unknown directive `{{{{#{other}}}}}` (mdBook would print it as text; \
                     write `\\{{{{#` to show it on purpose)"
                ))),
            }
        }
    }

    /// Checks every Markdown link and image of one chapter.
    fn check_links(&self, chapter: &Path, text: &str, problems: &mut Vec<Problem>) {
        let dir = chapter.parent().unwrap_or(self.src_dir);
        for link in markdown_links(text) {
            if is_external(&link.target) {
                continue;
            }
            let (path, fragment) = match link.target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (link.target.as_str(), None),
            };
            let problem = |message: String| Problem {
                file: chapter.to_path_buf(),
                line: link.line,
                message: format!("link `{}`: {message}", link.target),
            };
            let target = if path.is_empty() {
                chapter.to_path_buf()
            } else {
                normalize(&dir.join(path))
            };
            if !target.starts_with(self.src_dir) {
                problems.push(problem(format!(
                    "points outside {} (only files there are part of the book)",
                    self.src_dir.display()
                )));
                continue;
            }
            if !target.exists() {
                problems.push(problem("no such file".to_string()));
                continue;
            }
            let is_markdown = target.extension().is_some_and(|ext| ext == "md");
            if is_markdown && !self.chapters.contains(&target) {
                problems.push(problem(
                    "not a chapter of SUMMARY.md, so it has no page".to_string(),
                ));
                continue;
            }
            // mdBook turns a chapter README.md into index.html but rewrites
            // a link to it as README.html, a page that does not exist.
            let is_readme = target
                .file_name()
                .is_some_and(|name| name.eq_ignore_ascii_case("README.md"));
            if is_readme && !path.is_empty() {
                problems.push(problem(
                    "mdBook renders README.md as index.html but links it as README.html; \
                     link to another page of that part"
                        .to_string(),
                ));
                continue;
            }
            if let (Some(fragment), true) = (fragment, is_markdown) {
                let ids = match fs::read_to_string(&target) {
                    Ok(page) => heading_ids(&page),
                    Err(_) => HashSet::new(),
                };
                if !ids.contains(fragment) {
                    problems.push(problem(format!("no heading with id `{fragment}` there")));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// `{{#include}}` and friends

/// One `{{#name argument}}` directive in a chapter.
#[derive(Debug, PartialEq, Eq)]
struct Directive<'a> {
    /// The line (from 1) where `{{` is.
    line: usize,
    /// `include`, `rustdoc_include`, `playground`, `title`, …
    name: &'a str,
    /// Everything between the name and `}}`: the path, and for a playground
    /// its attributes.
    argument: &'a str,
    /// The whole directive as written, for messages.
    text: &'a str,
}

/// Finds the directives of a Markdown text exactly where mdBook's regex
/// does: `{{`, optional whitespace, `#`, a name of `[A-Za-z0-9_]`, at least
/// one whitespace, then anything but `}` up to `}}`. Includes are expanded
/// everywhere, inside code blocks too, so code blocks are not skipped here.
/// `\{{#…}}` is an escape: mdBook drops the backslash and keeps the rest
/// (through the last `}}` on that line) as text.
fn directives(text: &str) -> Vec<Directive<'_>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{") {
        let start = from + offset;
        let escaped = text[..start].ends_with('\\') && text[start + 2..].starts_with('#');
        if escaped {
            let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            from = match text[start..line_end].rfind("}}") {
                Some(close) => start + close + 2,
                None => start + 2,
            };
            continue;
        }
        match parse_directive(&text[start..]) {
            Some((name, argument, len)) => {
                found.push(Directive {
                    line: line_of(text, start),
                    name,
                    argument,
                    text: &text[start..start + len],
                });
                from = start + len;
            }
            None => from = start + 2,
        }
    }
    found
}

/// Parses a directive at the start of `text` (which starts with `{{`):
/// returns its name, its argument and its length in bytes.
fn parse_directive(text: &str) -> Option<(&str, &str, usize)> {
    let after_braces = &text[2..];
    let after_space = after_braces.trim_start();
    let after_hash = after_space.strip_prefix('#')?;
    let name_len = after_hash
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_hash.len());
    let (name, rest) = after_hash.split_at(name_len);
    // At least one whitespace character between the name and the argument.
    if name.is_empty() || !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let argument_start = rest.len() - rest.trim_start().len();
    let argument_len = rest.find('}')?;
    if argument_len <= argument_start || !rest[argument_len..].starts_with("}}") {
        return None;
    }
    let argument = &rest[argument_start..argument_len];
    let len = text.len() - rest.len() + argument_len + 2;
    Some((name, argument, len))
}

/// The part of a file an include asks for, as mdBook reads `path:spec`.
#[derive(Debug, PartialEq, Eq)]
enum Selection {
    /// `path` alone (or `path:` / `path::`): the whole file.
    Whole,
    /// `path:name`: the lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
    /// `path:a`, `path:a:b`, `path:a:`, `path::b`: lines `first..=last`,
    /// numbered from 1; `None` is the file's start or end.
    Lines {
        /// The first line, from 1 (`None`: line 1).
        first: Option<usize>,
        /// The last line, inclusive (`None`: the file's last line).
        last: Option<usize>,
    },
}

impl Selection {
    /// Reads the part after the path's first `:` the way mdBook's
    /// `parse_range_or_anchor` does (a first field that is not a number is
    /// an anchor; an end that is not a number means "to the end").
    fn parse(spec: Option<&str>) -> Selection {
        let Some(spec) = spec else {
            return Selection::Whole;
        };
        let mut fields = spec.splitn(3, ':');
        let first_field = fields.next().unwrap_or("");
        let first = match first_field.parse::<usize>() {
            Ok(line) => Some(line),
            Err(_) if first_field.is_empty() => None,
            Err(_) => return Selection::Anchor(first_field.to_string()),
        };
        let last = match fields.next() {
            // `path:a` is the one line `a`.
            None => first,
            Some(field) => field.parse::<usize>().ok(),
        };
        match (first, last) {
            (None, None) => Selection::Whole,
            (first, last) => Selection::Lines { first, last },
        }
    }
}

/// The text an include would insert, or why it would insert nothing (or
/// less than it says).
fn select(content: &str, selection: &Selection) -> Result<String, String> {
    let selected = match selection {
        Selection::Whole => content.to_string(),
        Selection::Anchor(name) => select_anchor(content, name)?,
        Selection::Lines { first, last } => select_lines(content, *first, *last)?,
    };
    if selected.trim().is_empty() {
        return Err(match selection {
            Selection::Anchor(name) => format!("anchor `{name}` encloses nothing"),
            _ => "selects nothing but blank lines".to_string(),
        });
    }
    Ok(selected)
}

/// An insta snapshot (`*.snap`) starts with a YAML header between two `---`
/// lines (source, expression), which is not part of what the code produced.
/// The book shows snapshots as proof of the bytes, so an include of one must
/// start after that header: a line range whose first line is past it.
fn skips_snapshot_header(path: &Path, content: &str, selection: &Selection) -> Result<(), String> {
    if path.extension().is_none_or(|ext| ext != "snap") {
        return Ok(());
    }
    let mut lines = content.lines();
    if lines.next() != Some("---") {
        return Ok(());
    }
    let Some(closing) = lines.position(|line| line == "---") else {
        return Ok(());
    };
    // Line numbers from 1: the opening `---` is line 1, the closing one
    // `closing + 2`.
    let header_end = closing + 2;
    let first = match selection {
        Selection::Whole => 1,
        Selection::Lines { first, .. } => first.unwrap_or(1),
        // An anchor in a snapshot would be odd, but it cannot select the header.
        Selection::Anchor(_) => return Ok(()),
    };
    if first <= header_end {
        return Err(format!(
            "is an insta snapshot whose header ends at line {header_end}; \
             include from line {} (`:{}:`)",
            header_end + 1,
            header_end + 1
        ));
    }
    Ok(())
}

/// Lines `first..=last` (from 1), refusing a range that leaves the file.
fn select_lines(
    content: &str,
    first: Option<usize>,
    last: Option<usize>,
) -> Result<String, String> {
    let count = content.lines().count();
    let first = first.unwrap_or(1);
    if first == 0 {
        return Err("line numbers start at 1".to_string());
    }
    if first > count {
        return Err(format!("starts at line {first} but has {count} lines"));
    }
    let last = last.unwrap_or(count);
    if last > count {
        return Err(format!("ends at line {last} but has {count} lines"));
    }
    if last < first {
        return Err(format!("range {first}..={last} is empty"));
    }
    let lines: Vec<&str> = content
        .lines()
        .skip(first - 1)
        .take(last + 1 - first)
        .collect();
    Ok(lines.join("\n"))
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without any
/// anchor lines nested inside (mdBook's `take_anchored_lines`), refusing a
/// missing start or end.
fn select_anchor(content: &str, name: &str) -> Result<String, String> {
    let mut lines = content.lines().enumerate();
    let start_line = lines
        .by_ref()
        .find(|(_, line)| anchor_name(line, "ANCHOR:") == Some(name))
        .map(|(index, _)| index + 1)
        .ok_or_else(|| format!("has no `ANCHOR: {name}`"))?;
    let mut kept = Vec::new();
    for (_, line) in lines {
        if anchor_name(line, "ANCHOR_END:") == Some(name) {
            return Ok(kept.join("\n"));
        }
        let is_other_anchor =
            anchor_name(line, "ANCHOR:").is_some() || anchor_name(line, "ANCHOR_END:").is_some();
        if !is_other_anchor {
            kept.push(line);
        }
    }
    Err(format!(
        "has `ANCHOR: {name}` (line {start_line}) but no `ANCHOR_END: {name}`"
    ))
}

/// The anchor name after `marker` on a line (`ANCHOR:\s*([\w-]+)`).
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let after = line[line.find(marker)? + marker.len()..].trim_start();
    let len = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(after.len());
    (len > 0).then(|| &after[..len])
}

// ---------------------------------------------------------------------------
// Links and headings

/// A link target found in Markdown, with its line.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    /// The line (from 1) the link is on.
    line: usize,
    /// The target as written: `other.md#frag`, `#frag`, `https://…`.
    target: String,
}

/// The targets of inline links `[text](target)`, images `![alt](target)`
/// and reference definitions `[label]: target`, outside fenced code blocks
/// and inline code. Empty targets (mdBook's draft chapters) are left out.
fn markdown_links(text: &str) -> Vec<Link> {
    let mut links = Vec::new();
    for (index, line) in prose_lines(text) {
        let line_number = index + 1;
        let line = blank_inline_code(line);
        let mut push = |target: &str| {
            if !target.is_empty() {
                links.push(Link {
                    line: line_number,
                    target: target.to_string(),
                });
            }
        };
        if let Some(target) = reference_definition(&line) {
            push(target);
            continue;
        }
        let mut rest = line.as_str();
        while let Some(open) = rest.find("](") {
            let after = &rest[open + 2..];
            let target = link_target(after);
            push(target);
            rest = after;
        }
    }
    links
}

/// The lines of a Markdown text that are not inside a fenced code block
/// (``` or ~~~, closed by a fence of the same character at least as long),
/// with their indexes from 0.
fn prose_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fence: Option<(char, usize)> = None;
    text.lines().enumerate().filter(move |(_, line)| {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let opens = ['`', '~'].into_iter().find_map(|c| {
            let run = trimmed.len() - trimmed.trim_start_matches(c).len();
            (indent <= 3 && run >= 3).then_some((c, run))
        });
        match (fence, opens) {
            (None, Some(opened)) => {
                fence = Some(opened);
                false
            }
            (None, None) => true,
            (Some((c, len)), Some((c2, len2))) if c == c2 && len2 >= len => {
                let is_bare = trimmed.trim_start_matches(c).trim().is_empty();
                if is_bare {
                    fence = None;
                }
                false
            }
            (Some(_), _) => false,
        }
    })
}

/// The line with each inline code span (`` `…` ``, matched by a run of
/// backticks of the same length) replaced by spaces.
fn blank_inline_code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..open]);
        let run = rest[open..].len() - rest[open..].trim_start_matches('`').len();
        let after = &rest[open + run..];
        let fence = &rest[open..open + run];
        match after.find(fence) {
            Some(close) => {
                out.extend(std::iter::repeat_n(' ', run + close + run));
                rest = &after[close + run..];
            }
            None => {
                out.push_str(fence);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[label]: target` at the start of a line (not a footnote `[^x]:`).
fn reference_definition(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 || !trimmed.starts_with('[') || trimmed.starts_with("[^") {
        return None;
    }
    let close = trimmed.find("]:")?;
    let target = trimmed[close + 2..].split_whitespace().next()?;
    Some(target.trim_start_matches('<').trim_end_matches('>'))
}

/// The target at the start of the text after `](`: `<…>`, or up to
/// whitespace or the `)` that balances the opening one.
fn link_target(after: &str) -> &str {
    if let Some(bracketed) = after.strip_prefix('<') {
        return bracketed.find('>').map_or("", |end| &bracketed[..end]);
    }
    let mut depth = 0usize;
    for (index, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return &after[..index],
            ')' => depth -= 1,
            c if c.is_whitespace() => return &after[..index],
            _ => {}
        }
    }
    after
}

/// True for targets mdBook leaves alone: `https://…`, `mailto:…` (any URL
/// scheme), and site-absolute paths.
fn is_external(target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let Some(colon) = target.find(':') else {
        return false;
    };
    let scheme = &target[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The ids mdBook's HTML renderer gives the headings of a page: an explicit
/// `{#id}`, or the heading's text lowercased, whitespace turned into `-`,
/// everything but letters, digits, `_` and `-` dropped, and `-1`, `-2`, …
/// appended to repeats (mdbook-html's `id_from_content` and `unique_id`).
/// Inline Markdown in the heading is reduced to its text first: code
/// backticks and `*` go, a link keeps its text.
fn heading_ids(page: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut previous: Option<&str> = None;
    for (_, line) in prose_lines(page) {
        let heading = atx_heading(line).or_else(|| {
            let underline = line.trim();
            let is_setext = (!underline.is_empty() && underline.chars().all(|c| c == '='))
                || (underline.len() >= 3 && underline.chars().all(|c| c == '-'));
            previous.filter(|p| is_setext && !p.trim().is_empty() && atx_heading(p).is_none())
        });
        previous = Some(line);
        let Some(heading) = heading else { continue };
        let heading = heading.trim();
        let id = match explicit_id(heading) {
            Some(id) => id.to_string(),
            None => id_from_text(&heading_text(heading)),
        };
        let mut unique = id.clone();
        let mut counter = 1;
        while !ids.insert(unique.clone()) {
            unique = format!("{id}-{counter}");
            counter += 1;
        }
    }
    ids
}

/// The text of an ATX heading (`## Text ##`), if the line is one.
fn atx_heading(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.len() - trimmed.trim_start_matches('#').len();
    let rest = &trimmed[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    // A closing run of `#` after a space is decoration, not text.
    let rest = rest.trim_end();
    let without_closing = rest.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        Some(without_closing)
    } else {
        Some(rest)
    }
}

/// `{#id}` at the end of a heading (pulldown-cmark's heading attributes).
fn explicit_id(heading: &str) -> Option<&str> {
    let attributes = heading.strip_suffix('}')?;
    let open = attributes.rfind('{')?;
    attributes[open + 1..]
        .split_whitespace()
        .find_map(|attribute| attribute.strip_prefix('#'))
}

/// A heading's text with each link `[text](url)` reduced to `[text]`
/// (the brackets, like backticks and `*`, are dropped with the rest of the
/// punctuation by [`id_from_text`]).
fn heading_text(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find("](") {
        text.push_str(&rest[..=open]);
        let after = &rest[open + 2..];
        let after_target = &after[link_target(after).len()..];
        rest = after_target.strip_prefix(')').unwrap_or(after_target);
    }
    text.push_str(rest);
    text
}

/// mdbook-html's `id_from_content`.
fn id_from_text(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Paths

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// `path` with `.` and `..` resolved without touching the file system, so
/// `book/src/layer2/../lab.md` and `book/src/lab.md` compare equal.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A throwaway book: `src/SUMMARY.md`, chapters, and a crate file to
    /// include, in a fresh directory under the system's temp dir.
    struct TempBook {
        root: PathBuf,
    }

    impl TempBook {
        fn new() -> TempBook {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "rawstack-book-check-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let book = TempBook { root };
            book.write(
                "code/lib.rs",
                "fn outside() {}\n\
                 // ANCHOR: greeting\n\
                 fn hello() {}\n\
                 // ANCHOR_END: greeting\n\
                 // ANCHOR: nothing\n\
                 \n\
                 // ANCHOR_END: nothing\n\
                 // ANCHOR: unfinished\n\
                 fn bye() {}\n",
            );
            book.write(
                "src/SUMMARY.md",
                "# Summary\n\n[Intro](intro.md)\n\
                 - [Part](part/README.md)\n    - [Page](part/page.md)\n- [Later]()\n",
            );
            book.write("src/part/README.md", "# The part\n");
            book.write("src/part/page.md", "# The page\n\n## Second heading\n");
            book
        }

        fn write(&self, relative: &str, text: &str) {
            let path = self.root.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        /// Writes `intro.md` and returns the problems the check finds.
        fn problems_with_intro(&self, intro: &str) -> Vec<Problem> {
            self.write("src/intro.md", intro);
            check_book(&self.root.join("src")).problems
        }
    }

    impl Drop for TempBook {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn good_includes_and_links_pass() {
        let book = TempBook::new();
        let problems = book.problems_with_intro(
            "# Intro\n\
             {{#include ../code/lib.rs:greeting}}\n\
             {{#rustdoc_include ../code/lib.rs:greeting}}\n\
             {{#include ../code/lib.rs:1:3}}\n\
             {{#include ../code/lib.rs::2}}\n\
             {{#include ../code/lib.rs}}\n\
             Shown, not run: \\{{#include nowhere.rs:nothing}}\n\
             See [the page](part/page.md#second-heading), [above](#intro)\n\
             and [the web](https://example.invalid/x.md).\n\
             ```\n[not a link](missing.md) {{#title T}}\n```\n\
             `[also not](missing.md)`\n",
        );
        assert_eq!(problems, vec![]);
        let report = check_book(&book.root.join("src"));
        assert!(report.inputs.contains(&book.root.join("code/lib.rs")));
        assert!(report.inputs.contains(&book.root.join("src/part/page.md")));
    }

    /// The one problem a chapter produces, as `line: message`.
    fn only_problem(problems: &[Problem]) -> String {
        assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
        format!("{}: {}", problems[0].line, problems[0].message)
    }

    #[test]
    fn missing_file_fails() {
        let book = TempBook::new();
        let problems =
            book.problems_with_intro("# Intro\n\n{{#include ../code/nope.rs:greeting}}\n");
        let problem = only_problem(&problems);
        assert!(
            problem.starts_with("3: {{#include ../code/nope.rs:greeting}}: cannot read"),
            "{problem}"
        );
        assert_eq!(problems[0].file, book.root.join("src/intro.md"));
    }

    #[test]
    fn missing_anchor_fails() {
        let book = TempBook::new();
        let problems = book.problems_with_intro("# Intro\n{{#include ../code/lib.rs:greting}}\n");
        assert_eq!(
            only_problem(&problems),
            "2: {{#include ../code/lib.rs:greting}}: `../code/lib.rs` has no `ANCHOR: greting`"
        );
    }

    #[test]
    fn empty_anchor_fails() {
        let book = TempBook::new();
        let problems = book.problems_with_intro("# Intro\n{{#include ../code/lib.rs:nothing}}\n");
        assert!(only_problem(&problems).ends_with("anchor `nothing` encloses nothing"));
    }

    #[test]
    fn unterminated_anchor_fails() {
        let book = TempBook::new();
        let problems =
            book.problems_with_intro("# Intro\n{{#rustdoc_include ../code/lib.rs:unfinished}}\n");
        assert!(only_problem(&problems).ends_with("no `ANCHOR_END: unfinished`"));
    }

    #[test]
    fn line_range_outside_the_file_fails() {
        let book = TempBook::new();
        let problems = book.problems_with_intro(
            "# Intro\n{{#include ../code/lib.rs:5:12}}\n{{#include ../code/lib.rs:40}}\n",
        );
        let messages: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect();
        assert_eq!(
            messages,
            [
                "2: {{#include ../code/lib.rs:5:12}}: `../code/lib.rs` ends at line 12 but has 9 lines",
                "3: {{#include ../code/lib.rs:40}}: `../code/lib.rs` starts at line 40 but has 9 lines",
            ]
        );
    }

    #[test]
    fn bad_links_fail() {
        let book = TempBook::new();
        book.write("src/unlisted.md", "# Unlisted\n");
        let problems = book.problems_with_intro(
            "# Intro\n\
             [gone](gone.md)\n\
             [no heading](part/page.md#third-heading)\n\
             [not in summary](unlisted.md)\n\
             [escapes](../code/lib.rs)\n\
             [no heading here](#outro)\n\
             [index page](part/README.md)\n",
        );
        let found: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(found.len(), 6, "{problems:#?}");
        assert_eq!(found[0], (2, "link `gone.md`: no such file"));
        assert_eq!(found[1].0, 3);
        assert!(found[1].1.contains("no heading with id `third-heading`"));
        assert_eq!(
            found[2],
            (
                4,
                "link `unlisted.md`: not a chapter of SUMMARY.md, so it has no page"
            )
        );
        assert_eq!(found[3].0, 5);
        assert!(found[3].1.contains("points outside"));
        assert_eq!(
            found[4],
            (6, "link `#outro`: no heading with id `outro` there")
        );
        assert_eq!(found[5].0, 7);
        assert!(found[5].1.contains("README.html"));
    }

    #[test]
    fn missing_chapter_in_summary_fails() {
        let book = TempBook::new();
        book.write("src/intro.md", "# Intro\n");
        book.write(
            "src/SUMMARY.md",
            "# Summary\n\n[Intro](intro.md)\n- [Gone](gone.md)\n",
        );
        let problems = check_book(&book.root.join("src")).problems;
        assert_eq!(
            only_problem(&problems),
            "4: chapter file `gone.md` does not exist"
        );
    }

    #[test]
    fn snapshot_includes_must_skip_the_header() {
        let book = TempBook::new();
        book.write(
            "code/dump.snap",
            "---\nsource: tests/x.rs\nexpression: dump\n---\n0000  ff ff\n0002  08 06\n",
        );
        let problems = book.problems_with_intro(
            "# Intro\n\
             {{#include ../code/dump.snap:5:}}\n\
             {{#include ../code/dump.snap}}\n\
             {{#include ../code/dump.snap:4:}}\n",
        );
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4], "{problems:#?}");
        assert!(
            problems[0]
                .message
                .ends_with("header ends at line 4; include from line 5 (`:5:`)")
        );
    }

    #[test]
    fn misspelled_directive_fails() {
        let book = TempBook::new();
        let problems = book.problems_with_intro("# Intro\n{{#inclde ../code/lib.rs}}\n");
        assert!(only_problem(&problems).contains("unknown directive `{{#inclde}}`"));
    }

    #[test]
    fn selections_read_like_mdbook() {
        assert_eq!(Selection::parse(None), Selection::Whole);
        assert_eq!(Selection::parse(Some("")), Selection::Whole);
        assert_eq!(
            Selection::parse(Some("name")),
            Selection::Anchor("name".into())
        );
        assert_eq!(
            Selection::parse(Some("4")),
            Selection::Lines {
                first: Some(4),
                last: Some(4)
            }
        );
        assert_eq!(
            Selection::parse(Some("4:")),
            Selection::Lines {
                first: Some(4),
                last: None
            }
        );
        assert_eq!(
            Selection::parse(Some(":9")),
            Selection::Lines {
                first: None,
                last: Some(9)
            }
        );
        let text = "a\nb\nc\nd";
        assert_eq!(
            select(text, &Selection::parse(Some("2:3"))).unwrap(),
            "b\nc"
        );
        assert_eq!(select(text, &Selection::parse(Some("3:"))).unwrap(), "c\nd");
        assert!(select(text, &Selection::parse(Some("3:2"))).is_err());
        assert!(select(text, &Selection::parse(Some("0"))).is_err());
    }

    #[test]
    fn nested_anchor_lines_are_dropped() {
        let text = "// ANCHOR: outer\na\n// ANCHOR: inner\nb\n// ANCHOR_END: inner\n// ANCHOR_END: outer\n";
        assert_eq!(select_anchor(text, "outer").unwrap(), "a\nb");
        assert_eq!(select_anchor(text, "inner").unwrap(), "b");
        // `ANCHOR: inner_more` is a different anchor, not `inner`.
        assert!(
            select_anchor(
                "// ANCHOR: inner_more\nx\n// ANCHOR_END: inner_more\n",
                "inner"
            )
            .is_err()
        );
    }

    #[test]
    fn heading_ids_match_mdbook() {
        let ids = heading_ids(
            "# The `Device` trait\n\
             ## IPv4 & ARP: [RFC 826](https://x)\n\
             ## Repeat\n## Repeat\n\
             ## Custom {#my-id}\n\
             Setext\n======\n\
             ```\n# not a heading\n```\n",
        );
        let mut ids: Vec<_> = ids.into_iter().collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "ipv4--arp-rfc-826",
                "my-id",
                "repeat",
                "repeat-1",
                "setext",
                "the-device-trait"
            ]
        );
    }

    #[test]
    fn directives_are_found_where_mdbook_finds_them() {
        let found =
            directives("x {{ #include a.rs:n }} y {{#title T}} {{not one}} \\{{#include b}}");
        let names: Vec<_> = found.iter().map(|d| (d.name, d.argument)).collect();
        assert_eq!(names, [("include", "a.rs:n "), ("title", "T")]);
    }
}
