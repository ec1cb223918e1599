//! `docs/CONFIGURATION.md` stays in sync with `config/default.toml`: the "Keys" table lists
//! every key of the file and nothing else, each with its environment variable (the key in
//! upper case, as `Settings::load` reads it) and the file's default value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Toml};
use figment::value::{Dict, Value};

const DEFAULTS: &str = "config/default.toml";
const DOC: &str = "docs/CONFIGURATION.md";
const SECTION: &str = "## Keys";

/// One row of the doc's "Keys" table.
struct Row {
    variable: String,
    default: String,
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {relative}: {err}"))
}

/// Every key of `config/default.toml` with its value as the doc writes it.
fn default_keys() -> BTreeMap<String, String> {
    let dict: Dict = Figment::from(Toml::string(&read(DEFAULTS)))
        .extract()
        .unwrap_or_else(|err| panic!("{DEFAULTS} does not parse: {err}"));
    dict.into_iter()
        .map(|(key, value)| {
            let shown = match value {
                Value::String(_, text) if text.is_empty() => "\"\"".to_owned(),
                Value::String(_, text) => text,
                Value::Num(_, number) => number
                    .to_u128()
                    .map(|n| n.to_string())
                    .or_else(|| number.to_i128().map(|n| n.to_string()))
                    .or_else(|| number.to_f64().map(|n| n.to_string()))
                    .unwrap_or_else(|| panic!("{DEFAULTS}: `{key}` is not a number")),
                Value::Bool(_, flag) => flag.to_string(),
                other => panic!("{DEFAULTS}: `{key}` has a value the doc cannot show: {other:?}"),
            };
            (key, shown)
        })
        .collect()
}

/// The rows of the table in the doc's "Keys" section, by key.
fn documented_keys() -> BTreeMap<String, Row> {
    let doc = read(DOC);
    let section = doc
        .split_once(&format!("\n{SECTION}\n"))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{DOC} has no `{SECTION}` section"));
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells
            .first()
            .is_some_and(|cell| *cell == "key" || cell.starts_with("---"))
        {
            continue;
        }
        let [key, variable, default, _meaning] = cells[..] else {
            panic!("{DOC}: a row of the keys table does not have 4 cells: {line}");
        };
        let unquote = |cell: &str| {
            cell.strip_prefix('`')
                .and_then(|cell| cell.strip_suffix('`'))
                .unwrap_or_else(|| panic!("{DOC}: `{cell}` should be in backticks: {line}"))
                .to_owned()
        };
        let row = Row {
            variable: unquote(variable),
            default: unquote(default),
        };
        assert!(
            rows.insert(unquote(key), row).is_none(),
            "{DOC}: key listed twice: {line}"
        );
    }
    rows
}

#[test]
fn the_configuration_doc_lists_exactly_the_keys_of_the_default_file() {
    let defaults = default_keys();
    let documented = documented_keys();
    let in_file: BTreeSet<&String> = defaults.keys().collect();
    let in_doc: BTreeSet<&String> = documented.keys().collect();
    let undocumented: Vec<_> = in_file.difference(&in_doc).collect();
    let unknown: Vec<_> = in_doc.difference(&in_file).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "{DOC} and {DEFAULTS} disagree.\n  keys in {DEFAULTS} missing from the {DOC} table: \
         {undocumented:?}\n  keys in the {DOC} table that {DEFAULTS} does not have: {unknown:?}"
    );
}

#[test]
fn each_documented_key_names_its_environment_variable_and_its_default() {
    let defaults = default_keys();
    let mut wrong = Vec::new();
    for (key, row) in documented_keys() {
        let variable = key.to_uppercase();
        if row.variable != variable {
            wrong.push(format!(
                "`{key}`: variable is `{variable}`, doc says `{}`",
                row.variable
            ));
        }
        if let Some(default) = defaults.get(&key)
            && row.default != *default
        {
            wrong.push(format!(
                "`{key}`: {DEFAULTS} has `{default}`, doc says `{}`",
                row.default
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{DOC} disagrees with {DEFAULTS}:\n  {}",
        wrong.join("\n  ")
    );
}
