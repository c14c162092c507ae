//! `workflow run --lambda-endpoint URL`: Lambda tasks invoked on a loopback Lambda Invoke API
//! (`POST /2015-03-31/functions/NAME/invocations`) served by the test on 127.0.0.1, with function
//! errors (`X-Amz-Function-Error`) as the task's error, next to a `--handler` and a mock-free run.

use std::process::Command;

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_workflow");

/// `price` multiplies; `validate` refuses a zero quantity with a function error.
async fn invoke(Path(name): Path<String>, body: String) -> (HeaderMap, String) {
    let event: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut headers = HeaderMap::new();
    let out = match name.as_str() {
        "price" => {
            json!({"total": event["quantity"].as_f64().unwrap_or(0.0) * event["unit_price"].as_f64().unwrap_or(0.0)})
        }
        "validate" if event["quantity"] == 0 => {
            headers.insert(
                "x-amz-function-error",
                "Unhandled".parse().expect("a header"),
            );
            json!({"errorType": "InvalidOrder", "errorMessage": "the quantity is zero"})
        }
        _ => event,
    };
    (headers, out.to_string())
}

const DEFINITION: &str = r#"{
  "StartAt": "Validate",
  "States": {
    "Validate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:validate", "Payload.$": "$"},
                 "ResultSelector": {"order.$": "$.Payload"}, "OutputPath": "$.order", "Next": "Price"},
    "Price": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:price", "Next": "Stamp"},
    "Stamp": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:stamp", "End": true}
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_tasks_go_to_the_endpoint() {
    let app = Router::new().route("/2015-03-31/functions/{name}/invocations", post(invoke));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = std::env::temp_dir().join(format!("workflow-lambda-endpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let def = dir.join("order.asl.json");
    std::fs::write(&def, DEFINITION).expect("written");
    let run = |input: &'static str| {
        let (def, url) = (def.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(BIN)
                .arg("run")
                .arg(&def)
                .args([
                    "--format",
                    "json",
                    "--input",
                    input,
                    "--lambda-endpoint",
                    &url,
                ])
                // A --handler wins over the endpoint for its state.
                .args(["--handler", "Stamp=jq -c '. + {stamped: true}'"])
                .output()
                .expect("ran")
        })
    };
    let o = run(r#"{"quantity": 3, "unit_price": 2.5}"#)
        .await
        .expect("joined");
    let out: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(
        out,
        json!({"status": "SUCCEEDED", "output": {"total": 7.5, "stamped": true}})
    );

    let o = run(r#"{"quantity": 0, "unit_price": 2.5}"#)
        .await
        .expect("joined");
    let out: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(out["error"], "InvalidOrder");
    let cause: Value =
        serde_json::from_str(out["cause"].as_str().expect("a cause")).expect("the payload");
    assert_eq!(cause["errorMessage"], "the quantity is zero");
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
