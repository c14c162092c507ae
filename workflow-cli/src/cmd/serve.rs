//! `--serve ADDR`: the callbacks of `.waitForTaskToken` tasks over the Step Functions API.
//!
//! The protocol is AWS JSON 1.0, as the AWS CLI and SDKs speak it to Step Functions
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>):
//! `POST /` with `X-Amz-Target: AWSStepFunctions.SendTaskSuccess` (`SendTaskFailure`,
//! `SendTaskHeartbeat`) and a JSON body (`taskToken`, `output`, `error`, `cause`); the answer is
//! `{}`, or HTTP 400 with `{"__type": NAME, "message": …}` where NAME is `TaskDoesNotExist`,
//! `InvalidToken`, `TaskTimedOut`, `InvalidOutput`, `ValidationException` (a missing or
//! mistyped field), `SerializationException` (a body that is not JSON) or
//! `UnknownOperationException`. Requests are not authenticated: the server listens where it is
//! told (use a loopback address).
//!
//! ```text
//! aws stepfunctions send-task-success --endpoint-url http://127.0.0.1:8083 \
//!     --task-token TOKEN --task-output '{"approved": true}'
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use workflow_runtime::{CallbackError, Callbacks};

/// The content type of AWS JSON 1.0.
const AWS_JSON: &str = "application/x-amz-json-1.0";

/// A running callback server; dropping it (or [`Server::close`]) stops it.
#[derive(Debug)]
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting requests and waits for the server to end.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Listens on `addr` (now, before any state starts) and answers callbacks for `callbacks`.
pub async fn start(addr: &str, callbacks: Arc<Callbacks>) -> Result<Server, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--serve {addr}: cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("--serve: no local address: {e}"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(callbacks);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Server {
        addr,
        stop: Some(stop),
        task,
    })
}

/// The server's routes (public for tests and benchmarks).
pub fn router(callbacks: Arc<Callbacks>) -> Router {
    Router::new()
        .route("/", post(dispatch))
        .with_state(callbacks)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, AWS_JSON)], body.to_string()).into_response()
}

fn error(kind: &str, message: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        json!({"__type": kind, "message": message}),
    )
}

fn refused(e: &CallbackError) -> Response {
    error(e.aws_name(), e.message())
}

/// A string field of the request; `Err` is the error response naming it.
fn field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    required: bool,
) -> Result<Option<&'a str>, Response> {
    match body.get(name) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(error(
            "ValidationException",
            &format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"),
        )),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(error(
            "SerializationException",
            &format!("the field '{name}' must be a string, not {other}"),
        )),
    }
}

async fn dispatch(
    State(callbacks): State<Arc<Callbacks>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(operation) = target.strip_prefix("AWSStepFunctions.") else {
        return error(
            "UnknownOperationException",
            &format!(
                "the X-Amz-Target header must name an AWSStepFunctions operation, not '{target}'"
            ),
        );
    };
    let body: Map<String, Value> = match serde_json::from_str(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return error(
                "SerializationException",
                "the request body must be a JSON object",
            )
        }
        Err(e) => {
            return error(
                "SerializationException",
                &format!("the request body is not JSON: {e}"),
            )
        }
    };
    let result = (|| -> Result<Result<(), CallbackError>, Response> {
        match operation {
            "SendTaskSuccess" => {
                let token = field(&body, "taskToken", true)?.unwrap_or("");
                let output = field(&body, "output", true)?.unwrap_or("");
                Ok(callbacks.send_success_text(token, output))
            }
            "SendTaskFailure" => {
                let token = field(&body, "taskToken", true)?.unwrap_or("");
                let e = field(&body, "error", false)?.map(str::to_string);
                let c = field(&body, "cause", false)?.map(str::to_string);
                Ok(callbacks.send_failure(token, e, c))
            }
            "SendTaskHeartbeat" => {
                let token = field(&body, "taskToken", true)?.unwrap_or("");
                Ok(callbacks.send_heartbeat(token))
            }
            other => Err(error(
                "UnknownOperationException",
                &format!("the local server answers SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat, not {other}"),
            )),
        }
    })();
    match result {
        Ok(Ok(())) => answer(StatusCode::OK, json!({})),
        Ok(Err(e)) => refused(&e),
        Err(response) => response,
    }
}
