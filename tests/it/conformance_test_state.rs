//! Runs the TestState calls LocalStack recorded against AWS (`localstack/test_state/` and
//! `localstack/test_state_lambda/`) through [`Runtime::test_state`] and compares the response
//! with what AWS answered, modulo LocalStack's snapshot placeholders (`<region>`, `date`, …).
//!
//! AWS answers `output` and every `inspectionData` value as JSON text; LocalStack's snapshots
//! parse some of those texts (objects) and not others (arrays), so both sides are compared as
//! the JSON values the texts hold. The Lambda cases all carry a mock, so no function is called.
//!
//! Knobs: `CONFORMANCE_FILTER=text` runs only the cases whose file name contains `text`;
//! `CONFORMANCE_VERBOSE=1` prints every case's response.

use crate::common::conformance;

use std::path::Path;

use conformance::{localstack_dir, Matcher, ACCOUNT, REGION};
use serde_json::{json, Value};
use workflow::runtime::test_state::{InspectionLevel, Mock, TestStateRequest};
use workflow::runtime::Runtime;

/// The share of recorded cases that must pass (issue 15: at least 95%).
const REQUIRED: f64 = 0.95;

/// One recorded call.
struct Recorded {
    name: String,
    request: TestStateRequest,
    expected: Value,
}

/// A recorded `test_state_args` value that LocalStack wrote as JSON text.
fn json_text(args: &Value, key: &str, name: &str) -> Option<Value> {
    args.get(key).map(|v| match v {
        Value::String(s) => serde_json::from_str(s)
            .unwrap_or_else(|e| panic!("{name}: test_state_args.{key} is not JSON text: {e}")),
        other => other.clone(),
    })
}

fn read(file: &Path) -> Recorded {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{name}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let args = v.get("test_state_args").cloned().unwrap_or(Value::Null);
    let mut request = TestStateRequest::new(
        v.get("definition").cloned().unwrap_or(Value::Null),
        v.get("input").cloned().unwrap_or(Value::Null),
    );
    if let Some(Value::String(s)) = args.get("stateName") {
        request = request.state(s.clone());
    }
    if let Some(Value::String(level)) = args.get("inspectionLevel") {
        // `<localstack.aws.api.stepfunctions.InspectionLevel.DEBUG>`
        let word = level
            .trim_end_matches('>')
            .rsplit('.')
            .next()
            .unwrap_or_default();
        let level = InspectionLevel::parse(word)
            .unwrap_or_else(|| panic!("{name}: unknown inspection level {level}"));
        request = request.inspection_level(level);
    }
    if let Some(mock) = args.get("mock") {
        request = request.mock(Mock::from_json(mock).unwrap_or_else(|e| panic!("{name}: {e}")));
    }
    if let Some(Value::Object(vars)) = json_text(&args, "variables", &name) {
        request = request.variables(vars);
    }
    if let Some(ctx) = json_text(&args, "context", &name) {
        request = request.context(ctx);
    }
    Recorded {
        name,
        request,
        expected: v.get("expected").cloned().unwrap_or(Value::Null),
    }
}

/// The response with `output` and the inspection texts read back as JSON values.
fn normalized(response: &Value) -> Value {
    let parse = |v: &mut Value| {
        if let Value::String(s) = v {
            if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                *v = parsed;
            }
        }
    };
    let mut r = response.clone();
    if let Some(o) = r.get_mut("output") {
        parse(o);
    }
    if let Some(Value::Object(i)) = r.get_mut("inspectionData") {
        for (k, v) in i.iter_mut() {
            if !matches!(k.as_str(), "errorDetails" | "request" | "response") {
                parse(v);
            }
        }
    }
    r
}

fn cases(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for group in ["test_state", "test_state_lambda"] {
        let dir = root.join(group).join("api");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        files.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json")),
        );
    }
    files.sort();
    if let Some(filter) = std::env::var_os("CONFORMANCE_FILTER") {
        let filter = filter.to_string_lossy().into_owned();
        files.retain(|p| p.to_string_lossy().contains(&filter));
    }
    files
}

#[test]
fn recorded_test_state_calls() {
    let Some(root) = localstack_dir() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the conformance corpus is missing under CI=true (set WORKFLOW_CONFORMANCE_DIR or place \
             it at ../shared/conformance)"
        );
        println!(
            "skipped: the conformance corpus is not on this machine (set WORKFLOW_CONFORMANCE_DIR)"
        );
        return;
    };
    let files = cases(&root);
    let filtered = std::env::var_os("CONFORMANCE_FILTER").is_some();
    assert!(
        filtered || files.len() >= 46,
        "expected the 46 recorded TestState calls, found {}",
        files.len()
    );
    let verbose = std::env::var_os("CONFORMANCE_VERBOSE").is_some();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let runtime = Runtime::builder()
        .region_account(REGION, ACCOUNT)
        .seed(1)
        .build();
    let mut failures = Vec::new();
    for file in &files {
        let case = read(file);
        let response = rt.block_on(runtime.test_state(&case.request));
        let verdict = match response {
            Err(e) => Err(format!("request refused: {e}")),
            Ok(out) => {
                let actual = normalized(&out.to_aws_json());
                if verbose {
                    println!("{}: {actual}", case.name);
                }
                Matcher::new(true).value(&normalized(&case.expected), &actual, "response")
            }
        };
        if verdict.is_ok() {
            // The comparison is not vacuous: another status does not match.
            let mut wrong = normalized(&case.expected);
            wrong["status"] = json!("RETRIABLE");
            let out = rt
                .block_on(runtime.test_state(&case.request))
                .expect("ran before");
            assert!(
                Matcher::new(true)
                    .value(&wrong, &normalized(&out.to_aws_json()), "response")
                    .is_err(),
                "{}: a wrong status matched",
                case.name
            );
        }
        if let Err(why) = verdict {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    let total = files.len();
    let passed = total - failures.len();
    println!("== conformance: TestState ==");
    println!("  recorded calls passed: {passed}/{total}");
    for f in &failures {
        println!("  FAIL {f}");
    }
    if total > 0 && !filtered {
        assert!(
            passed as f64 >= REQUIRED * total as f64,
            "{passed}/{total} recorded TestState calls pass, below {:.0}%:\n{}",
            REQUIRED * 100.0,
            failures.join("\n")
        );
    }
}
