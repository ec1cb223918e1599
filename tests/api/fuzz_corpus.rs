//! The fuzz corpus (`fuzz/corpus/<target>/`) as a regression suite: every seed and every
//! input a fuzzer kept goes through the checks its target runs under `cargo fuzz run`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use payments::stripe::fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut files: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_corpus_input_passes_its_target_checks() {
    for (target, check) in TARGETS {
        let inputs = files(&fuzz_dir().join("corpus").join(target));
        assert!(inputs.len() >= 10, "{target}: the corpus looks lost");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = catch_unwind(AssertUnwindSafe(|| check(&data)));
            assert!(outcome.is_ok(), "{target} fails on {}", input.display());
        }
    }
}

#[test]
fn every_fuzz_target_is_replayed_by_the_corpus_test() {
    let mut targets: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|file| file.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    targets.sort();
    let mut replayed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    replayed.sort();
    assert_eq!(targets, replayed);
}
