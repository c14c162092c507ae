//! Task handlers: async Rust functions that run a Task state's `Resource`.
//!
//! A [`Handlers`] registry maps resource ARNs to handlers. A handler is registered under an exact
//! resource (`arn:aws:lambda:us-east-1:123456789012:function:Validate`) or a pattern in which `*`
//! matches any run of characters (`arn:aws:lambda:*:*:function:Validate*`). Exact registrations
//! win; patterns are tried in registration order.
//!
//! A handler receives the task's effective input (after `InputPath` and `Parameters`) and a
//! [`TaskContext`], and returns the task result or a [`TaskError`] (an error name and a cause, as
//! Step Functions reports them). Typed handlers (`I: DeserializeOwned`, `O: Serialize`) are
//! converted at the boundary. A handler that panics fails its task with `States.TaskFailed`; the
//! panic never reaches the runtime.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use workflow_asl::error::{names, Failure};

/// A task failure reported by a handler: an error name and an optional cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The error name matched by `Retry`/`Catch` `ErrorEquals`.
    pub error: String,
    /// The human-readable cause, if any.
    pub cause: Option<String>,
}

impl TaskError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// An error with a name and no cause.
    pub fn named(error: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: None,
        }
    }

    /// A `States.TaskFailed` error with this cause.
    pub fn task_failed(cause: impl Into<String>) -> TaskError {
        TaskError::new(names::TASK_FAILED, cause)
    }
}

impl From<Failure> for TaskError {
    fn from(f: Failure) -> TaskError {
        TaskError {
            error: f.error,
            cause: Some(f.cause),
        }
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {}", self.error, cause),
            None => f.write_str(&self.error),
        }
    }
}

impl std::error::Error for TaskError {}

/// Heartbeats sent by a running task, observed by the executor (`HeartbeatSeconds`).
#[derive(Debug, Default)]
pub(crate) struct Heartbeat {
    pub(crate) notify: Notify,
    pub(crate) count: AtomicU64,
}

/// A context object built on first use: most handlers never look at it, and building it (about
/// a dozen strings and maps) costs more than a small task.
pub(crate) struct LazyContext {
    value: std::sync::OnceLock<Value>,
    make: Option<Box<dyn Fn() -> Value + Send + Sync>>,
}

impl LazyContext {
    /// A context that is already built.
    pub(crate) fn ready(value: Value) -> LazyContext {
        LazyContext {
            value: std::sync::OnceLock::from(value),
            make: None,
        }
    }

    /// A context built by `make` when first read.
    pub(crate) fn deferred(make: impl Fn() -> Value + Send + Sync + 'static) -> LazyContext {
        LazyContext {
            value: std::sync::OnceLock::new(),
            make: Some(Box::new(make)),
        }
    }

    fn get(&self) -> &Value {
        self.value
            .get_or_init(|| self.make.as_ref().map_or(Value::Null, |make| make()))
    }
}

impl std::fmt::Debug for LazyContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// What a handler knows about the task it runs.
#[derive(Debug, Clone)]
pub struct TaskContext {
    pub(crate) resource: Arc<str>,
    pub(crate) state_name: Arc<str>,
    pub(crate) context: Arc<LazyContext>,
    pub(crate) task_token: Option<String>,
    pub(crate) retry_count: u32,
    pub(crate) heartbeat: Arc<Heartbeat>,
}

impl TaskContext {
    /// A context for calling a handler outside an execution (in a unit test of the handler).
    pub fn detached(resource: &str, state_name: &str) -> TaskContext {
        TaskContext {
            resource: resource.into(),
            state_name: state_name.into(),
            context: Arc::new(LazyContext::ready(Value::Null)),
            task_token: None,
            retry_count: 0,
            heartbeat: Arc::default(),
        }
    }

    /// The state's `Resource`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The name of the Task state.
    pub fn state_name(&self) -> &str {
        &self.state_name
    }

    /// The context object (`$$`) as the state sees it.
    pub fn context(&self) -> &Value {
        self.context.get()
    }

    /// The task token (`$$.Task.Token`), for `.waitForTaskToken` resources.
    pub fn task_token(&self) -> Option<&str> {
        self.task_token.as_deref()
    }

    /// How many times this state has been retried (`$$.State.RetryCount`).
    pub fn retry_count(&self) -> u32 {
        self.retry_count
    }

    /// Reports that the task is still alive, resetting its `HeartbeatSeconds` timer.
    pub fn heartbeat(&self) {
        self.heartbeat.count.fetch_add(1, Ordering::Relaxed);
        self.heartbeat.notify.notify_one();
    }
}

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A registered handler, type-erased.
pub type HandlerFn = Arc<dyn Fn(Value, TaskContext) -> HandlerFuture + Send + Sync>;

/// The resource-to-handler registry.
#[derive(Clone, Default)]
pub struct Handlers {
    exact: HashMap<String, HandlerFn>,
    patterns: Vec<(String, HandlerFn)>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("exact", &self.exact.keys().collect::<Vec<_>>())
            .field(
                "patterns",
                &self.patterns.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Handlers {
    /// An empty registry.
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers a raw JSON handler under a resource or a `*` pattern (replacing an earlier
    /// registration of the same text).
    pub fn insert_raw<F, Fut>(&mut self, resource: &str, f: F)
    where
        F: Fn(Value, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        let f: HandlerFn = Arc::new(move |v, cx| Box::pin(f(v, cx)) as HandlerFuture);
        if resource.contains('*') {
            self.patterns.retain(|(p, _)| p != resource);
            self.patterns.push((resource.to_string(), f));
        } else {
            self.exact.insert(resource.to_string(), f);
        }
    }

    /// Registers a typed handler: its input is read from the task's JSON input and its output
    /// written back as JSON. An input that does not fit `I` fails the task with
    /// `States.TaskFailed`.
    pub fn insert_typed<I, O, E, F, Fut>(&mut self, resource: &str, f: F)
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        E: Into<TaskError> + 'static,
        F: Fn(I, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let f = Arc::new(f);
        let name = resource.to_string();
        self.insert_raw(resource, move |input: Value, cx: TaskContext| {
            let f = Arc::clone(&f);
            let name = name.clone();
            async move {
                let input: I = serde_json::from_value(input).map_err(|e| {
                    TaskError::task_failed(format!(
                        "the handler for `{name}` could not read its input: {e}"
                    ))
                })?;
                let output = f(input, cx).await.map_err(Into::into)?;
                serde_json::to_value(output).map_err(|e| {
                    TaskError::task_failed(format!(
                        "the handler for `{name}` returned a value that is not JSON: {e}"
                    ))
                })
            }
        });
    }

    /// The handler for a resource: the exact registration, else the first matching pattern.
    pub fn lookup(&self, resource: &str) -> Option<&HandlerFn> {
        self.exact.get(resource).or_else(|| {
            self.patterns
                .iter()
                .find(|(p, _)| glob_matches(p, resource))
                .map(|(_, f)| f)
        })
    }

    /// Whether no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }
}

/// Runs a handler, turning a panic (while creating or polling its future) into a
/// `States.TaskFailed` error.
pub(crate) async fn call_guarded(
    f: &HandlerFn,
    input: Value,
    cx: TaskContext,
) -> Result<Value, TaskError> {
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| f(input, cx))) {
        Ok(fut) => fut,
        Err(payload) => return Err(panicked(payload.as_ref())),
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(panicked(payload.as_ref())),
    }
}

pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> TaskError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    TaskError::task_failed(format!("the task handler panicked: {message}"))
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (including none).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A typed handler's future, polled so that a panic fails the call with `States.TaskFailed` (as
/// `call_guarded` does for registered handlers), without a type of its own per handler.
pub(crate) struct Guarded<'c>(
    pub(crate) Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send + 'c>>,
);

impl Future for Guarded<'_> {
    type Output = Result<Value, TaskError>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let run = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => std::task::Poll::Ready(Err(panicked(payload.as_ref()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[test]
    fn glob_table() {
        for (pattern, text, expected) in [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("*", "", true),
            ("*", "anything", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            (
                "arn:aws:lambda:*:*:function:Validate*",
                "arn:aws:lambda:us-east-1:1:function:ValidateOrder",
                true,
            ),
            (
                "arn:aws:lambda:*:*:function:Validate*",
                "arn:aws:lambda:us-east-1:1:function:Charge",
                false,
            ),
            ("*x*y", "axbyy", true),
            ("a**", "a", true),
        ] {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[derive(Deserialize)]
    struct In {
        n: i64,
    }

    #[tokio::test]
    async fn lookup_prefers_exact_then_patterns_in_order() {
        let mut h = Handlers::new();
        h.insert_raw("arn:x:*", |_, _| async { Ok(json!("pattern1")) });
        h.insert_raw("arn:x:y*", |_, _| async { Ok(json!("pattern2")) });
        h.insert_raw("arn:x:exact", |_, _| async { Ok(json!("exact")) });
        let cx = TaskContext::detached("r", "S");
        for (resource, expected) in [
            ("arn:x:exact", Some("exact")),
            ("arn:x:yes", Some("pattern1")),
            ("arn:z", None),
        ] {
            let got = match h.lookup(resource) {
                Some(f) => Some(call_guarded(f, Value::Null, cx.clone()).await.unwrap()),
                None => None,
            };
            assert_eq!(got, expected.map(|s| json!(s)), "{resource}");
        }
    }

    #[tokio::test]
    async fn typed_handlers_convert_and_report_bad_input() {
        let mut h = Handlers::new();
        h.insert_typed("double", |i: In, _cx| async move {
            Ok::<_, TaskError>(json!({"n": i.n * 2}))
        });
        let f = h.lookup("double").expect("registered");
        let cx = TaskContext::detached("double", "S");
        assert_eq!(
            call_guarded(f, json!({"n": 21}), cx.clone()).await,
            Ok(json!({"n": 42}))
        );
        let err = call_guarded(f, json!({"n": "x"}), cx).await.unwrap_err();
        assert_eq!(err.error, "States.TaskFailed");
        assert!(err.cause.unwrap().contains("could not read its input"));
    }

    #[tokio::test]
    async fn panics_become_task_failures() {
        let mut h = Handlers::new();
        h.insert_raw("boom", |_, _| async { panic!("kaboom") });
        h.insert_raw(
            "boom-sync",
            |_, _| -> std::future::Ready<Result<Value, TaskError>> { panic!("before the future") },
        );
        let cx = TaskContext::detached("boom", "S");
        for resource in ["boom", "boom-sync"] {
            let f = h.lookup(resource).expect("registered");
            let err = call_guarded(f, Value::Null, cx.clone()).await.unwrap_err();
            assert_eq!(err.error, "States.TaskFailed");
            assert!(err.cause.unwrap().contains("panicked"), "{resource}");
        }
    }
}
