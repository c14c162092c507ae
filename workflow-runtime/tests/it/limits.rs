//! The limits of `workflow_asl::limits`, each reproducing the failure of issue 12 that it fixes:
//! past a limit an execution fails with a `States.*` error, never a crash, a hang or unbounded
//! memory.

use serde_json::{json, Value};
use workflow_asl::limits::{history_limit_cause, MAX_HISTORY_EVENTS};
use workflow_runtime::{
    ExecutionStatus, HistoryLevel, Runtime, RuntimeBuilder, StartOptions, TaskError,
};

fn machine(def: Value) -> workflow_asl::StateMachine {
    workflow_asl::parse_str(&def.to_string())
        .expect("JSON")
        .machine
        .expect("an object")
}

async fn run(rt: &Runtime, def: Value, input: Value) -> workflow_runtime::ExecutionOutcome {
    let program = rt.program(&machine(def)).expect("compiles");
    rt.start(&program, input, StartOptions::new())
        .expect("starts")
        .await
}

/// Issue 12: an endless loop grew memory until the process died. Event 25,000 is now
/// `ExecutionFailed` with AWS's error and cause.
#[tokio::test(start_paused = true)]
async fn an_endless_loop_fails_at_aws_history_quota() {
    let rt = Runtime::builder().build();
    let out = run(
        &rt,
        json!({"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "Loop"}}}),
        json!({}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        out.cause.as_deref(),
        Some("The execution reached the maximum number of history events (25000).")
    );
    assert_eq!(out.history.len() as u64, MAX_HISTORY_EVENTS);
    let last = out.history.events().last().expect("events").clone();
    assert_eq!((last.id, last.event_type()), (25_000, "ExecutionFailed"));
    assert!(out
        .history
        .events()
        .windows(2)
        .all(|w| w[1].id == w[0].id + 1));
}

/// Issue 12: a retry with MaxAttempts 99999999 grew memory without end.
#[tokio::test(start_paused = true)]
async fn an_endless_retry_fails_at_the_history_limit() {
    let rt = RuntimeBuilder::default()
        .raw_handler(
            "arn:aws:lambda:*:*:function:no",
            |_input: Value, _cx| async { Err::<Value, _>(TaskError::new("Nope", "always")) },
        )
        .history_limit(500)
        .build();
    let out = run(
        &rt,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:no",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 99999999, "BackoffRate": 1}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.cause, Some(history_limit_cause(500)));
    assert_eq!(out.history.len(), 500);
    assert_eq!(
        out.history.events().last().map(|e| e.event_type()),
        Some("ExecutionFailed")
    );
}

/// The limit is checked inside Parallel branches and Map iterations too, and `Catch` does not
/// catch it (AWS fails the execution).
#[tokio::test(start_paused = true)]
async fn the_limit_is_not_caught_and_reaches_through_maps() {
    let rt = Runtime::builder().history_limit(300).build();
    let out = run(
        &rt,
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Succeed"}}}),
        json!({"items": (0..1000).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed, "{:?}", out.output);
    assert_eq!(out.cause, Some(history_limit_cause(300)));
    assert_eq!(out.history.len(), 300);
}

/// With `HistoryLevel::Count` (what `workflow run` uses when nothing reads the history) no event
/// is kept, but every run ends exactly as with the full history: the limit counts the same
/// events, on the executor's task, inside Maps and Parallels, and in iterations run on threads.
#[tokio::test(start_paused = true)]
async fn counting_ends_runs_as_the_full_history_does() {
    let pass_map = |concurrency: u64| {
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": concurrency,
                  "ItemProcessor": {"StartAt": "P", "States": {
                      "P": {"Type": "Pass", "Next": "Q"}, "Q": {"Type": "Pass", "End": true}}},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Succeed"}}})
    };
    let cases = [
        (
            pass_map(1),
            json!({"items": (0..1000).collect::<Vec<_>>()}),
            300,
        ),
        (
            pass_map(0),
            json!({"items": (0..1000).collect::<Vec<_>>()}),
            300,
        ),
        (
            pass_map(0),
            json!({"items": (0..1000).collect::<Vec<_>>()}),
            6000,
        ),
        (
            pass_map(0),
            json!({"items": (0..10).collect::<Vec<_>>()}),
            300,
        ),
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
                "Branches": [{"StartAt": "L", "States": {"L": {"Type": "Pass", "Next": "L"}}},
                             {"StartAt": "E", "States": {"E": {"Type": "Pass", "End": true}}}]}}}),
            json!({}),
            777,
        ),
        // Last: were the limit not counted, this one would never end.
        (
            json!({"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "Loop"}}}),
            json!({}),
            0,
        ),
    ];
    for (def, input, limit) in cases {
        let builder = |level| {
            let b = Runtime::builder().history(level);
            if limit == 0 {
                b
            } else {
                b.history_limit(limit)
            }
        };
        let full = run(
            &builder(HistoryLevel::Full).build(),
            def.clone(),
            input.clone(),
        )
        .await;
        let counted = run(&builder(HistoryLevel::Count).build(), def.clone(), input).await;
        let ending = |o: &workflow_runtime::ExecutionOutcome| {
            (o.status, o.output.clone(), o.error.clone(), o.cause.clone())
        };
        assert_eq!(ending(&counted), ending(&full), "{def} with limit {limit}");
        assert!(counted.history.is_empty());
    }
}

/// `history_limit(0)` lifts the limit for local bulk runs.
#[tokio::test(start_paused = true)]
async fn no_limit_when_asked() {
    let rt = Runtime::builder().history_limit(0).build();
    let out = run(
        &rt,
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.items",
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                  "End": true}}}),
        json!({"items": (0..7000).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert!(out.history.len() > 25_000);
}

/// Issue 12: `$..*..*..*` on a 1 KB input allocated until the process aborted.
#[tokio::test(start_paused = true)]
async fn an_explosive_path_fails_the_state() {
    let mut input = json!({"v": 0});
    for i in 1..60 {
        input = json!({"a": i, "b": i, "c": i, "v": i, "child": input});
    }
    let rt = Runtime::builder().build();
    let out = run(
        &rt,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"x.$": "$..*..*..*..*..*"}, "End": true}}}),
        input,
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert!(
        out.cause
            .as_deref()
            .is_some_and(|c| c.contains("1000000 steps")),
        "{:?}",
        out.cause
    );
}

/// Issue 12: data nested ~17,000 levels deep (under the 256 KiB limit) overflowed the stack. A
/// loop that wraps its input one level per turn now fails at the nesting limit.
#[tokio::test(start_paused = true)]
async fn a_loop_that_deepens_its_data_fails_at_the_nesting_limit() {
    let rt = Runtime::builder().history_limit(0).build();
    let out = run(
        &rt,
        json!({"StartAt": "Wrap", "States": {
            "Wrap": {"Type": "Pass", "Parameters": {"a.$": "$"}, "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [
                {"Variable": "$.stop", "IsPresent": true, "Next": "Done"}], "Default": "Wrap"},
            "Done": {"Type": "Succeed"}}}),
        json!({}),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert!(
        out.cause
            .as_deref()
            .is_some_and(|c| c.contains("nested more than 127 levels")),
        "{:?}",
        out.cause
    );
}

/// Issue 12: a handler returning data nested far beyond the nesting limit overflowed the stack
/// when the result was rendered, walked or dropped. Now the task fails with `States.Runtime` at
/// the state, and a result over 256 KiB with `States.DataLimitExceeded`.
#[tokio::test(start_paused = true)]
async fn a_handler_result_too_deep_or_too_big_fails_the_task() {
    fn deep(levels: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..levels {
            v = Value::Array(vec![v]);
        }
        v
    }
    let rt = RuntimeBuilder::default()
        .raw_handler(
            "arn:aws:lambda:*:*:function:deep",
            |_input: Value, _cx| async { Ok::<Value, TaskError>(deep(200_000)) },
        )
        .raw_handler(
            "arn:aws:lambda:*:*:function:big",
            |_input: Value, _cx| async {
                Ok::<Value, TaskError>(json!({"pad": "x".repeat(300 * 1024)}))
            },
        )
        .build();
    let task = |name: &str| {
        json!({
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
                    "End": true
                }
            }
        })
    };
    let out = run(&rt, task("deep"), json!({})).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    let cause = out.cause.clone().unwrap_or_default();
    assert!(cause.contains("result of the task 'T'"), "{cause}");
    assert!(cause.contains("127 levels"), "{cause}");

    let out = run(&rt, task("big"), json!({})).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));

    // Like every limit (see `the_limit_is_not_caught_and_reaches_through_maps`), not caught.
    let mut caught = task("deep");
    caught["States"]["T"]["Catch"] =
        json!([{"ErrorEquals": ["States.Runtime"], "Next": "Handled"}]);
    caught["States"]["T"]["ResultPath"] = json!("$.r");
    caught["States"]["Handled"] = json!({"Type": "Pass", "End": true});
    let out = run(&rt, caught, json!({})).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
}
