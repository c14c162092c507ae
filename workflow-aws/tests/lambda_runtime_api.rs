//! The Lambda adapter against a loopback Lambda Runtime API (the protocol of
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), served by the test on
//! 127.0.0.1: the handlers of `examples/sequence.rs` answer invocations, and their `TaskError`s
//! reach `/invocation/{id}/error` as `errorType`/`errorMessage`.
//!
//! The Lambda runtime reads its configuration from the process environment, so every scenario
//! runs in this one test, one after the other.
#[path = "../../examples/sequence.rs"]
#[allow(dead_code)]
mod sequence;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};
use workflow_aws::TaskHandlers;

/// What the function answered to one invocation.
#[derive(Debug, PartialEq)]
enum Answer {
    Response(Value),
    Error(Value),
}

struct Api {
    events: Mutex<mpsc::Receiver<(String, Value)>>,
    answers: mpsc::Sender<(String, Answer)>,
}

async fn next(State(api): State<Arc<Api>>) -> (HeaderMap, String) {
    let (id, event) = api
        .events
        .lock()
        .await
        .recv()
        .await
        .unwrap_or_else(|| (String::new(), Value::Null));
    let mut headers = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
    for (k, v) in [
        ("lambda-runtime-aws-request-id", id.as_str()),
        ("lambda-runtime-deadline-ms", &deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000",
        ),
    ] {
        headers.insert(k, v.parse().expect("a header value"));
    }
    (headers, event.to_string())
}

async fn respond(State(api): State<Arc<Api>>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = api.answers.send((id, Answer::Response(value))).await;
    StatusCode::ACCEPTED
}

async fn error(State(api): State<Arc<Api>>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = api.answers.send((id, Answer::Error(value))).await;
    StatusCode::ACCEPTED
}

/// Starts a loopback Runtime API; returns its `host:port`, the event sender and the answers.
async fn runtime_api() -> (
    String,
    mpsc::Sender<(String, Value)>,
    mpsc::Receiver<(String, Answer)>,
    tokio::task::JoinHandle<()>,
) {
    let (event_tx, event_rx) = mpsc::channel(16);
    let (answer_tx, answer_rx) = mpsc::channel(16);
    let api = Arc::new(Api {
        events: Mutex::new(event_rx),
        answers: answer_tx,
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("an address").to_string();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, event_tx, answer_rx, server)
}

fn handlers() -> TaskHandlers {
    TaskHandlers::new()
        .handler("validate", sequence::validate)
        .handler("price", sequence::price)
        .handler("receipt", sequence::receipt)
}

/// Sets (`Some`) or removes (`None`) one variable of the process environment, which the Lambda
/// runtime reads its configuration from.
fn set_env(key: &str, value: Option<&str>) {
    // SAFETY: this test binary has one test, and it sets the environment between scenarios, from
    // the one thread the scenarios run on, while no other thread of the process reads it: the
    // loopback API's server reads no variable, and the Lambda runtime reads them only when
    // `serve` starts, on this thread.
    match value {
        Some(v) => unsafe { std::env::set_var(key, v) },
        None => unsafe { std::env::remove_var(key) },
    }
}

/// Invokes the function served under `env` once per event; returns the answers in order.
async fn invoke(env: &[(&str, Option<&str>)], events: Vec<Value>) -> Vec<Answer> {
    let (addr, events_tx, mut answers, server) = runtime_api().await;
    set_env("AWS_LAMBDA_RUNTIME_API", Some(&addr));
    set_env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Some("128"));
    set_env("AWS_LAMBDA_FUNCTION_VERSION", Some("$LATEST"));
    for (k, v) in env {
        set_env(k, *v);
    }
    // The Lambda runtime's future is not `Send`: run it on this thread.
    let bootstrap = tokio::task::spawn_local(workflow_aws::lambda::serve(handlers()));
    let mut out = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let id = format!("request-{i}");
        events_tx
            .send((id.clone(), event))
            .await
            .expect("the API runs");
        let (got_id, answer) = tokio::time::timeout(Duration::from_secs(30), answers.recv())
            .await
            .expect("the function answers within 30 s")
            .expect("an answer");
        assert_eq!(got_id, id, "the answer is for the invocation asked");
        out.push(answer);
    }
    bootstrap.abort();
    server.abort();
    out
}

#[tokio::test]
async fn the_bootstrap_serves_the_handler_the_environment_names() {
    tokio::task::LocalSet::new().run_until(scenarios()).await;
}

async fn scenarios() {
    // WORKFLOW_HANDLER wins over the function's name.
    let answers = invoke(
        &[
            ("WORKFLOW_HANDLER", Some("validate")),
            ("AWS_LAMBDA_FUNCTION_NAME", Some("stack-ValidateFn-1A2B3C")),
        ],
        vec![
            json!({"id": "o-1", "quantity": 3, "unit_price": 2.5}),
            json!({"id": "o-2", "quantity": 0, "unit_price": 2.5}),
            json!({"id": 7}),
        ],
    )
    .await;
    assert_eq!(
        answers[0],
        Answer::Response(json!({"id": "o-1", "quantity": 3, "unit_price": 2.5}))
    );
    // A TaskError is Lambda's errorType/errorMessage: Step Functions' error and cause.
    assert_eq!(
        answers[1],
        Answer::Error(json!({"errorType": "InvalidOrder", "errorMessage": "the quantity is zero"}))
    );
    // An input that does not fit the handler's type is States.TaskFailed, naming the handler.
    let Answer::Error(bad) = &answers[2] else {
        panic!("expected an error, got {:?}", answers[2]);
    };
    assert_eq!(bad["errorType"], "States.TaskFailed");
    assert!(
        bad["errorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("the handler `validate` could not read its input")),
        "{bad}"
    );

    // Without WORKFLOW_HANDLER the function's name picks the handler.
    let answers = invoke(
        &[
            ("WORKFLOW_HANDLER", None),
            ("AWS_LAMBDA_FUNCTION_NAME", Some("price")),
        ],
        vec![json!({"id": "o-1", "quantity": 3, "unit_price": 2.5})],
    )
    .await;
    assert_eq!(
        answers,
        [Answer::Response(
            json!({"order": {"id": "o-1", "quantity": 3, "unit_price": 2.5}, "total": 7.5})
        )]
    );

    // An unknown handler name is an error naming it and the known handlers, not a panic.
    set_env("WORKFLOW_HANDLER", Some("ship"));
    let e = workflow_aws::lambda::serve(handlers())
        .await
        .expect_err("no such handler");
    assert_eq!(
        e.to_string(),
        "no handler is named `ship` (WORKFLOW_HANDLER); the handlers are: price, receipt, validate"
    );
}
