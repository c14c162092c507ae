//! Runs the AWS-recorded Distributed Map cases of `localstack/distributed_map/` (ItemReader,
//! ItemBatcher, ResultWriter over S3) on the runtime with a local-directory object store: each
//! case's `s3_objects` are written to `DIR/BUCKET/KEY` first, and its `expected_s3` files are
//! looked for there afterwards. Status, output (with the corpus's matchers: `<MapRunId>`-style
//! placeholders, `$any`, `$json`, `$unordered`), error and the parent history's event types must
//! match; the pass rate must be at
//! least 95%, and every case that passes must keep passing (see `KNOWN` below).
//!
//! The corpus is read from `$WORKFLOW_CONFORMANCE_DIR/localstack/distributed_map`, else from
//! `../shared/conformance/localstack/distributed_map`; when absent the test prints "skipped",
//! and fails when `CI=true`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use workflow::runtime::objects::DirObjects;
use workflow::runtime::{Runtime, StartOptions};

/// Cases known to fail, with the reason. Anything else must pass.
const KNOWN: &[(&str, &str)] = &[];

fn corpus() -> Option<PathBuf> {
    let conformance = std::env::var_os("WORKFLOW_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    let dir = conformance.join("localstack/distributed_map");
    dir.is_dir().then_some(dir)
}

const BINDING: &[&str] = &[
    "Partition",
    "Region",
    "Account",
    "StateMachineName",
    "MapRunName",
    "MapRunId",
    "JsonExt",
];
const FREE: &[&str] = &["Etag", "Timestamp", "Any"];

#[derive(Default)]
struct Matcher {
    bound: HashMap<String, String>,
}

enum Seg {
    Lit(String),
    Hole(String),
}

fn segments(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let name = after.split('>').next().unwrap_or("");
        if after.contains('>') && (BINDING.contains(&name) || FREE.contains(&name)) {
            lit.push_str(&rest[..open]);
            if !lit.is_empty() {
                out.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            out.push(Seg::Hole(name.to_string()));
            rest = &after[name.len() + 1..];
        } else {
            lit.push_str(&rest[..=open]);
            rest = after;
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Seg::Lit(lit));
    }
    out
}

impl Matcher {
    fn text(&mut self, expected: &str, actual: &str) -> bool {
        let segs = segments(expected);
        let saved = self.bound.clone();
        let ok = self.segs(&segs, actual);
        if !ok {
            self.bound = saved;
        }
        ok
    }

    fn segs(&mut self, segs: &[Seg], actual: &str) -> bool {
        let Some((first, rest)) = segs.split_first() else {
            return actual.is_empty();
        };
        match first {
            Seg::Lit(l) => actual
                .strip_prefix(l.as_str())
                .is_some_and(|tail| self.segs(rest, tail)),
            Seg::Hole(name) => {
                if let Some(v) = self.bound.get(name).cloned() {
                    return actual
                        .strip_prefix(v.as_str())
                        .is_some_and(|tail| self.segs(rest, tail));
                }
                for i in (1..=actual.len()).filter(|&i| actual.is_char_boundary(i)) {
                    let candidate = &actual[..i];
                    if !hole_ok(name, candidate) {
                        continue;
                    }
                    let saved = self.bound.clone();
                    if BINDING.contains(&name.as_str()) {
                        self.bound.insert(name.clone(), candidate.to_string());
                    }
                    if self.segs(rest, &actual[i..]) {
                        return true;
                    }
                    self.bound = saved;
                }
                false
            }
        }
    }

    fn value(&mut self, expected: &Value, actual: &Value, subset: bool) -> bool {
        if let Value::Object(o) = expected {
            if o.get("$any") == Some(&Value::Bool(true)) && o.len() == 1 {
                return true;
            }
            if let (Some(inner), 1) = (o.get("$json"), o.len()) {
                return actual
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .is_some_and(|v| self.value(inner, &v, subset));
            }
            if let (Some(Value::Array(want)), 1) = (o.get("$unordered"), o.len()) {
                let Some(got) = actual.as_array() else {
                    return false;
                };
                if got.len() != want.len() {
                    return false;
                }
                let mut used = vec![false; got.len()];
                'outer: for w in want {
                    for (i, g) in got.iter().enumerate() {
                        if !used[i] && self.value(w, g, subset) {
                            used[i] = true;
                            continue 'outer;
                        }
                    }
                    return false;
                }
                return true;
            }
        }
        match (expected, actual) {
            (Value::String(e), Value::String(a)) => self.text(e, a),
            (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
            (Value::Array(e), Value::Array(a)) => {
                e.len() == a.len() && e.iter().zip(a).all(|(x, y)| self.value(x, y, subset))
            }
            (Value::Object(e), Value::Object(a)) => {
                (subset || e.len() == a.len())
                    && e.iter()
                        .all(|(k, v)| a.get(k).is_some_and(|av| self.value(v, av, subset)))
            }
            (e, a) => e == a,
        }
    }
}

fn hole_ok(name: &str, s: &str) -> bool {
    match name {
        "Partition" => s.starts_with("aws") && !s.contains(':'),
        "Account" => s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()),
        "Region" | "StateMachineName" | "MapRunName" | "MapRunId" => {
            !s.contains(':') && !s.contains('/')
        }
        "JsonExt" => s == "json" || s == "jsonl",
        "Timestamp" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        _ => true,
    }
}

/// Runs one case; `Err` says why it does not match.
fn run_case(case: &Value) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for b in case["s3_buckets"].as_array().into_iter().flatten() {
        std::fs::create_dir_all(dir.path().join(b.as_str().unwrap_or("_")))
            .map_err(|e| e.to_string())?;
    }
    for (k, body) in case["s3_objects"].as_object().into_iter().flatten() {
        let path = dir.path().join(k);
        std::fs::create_dir_all(path.parent().expect("a parent")).map_err(|e| e.to_string())?;
        std::fs::write(&path, body.as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
    }
    let machine = workflow::asl::parse_str(&case["definition"].to_string())
        .map_err(|d| d.message.clone())?
        .machine
        .ok_or("not an object")?;
    let runtime = Runtime::builder()
        .seed(7)
        .objects(Arc::new(DirObjects::new(dir.path())))
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    let outcome = rt.block_on(async {
        let program = runtime.program(&machine).map_err(|e| e.to_string())?;
        let x = runtime
            .start(
                &program,
                case["input"].clone(),
                StartOptions::new().state_machine_name("sm"),
            )
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(x.wait().await)
    })?;
    let expected = &case["expected"];
    // The parent's history, event type by event type, as AWS recorded it (children are separate
    // executions and do not appear in it).
    if let Some(want) = case["expected_event_types"].as_array() {
        let got = outcome.event_types();
        if want
            .iter()
            .map(Value::as_str)
            .ne(got.iter().map(|t| Some(*t)))
        {
            return Err(format!("events {got:?}, expected {want:?}"));
        }
    }
    let status = outcome.status.as_str();
    if status != expected["status"] {
        return Err(format!(
            "status {status} (error {:?}, cause {:?}), expected {}",
            outcome.error, outcome.cause, expected["status"]
        ));
    }
    let mut m = Matcher::default();
    if status == "FAILED" {
        if outcome.error.as_deref() != expected["error"].as_str() {
            return Err(format!(
                "error {:?}, expected {}",
                outcome.error, expected["error"]
            ));
        }
        return Ok(());
    }
    let output = outcome.output.clone().unwrap_or(Value::Null);
    if !m.value(&expected["output"], &output, false) {
        return Err(format!("output {output}, expected {}", expected["output"]));
    }
    for (pattern, spec) in case["expected_s3"].as_object().into_iter().flatten() {
        let files = list_files(dir.path());
        let subset = spec["match"] == "subset";
        let mut found = false;
        for (rel, body) in &files {
            let mut trial = Matcher {
                bound: m.bound.clone(),
            };
            if !trial.text(pattern, rel) {
                continue;
            }
            if spec.get("absent").is_some() {
                return Err(format!("{rel} should not exist"));
            }
            let ok = if let Some(j) = spec.get("json") {
                serde_json::from_slice::<Value>(body).is_ok_and(|v| trial.value(j, &v, subset))
            } else if let Some(lines) = spec.get("jsonl") {
                let got: Vec<Value> = String::from_utf8_lossy(body)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect();
                let want = if spec["unordered"] == true {
                    serde_json::json!({"$unordered": lines})
                } else {
                    lines.clone()
                };
                trial.value(&want, &Value::Array(got), subset)
            } else if let Some(t) = spec.get("text") {
                t.as_str() == std::str::from_utf8(body).ok()
            } else {
                false
            };
            if ok {
                m = trial;
                found = true;
                break;
            }
        }
        if !found && spec.get("absent").is_none() {
            return Err(format!(
                "no file matches {pattern} with {spec} among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

fn list_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out
}

#[test]
fn distributed_map_cases_match_aws() {
    let Some(dir) = corpus() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the conformance corpus (../shared/conformance/localstack/distributed_map) is missing under CI=true"
        );
        println!("skipped: the conformance corpus is not on this machine");
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    let filter = std::env::var("CONFORMANCE_FILTER").ok();
    let (mut pass, mut total) = (0usize, 0usize);
    let mut unexpected = Vec::new();
    for name in &names {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(name)).expect("a readable case");
        let case: Value = serde_json::from_str(&text).expect("a JSON case");
        total += 1;
        let r = run_case(&case);
        let known = KNOWN.iter().find(|(n, _)| n == name);
        match (&r, known) {
            (Ok(()), None) => pass += 1,
            (Ok(()), Some(_)) => {
                pass += 1;
                unexpected.push(format!("{name}: passes now; remove it from KNOWN"));
            }
            (Err(e), None) => unexpected.push(format!("{name}: {e}")),
            (Err(e), Some((_, why))) => println!("known failure {name}: {why} ({e})"),
        }
    }
    println!("distributed_map: {pass}/{total} cases pass");
    assert!(
        unexpected.is_empty(),
        "unexpected results:\n{}",
        unexpected.join("\n")
    );
    if filter.is_none() {
        assert!(
            pass + KNOWN.len() >= total && (pass * 100 >= total * 95 || !KNOWN.is_empty()),
            "pass rate {pass}/{total} below 95%"
        );
    }
}
