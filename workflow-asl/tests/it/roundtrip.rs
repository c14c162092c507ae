//! Parsing then emitting every definition in the conformance corpus gives back the same JSON.
//! Reads `../shared/conformance/` (skipped, with a message, where it is absent; a failure under `CI=true`).

use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    p.is_dir().then_some(p)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json")
            && !p.to_string_lossy().ends_with(".expected.json")
        {
            out.push(p);
        }
    }
}

/// The definitions in a corpus file: the file itself for linter fixtures, `definition` for
/// LocalStack records.
fn definitions(path: &Path, v: Value) -> Vec<Value> {
    let s = path.to_string_lossy();
    if s.contains("/localstack/") {
        match v.get("definition") {
            Some(d) if d.is_object() => vec![d.clone()],
            _ => vec![],
        }
    } else {
        vec![v]
    }
}

#[test]
fn every_clean_definition_round_trips() {
    let Some(root) = corpus() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared/conformance is missing under CI=true"
        );
        eprintln!("skipped: ../shared/conformance is absent");
        return;
    };
    let mut files = Vec::new();
    json_files(&root, &mut files);
    let (mut checked, mut failures) = (0, Vec::new());
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        for def in definitions(&f, v) {
            let text = def.to_string();
            let parsed = workflow_asl::parse_str(&text).expect("re-serialised JSON parses");
            if !parsed.diagnostics.is_empty() {
                continue; // only schema-clean definitions are required to round-trip
            }
            checked += 1;
            let back = workflow_asl::emit::machine_to_value(parsed.machine.as_ref().unwrap());
            if back != def {
                failures.push(f.display().to_string());
            }
        }
    }
    assert!(checked > 300, "only {checked} definitions checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} did not round-trip: {failures:#?}",
        failures.len()
    );
}
