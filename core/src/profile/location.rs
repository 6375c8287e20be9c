//! Where an error is: line, column and key path, from the spanned TOML document.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ProfileError;
use super::validate::{Problem, Seg, render_path};

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
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

/// The deepest key path whose key or value contains `offset`.
fn path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> String {
    fn walk_table(t: &DeTable<'_>, offset: usize, out: &mut String) {
        for (key, value) in t.iter() {
            let (k, v) = (key.span(), value.span());
            if k.contains(&offset) || v.contains(&offset) || (offset == v.end && v.end > v.start) {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key.get_ref());
                walk_value(value.get_ref(), offset, out);
                return;
            }
        }
    }
    fn walk_value(v: &DeValue<'_>, offset: usize, out: &mut String) {
        if let Some(t) = v.as_table() {
            walk_table(t, offset, out);
        } else if let Some(a) = v.as_array() {
            for (i, item) in a.iter().enumerate() {
                if item.span().contains(&offset) {
                    out.push_str(&format!("[{i}]"));
                    walk_value(item.get_ref(), offset, out);
                    return;
                }
            }
        }
    }
    let mut out = String::new();
    walk_table(doc.get_ref(), offset, &mut out);
    out
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
    let path = match (doc, err.span()) {
        (Some(doc), Some(_)) => path_at(doc, offset),
        _ => String::new(),
    };
    let mut message = err.message().trim().replace('\n', "; ");
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
    text: &str,
    doc: &Spanned<DeTable<'_>>,
    problem: Problem,
) -> ProfileError {
    let span = if problem.path.is_empty() {
        0..0
    } else {
        span_of(doc, &problem.path)
    };
    let (line, column) = line_column(text, span.start);
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
    }
}
