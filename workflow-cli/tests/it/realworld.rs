//! Definitions as they are found in real projects (SAM, CDK and CloudFormation templates, AWS
//! samples): `${NAME}` placeholders with `--substitute`/`--substitutions` on validate, run, graph
//! and fmt; AWS's warnings (`NO_DOLLAR`, `NO_PATH`, `PASS_RESULT_IS_STATIC`) that leave a
//! definition valid; AWS's code and wording for unreachable states; Jayway paths such as `$.[0]`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support;

use support::{TempDir, BIN};

fn run(args: &[&str], file: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg(file)
        .output()
        .expect("run the workflow binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_status(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A SAM-style definition: a Lambda ARN and an SNS topic given by `DefinitionSubstitutions`, and
/// the partition by a pseudo parameter.
const SAM: &str = r#"{
  "StartAt": "Process",
  "States": {
    "Process": {"Type": "Task", "Resource": "${ProcessFunctionArn}", "Next": "Notify"},
    "Notify": {
      "Type": "Task",
      "Resource": "arn:${AWS::Partition}:states:::sns:publish",
      "Parameters": {"TopicArn": "${TopicArn}", "Message.$": "$.message"},
      "End": true
    }
  }
}"#;

/// CloudFormation substitutes `DefinitionSubstitutions` before AWS sees the definition
/// (AWS::StepFunctions::StateMachine, DefinitionSubstitutions), so `validate` judges a
/// placeholder as the value it stands for and warns about each one left.
#[test]
fn validate_accepts_placeholders_and_warns_which_remain() {
    let t = TempDir::new("placeholders");
    let def = t.file("sam.json", SAM);
    let o = run(&["validate"], &def);
    assert_status(&o, 0);
    let out = stdout(&o);
    for name in ["ProcessFunctionArn", "AWS::Partition", "TopicArn"] {
        assert!(
            out.lines()
                .any(|l| l.contains("warning: PLACEHOLDER") && l.contains(&format!("${{{name}}}"))),
            "{name}: {out}"
        );
    }
    assert!(
        out.ends_with(&format!("{}: valid\n", def.display())),
        "{out}"
    );

    // With values for two of them, only the third is left.
    let subs = t.file(
        "subs.json",
        r#"{"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "AWS::Partition": "aws"}"#,
    );
    let o = run(
        &[
            "validate",
            "--format",
            "json",
            "--substitutions",
            subs.to_str().expect("utf-8"),
        ],
        &def,
    );
    assert_status(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[0]["valid"], true);
    let diags = v[0]["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "PLACEHOLDER");
    assert_eq!(diags[0]["severity"], "WARNING");
    assert_eq!(diags[0]["pointer"], "/States/Process/Resource");

    // A substituted value is judged as AWS would judge it: not an ARN is an error.
    let o = run(
        &["validate", "--substitute", "ProcessFunctionArn=my-function"],
        &def,
    );
    assert_status(&o, 1);
    assert!(
        stdout(&o).contains("INVALID_RESOURCE at /States/Process/Resource: \"my-function\""),
        "{}",
        stdout(&o)
    );
    // Flags win over the file; every placeholder given: no warning at all.
    let o = run(
        &[
            "validate",
            "--substitutions",
            subs.to_str().expect("utf-8"),
            "--substitute",
            "TopicArn=arn:aws:sns:us-east-1:123456789012:other",
            "--substitute",
            "ProcessFunctionArn=arn:aws:lambda:us-east-1:123456789012:function:process",
        ],
        &def,
    );
    assert_status(&o, 0);
    assert_eq!(stdout(&o), format!("{}: valid\n", def.display()));

    // A placeholder does not hide the rest of an ARN.
    let bad = t.file(
        "bad.json",
        r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:${AWS::Region}:ACCOUNT:function:f", "End": true}}}"#,
    );
    let o = run(&["validate"], &bad);
    assert_status(&o, 1);
    assert!(stdout(&o).contains("INVALID_RESOURCE"), "{}", stdout(&o));

    // Unusable substitutions are argument errors.
    let o = run(&["validate", "--substitute", "novalue"], &def);
    assert_status(&o, 2);
    assert!(stderr(&o).contains("NAME=VALUE"), "{}", stderr(&o));
    let cfn = t.file("cfn.json", r#"{"TopicArn": {"Ref": "Topic"}}"#);
    let o = run(
        &["validate", "--substitutions", cfn.to_str().expect("utf-8")],
        &def,
    );
    assert_status(&o, 2);
    assert!(stderr(&o).contains("\"TopicArn\""), "{}", stderr(&o));
}

/// `run`, `graph` and `fmt` read the same flags.
#[test]
fn run_graph_and_fmt_substitute_too() {
    let t = TempDir::new("subst-cmds");
    let def = t.file(
        "greet.json",
        r#"{"StartAt": "Greet", "States": {"Greet": {"Type": "Pass", "Parameters": {"greeting": "${Greeting}", "who.$": "$.who"}, "End": true}}}"#,
    );
    let o = run(
        &[
            "run",
            "--format",
            "json",
            "--input",
            r#"{"who": "world"}"#,
            "--substitute",
            "Greeting=hello",
        ],
        &def,
    );
    assert_status(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["output"]["greeting"], "hello");
    assert_eq!(v["output"]["who"], "world");

    // Without a value the placeholder stays as written, and the run still works.
    let o = run(
        &["run", "--format", "json", "--input", r#"{"who": "you"}"#],
        &def,
    );
    assert_status(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["output"]["greeting"], "${Greeting}");

    let o = run(&["fmt", "--substitute", "Greeting=hi"], &def);
    assert_status(&o, 0);
    assert!(
        stdout(&o).contains("\"greeting\": \"hi\""),
        "{}",
        stdout(&o)
    );
    // Writing substituted values into the file would lose its placeholders.
    let o = run(&["fmt", "--write", "--substitute", "Greeting=hi"], &def);
    assert_status(&o, 2);

    let machine = t.file(
        "lambda.json",
        r#"{"StartAt": "${First}", "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": true}}}"#,
    );
    let o = run(&["graph", "--substitute", "First=A"], &machine);
    assert_status(&o, 0);
    assert!(!stderr(&o).contains("problem"), "{}", stderr(&o));
    assert!(stdout(&o).contains("flowchart"), "{}", stdout(&o));
}

/// AWS's warnings do not make a definition invalid: `validate` exits 0 and `--format json` shows
/// each with `"severity": "WARNING"` (ValidateStateMachineDefinitionDiagnostic: "warnings do not
/// prevent deploying your workflow definition").
#[test]
fn warnings_leave_a_definition_valid() {
    let t = TempDir::new("warnings");
    let def = t.file(
        "warn.json",
        r#"{"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"id": "$.id", "when": "States.Format('{}', $.t)"}, "Next": "R"},
            "R": {"Type": "Pass", "Result": {"copy.$": "$.x", "path": "$.y"}, "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "$.b", "Next": "F"}], "Default": "F"},
            "F": {"Type": "Fail", "Error": "$.error"}
        }}"#,
    );
    let o = run(&["validate", "--format", "json"], &def);
    assert_status(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v[0]["valid"], true);
    let got: Vec<(String, String, String)> = v[0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
                d["pointer"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let want = [
        ("NO_DOLLAR", "/States/P/Parameters/id"),
        ("NO_DOLLAR", "/States/P/Parameters/when"),
        ("PASS_RESULT_IS_STATIC", "/States/R/Result/copy.$"),
        ("PASS_RESULT_IS_STATIC", "/States/R/Result/path"),
        ("NO_PATH", "/States/C/Choices/0/StringEquals"),
        ("NO_PATH", "/States/F/Error"),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (code, pointer) in want {
        assert!(
            got.iter()
                .any(|(c, s, p)| c == code && s == "WARNING" && p == pointer),
            "{code} at {pointer}: {got:?}"
        );
    }
    let o = run(&["validate"], &def);
    assert_status(&o, 0);
    assert!(stdout(&o).contains(": warning: NO_DOLLAR at /States/P/Parameters/id: "));
}

/// AWS rejects a Parallel state with no branches (issue 9), and reports an unreachable state
/// as `MISSING_TRANSITION_TARGET: State "X" is not reachable.` (localstack/localstack #12487
/// quotes CreateStateMachine's answer).
#[test]
fn aws_codes_for_empty_branches_and_unreachable_states() {
    let t = TempDir::new("codes");
    let def = t.file(
        "p.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [], "End": true}, "Lost": {"Type": "Succeed"}}}"#,
    );
    let o = run(&["validate", "--format", "json"], &def);
    assert_status(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let diags = v[0]["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diags.iter().any(|d| d["code"] == "SCHEMA_VALIDATION_FAILED"
            && d["pointer"] == "/States/P/Branches"
            && d["severity"] == "ERROR"),
        "{diags:?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d["code"] == "MISSING_TRANSITION_TARGET"
                && d["pointer"] == "/States/Lost"
                && d["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("State \"Lost\" is not reachable."))),
        "{diags:?}"
    );
}

/// `$.[0]` and `$.a.[0].b` are Jayway paths AWS accepts (five AWS sample definitions use them).
#[test]
fn jayway_dot_bracket_paths_run() {
    let t = TempDir::new("paths");
    let def = t.file(
        "first.json",
        r#"{"StartAt": "First", "States": {"First": {"Type": "Pass", "Parameters": {"v.$": "$.items.[0].v"}, "OutputPath": "$.[\"v\"]", "End": true}}}"#,
    );
    let o = run(&["validate"], &def);
    assert_status(&o, 0);
    let o = run(
        &[
            "run",
            "--format",
            "json",
            "--input",
            r#"{"items": [{"v": 7}]}"#,
        ],
        &def,
    );
    assert_status(&o, 0);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["output"], 7);
}
