//! The daemon's modules depend on each other one way. This test reads the
//! `use crate::` and `use super::` lines of every file under daemon/src and
//! fails on:
//! - a top-level module importing one listed after it in [`LAYERS`] (the
//!   order of `lib.rs`: mechanism, then what domains share, then domains,
//!   then operations and the outside);
//! - a cycle between two files of one folder (a folder's `mod.rs` is its
//!   facade: its children may use what it declares).

use crate::support::workspace;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules from the bottom up: each may import only those before it.
const LAYERS: &[&str] = &[
    "domain",
    "contract",
    "clock",
    "runtime",
    "rules",
    "store",
    "app",
    "decide",
    "tenancy",
    "ledger",
    "billing",
    "ipam",
    "licenses",
    "wholesale",
    "ops",
    "http",
    "net",
    "server",
    "replay",
];

/// A file's module path below `src/`: `billing/daily.rs` -> ["billing", "daily"],
/// `billing/mod.rs` -> ["billing"].
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The paths a file imports, from the crate root: `use crate::a::{b, c::d}` and
/// `use super::x` (resolved against the file's module), braces expanded one
/// level deep, which is as deep as the code goes.
fn imports(source: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut statement = String::new();
    for line in source.lines() {
        let line = line.trim();
        if line.starts_with("#[cfg(test)]") {
            break; // tests may reach anywhere
        }
        let starts = ["use ", "pub use ", "pub(crate) use "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        if statement.is_empty() {
            match starts {
                Some(rest) => statement.push_str(rest),
                None => continue,
            }
        } else {
            statement.push_str(line);
        }
        if !statement.ends_with(';') {
            continue;
        }
        let text: String = statement.drain(..).filter(|c| !c.is_whitespace()).collect();
        let text = text.trim_end_matches(';');
        // What the file's `super` is: `module_of` already dropped a
        // `mod.rs`'s own name, so it is the parent module either way.
        let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        let (base, rest) = if let Some(rest) = text.strip_prefix("crate::") {
            (Vec::new(), rest)
        } else if let Some(rest) = text.strip_prefix("super::") {
            (parent, rest)
        } else {
            continue;
        };
        let (head, group) = match rest.find('{') {
            Some(i) => (&rest[..i], rest[i + 1..].trim_end_matches('}')),
            None => (rest, ""),
        };
        let head: Vec<String> = head
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut prefix = base.clone();
        prefix.extend(head);
        if group.is_empty() {
            out.push(prefix);
        } else {
            // Split the group on top-level commas only.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars().chain(std::iter::once(',')) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 && item.is_empty() => continue,
                    ',' if depth == 0 => {
                        let mut path = prefix.clone();
                        path.extend(
                            item.split("::")
                                .take_while(|s| !s.starts_with('{'))
                                .filter(|s| !s.is_empty() && *s != "self")
                                .map(str::to_string),
                        );
                        out.push(path);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_depend_on_each_other_one_way() {
    let src = workspace().join("daemon/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    // Within a folder: child file -> sibling child files it imports.
    let mut siblings = Graph::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        if rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        let module = module_of(rel);
        let is_mod_rs = rel.file_name().is_some_and(|f| f == "mod.rs");
        let source = std::fs::read_to_string(file).unwrap();
        let top = &module[0];
        let Some(rank) = LAYERS.iter().position(|l| l == top) else {
            problems.push(format!(
                "{}: top-level module {top} is not in LAYERS",
                rel.display()
            ));
            continue;
        };
        for path in imports(&source, &module) {
            let Some(target) = path.first() else { continue };
            if target != top {
                match LAYERS.iter().position(|l| l == target) {
                    Some(r) if r < rank => {}
                    Some(_) => problems.push(format!(
                        "{}: {top} imports {} from a layer above it",
                        rel.display(),
                        path.join("::")
                    )),
                    None => {}
                }
                continue;
            }
            // Same top-level module: an edge between two children of one
            // folder, if both are files below the same parent.
            if is_mod_rs || module.len() < 2 || path.len() < module.len() {
                continue;
            }
            let folder = &module[..module.len() - 1];
            if path[..folder.len()] != *folder {
                continue;
            }
            let sibling = path[..module.len()].to_vec();
            let exists = {
                let mut p = src.join(sibling.join("/"));
                p.set_extension("rs");
                p.exists() || src.join(sibling.join("/")).join("mod.rs").exists()
            };
            if sibling != module && exists {
                siblings.entry(module.clone()).or_default().insert(sibling);
            }
        }
    }
    if let Some(cycle) = find_cycle(&siblings) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        problems.push(format!("import cycle: {}", names.join(" -> ")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// A cycle in `graph`, as the modules along it (first one repeated last).
fn find_cycle(graph: &Graph) -> Option<Vec<Vec<String>>> {
    fn visit(
        graph: &Graph,
        node: &Vec<String>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if !done.insert(node.clone()) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn a_cycle_of_three_is_found() {
    let m = |s: &str| vec![s.to_string()];
    let mut graph = Graph::new();
    graph.entry(m("a")).or_default().insert(m("b"));
    graph.entry(m("b")).or_default().insert(m("c"));
    assert_eq!(find_cycle(&graph), None);
    graph.entry(m("c")).or_default().insert(m("a"));
    assert_eq!(
        find_cycle(&graph),
        Some(vec![m("a"), m("b"), m("c"), m("a")])
    );
}

#[test]
fn the_import_reader_sees_groups_and_super() {
    let module = vec!["billing".to_string(), "daily".to_string()];
    let found = imports(
        "use super::facts::{current, save};\nuse crate::app::{\n    daily::DailyReport,\n    ApiError,\n};\nuse std::fmt;\n#[cfg(test)]\nuse crate::http;\n",
        &module,
    );
    let found: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        found,
        [
            "billing::facts::current",
            "billing::facts::save",
            "app::daily::DailyReport",
            "app::ApiError"
        ]
    );
}
