//! `workflow test-state`: AWS's TestState response shape, the flags, and bad input (exit 2 with
//! the place and the problem on stderr, never a panic).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support;

use support::{TempDir, BIN};

fn run(def: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("test-state")
        .arg(def)
        .args(args)
        .output()
        .expect("run the workflow binary")
}

/// The printed response, after checking the exit status.
fn response(o: &Output) -> Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("the response is JSON")
}

/// Exit 2, and stderr mentions every one of `words`.
fn refused(o: &Output, words: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "nothing printed on stdout");
    for w in words {
        assert!(err.contains(w), "stderr lacks {w:?}: {err}");
    }
}

const MACHINE: &str = r#"{
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}], "Default": "Charge"},
    "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
               "ResultSelector": {"paid.$": "$.Payload.paid"}, "ResultPath": "$.charge",
               "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Big"}],
               "Next": "Big"},
    "Big": {"Type": "Succeed"}
  }
}"#;

#[test]
fn a_state_of_a_machine_with_a_mock_at_debug() {
    let dir = TempDir::new("debug");
    let def = dir.file("m.asl.json", MACHINE);
    let mock = dir.file(
        "mock.json",
        r#"{"result": "{\"Payload\": {\"paid\": true}}"}"#,
    );
    let at = format!("@{}", mock.display());
    let r = response(&run(
        &def,
        &[
            "--state",
            "Charge",
            "--input",
            r#"{"n": 3}"#,
            "--mock",
            &at,
            "--inspection-level",
            "DEBUG",
            "--format",
            "json",
        ],
    ));
    assert_eq!(r["status"], "SUCCEEDED");
    assert_eq!(r["nextState"], "Big");
    // As AWS answers: the output and the inspection values are JSON text.
    let text =
        |v: &Value| -> Value { serde_json::from_str(v.as_str().expect("text")).expect("JSON") };
    assert_eq!(
        text(&r["output"]),
        json!({"n": 3, "charge": {"paid": true}})
    );
    let i = &r["inspectionData"];
    assert_eq!(text(&i["input"]), json!({"n": 3}));
    assert_eq!(text(&i["afterInputPath"]), json!({"n": 3}));
    assert_eq!(
        text(&i["afterParameters"]),
        json!({"FunctionName": "charge", "Payload": {"n": 3}})
    );
    assert_eq!(text(&i["result"]), json!({"Payload": {"paid": true}}));
    assert_eq!(text(&i["afterResultSelector"]), json!({"paid": true}));
}

#[test]
fn info_choice_retriable_and_caught() {
    let dir = TempDir::new("status");
    let def = dir.file("m.asl.json", MACHINE);
    let r = response(&run(&def, &["--state", "Check", "--input", r#"{"n": 30}"#]));
    assert_eq!(
        r,
        json!({"status": "SUCCEEDED", "output": "{\"n\":30}", "nextState": "Big"})
    );
    let r = response(&run(
        &def,
        &[
            "--state",
            "Charge",
            "--input",
            "{}",
            "--mock",
            r#"{"errorOutput": {"error": "Throttled", "cause": "slow down"}}"#,
            "--inspection-level",
            "TRACE",
        ],
    ));
    assert_eq!(r["status"], "RETRIABLE");
    assert_eq!(r["error"], "Throttled");
    assert_eq!(
        r["inspectionData"]["errorDetails"],
        json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 2})
    );
    let r = response(&run(
        &def,
        &[
            "--state",
            "Charge",
            "--input",
            "{}",
            "--mock",
            r#"{"errorOutput": {"error": "Declined", "cause": "no funds"}}"#,
        ],
    ));
    assert_eq!(r["status"], "CAUGHT_ERROR");
    assert_eq!(r["nextState"], "Big");
    assert_eq!(
        serde_json::from_str::<Value>(r["output"].as_str().expect("text")).expect("JSON"),
        json!({"error": {"Error": "Declined", "Cause": "no funds"}})
    );
}

#[test]
fn one_state_with_variables_and_context() {
    let dir = TempDir::new("one");
    let def = dir.file(
        "pass.json",
        r#"{"Type": "Pass", "QueryLanguage": "JSONata",
            "Output": {"who": "{% $name %}", "run": "{% $states.context.Execution.Name %}"},
            "Assign": {"seen": true}, "End": true}"#,
    );
    let vars = dir.file("vars.json", r#"{"name": "Ada"}"#);
    let at = format!("@{}", vars.display());
    let r = response(&run(
        &def,
        &[
            "--input",
            "{}",
            "--variables",
            &at,
            "--context",
            r#"{"Execution": {"Name": "e1"}}"#,
            "--inspection-level",
            "DEBUG",
        ],
    ));
    assert_eq!(r["status"], "SUCCEEDED");
    assert_eq!(r["output"], "{\"who\":\"Ada\",\"run\":\"e1\"}");
    assert_eq!(
        r["inspectionData"]["variables"],
        "{\"name\":\"Ada\",\"seen\":true}"
    );
}

#[test]
fn a_failing_state_is_a_response_not_an_error() {
    let dir = TempDir::new("fail");
    let def = dir.file(
        "fail.json",
        r#"{"Type": "Fail", "Error": "Bad", "Cause": "it broke"}"#,
    );
    let r = response(&run(&def, &["--input", "{}"]));
    assert_eq!(
        r,
        json!({"status": "FAILED", "error": "Bad", "cause": "it broke"})
    );
}

#[test]
fn bad_input_is_refused_with_where_and_what() {
    let dir = TempDir::new("bad");
    let def = dir.file("m.asl.json", MACHINE);
    // An unknown state, with the closest name.
    refused(
        &run(&def, &["--state", "Chrge", "--input", "{}"]),
        &["m.asl.json", "\"Chrge\"", "did you mean \"Charge\""],
    );
    // A whole machine without --state.
    refused(
        &run(&def, &["--input", "{}"]),
        &["name the state", "Check, Charge, Big"],
    );
    // Malformed JSON in each argument.
    refused(
        &run(&def, &["--state", "Check", "--input", "{\"n\":"]),
        &["--input", "not valid JSON"],
    );
    refused(
        &run(
            &def,
            &[
                "--state",
                "Charge",
                "--input",
                "{}",
                "--mock",
                "{\"result\": \"{oops\"}",
            ],
        ),
        &["--mock", "/result", "not valid JSON"],
    );
    refused(
        &run(
            &def,
            &["--state", "Check", "--input", "{}", "--variables", "[1]"],
        ),
        &["--variables", "expected a JSON object"],
    );
    refused(
        &run(
            &def,
            &[
                "--state",
                "Check",
                "--input",
                "{}",
                "--context",
                "@/nonexistent/ctx.json",
            ],
        ),
        &["/nonexistent/ctx.json"],
    );
    let not_json = dir.file("broken.json", "{\"Type\": \"Pass\",");
    refused(
        &run(&not_json, &["--input", "{}"]),
        &["broken.json", "not valid JSON"],
    );
    // An invalid state definition: the field and the problem.
    let invalid = dir.file(
        "bad.json",
        r#"{"Type": "Pass", "ResultPath": "$$.x", "End": true}"#,
    );
    refused(
        &run(&invalid, &["--input", "{}"]),
        &["bad.json", "/ResultPath"],
    );
    let untyped = dir.file("untyped.json", r#"{"Next": "A"}"#);
    refused(
        &run(&untyped, &["--input", "{}"]),
        &["untyped.json", "`Type`"],
    );
    // The inspection level is one of the three.
    let o = run(
        &def,
        &[
            "--state",
            "Check",
            "--input",
            "{}",
            "--inspection-level",
            "LOUD",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
}
