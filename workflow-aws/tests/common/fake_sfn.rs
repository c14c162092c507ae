//! A loopback Step Functions endpoint for the Activity worker: the AWS JSON 1.0 protocol
//! (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`, JSON bodies, errors as HTTP 400 with
//! `__type`) for `GetActivityTask`, `SendTaskSuccess`, `SendTaskFailure` and
//! `SendTaskHeartbeat`, on 127.0.0.1 with a free port. Tasks are queued by the test; the answers
//! come back on a channel.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

/// The activity the endpoint knows.
pub const ACTIVITY_ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:validate";

/// An answer a worker sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `SendTaskSuccess`: the token and the output (parsed).
    Success(String, Value),
    /// `SendTaskFailure`: the token, error and cause.
    Failure(String, String, String),
}

/// The endpoint's state.
pub struct FakeSfn {
    tasks: Mutex<VecDeque<(String, String)>>,
    queued: Notify,
    answers: mpsc::UnboundedSender<Answer>,
    /// Tokens whose heartbeats answer `TaskTimedOut`.
    pub timed_out: Mutex<HashSet<String>>,
    /// Heartbeats received.
    pub heartbeats: AtomicU64,
    /// How long an empty `GetActivityTask` waits before answering without a task (AWS: 60 s).
    pub poll_wait: Duration,
}

impl FakeSfn {
    /// How many queued tasks no worker took yet.
    pub fn tasks_left(&self) -> usize {
        self.tasks.lock().expect("not poisoned").len()
    }

    /// Queues a task for the activity.
    pub fn push(&self, token: &str, input: &str) {
        self.tasks
            .lock()
            .expect("not poisoned")
            .push_back((token.to_string(), input.to_string()));
        self.queued.notify_one();
    }
}

fn aws_json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        body.to_string(),
    )
        .into_response()
}

fn aws_error(kind: &str, message: &str) -> Response {
    aws_json(
        StatusCode::BAD_REQUEST,
        json!({"__type": kind, "message": message}),
    )
}

async fn dispatch(State(sfn): State<Arc<FakeSfn>>, headers: HeaderMap, body: String) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return aws_error("SerializationException", "the body is not JSON");
    };
    let token = req["taskToken"].as_str().unwrap_or("").to_string();
    match target {
        "AWSStepFunctions.GetActivityTask" => {
            if req["activityArn"] != ACTIVITY_ARN {
                return aws_error("ActivityDoesNotExist", "Activity Does Not Exist");
            }
            let deadline = tokio::time::Instant::now() + sfn.poll_wait;
            loop {
                let waiting = sfn.queued.notified();
                if let Some((token, input)) = sfn.tasks.lock().expect("not poisoned").pop_front() {
                    return aws_json(StatusCode::OK, json!({"taskToken": token, "input": input}));
                }
                if tokio::time::timeout_at(deadline, waiting).await.is_err() {
                    return aws_json(StatusCode::OK, json!({}));
                }
            }
        }
        "AWSStepFunctions.SendTaskSuccess" => {
            let output = req["output"]
                .as_str()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null);
            let _ = sfn.answers.send(Answer::Success(token, output));
            aws_json(StatusCode::OK, json!({}))
        }
        "AWSStepFunctions.SendTaskFailure" => {
            let text = |k: &str| req[k].as_str().unwrap_or("").to_string();
            let _ = sfn
                .answers
                .send(Answer::Failure(token, text("error"), text("cause")));
            aws_json(StatusCode::OK, json!({}))
        }
        "AWSStepFunctions.SendTaskHeartbeat" => {
            sfn.heartbeats.fetch_add(1, Ordering::Relaxed);
            if sfn.timed_out.lock().expect("not poisoned").contains(&token) {
                return aws_error("TaskTimedOut", "Task Timed Out");
            }
            aws_json(StatusCode::OK, json!({}))
        }
        other => aws_error(
            "UnknownOperationException",
            &format!("unknown operation {other}"),
        ),
    }
}

/// Starts the endpoint; returns its URL, its state, the answers and the server task.
pub async fn start(
    poll_wait: Duration,
) -> (
    String,
    Arc<FakeSfn>,
    mpsc::UnboundedReceiver<Answer>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sfn = Arc::new(FakeSfn {
        tasks: Mutex::new(VecDeque::new()),
        queued: Notify::new(),
        answers: tx,
        timed_out: Mutex::new(HashSet::new()),
        heartbeats: AtomicU64::new(0),
        poll_wait,
    });
    let app = Router::new()
        .route("/", post(dispatch))
        .with_state(Arc::clone(&sfn));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, sfn, rx, server)
}

/// A Step Functions client for the endpoint (static test credentials).
pub fn client(url: &str) -> aws_sdk_sfn::Client {
    use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}
