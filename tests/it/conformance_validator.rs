//! The validator's verdict on every definition in `../shared/conformance/`:
//!
//! - `asl-validator/{valid,invalid}` and `statelint/{valid,invalid}`: the linters' fixtures, with
//!   their verdicts (and, for statelint, the problem count where it is practical to compare);
//! - `localstack/invalid`: definitions AWS's `CreateStateMachine` rejected (a few of those records
//!   are API parameter errors unrelated to the definition; each is named below);
//! - `localstack/executions` and `localstack/needs_lambda_stub`: definitions AWS ran, which must be
//!   valid.
//!
//! Where AWS and a linter disagree, AWS wins: [`EXCEPTIONS`] names each such fixture with the
//! reason, and [`is_placeholder_resource`] covers statelint's placeholder `Resource`.
//! When the conformance data is absent the tests print "skipped" and pass, except under
//! `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use workflow_asl::validate::{MachineType, Options};
use workflow_asl::{check_str, check_str_with, Code, Diagnostic};

/// The conformance data: `$WORKFLOW_CONFORMANCE_DIR` (as in `tests/it/common/conformance.rs`), else
/// beside the project.
fn root() -> Option<PathBuf> {
    let p = std::env::var_os("WORKFLOW_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    p.is_dir().then_some(p)
}

/// Fixtures where AWS's verdict differs from the linter's: (fixture, AWS verdict is valid, why).
const EXCEPTIONS: &[(&str, bool, &str)] = &[
    (
        "asl-validator/valid/valid-cfn-definition-substitutions.json",
        false,
        "`${lambdaArn}` is a CloudFormation placeholder; AWS rejects a Resource that is not an ARN (\"Value is not a valid resource ARN\")",
    ),
    (
        "asl-validator/valid/valid-task-intrisic-function.json",
        false,
        "`{\"Fn::GetAtt\": …}`/`{\"Ref\": …}` are CloudFormation objects; AWS requires Resource to be an ARN string",
    ),
    (
        "asl-validator/valid/valid-task-credentials.json",
        false,
        "AWS requires `RoleArn` in Credentials (recorded: localstack/invalid test_invalid_credentials_field)",
    ),
    (
        "statelint/valid/task-with-credentials.json",
        false,
        "`roleArn` is not `RoleArn`; AWS requires `RoleArn` in Credentials (recorded: localstack/invalid test_invalid_credentials_field)",
    ),
    (
        "asl-validator/valid/valid-map-with-item-batcher-jsonata.json",
        false,
        "with a JSONata top-level QueryLanguage no state may use JSONPath (AWS CDK docs for QueryLanguage: \"If JSONata is specified at the top level, JSONPath cannot be used\")",
    ),
    (
        "asl-validator/valid/valid-path-array-context.json",
        false,
        "`$[(@.length-1)]` is a script expression, which Jayway JsonPath (AWS's JSONPath engine) does not support",
    ),
    (
        "asl-validator/valid/valid-current-value-predicate.json",
        false,
        "`@.OutputKey == FooBar` compares with a bare word; Jayway's filter grammar only accepts quoted strings, numbers, booleans, null, paths and regexes",
    ),
    (
        "asl-validator/valid/valid-assign.asl.json",
        false,
        "`top-level` is not a variable name: AWS variable names are Unicode identifiers (a `-` would end `$top-level` in an expression)",
    ),
    (
        "asl-validator/invalid/invalid-jsonata-surround-syntax-no-spaces.json",
        true,
        "`{%10%}` is a JSONata expression: AWS only requires the `{%` prefix and `%}` suffix, the spaces are asl-validator's regular expression",
    ),
    (
        "asl-validator/invalid/invalid-json-surround-syntax-extra-spaces.json",
        true,
        "`{% \\n10   %}` is the expression `10`; JSONata ignores whitespace (asl-validator's `.` does not match the newline)",
    ),
];

/// `localstack/invalid` records whose error is about an API parameter, not the definition, so the
/// definition itself is valid: (file name fragment, why).
const API_ERRORS: &[(&str, &str)] = &[
    (
        "invalid-param-long-nextToken",
        "ValidationException on the `nextToken` parameter of a List call",
    ),
    (
        "invalid-param-too-large",
        "ValidationException on the `maxResults` parameter of a List call",
    ),
    (
        "max_results_1001",
        "ValidationException on the `maxResults` parameter of ListStateMachineAliases",
    ),
    (
        "version_description_no_publish",
        "ValidationException: versionDescription without publish=true",
    ),
];

/// `localstack/invalid` records that AWS rejected because the machine is `EXPRESS`.
const EXPRESS_ONLY: &[&str] = &[
    "test_illegal_callbacks_SYNC",
    "test_illegal_callbacks_WAIT_FOR_TASK_TOKEN",
];

/// statelint's fixtures use `"Resource": "foo:bar"`, a placeholder AWS rejects ("Value is not a
/// valid resource ARN"). Those diagnostics are counted apart: the fixture's own point (its other
/// content is valid or invalid) is still checked.
fn is_placeholder_resource(d: &Diagnostic) -> bool {
    d.code == Code::InvalidResource && d.message.starts_with("\"foo:bar\"")
}

fn exception(rel: &str) -> Option<(bool, &'static str)> {
    EXCEPTIONS
        .iter()
        .find(|(f, _, _)| *f == rel)
        .map(|(_, valid, why)| (*valid, *why))
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn show(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("\n    {d}")).collect()
}

#[test]
fn asl_validator_fixtures() {
    let Some(root) = root() else {
        skip_or_fail();
        return;
    };
    let mut failures = Vec::new();
    let (mut passed, mut total, mut excepted) = (0, 0, 0);
    for (dir, linter_valid) in [
        ("asl-validator/valid", true),
        ("asl-validator/invalid", false),
    ] {
        for path in list(&root.join(dir)) {
            let rel = format!(
                "{dir}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = fs::read_to_string(&path).unwrap_or_default();
            let report = check_str(&text);
            let expected = match exception(&rel) {
                Some((aws, _)) => {
                    excepted += 1;
                    aws
                }
                None => linter_valid,
            };
            total += 1;
            if report.is_valid() == expected {
                passed += 1;
            } else {
                failures.push(format!(
                    "{rel}: expected {}{}",
                    if expected { "valid" } else { "invalid" },
                    show(&report.diagnostics)
                ));
            }
        }
    }
    println!(
        "asl-validator: {passed}/{total} verdicts as expected ({excepted} by AWS-wins exceptions)"
    );
    assert!(
        failures.is_empty(),
        "{} wrong verdicts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn statelint_fixtures() {
    let Some(root) = root() else {
        skip_or_fail();
        return;
    };
    let mut failures = Vec::new();
    let (mut passed, mut total, mut counts_equal, mut counted) = (0, 0, 0, 0);
    for (dir, linter_valid) in [("statelint/valid", true), ("statelint/invalid", false)] {
        for path in list(&root.join(dir)) {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if name.ends_with(".expected.json") || !name.ends_with(".json") {
                continue;
            }
            let rel = format!("{dir}/{name}");
            let expected_file = path.with_file_name(name.replace(".json", ".expected.json"));
            let expected: Value = fs::read_to_string(&expected_file)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            let text = fs::read_to_string(&path).unwrap_or_default();
            let report = check_str(&text);
            let (placeholder, own): (Vec<&Diagnostic>, Vec<&Diagnostic>) = report
                .diagnostics
                .iter()
                .partition(|d| is_placeholder_resource(d));
            total += 1;
            // The fixture's point, with the placeholder resource set aside.
            let own_valid = match exception(&rel) {
                Some((aws, _)) => aws,
                None => linter_valid,
            };
            let ok = own.is_empty() == own_valid;
            // AWS's verdict: also invalid when the placeholder resource is there.
            let aws_valid = own_valid && placeholder.is_empty();
            if ok && report.is_valid() == aws_valid {
                passed += 1;
            } else {
                failures.push(format!(
                    "{rel}: expected {} (placeholder resource set aside){}",
                    if own_valid { "valid" } else { "invalid" },
                    show(&report.diagnostics)
                ));
            }
            if let Some(n) = expected["expected"]["problem_count"].as_u64() {
                if n > 0 {
                    counted += 1;
                    if own.len() as u64 == n {
                        counts_equal += 1;
                    } else {
                        println!(
                            "note: {rel}: statelint counts {n} problems, we report {}",
                            own.len()
                        );
                    }
                }
            }
        }
    }
    println!("statelint: {passed}/{total} verdicts as expected; problem counts equal for {counts_equal}/{counted} invalid fixtures");
    assert!(
        failures.is_empty(),
        "{} wrong verdicts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The pointer AWS names at the end of its cause (`… at /States/State0/Credentials'`).
fn aws_pointer(cause: &str) -> Option<String> {
    let at = cause.rfind(" at /")?;
    let rest = &cause[at + 4..];
    Some(
        rest.trim_end_matches(['\'', '"', ' '])
            .trim_end()
            .to_owned(),
    )
}

#[test]
fn localstack_rejected_definitions() {
    let Some(root) = root() else {
        skip_or_fail();
        return;
    };
    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for path in list(&root.join("localstack/invalid")) {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let Ok(record) = fs::read_to_string(&path)
            .map(|t| serde_json::from_str::<Value>(&t).unwrap_or(Value::Null))
        else {
            continue;
        };
        let Some(def) = record.get("definition") else {
            continue;
        };
        total += 1;
        let text = def.to_string();
        let cause = record["expected"]["cause"].as_str().unwrap_or_default();
        if let Some((_, why)) = API_ERRORS.iter().find(|(frag, _)| name.contains(frag)) {
            let report = check_str(&text);
            if report.is_valid() {
                *counts
                    .entry("valid: API parameter error, not a definition error")
                    .or_default() += 1;
            } else {
                failures.push(format!(
                    "{name}: {why}; the definition itself should be valid{}",
                    show(&report.diagnostics)
                ));
            }
            continue;
        }
        if EXPRESS_ONLY.iter().any(|frag| name.contains(frag)) {
            let standard = check_str(&text);
            let express = check_str_with(
                &text,
                &Options {
                    machine_type: MachineType::Express,
                    ..Options::default()
                },
            );
            if standard.is_valid() && !express.is_valid() {
                *counts
                    .entry("invalid only as an EXPRESS machine")
                    .or_default() += 1;
            } else {
                failures.push(format!(
                    "{name}: should be valid as STANDARD and invalid as EXPRESS{}{}",
                    show(&standard.diagnostics),
                    show(&express.diagnostics)
                ));
            }
            continue;
        }
        let report = check_str(&text);
        if report.is_valid() {
            failures.push(format!("{name}: AWS rejected it ({cause}) but it passed"));
            continue;
        }
        // Where AWS names the place of the problem, a diagnostic must be there too.
        if let Some(ptr) = aws_pointer(cause) {
            let want = if ptr == "/" {
                String::new()
            } else {
                ptr.clone()
            };
            if !report.diagnostics.iter().any(|d| d.pointer == want) {
                failures.push(format!(
                    "{name}: AWS reports the problem at {ptr}, we do not{}",
                    show(&report.diagnostics)
                ));
                continue;
            }
        }
        *counts.entry("invalid, as AWS").or_default() += 1;
    }
    println!("localstack/invalid: {total} records: {counts:?}");
    assert!(
        failures.is_empty(),
        "{} wrong verdicts:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn definitions_aws_ran_are_valid() {
    let Some(root) = root() else {
        skip_or_fail();
        return;
    };
    let mut failures = Vec::new();
    let mut total = 0;
    for area in ["localstack/executions", "localstack/needs_lambda_stub"] {
        let mut stack = vec![root.join(area)];
        while let Some(dir) = stack.pop() {
            for path in list(&dir) {
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Some(def) = fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .and_then(|v| v.get("definition").cloned())
                else {
                    continue;
                };
                total += 1;
                let report = check_str(&def.to_string());
                if !report.is_valid() {
                    failures.push(format!("{}{}", path.display(), show(&report.diagnostics)));
                }
            }
        }
    }
    println!(
        "localstack executions + needs_lambda_stub: {}/{total} valid",
        total - failures.len()
    );
    assert!(total > 0 || failures.is_empty());
    assert!(
        failures.is_empty(),
        "{} definitions AWS ran are reported invalid:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Outside CI a missing corpus is reported and the test passes; under `CI=true` it fails.
fn skip_or_fail() {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared/conformance is missing under CI=true"
    );
    println!("skipped: ../shared/conformance not found");
}
