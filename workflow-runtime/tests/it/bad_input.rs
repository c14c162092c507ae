//! Bad input never crashes the runtime: oversized inputs, many concurrent executions, wrong input
//! types and invalid intrinsic arguments each get AWS's error or a clear one.

use serde_json::{json, Value};
use workflow_runtime::{ExecutionStatus, HistoryLevel, Runtime, StartError, StartOptions};

fn machine(def: Value) -> workflow_asl::StateMachine {
    workflow_asl::parse_str(&def.to_string())
        .expect("JSON")
        .machine
        .expect("an object")
}

#[tokio::test(start_paused = true)]
async fn a_10_mb_input_is_refused_at_start_with_a_clear_error() {
    let rt = Runtime::builder().build();
    let program = rt
        .program(&machine(
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        ))
        .expect("compiles");
    let input = json!({ "blob": "x".repeat(10 << 20) });
    match rt.start(&program, input, StartOptions::new()) {
        Err(e @ StartError::InputTooLarge { .. }) => {
            let text = e.to_string();
            assert!(text.contains("262144") || text.contains("256"), "{text}");
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a 10 MB input must be refused (limit 256 KiB)"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_state_output_over_256_kib_fails_with_data_limit_exceeded() {
    let rt = Runtime::builder().build();
    let program = rt
        .program(&machine(json!({"StartAt": "Grow", "States": {
            "Grow": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayRange(1, 1000, 1)"}, "Next": "Many"},
            "Many": {"Type": "Map", "ItemsPath": "$.a", "ItemSelector": {"pad.$": "States.Format('{}{}{}{}{}{}{}{}{}{}', $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value, $$.Map.Item.Value)", "blob": "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"},
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}
        }})))
        .expect("compiles");
    let out = rt.run(&program, json!({})).await.expect("starts");
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_concurrent_executions_complete() {
    let rt = Runtime::builder().history(HistoryLevel::Off).build();
    let program = rt
        .program(&machine(json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": true}
        }})))
        .expect("compiles");
    let executions: Vec<_> = (0..10_000)
        .map(|n| {
            rt.start(&program, json!({ "n": n }), StartOptions::new())
                .expect("starts")
        })
        .collect();
    let mut sum = 0;
    for e in executions {
        let out = e.await;
        assert_eq!(out.status, ExecutionStatus::Succeeded);
        sum += out
            .output
            .as_ref()
            .and_then(|o| o["n"].as_i64())
            .unwrap_or(-1);
    }
    assert_eq!(sum, (1..=10_000).sum::<i64>());
}

#[tokio::test(start_paused = true)]
async fn wrong_input_types_and_bad_intrinsic_arguments_are_runtime_errors() {
    let rt = Runtime::builder().build();
    let cases = [
        // Map over something that is not an array.
        (
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
            json!({"items": "not an array"}),
        ),
        // MathAdd over a string.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "End": true}}}),
            json!({"n": "seven"}),
        ),
        // A missing path in Parameters.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"n.$": "$.missing"}, "End": true}}}),
            json!({}),
        ),
        // SecondsPath naming a string.
        (
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}),
            json!({"s": "ten"}),
        ),
        // ArrayGetItem out of range.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"x.$": "States.ArrayGetItem($.a, 5)"}, "End": true}}}),
            json!({"a": [1, 2]}),
        ),
    ];
    for (def, input) in cases {
        let program = rt.program(&machine(def.clone())).expect("compiles");
        let out = rt.run(&program, input).await.expect("starts");
        assert_eq!(out.status, ExecutionStatus::Failed, "{def}");
        let error = out.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("States."), "{def}: {error}");
        assert!(
            !out.cause.as_deref().unwrap_or_default().is_empty(),
            "{def}"
        );
    }
}
