//! Where an error is: line, column and key path, from the spanned TOML document.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ProfileError;
use super::validate::{Problem, Seg, render_path};

/// Where each line of a text starts, found once: locating an error is then a binary search and
/// a count within its line, not a scan from the top (a profile with many errors stays linear).
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub(crate) fn new(text: &'t str) -> LineIndex<'t> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line.max(1), column)
    }
}

/// 1-based line and column of a byte offset (for a single error).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_column(offset)
}

/// Span of the value at `path`, or of the nearest enclosing value that exists.
fn span_of(doc: &Spanned<DeTable<'_>>, path: &[Seg]) -> Range<usize> {
    let mut span = doc.span();
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    for seg in path {
        let next: Option<&Spanned<DeValue<'_>>> = match seg {
            Seg::Key(k) => table.and_then(|t| {
                t.iter()
                    .find(|(key, _)| key.get_ref().as_ref() == *k)
                    .map(|(_, v)| v)
            }),
            Seg::Index(i) => array.and_then(|a| a.get(*i)),
        };
        let Some(value) = next else { break };
        span = value.span();
        table = value.get_ref().as_table();
        array = value.get_ref().as_array().map(|a| &a[..]);
    }
    span
}

/// The deepest key path at `offset`: the entry whose key or value contains it, or, for the
/// headers of `[table]` and `[[array]]` sections (whose spans cover only the header), the last
/// section that starts before it.
fn path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> String {
    fn walk_table(t: &DeTable<'_>, offset: usize, out: &mut String) {
        let direct = t.iter().find(|(key, value)| {
            let (k, v) = (key.span(), value.span());
            k.contains(&offset) || v.contains(&offset) || (offset == v.end && v.end > v.start)
        });
        let chosen = direct.or_else(|| {
            t.iter()
                .filter(|(key, value)| {
                    (value.get_ref().is_table() || value.get_ref().is_array())
                        && key.span().start <= offset
                })
                .max_by_key(|(key, _)| key.span().start)
        });
        if let Some((key, value)) = chosen {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key.get_ref());
            walk_value(value.get_ref(), offset, out);
        }
    }
    fn walk_value(v: &DeValue<'_>, offset: usize, out: &mut String) {
        if let Some(t) = v.as_table() {
            walk_table(t, offset, out);
        } else if let Some(a) = v.as_array() {
            let chosen = a
                .iter()
                .enumerate()
                .find(|(_, item)| item.span().contains(&offset))
                .or_else(|| {
                    a.iter()
                        .enumerate()
                        .filter(|(_, item)| item.span().start <= offset)
                        .max_by_key(|(_, item)| item.span().start)
                });
            if let Some((i, item)) = chosen {
                out.push_str(&format!("[{i}]"));
                walk_value(item.get_ref(), offset, out);
            }
        }
    }
    let mut out = String::new();
    walk_table(doc.get_ref(), offset, &mut out);
    out
}

/// What a port must be, in the words of every profile error about one.
pub(crate) const PORT_WORDS: &str = "a port number from 1 to 65535";

/// serde's words for types, in a profile author's words; `path` names the key, for the words
/// of a number that is a port or a status.
fn plain_types(message: &str, path: &str) -> String {
    let small = if path.ends_with("port") {
        format!("expected {PORT_WORDS}")
    } else if path.contains("expect_status") {
        "expected an HTTP status from 100 to 599".to_owned()
    } else {
        "expected a whole number from 0 to 65535".to_owned()
    };
    message
        .replace("expected f64", "expected a number")
        .replace("expected u16", &small)
        .replace("expected u32", "expected a whole number")
        .replace("expected u64", "expected a whole number")
        .replace("expected a boolean", "expected true or false")
}

/// The path of the table (or array element) enclosing `offset`, without the key there.
fn table_path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> String {
    let full = path_at(doc, offset);
    match full.rfind(['.', ']']) {
        Some(i) if full.as_bytes().get(i) == Some(&b']') => full[..=i].to_owned(),
        Some(i) => full[..i].to_owned(),
        None => String::new(),
    }
}

/// A syntax or type error from the TOML layer, made into our one-line form.
pub(crate) fn syntax_error(
    file: &str,
    text: &str,
    doc: Option<&Spanned<DeTable<'_>>>,
    err: &toml::de::Error,
) -> ProfileError {
    let offset = err.span().map_or(0, |s| s.start);
    let (line, column) = line_column(text, offset);
    let mut path = match (doc, err.span()) {
        (Some(doc), Some(_)) => path_at(doc, offset),
        _ => String::new(),
    };
    let mut message = plain_types(&err.message().trim().replace('\n', "; "), &path);
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
        .map(str::to_owned)
    {
        // serde points at the table the key is missing from; name the table, not its first key.
        path = doc.map(|d| table_path_at(d, offset)).unwrap_or_default();
        message = format!("missing required key `{field}`; see profiles/README.md");
    }
    if doc.is_none() {
        message = format!("TOML syntax: {message}");
    }
    ProfileError {
        file: file.to_owned(),
        line,
        column,
        path,
        message,
    }
}

/// A semantic problem, located in the file.
pub(crate) fn locate(
    file: &str,
    lines: &LineIndex<'_>,
    doc: &Spanned<DeTable<'_>>,
    problem: Problem,
) -> ProfileError {
    let span = if problem.path.is_empty() {
        0..0
    } else {
        span_of(doc, &problem.path)
    };
    let (line, column) = lines.line_column(span.start);
    ProfileError {
        file: file.to_owned(),
        line,
        column,
        path: render_path(&problem.path),
        message: problem.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        let off = text.find("= 2").unwrap_or(0);
        assert_eq!(line_column(text, off), (2, 4));
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) {
                let before = &text[..offset];
                let line = before.matches('\n').count() + 1;
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before[start..].chars().count() + 1;
                assert_eq!(index.line_column(offset), (line, column), "offset {offset}");
            }
        }
        assert_eq!(
            index.line_column(text.len() + 10),
            (3, 1),
            "past the end: the end"
        );
    }
}
