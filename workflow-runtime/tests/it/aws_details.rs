//! Details of AWS's behaviour found by the conformance corpus (`tests/conformance_*.rs` at the
//! workspace root), each pinned here without the corpus: task timeout causes, the
//! DataLimitExceeded cause of service integrations, EXPRESS executions, `$$` nested in task
//! parameters, the lazily built task context, and the lazily rendered history.

use serde_json::{json, Value};
use workflow_asl::validate::MachineType;
use workflow_runtime::{
    ExecutionOutcome, ExecutionStatus, History, Runtime, RuntimeBuilder, StartOptions, TaskContext,
    TaskError,
};

fn machine(def: Value) -> workflow_asl::StateMachine {
    workflow_asl::parse_str(&def.to_string())
        .expect("JSON")
        .machine
        .expect("an object")
}

fn builder() -> RuntimeBuilder {
    Runtime::builder()
        .seed(3)
        .start_time(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"))
        .region_account("us-east-1", "111111111111")
}

async fn run(rt: &Runtime, def: Value, input: Value, options: StartOptions) -> ExecutionOutcome {
    let program = rt.program(&machine(def)).expect("compiles");
    rt.start(&program, input, options).expect("starts").await
}

fn task(resource: &str, extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
    if let (Value::Object(s), Value::Object(e)) = (&mut state, extra) {
        s.extend(e);
    }
    json!({"StartAt": "T", "States": {"T": state}})
}

#[tokio::test(start_paused = true)]
async fn task_timeouts_have_an_empty_cause_that_executions_do_not_report() {
    let rt = builder()
        .raw_handler("arn:aws:states:::lambda:invoke", |_, _| async {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Ok(json!(null))
        })
        .build();
    let slow = "arn:aws:states:::lambda:invoke";
    // Caught: the error output has `"Cause": ""` (recorded against AWS).
    let caught = run(
        &rt,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": slow, "TimeoutSeconds": 5,
                  "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "H"}], "End": true},
            "H": {"Type": "Pass", "End": true}
        }}),
        json!({}),
        StartOptions::new(),
    )
    .await;
    assert_eq!(
        caught.output,
        Some(json!({"Error": "States.Timeout", "Cause": ""}))
    );
    // Uncaught: FAILED with the error and no cause.
    let failed = run(
        &rt,
        task(slow, json!({"TimeoutSeconds": 5})),
        json!({}),
        StartOptions::new(),
    )
    .await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("States.Timeout"));
    assert_eq!(failed.cause, None);
}

#[tokio::test(start_paused = true)]
async fn data_limit_names_the_lambda_arn_or_the_service() {
    let big = || async { Ok::<Value, TaskError>(Value::String("a".repeat(300 * 1024))) };
    let rt = builder()
        .raw_handler("arn:aws:lambda:*", move |_, _| big())
        .raw_handler("arn:aws:states:::lambda:invoke", move |_, _| big())
        .build();
    let lambda = "arn:aws:lambda:us-east-1:111111111111:function:f";
    for (resource, named) in [
        (lambda, lambda),
        ("arn:aws:states:::lambda:invoke", "lambda"),
    ] {
        let out = run(
            &rt,
            task(resource, json!({})),
            json!({}),
            StartOptions::new(),
        )
        .await;
        assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
        assert_eq!(
            out.cause.as_deref(),
            Some(
                format!(
                    "The state/task '{named}' returned a result with a size exceeding the maximum number of bytes service limit."
                )
                .as_str()
            ),
            "{resource}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn express_executions_have_express_arns_and_no_redrive_count() {
    let rt = builder().build();
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"e.$": "$$.Execution"}, "End": true}}});
    let standard = run(&rt, def.clone(), json!({}), StartOptions::new().name("n")).await;
    let e = &standard.output.as_ref().expect("succeeded")["e"];
    assert_eq!(
        e["Id"],
        "arn:aws:states:us-east-1:111111111111:execution:StateMachine:n"
    );
    assert_eq!(e["RedriveCount"], 0);
    let express = run(
        &rt,
        def,
        json!({}),
        StartOptions::new()
            .name("n")
            .machine_type(MachineType::Express),
    )
    .await;
    let e = express.output.as_ref().expect("succeeded")["e"].clone();
    let id = e["Id"].as_str().expect("a string");
    assert!(
        id.starts_with("arn:aws:states:us-east-1:111111111111:express:StateMachine:n:"),
        "{id}"
    );
    assert_eq!(
        id.len(),
        "arn:aws:states:us-east-1:111111111111:express:StateMachine:n:".len() + 36
    );
    assert!(e.get("RedriveCount").is_none(), "{e}");
    let keys: Vec<&str> = e
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["Id", "Input", "Name", "RoleArn", "StartTime"]);
}

#[tokio::test(start_paused = true)]
async fn task_parameters_see_the_context_object_in_nested_fields() {
    let rt = builder()
        .raw_handler("echo", |v, _| async move { Ok(v) })
        .build();
    let out = run(
        &rt,
        task(
            "echo",
            json!({"Parameters": {"Payload": {"Retry.$": "$$.State.RetryCount", "Name.$": "$$.State.Name"}}}),
        ),
        json!({}),
        StartOptions::new(),
    )
    .await;
    assert_eq!(
        out.output,
        Some(json!({"Payload": {"Retry": 0, "Name": "T"}}))
    );
}

#[tokio::test(start_paused = true)]
async fn handlers_read_the_context_object_on_demand() {
    let rt = builder()
        .raw_handler("ctx", |_, cx: TaskContext| async move {
            Ok(json!({
                "state": cx.context()["State"].clone(),
                "machine": cx.context()["StateMachine"]["Name"].clone(),
            }))
        })
        .build();
    let out = run(&rt, task("ctx", json!({})), json!({}), StartOptions::new()).await;
    assert_eq!(
        out.output,
        Some(json!({
            "state": {"Name": "T", "EnteredTime": "2023-11-14T22:13:20.000Z", "RetryCount": 0},
            "machine": "StateMachine"
        }))
    );
}

#[tokio::test(start_paused = true)]
async fn history_is_rendered_when_read() {
    let rt = builder().build();
    let out = run(
        &rt,
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        json!({"a": 1}),
        StartOptions::new(),
    )
    .await;
    let h: &History = &out.history;
    let types = [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ];
    assert_eq!((h.len(), h.event_types()), (4, types.to_vec()));
    assert_eq!(out.event_types(), types);
    let events: Vec<_> = h.iter().map(|e| e.event_type().to_string()).collect();
    assert_eq!(events, types);
    assert_eq!(
        h[1].to_aws_json()["stateEnteredEventDetails"]["input"],
        "{\"a\":1}"
    );
    // Equality, clones and conversions see the same events.
    let owned: Vec<_> = h.clone().into_vec();
    assert_eq!(&owned, h);
    assert_eq!(History::from(owned.clone()), *h);
    assert_eq!(History::from(owned).event_types(), types);
    assert!(History::default().is_empty());
}
