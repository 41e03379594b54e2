// SPDX-License-Identifier: MIT OR Apache-2.0
//! The import graph of a crate's modules, read from its sources: which
//! module uses which (`crate::a::b` and `super::` paths, `use crate::{..}`
//! groups; comments and doc links do not count), and any cycle in it. A
//! module's use of its own ancestors or descendants is not an edge: the
//! check is about modules calling each other sideways in a loop.

use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path (`a::b`, `""` for the crate root) → the modules it uses.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// Reads the module graph of the crate whose root file is `src/<root>`
/// (`lib.rs`, `main.rs`); the files and folders in `skip` (e.g. `bin`,
/// `main.rs` beside a `lib.rs`) are other crates and left out.
pub fn graph(src: &Path, skip: &[&str]) -> Result<Graph> {
    let mut files = Vec::new();
    collect(src, src, skip, &mut files)?;
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut g = Graph::new();
    for (module, text) in &files {
        let uses = paths(&strip_comments(text), module)
            .into_iter()
            .filter_map(|p| resolve(&modules, &p))
            .filter(|d| !related(module, d))
            .collect();
        g.insert(module.clone(), uses);
    }
    Ok(g)
}

fn collect(src: &Path, dir: &Path, skip: &[&str], out: &mut Vec<(String, String)>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        let rel = path.strip_prefix(src).expect("below src");
        if skip.iter().any(|s| rel == Path::new(s)) {
            continue;
        }
        if e.file_type()?.is_dir() {
            {
                collect(src, &path, skip, out)?;
            }
            continue;
        }
        if path.extension().is_some_and(|x| x == "rs") {
            let text = fs::read_to_string(&path)?;
            out.push((module_of(rel), text));
        }
    }
    Ok(())
}

/// `a/b.rs` and `a/b/mod.rs` → `a::b`; `lib.rs`, `main.rs` → `""`.
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The text without `//` comments (doc comments included) and string
/// literals' contents, so that only code counts.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = '\0';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str {
                kept.push(c);
            }
            prev = c;
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// Every module path the code names from the crate root, as segments:
/// `crate::a::b::C`, the items of `use crate::{a::b, c}`, and `super::`
/// paths resolved against `module`.
fn paths(code: &str, module: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find("};").or_else(|| group.find('}')).unwrap_or(0);
            for item in group[..end].split(',') {
                let seg = segments(item.trim());
                if !seg.is_empty() {
                    found.push(seg);
                }
            }
        } else {
            found.push(segments(after));
        }
        rest = after;
    }
    let parent: Vec<String> = {
        let mut p: Vec<String> = module.split("::").map(str::to_string).collect();
        p.pop();
        p.retain(|s| !s.is_empty());
        p
    };
    let mut rest = code;
    while let Some(i) = rest.find("super::") {
        let before = rest[..i].chars().last();
        let after = &rest[i + "super::".len()..];
        if !before.is_some_and(|c| c == ':' || c.is_alphanumeric() || c == '_') {
            let mut seg = parent.clone();
            seg.extend(segments(after));
            found.push(seg);
        }
        rest = after;
    }
    found
}

/// `a::b::C(...)` → `["a", "b", "C"]`.
fn segments(s: &str) -> Vec<String> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    s[..end]
        .split("::")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// The longest module that `path` starts with.
fn resolve(modules: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Whether one module is the other or an ancestor of it.
fn related(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}::"))
    };
    within(a, b) || within(b, a)
}

/// A cycle of the graph (its modules, the first repeated at the end), if
/// there is one.
pub fn cycle(g: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        g: &Graph,
        n: &str,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match marks.get(d.as_str()) {
                Some(Mark::Open) => {
                    let start = stack.iter().position(|s| s == d).expect("open is stacked");
                    let mut c = stack[start..].to_vec();
                    c.push(d.clone());
                    return Some(c);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = visit(g, d, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in g.keys() {
        if !marks.contains_key(n) {
            if let Some(c) = visit(g, n, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// Checks that the crate below `src` has no import cycle; prints its edges
/// count. An error names the cycle.
pub fn check(name: &str, src: &Path, skip: &[&str]) -> Result<()> {
    let g = graph(src, skip)?;
    let edges: usize = g.values().map(BTreeSet::len).sum();
    if let Some(c) = cycle(&g) {
        bail!("{name}: import cycle {}", c.join(" -> "));
    }
    eprintln!(
        "    {name}: {} modules, {edges} imports between them, no cycle",
        g.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with(files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nlchan-imports-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = fs::remove_dir_all(&dir);
        for (f, text) in files {
            let p = dir.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn finds_a_loop_through_groups_and_super() {
        let dir = crate_with(&[
            ("lib.rs", "mod a; mod b; mod c;\n"),
            ("a.rs", "use crate::b::X;\n"),
            ("b.rs", "use crate::{c::Y, a};\n"),
            ("c/mod.rs", "mod d;\n"),
            ("c/d.rs", "fn f() { super::super::a::g() }\n"),
        ]);
        let g = graph(&dir, &[]).unwrap();
        assert_eq!(g["b"], BTreeSet::from(["a".to_string(), "c".to_string()]));
        let c = cycle(&g).expect("a -> b -> a");
        assert_eq!(c.first(), c.last());
        assert!(check("t", &dir, &[]).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn comments_strings_and_ancestors_are_not_edges() {
        let dir = crate_with(&[
            ("lib.rs", "mod a; mod b;\n"),
            (
                "a/mod.rs",
                "mod inner;\n/// see [`crate::b`]\nfn f() { let _ = \"crate::b\"; }\n",
            ),
            ("a/inner.rs", "use crate::a::Thing; use super::Other;\n"),
            ("b.rs", "use crate::a::inner::Z; // crate::a\n"),
        ]);
        let g = graph(&dir, &[]).unwrap();
        assert!(g["a"].is_empty(), "{:?}", g["a"]);
        assert!(g["a::inner"].is_empty(), "{:?}", g["a::inner"]);
        assert_eq!(g["b"], BTreeSet::from(["a::inner".to_string()]));
        assert!(cycle(&g).is_none());
        check("t", &dir, &[]).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_library_has_no_cycle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../app/src");
        check("app library", &src, &["bin", "main.rs"]).unwrap();
    }

    #[test]
    fn the_host_program_has_no_cycle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        check("host program", &src, &[]).unwrap();
    }
}
