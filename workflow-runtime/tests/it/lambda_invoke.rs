//! `arn:aws:states:::lambda:invoke` as AWS runs it (the recorded shapes are in
//! `../shared/conformance/localstack/needs_lambda_stub`, checked by `tests/it/conformance_lambda.rs`):
//! the function's handler receives `Payload`, the task result is Lambda's Invoke response, a
//! handler error is a Lambda error with a JSON cause, and a caught error's output carries both
//! `Error` and `Cause`.

use serde_json::{json, Value};
use workflow_runtime::{
    ExecutionOutcome, MockConfig, Runtime, RuntimeBuilder, TaskContext, TaskError,
};

const FN_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:double";

fn builder() -> RuntimeBuilder {
    Runtime::builder()
        .seed(1)
        .start_time(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"))
        .raw_handler(FN_ARN, |event: Value, cx: TaskContext| async move {
            assert_eq!(cx.resource(), FN_ARN);
            match event["n"].as_i64() {
                Some(n) => Ok(json!({"doubled": n * 2})),
                None => Err(TaskError::new("BadInput", "n must be a number")),
            }
        })
}

async fn run(rt: &Runtime, def: Value, input: Value) -> ExecutionOutcome {
    let machine = workflow_asl::parse_str(&def.to_string())
        .expect("JSON")
        .machine
        .expect("an object");
    let program = rt.program(&machine).expect("compiles");
    rt.run(&program, input).await.expect("starts")
}

fn invoke(function_name: &str, extra: Value) -> Value {
    let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_name, "Payload.$": "$"}, "End": true});
    if let (Some(t), Value::Object(e)) = (task.as_object_mut(), extra) {
        t.extend(e);
    }
    json!({"StartAt": "Call", "States": {"Call": task}})
}

/// The Invoke response (recorded: `test_lambda_task_service::test_invoke`); `Content-Length`
/// counts the payload as the Python runtime's `json.dumps` writes it, as in AWS's recordings.
#[tokio::test(start_paused = true)]
async fn the_result_is_the_invoke_response() {
    let rt = builder().build();
    // By name (completed with the execution's region and account), by ARN, and with a qualifier
    // a handler registered for the ARN does not match.
    for name in ["double", FN_ARN] {
        let out = run(&rt, invoke(name, json!({})), json!({"n": 21})).await;
        let v = out.output.clone().expect("succeeded");
        assert_eq!(v["Payload"], json!({"doubled": 42}), "{name}");
        assert_eq!(v["StatusCode"], 200);
        assert_eq!(v["ExecutedVersion"], "$LATEST");
        assert_eq!(v["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert_eq!(
            v["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            json!(r#"{"doubled": 42}"#.len().to_string())
        );
        let rid = v["SdkResponseMetadata"]["RequestId"]
            .as_str()
            .expect("a request id");
        assert_eq!(v["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"], rid);
        // Task* events name the integration (resourceType "lambda", resource "invoke").
        let scheduled = out
            .history
            .iter()
            .find(|e| e.event_type() == "TaskScheduled")
            .expect("TaskScheduled");
        let text = serde_json::to_string(&scheduled.details()).expect("JSON");
        assert!(text.contains("\"resourceType\":\"lambda\""), "{text}");
        assert!(text.contains("\"resource\":\"invoke\""), "{text}");
    }
    // `Payload.$` selecting a string holding JSON sends that JSON.
    let def = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "double", "Payload": "{\"n\": 2}"},
        "OutputPath": "$.Payload", "End": true}}});
    let out = run(&rt, def, json!({})).await;
    assert_eq!(out.output, Some(json!({"doubled": 4})));
}

/// A function error: the error name is its `errorType`, the cause its error document as compact
/// JSON (recorded: `test_task_service_lambda::test_raise_exception_catch`), and the caught
/// output has `Error` and `Cause`.
#[tokio::test(start_paused = true)]
async fn a_handler_error_is_a_lambda_error() {
    let rt = builder().build();
    let out = run(&rt, invoke("double", json!({})), json!({"n": "x"})).await;
    assert_eq!(out.error.as_deref(), Some("BadInput"));
    let cause: Value =
        serde_json::from_str(out.cause.as_deref().expect("a cause")).expect("a JSON cause");
    assert_eq!(cause["errorType"], "BadInput");
    assert_eq!(cause["errorMessage"], "n must be a number");
    assert!(cause["requestId"].is_string());
    assert_eq!(cause["stackTrace"], json!([]));

    let caught = invoke(
        "double",
        json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]}),
    );
    let mut caught = caught;
    caught["States"]["Handled"] = json!({"Type": "Pass", "End": true});
    caught["States"]["Call"]
        .as_object_mut()
        .expect("object")
        .remove("End");
    caught["States"]["Call"]["Next"] = json!("Handled");
    let out = run(&rt, caught, json!({"n": null})).await;
    let v = out.output.expect("caught");
    assert_eq!(v["Error"], "BadInput");
    assert!(v["Cause"]
        .as_str()
        .is_some_and(|c| c.contains("\"errorType\":\"BadInput\"")));
}

/// A caught error without a cause still has the `Cause` key (AWS's recordings always show
/// both; `null` here, `""` for a timeout).
#[tokio::test(start_paused = true)]
async fn a_caught_error_always_has_error_and_cause() {
    let rt = builder()
        .raw_handler("no-cause", |_, _| async { Err(TaskError::named("Oops")) })
        .build();
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "no-cause",
              "Catch": [{"ErrorEquals": ["Oops"], "Next": "H"}], "End": true},
        "H": {"Type": "Pass", "End": true}}});
    let out = run(&rt, def, json!({})).await;
    assert_eq!(out.output, Some(json!({"Error": "Oops", "Cause": null})));
}

/// With a MockConfigFile, a mocked `Return` is the whole service response, as in Step
/// Functions Local (its documentation's `MockedLambdaSuccess` returns `{"StatusCode", "Payload"}`).
#[tokio::test(start_paused = true)]
async fn a_mocked_return_is_the_whole_response() {
    let config: MockConfig = r#"{
        "StateMachines": {"M": {"TestCases": {"T": {"Call": "Ok"}}}},
        "MockedResponses": {"Ok": {"0": {"Return": {"StatusCode": 200, "Payload": {"doubled": 0}}}}}}"#
        .parse()
        .expect("valid");
    let rt = builder()
        .mocks(config.test_case("M", "T").expect("test case"))
        .build();
    let out = run(&rt, invoke("double", json!({})), json!({"n": 21})).await;
    assert_eq!(
        out.output,
        Some(json!({"StatusCode": 200, "Payload": {"doubled": 0}}))
    );
}

/// A handler registered for the integration's resource itself still receives the whole
/// `Parameters` and returns the whole response (for stand-ins of the service).
#[tokio::test(start_paused = true)]
async fn an_integration_handler_gets_the_parameters() {
    let rt = Runtime::builder()
        .raw_handler("arn:aws:states:::lambda:invoke", |params, _| async move {
            Ok(json!({"got": params}))
        })
        .build();
    let out = run(&rt, invoke("unknown", json!({})), json!({"n": 1})).await;
    assert_eq!(
        out.output,
        Some(json!({"got": {"FunctionName": "unknown", "Payload": {"n": 1}}}))
    );
}

/// A Task whose `Resource` is the function's ARN fails as Lambda reports the function's error:
/// the error name is the handler's, the cause Lambda's error document (recorded against AWS:
/// `test_task_lambda::test_raise_custom_exception`, cause `{"errorMessage": "", "errorType":
/// "CustomException", "requestId": …, "stackTrace": […]}`); a cause that already is such a
/// document is kept verbatim, and the executor's own errors (a panic) are not wrapped.
#[tokio::test(start_paused = true)]
async fn a_function_arn_resource_fails_with_lambdas_error_document() {
    const DOC_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:documented";
    const PANIC_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:panics";
    let doc = r#"{"errorMessage": "bad", "errorType": "Custom", "stackTrace": []}"#;
    let rt = builder()
        .raw_handler(DOC_ARN, move |_: Value, _: TaskContext| async move {
            Err::<Value, _>(TaskError::new("Custom", doc))
        })
        .raw_handler(PANIC_ARN, |_: Value, _: TaskContext| async move {
            if true {
                panic!("boom");
            }
            Ok(Value::Null)
        })
        .build();
    let task = |arn: &str| {
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": arn,
            "End": true}}})
    };

    let out = run(&rt, task(FN_ARN), json!({"n": "x"})).await;
    assert_eq!(out.error.as_deref(), Some("BadInput"));
    let cause: Value =
        serde_json::from_str(out.cause.as_deref().expect("a cause")).expect("a JSON cause");
    assert_eq!(cause["errorType"], "BadInput");
    assert_eq!(cause["errorMessage"], "n must be a number");
    assert!(cause["requestId"].is_string());
    assert_eq!(cause["stackTrace"], json!([]));
    assert!(out
        .history
        .iter()
        .any(|e| e.event_type() == "LambdaFunctionFailed"));

    let out = run(&rt, task(DOC_ARN), json!({})).await;
    assert_eq!(out.error.as_deref(), Some("Custom"));
    assert_eq!(out.cause.as_deref(), Some(doc));

    let out = run(&rt, task(PANIC_ARN), json!({})).await;
    assert_eq!(out.error.as_deref(), Some("States.TaskFailed"));
    assert!(
        !out.cause.as_deref().unwrap_or_default().starts_with('{'),
        "{:?}",
        out.cause
    );
}
