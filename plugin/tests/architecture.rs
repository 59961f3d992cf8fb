//! The plugin crate's architecture, checked from its sources: no file-level import cycles, and the
//! real-time modules import nothing from the editor, the worker or the parameters.
//!
//! An edge `a.rs → b.rs` is any `crate::…` or `super::…` path in `a.rs` (outside its test module)
//! that names a module in `b.rs`; a path is resolved to the longest module prefix that is a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, as its module path (`["realtime", "clock"]`) and its text.
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(path.file_name().unwrap().to_string_lossy().into_owned());
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut module = prefix.to_vec();
            if stem != "mod" && stem != "lib" {
                module.push(stem);
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules may import anything.
            let text = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            out.insert(module, text);
        }
    }
}

/// The module paths that `text` (the file of module `me`) names with `crate::` or `super::`.
fn paths(me: &[String], text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (root, base) in [
            ("crate::", Vec::new()),
            ("super::", me[..me.len().saturating_sub(1)].to_vec()),
        ] {
            let mut rest = code;
            while let Some(at) = rest.find(root) {
                let before = rest[..at].chars().last();
                rest = &rest[at + root.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let mut path = base.clone();
                for segment in rest.split("::") {
                    let name: String = segment
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if name.is_empty() || name.len() != segment.len() && !segment.starts_with(&name)
                    {
                        break;
                    }
                    path.push(name.clone());
                    if name.len() != segment.len() {
                        break;
                    }
                }
                found.push(path);
            }
        }
    }
    found
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    modules(&src, &[], &mut files);
    let mut edges = BTreeMap::new();
    for (module, text) in &files {
        let mut targets = BTreeSet::new();
        for path in paths(module, text) {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| files.contains_key(prefix))
                .unwrap();
            if &target != module && !module.starts_with(&target[..]) {
                targets.insert(target);
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

#[test]
fn the_graph_sees_known_edges() {
    let edges = graph();
    let name = |s: &str| s.split('/').map(String::from).collect::<Vec<_>>();
    assert!(edges[&name("worker")].contains(&name("realtime/queues")));
    assert!(edges[&name("realtime/queues")].contains(&name("realtime/player")));
    assert!(edges[&name("params")].contains(&name("editor/settings")));
}

#[test]
fn no_file_level_import_cycles() {
    let edges = graph();
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|n| n == node) {
            let cycle: Vec<String> = stack[at..].iter().map(|m| m.join("/")).collect();
            panic!("import cycle: {} → {}", cycle.join(" → "), node.join("/"));
        }
        stack.push(node.clone());
        for next in &edges[node] {
            visit(next, edges, stack, done);
        }
        stack.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn realtime_code_imports_nothing_from_the_editor_worker_or_parameters() {
    for (module, targets) in graph() {
        if module.first().is_some_and(|m| m == "realtime") {
            for target in targets {
                assert!(
                    target.first().is_some_and(|t| t == "realtime"),
                    "{} imports {}",
                    module.join("/"),
                    target.join("/")
                );
            }
        }
    }
}
