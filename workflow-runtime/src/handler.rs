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
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::TaskError;
///
/// // A task that fails with `Overdrawn`, caught by the state's Catch.
/// let machine = workflow_asl::load(r#"{"StartAt": "Pay", "States": {
///   "Pay": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Pay",
///           "Catch": [{"ErrorEquals": ["Overdrawn"], "ResultPath": "$.error", "Next": "Declined"}], "End": true},
///   "Declined": {"Type": "Pass", "End": true}}}"#).expect("valid");
/// let runtime = Runtime::builder()
///     .handler("arn:aws:lambda:*:*:function:Pay", |_: Value| async {
///         Err::<Value, _>(TaskError::new("Overdrawn", "balance too low"))
///     })
///     .build();
/// let outcome = runtime.run_machine(&machine, json!({})).await?;
/// let error = &outcome.output.unwrap()["error"];
/// assert_eq!(error["Error"], "Overdrawn");
/// // A Lambda's cause is its error JSON, as AWS reports it.
/// assert!(error["Cause"].as_str().unwrap().contains(r#""errorMessage":"balance too low""#));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The error name matched by `Retry`/`Catch` `ErrorEquals`.
    pub error: String,
    /// The human-readable cause, if any.
    pub cause: Option<String>,
}

impl TaskError {
    /// An error with a name and a cause.
    ///
    /// ```
    /// use workflow_runtime::TaskError;
    ///
    /// let e = TaskError::new("Overdrawn", "balance too low");
    /// assert_eq!((e.error.as_str(), e.cause.as_deref()), ("Overdrawn", Some("balance too low")));
    /// assert_eq!(e.to_string(), "Overdrawn: balance too low");
    /// ```
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// An error with a name and no cause.
    ///
    /// ```
    /// use workflow_runtime::TaskError;
    ///
    /// let e = TaskError::named("Throttled");
    /// assert_eq!((e.error.as_str(), e.cause), ("Throttled", None));
    /// ```
    pub fn named(error: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: None,
        }
    }

    /// A `States.TaskFailed` error with this cause.
    ///
    /// ```
    /// use workflow_runtime::TaskError;
    ///
    /// let e = TaskError::task_failed("the service said no");
    /// assert_eq!(e.error, "States.TaskFailed");
    /// assert_eq!(e.cause.as_deref(), Some("the service said no"));
    /// ```
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
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::TaskContext;
///
/// let machine = workflow_asl::load(r#"{"StartAt": "Who", "States": {"Who": {
///   "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Who", "End": true}}}"#).expect("valid");
/// let runtime = Runtime::builder()
///     .handler_with_context("arn:aws:lambda:*:*:function:Who", |_: Value, cx: TaskContext| async move {
///         Ok::<_, TaskError>(json!({
///             "state": cx.state_name(),
///             "resource": cx.resource(),
///             "entered": cx.context()["State"]["Name"],
///             "retries": cx.retry_count(),
///             "token": cx.task_token(),
///         }))
///     })
///     .build();
/// let outcome = runtime.run_machine(&machine, json!({})).await?;
/// assert_eq!(
///     outcome.output,
///     Some(json!({
///         "state": "Who",
///         "resource": "arn:aws:lambda:us-east-1:123456789012:function:Who",
///         "entered": "Who",
///         "retries": 0,
///         "token": null,
///     }))
/// );
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use workflow_runtime::TaskContext;
    ///
    /// // Unit-test a handler without an execution.
    /// let cx = TaskContext::detached("arn:aws:lambda:us-east-1:123456789012:function:F", "F");
    /// assert_eq!(cx.state_name(), "F");
    /// assert_eq!(cx.context(), &serde_json::Value::Null);
    /// assert_eq!(cx.task_token(), None);
    /// ```
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
    ///
    /// ```
    /// let cx = workflow_runtime::TaskContext::detached("arn:aws:states:::sqs:sendMessage", "Send");
    /// assert_eq!(cx.resource(), "arn:aws:states:::sqs:sendMessage");
    /// ```
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The name of the Task state.
    ///
    /// ```
    /// let cx = workflow_runtime::TaskContext::detached("arn:aws:states:::sqs:sendMessage", "Send");
    /// assert_eq!(cx.state_name(), "Send");
    /// ```
    pub fn state_name(&self) -> &str {
        &self.state_name
    }

    /// The context object (`$$`) as the state sees it.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskContext, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {
    ///   "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:T", "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder()
    ///     .handler_with_context("arn:aws:lambda:*:*:function:T", |_: Value, cx: TaskContext| async move {
    ///         Ok::<_, TaskError>(cx.context()["Execution"]["Name"].clone())
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-9"))?;
    /// assert_eq!(execution.await.output, Some(json!("e-9")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn context(&self) -> &Value {
        self.context.get()
    }

    /// The task token (`$$.Task.Token`), for `.waitForTaskToken` resources.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskContext, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
    /// let machine = workflow_asl::load(&format!(r#"{{"StartAt": "Ask", "States": {{"Ask": {{
    ///   "Type": "Task", "Resource": "{resource}", "Parameters": {{"QueueUrl": "q", "MessageBody": "?"}}, "End": true}}}}}}"#)).expect("valid");
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    /// let runtime = Runtime::builder()
    ///     .handler_with_context(resource, move |_: Value, cx: TaskContext| {
    ///         // Deliver the token to whoever answers.
    ///         let _ = tx.send(cx.task_token().expect("a .waitForTaskToken task").to_string());
    ///         async { Ok::<_, TaskError>(json!({})) }
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// let token = rx.recv().await.expect("the handler ran");
    /// execution.send_task_success(&token, json!("yes"))?;
    /// assert_eq!(execution.await.output, Some(json!("yes")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn task_token(&self) -> Option<&str> {
        self.task_token.as_deref()
    }

    /// How many times this state has been retried (`$$.State.RetryCount`).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskContext, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Flaky", "States": {"Flaky": {
    ///   "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Flaky",
    ///   "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 3}], "End": true}}}"#).expect("valid");
    /// // Fails twice, then succeeds, saying on which retry.
    /// let runtime = Runtime::builder()
    ///     .handler_with_context("arn:aws:lambda:*:*:function:Flaky", |_: Value, cx: TaskContext| async move {
    ///         match cx.retry_count() {
    ///             n @ 0..=1 => Err(TaskError::new("Busy", format!("attempt {n}"))),
    ///             n => Ok(json!(n)),
    ///         }
    ///     })
    ///     .build();
    /// assert_eq!(runtime.run_machine(&machine, json!({})).await?.output, Some(json!(2)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn retry_count(&self) -> u32 {
        self.retry_count
    }

    /// Reports that the task is still alive, resetting its `HeartbeatSeconds` timer.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskContext, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// // A 25-second job under a 10-second HeartbeatSeconds survives by beating.
    /// let machine = workflow_asl::load(r#"{"StartAt": "Job", "States": {"Job": {
    ///   "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Job",
    ///   "HeartbeatSeconds": 10, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder()
    ///     .handler_with_context("arn:aws:lambda:*:*:function:Job", |_: Value, cx: TaskContext| async move {
    ///         for _ in 0..5 {
    ///             tokio::time::sleep(Duration::from_secs(5)).await;
    ///             cx.heartbeat();
    ///         }
    ///         Ok::<_, TaskError>(json!("done"))
    ///     })
    ///     .build();
    /// assert_eq!(runtime.run_machine(&machine, json!({})).await?.output, Some(json!("done")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn heartbeat(&self) {
        self.heartbeat.count.fetch_add(1, Ordering::Relaxed);
        self.heartbeat.notify.notify_one();
    }
}

/// The future a handler returns.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::handler::HandlerFuture;
/// use workflow_runtime::TaskError;
///
/// let f: HandlerFuture = Box::pin(async { Ok::<_, TaskError>(serde_json::json!(1)) });
/// assert_eq!(f.await?, serde_json::json!(1));
/// # Ok(())
/// # }
/// ```
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A registered handler, type-erased.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::{Handlers, TaskContext, TaskError};
///
/// let mut handlers = Handlers::new();
/// handlers.insert_typed("arn:f", |n: i64, _cx: TaskContext| async move { Ok::<_, TaskError>(n * 10) });
/// let f = handlers.lookup("arn:f").expect("registered");
/// assert_eq!(f(serde_json::json!(4), TaskContext::detached("arn:f", "F")).await?, serde_json::json!(40));
/// # Ok(())
/// # }
/// ```
pub type HandlerFn = Arc<dyn Fn(Value, TaskContext) -> HandlerFuture + Send + Sync>;

/// The resource-to-handler registry.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::{json, Value};
/// use workflow_runtime::{Handlers, TaskContext, TaskError};
///
/// let mut handlers = Handlers::new();
/// assert!(handlers.is_empty());
/// handlers.insert_typed("arn:aws:lambda:*:*:function:Echo*", |v: Value, _cx: TaskContext| async move {
///     Ok::<_, TaskError>(v)
/// });
/// handlers.insert_raw("arn:aws:lambda:us-east-1:123456789012:function:EchoExact", |_v, _cx| async {
///     Ok(json!("exact"))
/// });
/// // The exact registration wins over the pattern.
/// let cx = || TaskContext::detached("", "S");
/// let exact = handlers.lookup("arn:aws:lambda:us-east-1:123456789012:function:EchoExact").unwrap();
/// assert_eq!(exact(json!(1), cx()).await?, json!("exact"));
/// let pattern = handlers.lookup("arn:aws:lambda:eu-west-1:123456789012:function:EchoOther").unwrap();
/// assert_eq!(pattern(json!(1), cx()).await?, json!(1));
/// assert!(handlers.lookup("arn:aws:lambda:us-east-1:123456789012:function:Other").is_none());
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// assert!(workflow_runtime::Handlers::new().is_empty());
    /// ```
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers a raw JSON handler under a resource or a `*` pattern (replacing an earlier
    /// registration of the same text).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::{json, Value};
    /// use workflow_runtime::{Handlers, TaskContext};
    ///
    /// let mut handlers = Handlers::new();
    /// handlers.insert_raw("arn:len", |v: Value, _cx: TaskContext| async move {
    ///     Ok(json!(v.as_array().map_or(0, Vec::len)))
    /// });
    /// let f = handlers.lookup("arn:len").unwrap();
    /// assert_eq!(f(json!([1, 2, 3]), TaskContext::detached("arn:len", "Len")).await?, json!(3));
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// use workflow_runtime::{Handlers, TaskContext, TaskError};
    ///
    /// let mut handlers = Handlers::new();
    /// handlers.insert_typed("arn:shout", |s: String, _cx: TaskContext| async move {
    ///     Ok::<_, TaskError>(s.to_uppercase())
    /// });
    /// let f = handlers.lookup("arn:shout").unwrap();
    /// let cx = || TaskContext::detached("arn:shout", "Shout");
    /// assert_eq!(f(json!("hi"), cx()).await?, json!("HI"));
    /// // An input that is not a `String` fails the task.
    /// assert_eq!(f(json!(5), cx()).await.unwrap_err().error, "States.TaskFailed");
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use workflow_runtime::{Handlers, TaskContext, TaskError};
    ///
    /// let mut handlers = Handlers::new();
    /// handlers.insert_typed("arn:aws:lambda:*:*:function:A*", |v: i64, _: TaskContext| async move { Ok::<_, TaskError>(v) });
    /// assert!(handlers.lookup("arn:aws:lambda:us-east-1:1:function:Alpha").is_some());
    /// assert!(handlers.lookup("arn:aws:lambda:us-east-1:1:function:Beta").is_none());
    /// ```
    pub fn lookup(&self, resource: &str) -> Option<&HandlerFn> {
        self.exact.get(resource).or_else(|| {
            self.patterns
                .iter()
                .find(|(p, _)| glob_matches(p, resource))
                .map(|(_, f)| f)
        })
    }

    /// Whether no handler is registered.
    ///
    /// ```
    /// use workflow_runtime::{Handlers, TaskContext, TaskError};
    ///
    /// let mut handlers = Handlers::new();
    /// assert!(handlers.is_empty());
    /// handlers.insert_typed("arn:a", |v: i64, _: TaskContext| async move { Ok::<_, TaskError>(v) });
    /// assert!(!handlers.is_empty());
    /// ```
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
///
/// ```
/// use workflow_runtime::handler::glob_matches;
///
/// assert!(glob_matches("arn:aws:lambda:*:*:function:Validate*", "arn:aws:lambda:us-east-1:1:function:ValidateOrder"));
/// assert!(glob_matches("a*c", "ac"));
/// assert!(!glob_matches("a*c", "ab"));
/// ```
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
