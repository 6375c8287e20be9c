//! The crates' shape: no import circle between the top-level modules of any crate. A module's
//! edges are the `crate::NAME` paths its files use (in `use` lines and in code; comments and
//! `#[cfg(test)]` modules left out); a folder is one module. A circle makes two modules one
//! room in all but name: move what both need into a third, or put them in one folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 6] = [
    "core",
    "engine",
    "agent",
    "bandwidth",
    "controller",
    "tests",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a file's text names through `crate::`.
fn names(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the first segment of each entry at depth one.
            let mut depth = 1;
            let mut entry = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        out.insert(ident(entry.trim()));
                        entry.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 {
                    entry.push(c);
                }
            }
            out.insert(ident(entry.trim()));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|n| !n.is_empty() && n != "self");
    out
}

/// Each top-level module of the crate in `src` and the top-level modules it names.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = first.trim_end_matches(".rs").to_owned();
        if matches!(top.as_str(), "lib" | "main" | "bin") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let entry = edges.entry(top.clone()).or_default();
        entry.extend(names(&text).into_iter().filter(|n| *n != top));
    }
    edges
}

/// A circle through the graph, if there is one, as the path that closes it.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        v: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(v.to_owned(), Mark::Open);
        path.push(v.to_owned());
        for w in edges.get(v).into_iter().flatten() {
            match marks.get(w) {
                Some(Mark::Open) => {
                    let from = path.iter().position(|p| p == w).unwrap_or(0);
                    let mut c = path[from..].to_vec();
                    c.push(w.clone());
                    return Some(c);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = visit(w, edges, marks, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        marks.insert(v.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for v in edges.keys() {
        if !marks.contains_key(v)
            && let Some(c) = visit(v, edges, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut circles = Vec::new();
    for krate in CRATES {
        let src = fitcheck_tests::browser::repo().join(krate).join("src");
        assert!(
            src.join("lib.rs").exists(),
            "{krate}: no crate at {}",
            src.display()
        );
        let edges = graph(&src);
        if let Some(c) = circle(&edges) {
            circles.push(format!("{krate}: {}", c.join(" → ")));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

/// The reading itself: grouped and nested imports, comments and test modules.
#[test]
fn the_reading_finds_grouped_imports_and_a_circle() {
    let text = "use crate::{a, b::c, d::{e, f}};\n// crate::commented\nfn x() { crate::g::h(); }\n#[cfg(test)]\nmod tests { use crate::tested; }\n";
    let found: Vec<String> = names(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "d", "g"]);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges
        .entry("app".into())
        .or_default()
        .insert("routes".into());
    edges
        .entry("routes".into())
        .or_default()
        .insert("admin".into());
    edges
        .entry("admin".into())
        .or_default()
        .insert("store".into());
    assert_eq!(circle(&edges), None);
    edges
        .entry("admin".into())
        .or_default()
        .insert("app".into());
    assert_eq!(
        circle(&edges),
        Some(vec![
            "admin".to_owned(),
            "app".to_owned(),
            "routes".to_owned(),
            "admin".to_owned()
        ])
    );
}
