//! The layout's rules, checked on the source tree: the domain is pure, and no two modules
//! of `src/` need each other (a cycle means a seam in the wrong place). See
//! `docs/ARCHITECTURE.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The one cycle the design has: a supervisor spawns its actors, which report to it.
const ALLOWED_CYCLES: &[(&str, &str)] = &[("pipeline::account", "pipeline::supervisor")];

/// Crates the domain must not use: it decides, it does not talk to anything.
const IMPURE_CRATES: &[&str] = &["sea_orm", "sqlx", "tokio", "reqwest", "warp", "hyper"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`, with its module path (`pipeline::account`).
fn modules(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            modules(&path, &format!("{prefix}{name}::"), out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            out.push((format!("{prefix}{name}"), text));
        }
    }
}

fn all_modules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    modules(&src(), "", &mut out);
    // Test-only modules (`proptests.rs`, `tests.rs`) may use anything, as `mod tests` may.
    out.retain(|(name, _)| {
        name != "main" && name != "lib" && !name.ends_with("proptests") && !name.ends_with("tests")
    });
    out
}

/// The source without its `#[cfg(test)]` module: tests may use anything.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

#[test]
fn the_domain_uses_no_database_runtime_or_network_crate() {
    let mut found = Vec::new();
    for (name, text) in all_modules() {
        if name != "domain" && !name.starts_with("domain::") {
            continue;
        }
        for line in without_tests(&text).lines() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for krate in IMPURE_CRATES {
                if code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}")) {
                    found.push(format!("{name}: {code}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the domain must stay pure:\n{}",
        found.join("\n")
    );
}

/// The module a `crate::a::b::c` reference names, among `known` (the longest known prefix).
fn target_of(reference: &str, known: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = reference.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| known.contains(candidate))
}

/// `crate::...` and `super::...` references of a module, resolved to module paths.
fn references(name: &str, text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let parent = name.rsplit_once("::").map_or("", |(parent, _)| parent);
    let mut out = BTreeSet::new();
    // Comments may name any module; only code makes a dependency.
    let code: String = without_tests(text)
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (prefix, base) in [
        ("crate::", String::new()),
        ("super::", format!("{parent}::")),
    ] {
        for (at, _) in code.match_indices(prefix) {
            let rest: String = code[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let full = format!("{base}{}", rest.trim_end_matches(':'));
            let full = full.trim_start_matches("::").to_owned();
            if let Some(target) = target_of(&full, known) {
                out.insert(target);
            }
        }
    }
    out.remove(name);
    out
}

/// The sibling (or top-level module) of `from` that contains `to`, if they are not one
/// inside the other: the edges whose cycles matter.
fn sibling_edge(from: &str, to: &str) -> Option<(String, String)> {
    let a: Vec<&str> = from.split("::").collect();
    let b: Vec<&str> = to.split("::").collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == a.len() || common == b.len() {
        return None;
    }
    Some((a[..=common].join("::"), b[..=common].join("::")))
}

#[test]
fn no_two_modules_import_each_other() {
    let modules = all_modules();
    let known: BTreeSet<String> = modules.iter().map(|(name, _)| name.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &modules {
        for target in references(name, text, &known) {
            if let Some((from, to)) = sibling_edge(name, &target) {
                edges.entry(from).or_default().insert(to);
            }
        }
    }
    let allowed = |a: &str, b: &str| {
        ALLOWED_CYCLES
            .iter()
            .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
    };
    let mut cycles = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            if from < to && reaches(&edges, to, from) && !allowed(from, to) {
                cycles.push(format!("{from} <-> {to}"));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// Whether `to` is reachable from `from`.
fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node.clone()) {
            stack.extend(edges.get(&node).into_iter().flatten().cloned());
        }
    }
    false
}
