//! Validator rules as AWS applies them to real definitions (issue 9), each with its source.

use serde_json::{json, Value};
use workflow_asl::validate::{Options, Placeholders};
use workflow_asl::{check_str, check_str_with, Code, Diagnostic, Severity};

fn accept() -> Options {
    Options {
        placeholders: Placeholders::Accept,
        ..Options::default()
    }
}

fn codes(ds: &[Diagnostic]) -> Vec<(Code, Severity, &str)> {
    ds.iter()
        .map(|d| (d.code, d.severity, d.pointer.as_str()))
        .collect()
}

fn one(state: Value) -> String {
    json!({"StartAt": "S", "States": {"S": state}}).to_string()
}

/// AWS answers `MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2`
/// (CreateStateMachine's error, quoted in localstack/localstack pull request #12487).
#[test]
fn an_unreachable_state_is_a_missing_transition_target() {
    let r = check_str(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "pass2": {"Type": "Pass", "End": true}}}"#,
    );
    assert!(!r.is_valid());
    assert_eq!(
        codes(&r.diagnostics),
        [(
            Code::MissingTransitionTarget,
            Severity::Error,
            "/States/pass2"
        )]
    );
    let d = &r.diagnostics[0];
    assert!(
        d.message.starts_with("State \"pass2\" is not reachable."),
        "{}",
        d.message
    );
    assert!(workflow_asl::validate::is_unreachable_state(d));
    // A missing `Next` target is not an unreachable state.
    let r = check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#);
    assert!(!workflow_asl::validate::is_unreachable_state(
        &r.diagnostics[0]
    ));
}

/// AWS rejects a Parallel state whose `Branches` is empty (issue 9, found on real definitions).
#[test]
fn a_parallel_state_needs_a_branch() {
    let r = check_str(&one(
        json!({"Type": "Parallel", "Branches": [], "End": true}),
    ));
    assert_eq!(
        codes(&r.diagnostics),
        [(
            Code::SchemaValidationFailed,
            Severity::Error,
            "/States/S/Branches"
        )]
    );
    // A wrongly typed `Branches` is reported once, by the parser.
    let r = check_str(&one(
        json!({"Type": "Parallel", "Branches": {}, "End": true}),
    ));
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
}

/// AWS's warning codes (ValidateStateMachineDefinitionDiagnostic, "List of warning codes"):
/// `NO_DOLLAR`, `NO_PATH`, `PASS_RESULT_IS_STATIC`. Warnings do not make a definition invalid
/// ("Since warnings do not prevent deploying your workflow definition, the result value could be
/// OK even when warning diagnostics are present").
#[test]
fn warnings_have_their_own_severity() {
    let text = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"a": "$.a", "nested": {"b": ["x", {"c": "$$.Execution.Id"}]}, "ok.$": "$.a"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "ResultSelector": {"p": "States.JsonToString($.Payload)"}, "Assign": {"v": "$.x"}, "Next": "R"},
        "R": {"Type": "Pass", "Result": "$.static", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [
            {"Not": {"Variable": "$.a", "StringLessThan": "$.b"}, "Next": "F"},
            {"Variable": "$.a", "StringEquals": "plain", "Next": "F"}], "Default": "F"},
        "F": {"Type": "Fail", "Cause": "$.cause", "Error": "Plain.Error"}
    }})
    .to_string();
    let r = check_str(&text);
    assert!(r.is_valid(), "{:?}", r.diagnostics);
    assert_eq!(r.errors().count(), 0);
    let w = Severity::Warning;
    assert_eq!(
        codes(&r.diagnostics),
        [
            (Code::NoDollar, w, "/States/P/Parameters/a"),
            (Code::NoDollar, w, "/States/P/Parameters/nested/b/1/c"),
            (Code::NoDollar, w, "/States/T/ResultSelector/p"),
            (Code::NoDollar, w, "/States/T/Assign/v"),
            (Code::PassResultIsStatic, w, "/States/R/Result"),
            (Code::NoPath, w, "/States/C/Choices/0/Not/StringLessThan"),
            (Code::NoPath, w, "/States/F/Cause"),
        ]
    );
    // `load` accepts a definition with only warnings.
    assert!(workflow_asl::load(&text).is_ok());
    // JSONata states have none of these fields, so no JSONPath warning.
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {"a": "$.a"}, "End": true}}})
    .to_string();
    assert!(check_str(&jsonata).warnings().next().is_none());
}

/// CloudFormation substitutes `DefinitionSubstitutions` before AWS sees a definition
/// (AWS::StepFunctions::StateMachine), so AWS itself rejects an unsubstituted `${Fn}` Resource
/// ("Value is not a valid resource ARN"); with `Placeholders::Accept` a placeholder is judged as
/// the value it stands for, and reported as a warning.
#[test]
fn placeholders_as_written_or_as_substituted() {
    let text = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "${ProcessFunctionArn}", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:${AWS::Partition}:states:::lambda:invoke",
              "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"}, "End": true}}})
    .to_string();
    let strict = check_str(&text);
    assert_eq!(
        codes(&strict.diagnostics),
        [
            (Code::InvalidResource, Severity::Error, "/States/A/Resource"),
            (Code::InvalidResource, Severity::Error, "/States/B/Resource"),
        ]
    );
    let r = check_str_with(&text, &accept());
    assert!(r.is_valid(), "{:?}", r.diagnostics);
    let w = Severity::Warning;
    assert_eq!(
        codes(&r.diagnostics),
        [
            (Code::Placeholder, w, "/States/A/Resource"),
            (Code::Placeholder, w, "/States/B/Resource"),
            (Code::Placeholder, w, "/States/B/Parameters/FunctionName"),
        ]
    );
    // The rest of an ARN around a placeholder is still judged.
    let bad = one(
        json!({"Type": "Task", "Resource": "arn:aws:lambda:${AWS::Region}:ACCOUNT:function:f", "End": true}),
    );
    assert!(!check_str_with(&bad, &accept()).is_valid());
    // An EXPRESS machine still refuses `.sync`, placeholder or not.
    let sync = one(
        json!({"Type": "Task", "Resource": "arn:${AWS::Partition}:states:::states:startExecution.sync", "End": true}),
    );
    let express = Options {
        machine_type: workflow_asl::validate::MachineType::Express,
        placeholders: Placeholders::Accept,
    };
    assert!(!check_str_with(&sync, &express).is_valid());
}

/// Substitution is textual, as CloudFormation's (the definition string is rewritten).
#[test]
fn substituted_definitions_are_judged_as_aws_receives_them() {
    let text = one(json!({"Type": "Task", "Resource": "${Fn}", "End": true}));
    let subs = [("Fn".to_string(), "not-an-arn".to_string())]
        .into_iter()
        .collect();
    let substituted = workflow_asl::substitute::substitute_text(&text, &subs);
    let r = check_str_with(&substituted, &accept());
    assert_eq!(
        codes(&r.diagnostics),
        [(Code::InvalidResource, Severity::Error, "/States/S/Resource")]
    );
}

/// `$.[0]` and `$.a.[0].b`: Jayway reads the token after a `.` like any token, and AWS
/// accepts these paths (issue 9: five AWS sample definitions use them).
#[test]
fn jayway_dot_bracket_paths_are_valid() {
    let text = json!({"StartAt": "S", "States": {"S": {"Type": "Pass",
        "InputPath": "$.[0]", "Parameters": {"x.$": "$.a.[0].b", "y.$": "States.Array($.[1])"},
        "ResultPath": "$.r.[0]", "OutputPath": "$.a.['b']", "End": true}}})
    .to_string();
    let r = check_str(&text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}
