//! Parse + validate a generated 1,000-state definition (target: under 10 ms).
//!
//! The definition mixes what real machines hold: Tasks with Retry and Catch and payload templates
//! with paths and intrinsic calls, Choice states with nested rules, Pass, Wait, a Parallel state
//! and a Map state with nested scopes, so every validator rule runs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};

/// A definition with `n` top-level states (plus a few nested ones).
fn definition(n: usize) -> String {
    let mut states = Map::new();
    let name = |i: usize| format!("Step {i}");
    for i in 0..n {
        let next = name(i + 1);
        let state = if i + 1 == n {
            json!({"Type": "Succeed"})
        } else {
            match i % 8 {
                0 => json!({
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {
                        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:worker",
                        "Payload": {"id.$": "$.id", "when.$": "$$.State.EnteredTime", "label.$": "States.Format('item {}', $.id)"}
                    },
                    "ResultSelector": {"value.$": "$.Payload.value"},
                    "ResultPath": "$.result",
                    "TimeoutSeconds": 60,
                    "HeartbeatSeconds": 10,
                    "Retry": [
                        {"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0},
                        {"ErrorEquals": ["States.ALL"], "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                    "Next": next
                }),
                1 => json!({
                    "Type": "Choice",
                    "Choices": [
                        {"And": [
                            {"Variable": "$.result.value", "NumericGreaterThan": 10},
                            {"Not": {"Variable": "$.flag", "BooleanEquals": true}}
                        ], "Next": next},
                        {"Variable": "$.when", "TimestampLessThanPath": "$.deadline", "Next": next}
                    ],
                    "Default": next
                }),
                2 => {
                    json!({"Type": "Pass", "InputPath": "$.input", "Parameters": {"items.$": "$.items[*].id"}, "OutputPath": "$", "Next": next})
                }
                3 => json!({"Type": "Wait", "SecondsPath": "$.delay", "Next": next}),
                4 => {
                    json!({"Type": "Pass", "Result": {"n": i}, "ResultPath": "$.pass", "Assign": {"counter": i, "last.$": "$.pass"}, "Next": next})
                }
                5 => json!({
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody.$": "States.JsonToString($)"},
                    "Next": next
                }),
                6 => json!({"Type": "Pass", "Next": next}),
                _ => {
                    json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:step:live", "Next": next})
                }
            }
        };
        states.insert(name(i), state);
    }
    states.insert(
        "Fan out".into(),
        json!({"Type": "Parallel", "Next": "Items", "Branches": [
            {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
            {"StartAt": "Right", "States": {"Right": {"Type": "Wait", "Seconds": 1, "End": true}}}
        ]}),
    );
    states.insert(
        "Items".into(),
        json!({"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 10, "Next": name(0),
               "ItemSelector": {"item.$": "$$.Map.Item.Value"},
               "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Each",
                                 "States": {"Each": {"Type": "Pass", "End": true}}}}),
    );
    states.insert(
        "Failed".into(),
        json!({"Type": "Fail", "Error": "Failed", "Cause": "a step failed"}),
    );
    let def =
        json!({"Comment": "benchmark", "StartAt": "Fan out", "States": Value::Object(states)});
    serde_json::to_string_pretty(&def).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let text = definition(1000);
    let report = workflow_asl::check_str(&text);
    assert!(
        report.is_valid(),
        "the generated definition must be valid: {:?}",
        report.diagnostics
    );
    let machine = report
        .machine
        .expect("the generated definition is an object");

    c.bench_function("parse + validate 1,000 states", |b| {
        b.iter(|| workflow_asl::check_str(black_box(&text)))
    });
    c.bench_function("validate 1,000 states (model only)", |b| {
        b.iter(|| workflow_asl::validate(black_box(&machine)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
