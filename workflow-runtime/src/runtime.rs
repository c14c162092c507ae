//! The public entry points: [`Runtime`] (built with [`RuntimeBuilder`]), [`Execution`] handles and
//! their [`ExecutionOutcome`].

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use workflow_asl::error::names;
use workflow_asl::eval::java_json;
use workflow_asl::model::StateMachine;
use workflow_asl::validate::MachineType;

use crate::cancel::Cancel;
use crate::clock::{format_ms, Clock};
use crate::engine::{Exec, ExecInfo, Fault};
use crate::handler::{Handlers, TaskContext, TaskError};
use crate::history::{ErrorDetails, EventKind};
use crate::history::{EventSink, EventType, History, HistoryEvent, HistoryLevel};
use crate::mock::MockTestCase;
use crate::program::{CompileError, Program};
use crate::recorder::{Cursor, Recorder};

/// The default payload limit: 256 KiB, Step Functions' quota for inputs, outputs and results.
pub const DEFAULT_PAYLOAD_LIMIT: usize = 256 * 1024;

/// An execution's status, spelled as AWS's `ExecutionStatus` (`"RUNNING"`, `"SUCCEEDED"`, …).
///
/// One type for both places a status appears: an [`ExecutionOutcome`] (how an execution ended:
/// never [`Running`](ExecutionStatus::Running), since an outcome exists only once it has) and a
/// stored execution's record ([`crate::store::ExecutionRecord`], which is `Running` until the
/// execution closes). It parses from the AWS spelling ignoring ASCII case (`FromStr`) and
/// displays as it.
///
/// ```
/// use workflow_runtime::ExecutionStatus;
///
/// let status: ExecutionStatus = "timed_out".parse().unwrap();
/// assert_eq!(status, ExecutionStatus::TimedOut);
/// assert_eq!(status.to_string(), "TIMED_OUT");
/// assert!(status.is_closed());
/// assert!(!ExecutionStatus::Running.is_closed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExecutionStatus {
    /// `RUNNING`: started and not yet closed (in a store, possibly interrupted by a crash and
    /// waiting to be resumed). Never the status of an [`ExecutionOutcome`].
    Running,
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`.
    Failed,
    /// `TIMED_OUT` (the machine's `TimeoutSeconds` elapsed).
    TimedOut,
    /// `ABORTED` (stopped with [`Execution::stop`], or `workflow stop`).
    Aborted,
}

impl ExecutionStatus {
    /// Every status, in declaration order.
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ];

    /// The AWS spelling: `"RUNNING"`, `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"`, `"ABORTED"`.
    ///
    /// ```
    /// assert_eq!(workflow_runtime::ExecutionStatus::TimedOut.as_str(), "TIMED_OUT");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// Whether the execution is closed (any status but `RUNNING`).
    ///
    /// ```
    /// use workflow_runtime::ExecutionStatus;
    ///
    /// assert!(ExecutionStatus::Failed.is_closed());
    /// assert!(!ExecutionStatus::Running.is_closed());
    /// ```
    pub fn is_closed(self) -> bool {
        self != ExecutionStatus::Running
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ExecutionStatus {
    type Err = String;

    /// Parses the AWS spelling, ignoring ASCII case (`running` works too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExecutionStatus::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown execution status `{s}`; expected one of RUNNING, SUCCEEDED, FAILED, \
                     TIMED_OUT, ABORTED"
                )
            })
    }
}

/// The result of an execution.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
/// # let runtime = Runtime::builder()
/// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
/// #     .build();
/// # let program = runtime.program(&machine)?;
/// use workflow_runtime::ExecutionStatus;
///
/// let outcome = runtime.run(&program, json!({"a": 1, "b": 2})).await?;
/// assert_eq!(outcome.status, ExecutionStatus::Succeeded);
/// assert!(outcome.succeeded());
/// assert_eq!(outcome.output, Some(json!(3)));
/// assert_eq!((outcome.error, outcome.cause), (None, None));
/// assert_eq!(outcome.history.len(), 7);
/// assert_eq!(outcome.history.events()[0].event_type(), "ExecutionStarted");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionOutcome {
    /// How it ended.
    pub status: ExecutionStatus,
    /// The output (`Some` when it succeeded).
    pub output: Option<Value>,
    /// The error name, when it did not succeed (absent for a Fail state without `Error`).
    pub error: Option<String>,
    /// The cause, when there is one.
    pub cause: Option<String>,
    /// The whole history, in id order (empty with [`HistoryLevel::Count`] and
    /// [`HistoryLevel::Off`]); rendered to
    /// [`HistoryEvent`]s when first read.
    pub history: History,
}

impl ExecutionOutcome {
    /// Whether the execution succeeded.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
    /// #     .build();
    /// # let program = runtime.program(&machine)?;
    /// assert!(runtime.run(&program, json!({"a": 1, "b": 2})).await?.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn succeeded(&self) -> bool {
        self.status == ExecutionStatus::Succeeded
    }

    /// The history's event types, in order (handy in assertions).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
    /// #     .build();
    /// # let program = runtime.program(&machine)?;
    /// let outcome = runtime.run(&program, json!({"a": 1, "b": 2})).await?;
    /// assert_eq!(
    ///     outcome.event_types(),
    ///     [
    ///         "ExecutionStarted",
    ///         "TaskStateEntered",
    ///         "LambdaFunctionScheduled",
    ///         "LambdaFunctionStarted",
    ///         "LambdaFunctionSucceeded",
    ///         "TaskStateExited",
    ///         "ExecutionSucceeded",
    ///     ]
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn event_types(&self) -> Vec<&str> {
        self.history.event_types()
    }

    /// The outcome as the CLI prints it: `{"status": "SUCCEEDED", "output": …}` or
    /// `{"status": "FAILED", "error": …, "cause": …}`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
    /// #     .build();
    /// # let program = runtime.program(&machine)?;
    /// let outcome = runtime.run(&program, json!({"a": 1, "b": 2})).await?;
    /// assert_eq!(outcome.to_json(), json!({"status": "SUCCEEDED", "output": 3}));
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.json_view()).unwrap_or(Value::Null)
    }

    /// Writes [`ExecutionOutcome::to_json`]'s document as compact JSON text, without copying
    /// the output into a new value first; a large output's big arrays and objects are written
    /// on all cores ([`crate::json_text::write`]), the bytes the same.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#)
    ///     .map_err(|d| format!("{d:?}"))?;
    /// let runtime = Runtime::builder().build();
    /// let outcome = runtime.run(&runtime.program(&machine)?, json!({"a": [1, 2]})).await?;
    /// let mut text = Vec::new();
    /// outcome.write_json(&mut text)?;
    /// assert_eq!(String::from_utf8(text)?, r#"{"status":"SUCCEEDED","output":{"a":[1,2]}}"#);
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        // The fields in `OutcomeJson`'s order, as its derived `Serialize` writes them.
        let view = self.json_view();
        let string = |out: &mut dyn std::io::Write, name: &str, s: &str| {
            write!(out, ",\"{name}\":")?;
            serde_json::to_writer(out, s).map_err(std::io::Error::other)
        };
        out.write_all(b"{\"status\":")?;
        serde_json::to_writer(&mut out, view.status).map_err(std::io::Error::other)?;
        if let Some(output) = view.output {
            out.write_all(b",\"output\":")?;
            crate::json_text::write(output, &mut out)?;
        }
        if let Some(error) = view.error {
            string(&mut out, "error", error)?;
        }
        if let Some(cause) = view.cause {
            string(&mut out, "cause", cause)?;
        }
        out.write_all(b"}")
    }

    /// The fields of [`ExecutionOutcome::to_json`], borrowed.
    fn json_view(&self) -> OutcomeJson<'_> {
        let failed = self.status != ExecutionStatus::Succeeded;
        OutcomeJson {
            status: self.status.as_str(),
            output: self.output.as_ref(),
            error: self.error.as_deref().filter(|_| failed),
            cause: self.cause.as_deref().filter(|_| failed),
        }
    }
}

/// [`ExecutionOutcome::to_json`]'s document: `status`, then `output`, `error` and `cause` when
/// present.
#[derive(Serialize)]
struct OutcomeJson<'a> {
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
}

/// Why an execution could not be started.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::{Runtime, StartError, StartOptions};
///
/// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).unwrap();
/// let runtime = Runtime::builder().payload_limit(16).build();
/// let program = runtime.program(&machine).unwrap();
///
/// // Outside a tokio runtime nothing can start.
/// let err = runtime.start(&program, json!({}), StartOptions::new()).unwrap_err();
/// assert_eq!(err, StartError::NoTokioRuntime);
///
/// // An input over the payload limit is refused before the execution starts.
/// let tokio = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let _guard = tokio.enter();
/// let err = runtime.start(&program, json!({"text": "more than sixteen bytes"}), StartOptions::new());
/// assert!(matches!(err, Err(StartError::InputTooLarge { limit: 16, .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The definition cannot be run.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The input is larger than the payload limit.
    #[error("the execution input is {size} bytes, more than the {limit}-byte payload limit")]
    InputTooLarge {
        /// The input's size as JSON text.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `start` was called outside a tokio runtime.
    #[error("executions run on tokio: call `start` from within a tokio runtime")]
    NoTokioRuntime,
}

/// Options for one execution.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
/// # let runtime = Runtime::builder()
/// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
/// #     .build();
/// # let program = runtime.program(&machine)?;
/// use workflow_runtime::StartOptions;
///
/// let options = StartOptions::new().name("order-7").state_machine_name("Orders").seed(42);
/// let execution = runtime.start(&program, json!({"a": 1, "b": 2}), options)?;
/// assert_eq!(execution.name(), "order-7");
/// assert_eq!(execution.await.output, Some(json!(3)));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct StartOptions {
    name: Option<String>,
    machine_type: MachineType,
    state_machine_name: Option<String>,
    sink: Option<Arc<dyn EventSink>>,
    prior: Vec<HistoryEvent>,
    seed: Option<u64>,
    flush_every_state: bool,
    drop_delivered: bool,
}

impl std::fmt::Debug for StartOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartOptions")
            .field("name", &self.name)
            .field("machine_type", &self.machine_type)
            .field("state_machine_name", &self.state_machine_name)
            .field("sink", &self.sink.is_some())
            .field("prior", &self.prior.len())
            .field("seed", &self.seed)
            .field("flush_every_state", &self.flush_every_state)
            .field("keep_history", &!self.drop_delivered)
            .finish()
    }
}

impl StartOptions {
    /// Default options: a generated name, no sink, no prior history.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).unwrap();
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap_or(0) + v["b"].as_i64().unwrap_or(0))) })
    /// #     .build();
    /// # let program = runtime.program(&machine)?;
    /// use workflow_runtime::StartOptions;
    ///
    /// let execution = runtime.start(&program, json!({"a": 1, "b": 2}), StartOptions::new())?;
    /// assert_eq!(execution.name().len(), 36); // a UUID
    /// assert!(execution.await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> StartOptions {
        StartOptions::default()
    }

    /// The execution's name (`$$.Execution.Name`); default: a UUID from the seeded generator.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let runtime = Runtime::default();
    /// // A Pass state that shows the context object's names.
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Name", "id.$": "$$.Execution.Id"}, "End": true}}}"#).expect("valid");
    /// let program = runtime.program(&machine)?;
    /// let out = runtime.start(&program, json!({}), StartOptions::new().name("run-1"))?.await.output;
    /// assert_eq!(out.unwrap()["name"], "run-1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> StartOptions {
        self.name = Some(name.into());
        self
    }

    /// The state machine's name (`$$.StateMachine.Name`); default: `StateMachine`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let runtime = Runtime::default();
    /// // A Pass state that shows the context object's names.
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Name", "id.$": "$$.Execution.Id"}, "End": true}}}"#).expect("valid");
    /// let program = runtime.program(&machine)?;
    /// let options = StartOptions::new().state_machine_name("Orders");
    /// let out = runtime.start(&program, json!({}), options)?.await.output.unwrap();
    /// assert_eq!(out["machine"], "Orders");
    /// assert!(out["id"].as_str().unwrap().starts_with("arn:aws:states:us-east-1:123456789012:execution:Orders:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn state_machine_name(mut self, name: impl Into<String>) -> StartOptions {
        self.state_machine_name = Some(name.into());
        self
    }

    /// Sends every event to `sink`, write-ahead (see [`EventSink`]).
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// /// Keeps every batch of events it is given.
    /// #[derive(Default)]
    /// struct Batches(Mutex<Vec<Vec<HistoryEvent>>>);
    ///
    /// impl EventSink for Batches {
    ///     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    ///         self.0.lock().unwrap().push(events.to_vec());
    ///         Box::pin(async { Ok(()) })
    ///     }
    /// }
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#).expect("valid"))?;
    /// let sink = Arc::new(Batches::default());
    /// let outcome = runtime.start(&program, json!({}), StartOptions::new().sink(sink.clone()))?.await;
    /// let stored: Vec<HistoryEvent> = sink.0.lock().unwrap().concat();
    /// assert_eq!(stored, outcome.history.events());
    /// # Ok(())
    /// # }
    /// ```
    pub fn sink(mut self, sink: Arc<dyn EventSink>) -> StartOptions {
        self.sink = Some(sink);
        self
    }

    /// The state machine's type (default `STANDARD`). An `EXPRESS` execution has an
    /// `…:express:<machine>:<name>:<id>` ARN and no `RedriveCount` in `$$.Execution`, as on AWS.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let runtime = Runtime::default();
    /// // A Pass state that shows the context object's names.
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "machine.$": "$$.StateMachine.Name", "id.$": "$$.Execution.Id"}, "End": true}}}"#).expect("valid");
    /// let program = runtime.program(&machine)?;
    /// use workflow_asl::validate::MachineType;
    ///
    /// let options = StartOptions::new().state_machine_name("Orders").name("e1").machine_type(MachineType::Express);
    /// let out = runtime.start(&program, json!({}), options)?.await.output.unwrap();
    /// assert!(out["id"].as_str().unwrap().starts_with("arn:aws:states:us-east-1:123456789012:express:Orders:e1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn machine_type(mut self, machine_type: MachineType) -> StartOptions {
        self.machine_type = machine_type;
        self
    }

    /// Resumes from a recorded history: the execution is re-run against `events`, which are kept
    /// (and not sent to the sink again); recorded task results are replayed instead of calling
    /// handlers, and new events continue after the last recorded id. `ExecutionStarted` must be
    /// the first event; its input and timestamp are used.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {
    ///   "Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "Next": "Nap"},
    ///   "Nap": {"Type": "Wait", "Seconds": 60, "End": true}}}"#).expect("valid");
    /// let add = |v: Value| async move { Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap() + v["b"].as_i64().unwrap())) };
    /// let runtime = Runtime::builder().handler("arn:aws:lambda:*:*:function:Add", add).build();
    /// let program = runtime.program(&machine)?;
    /// let first = runtime.run(&program, json!({"a": 1, "b": 2})).await?;
    ///
    /// // Pretend the process died during the Wait: keep the history up to the task's result.
    /// let mut events = first.history.events().to_vec();
    /// events.truncate(first.event_types().iter().position(|t| *t == "WaitStateEntered").unwrap());
    /// // The resumed run replays the recorded result: no handler is called (this runtime has none).
    /// let resumed = Runtime::default()
    ///     .start(&program, Value::Null, StartOptions::new().resume_from(events))?
    ///     .await;
    /// assert_eq!(resumed.output, Some(json!(3)));
    /// assert_eq!(resumed.event_types(), first.event_types());
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume_from(mut self, events: Vec<HistoryEvent>) -> StartOptions {
        self.prior = events;
        self
    }

    /// Seeds this execution's random numbers (retry jitter, `States.UUID`, `States.MathRandom`,
    /// the generated name), overriding [`RuntimeBuilder::seed`]. A resumed execution must get the
    /// seed it started with, so that it draws the same numbers as the interrupted run.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Id", "States": {"Id": {"Type": "Pass", "Parameters": {"uuid.$": "States.UUID()"}, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&machine)?;
    /// let run = |seed| runtime.start(&program, json!({}), StartOptions::new().seed(seed));
    /// let (a, b, c) = (run(1)?.await, run(1)?.await, run(2)?.await);
    /// assert_eq!(a.output, b.output); // same seed, same UUID
    /// assert_ne!(a.output, c.output);
    /// # Ok(())
    /// # }
    /// ```
    pub fn seed(mut self, seed: u64) -> StartOptions {
        self.seed = Some(seed);
        self
    }

    /// Whether the run keeps its events in memory for [`ExecutionOutcome::history`] (default
    /// `true`). With `false` and a sink, each event is dropped from memory once the sink has it,
    /// so a long run's memory does not grow with its history, and the outcome's history is empty:
    /// read it from the sink's store. No effect without a sink.
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// /// Keeps every batch of events it is given.
    /// #[derive(Default)]
    /// struct Batches(Mutex<Vec<Vec<HistoryEvent>>>);
    ///
    /// impl EventSink for Batches {
    ///     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    ///         self.0.lock().unwrap().push(events.to_vec());
    ///         Box::pin(async { Ok(()) })
    ///     }
    /// }
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#).expect("valid"))?;
    /// let sink = Arc::new(Batches::default());
    /// let options = StartOptions::new().sink(sink.clone()).keep_history(false);
    /// let outcome = runtime.start(&program, json!({}), options)?.await;
    /// assert!(outcome.succeeded());
    /// assert!(outcome.history.is_empty()); // the sink has the events
    /// assert_eq!(sink.0.lock().unwrap().concat().len(), 6);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_history(mut self, keep: bool) -> StartOptions {
        self.drop_delivered = !keep;
        self
    }

    /// Flushes the history to the sink after every state's `…Exited` event (default `false`),
    /// so that each state's events are stored before the next state starts. Without it, events
    /// are still written ahead of every effect (a task invocation, a sleep, the outcome), but a
    /// run of states without effects (Pass, Choice, …) is stored in one batch. No effect
    /// without a sink. Durable runs ([`crate::store::DurableRuntime`]) turn it on. With a sink
    /// that queues appends ([`EventSink::queues`]), each state's events are queued as one append
    /// and the next state starts at once (at most 64 states' appends unacknowledged); every
    /// effect still waits for all of them.
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// /// Keeps every batch of events it is given.
    /// #[derive(Default)]
    /// struct Batches(Mutex<Vec<Vec<HistoryEvent>>>);
    ///
    /// impl EventSink for Batches {
    ///     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    ///         self.0.lock().unwrap().push(events.to_vec());
    ///         Box::pin(async { Ok(()) })
    ///     }
    /// }
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#).expect("valid"))?;
    /// let appends = |flush| {
    ///     let sink = Arc::new(Batches::default());
    ///     let options = StartOptions::new().sink(sink.clone()).flush_every_state(flush);
    ///     let execution = runtime.start(&program, json!({}), options);
    ///     async move {
    ///         execution?.await;
    ///         let n = sink.0.lock().unwrap().len();
    ///         Ok::<_, workflow_runtime::StartError>(n)
    ///     }
    /// };
    /// // Two Pass states: stored in one batch with the outcome, or one batch per state.
    /// assert!(appends(true).await? > appends(false).await?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn flush_every_state(mut self, on: bool) -> StartOptions {
        self.flush_every_state = on;
        self
    }
}

/// Builds a [`Runtime`].
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
/// use workflow_runtime::HistoryLevel;
///
/// let runtime = Runtime::builder()
///     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move {
///         Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap() + v["b"].as_i64().unwrap()))
///     })
///     .seed(7)
///     .history(HistoryLevel::Off)
///     .build();
/// let outcome = runtime.run_machine(&machine, json!({"a": 2, "b": 3})).await?;
/// assert_eq!(outcome.output, Some(json!(5)));
/// assert!(outcome.history.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    handlers: Handlers,
    callbacks: Arc<crate::Callbacks>,
    mocks: Option<Arc<MockTestCase>>,
    seed: Option<u64>,
    start_time: Option<i64>,
    history: HistoryLevel,
    payload_limit: usize,
    history_limit: u64,
    region: String,
    account: String,
    objects: Option<Arc<dyn crate::objects::ObjectStore>>,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            handlers: Handlers::new(),
            callbacks: Arc::default(),
            mocks: None,
            seed: None,
            start_time: None,
            history: HistoryLevel::Full,
            payload_limit: DEFAULT_PAYLOAD_LIMIT,
            history_limit: workflow_asl::limits::MAX_HISTORY_EVENTS,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            objects: None,
        }
    }
}

impl RuntimeBuilder {
    /// Registers a typed handler for a resource or `*` pattern (see [`crate::handler`]).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// #[derive(serde::Deserialize)]
    /// struct Pair {
    ///     a: i64,
    ///     b: i64,
    /// }
    /// // `*` in a pattern matches any run of characters (here: any region and account).
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:lambda:*:*:function:Add", |p: Pair| async move { Ok::<_, TaskError>(p.a + p.b) })
    ///     .build();
    /// assert_eq!(runtime.run_machine(&machine, json!({"a": 2, "b": 3})).await?.output, Some(json!(5)));
    /// // An input that does not fit `Pair` fails the task.
    /// let failed = runtime.run_machine(&machine, json!({"a": "two"})).await?;
    /// assert_eq!(failed.error.as_deref(), Some("States.TaskFailed"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handler<I, O, E, F, Fut>(mut self, resource: &str, f: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        E: Into<TaskError> + 'static,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        self.handlers
            .insert_typed(resource, move |i: I, _cx: TaskContext| f(i));
        self
    }

    /// Registers a typed handler that also receives the [`TaskContext`] (heartbeats, task token,
    /// the context object).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::TaskContext;
    ///
    /// let runtime = Runtime::builder()
    ///     .handler_with_context("arn:aws:lambda:*:*:function:Add", |_: Value, cx: TaskContext| async move {
    ///         Ok::<_, TaskError>(json!({"state": cx.state_name(), "attempt": cx.retry_count()}))
    ///     })
    ///     .build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.output, Some(json!({"state": "Add", "attempt": 0})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handler_with_context<I, O, E, F, Fut>(mut self, resource: &str, f: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        E: Into<TaskError> + 'static,
        F: Fn(I, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        self.handlers.insert_typed(resource, f);
        self
    }

    /// Registers a raw JSON handler.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::TaskContext;
    ///
    /// let runtime = Runtime::builder()
    ///     .raw_handler("arn:aws:lambda:*:*:function:Add", |input: Value, _cx: TaskContext| async move {
    ///         Ok(json!({"echo": input}))
    ///     })
    ///     .build();
    /// let outcome = runtime.run_machine(&machine, json!([1, 2])).await?;
    /// assert_eq!(outcome.output, Some(json!({"echo": [1, 2]})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn raw_handler<F, Fut>(mut self, resource: &str, f: F) -> Self
    where
        F: Fn(Value, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.handlers.insert_raw(resource, f);
        self
    }

    /// Replaces the handler registry.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::{Handlers, TaskContext};
    ///
    /// let mut handlers = Handlers::new();
    /// handlers.insert_typed("arn:aws:lambda:*:*:function:Add", |n: i64, _cx: TaskContext| async move {
    ///     Ok::<_, TaskError>(n + 1)
    /// });
    /// let runtime = Runtime::builder().handlers(handlers).build();
    /// assert_eq!(runtime.run_machine(&machine, json!(1)).await?.output, Some(json!(2)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = handlers;
        self
    }

    /// Shares a registry of task tokens (see [`crate::callbacks`]); by default each runtime has
    /// its own.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use workflow_runtime::{Callbacks, Runtime};
    ///
    /// // Two runtimes answering the same task tokens.
    /// let tokens = Arc::new(Callbacks::new());
    /// let a = Runtime::builder().callbacks(tokens.clone()).build();
    /// let b = Runtime::builder().callbacks(tokens.clone()).build();
    /// assert!(Arc::ptr_eq(a.callbacks(), b.callbacks()));
    /// ```
    pub fn callbacks(mut self, callbacks: Arc<crate::Callbacks>) -> Self {
        self.callbacks = callbacks;
        self
    }

    /// Uses a mock test case: mocked states return its responses and never call handlers.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::MockConfig;
    ///
    /// let config: MockConfig = r#"{
    ///   "StateMachines": {"Adder": {"TestCases": {"Fails": {"Add": "Boom"}}}},
    ///   "MockedResponses": {"Boom": {"0": {"Throw": {"Error": "Overflow", "Cause": "too big"}}}}
    /// }"#.parse()?;
    /// // No handler needed: the mocked state never calls one.
    /// let runtime = Runtime::builder().mocks(config.test_case("Adder", "Fails")?).build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.error.as_deref(), Some("Overflow"));
    /// assert_eq!(outcome.cause.as_deref(), Some("too big"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mocks(mut self, test_case: MockTestCase) -> Self {
        self.mocks = Some(Arc::new(test_case));
        self
    }

    /// Seeds the random numbers (retry jitter, `States.UUID`, `States.MathRandom`, generated
    /// execution names): the same seed gives the same run. Default: a random seed.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "R", "States": {"R": {"Type": "Pass", "Parameters": {"n.$": "States.MathRandom(1, 1000000)"}, "End": true}}}"#).expect("valid");
    /// let a = Runtime::builder().seed(3).build().run_machine(&machine, json!({})).await?;
    /// let b = Runtime::builder().seed(3).build().run_machine(&machine, json!({})).await?;
    /// assert_eq!(a.output, b.output);
    /// # Ok(())
    /// # }
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Fixes the wall-clock time at which every execution starts (history timestamps,
    /// `$$.Execution.StartTime`). Default: the system clock.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use chrono::{TimeZone, Utc};
    ///
    /// let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Pass", "Parameters": {"at.$": "$$.Execution.StartTime"}, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder().start_time(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()).build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.output, Some(json!({"at": "2024-01-02T03:04:05.000Z"})));
    /// assert!(outcome.history.events()[0].timestamp.starts_with("2024-01-02T03:04:05"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_time(mut self, at: DateTime<Utc>) -> Self {
        self.start_time = Some(at.timestamp_millis());
        self
    }

    /// How much history to record (default [`HistoryLevel::Full`]).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::HistoryLevel;
    ///
    /// let runtime = Runtime::builder().history(HistoryLevel::Off).build();
    /// let outcome = runtime.run_machine(&machine, json!({"kept": true})).await?;
    /// assert_eq!(outcome.output, Some(json!({"kept": true})));
    /// assert!(outcome.history.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(mut self, level: HistoryLevel) -> Self {
        self.history = level;
        self
    }

    /// The payload limit in bytes (default 256 KiB); larger results fail with
    /// `States.DataLimitExceeded`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder()
    ///     .payload_limit(64)
    ///     .handler("arn:aws:lambda:*:*:function:Add", |_: Value| async { Ok::<_, TaskError>("x".repeat(100)) })
    ///     .build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.error.as_deref(), Some("States.DataLimitExceeded"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn payload_limit(mut self, bytes: usize) -> Self {
        self.payload_limit = bytes;
        self
    }

    /// The most events an execution's history may hold (default 25,000, AWS's quota; 0 for no
    /// limit). The event that would pass it is replaced by `ExecutionFailed` with error
    /// `States.Runtime` and AWS's cause, `The execution reached the maximum number of history
    /// events (25000).` Applies with [`HistoryLevel::Full`] and [`HistoryLevel::Count`], not
    /// with [`HistoryLevel::Off`].
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder().history_limit(2).build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    /// assert_eq!(outcome.event_types(), ["ExecutionStarted", "ExecutionFailed"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn history_limit(mut self, events: u64) -> Self {
        self.history_limit = events;
        self
    }

    /// The region and account used in generated ARNs (default `us-east-1`, `123456789012`).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder().region_account("eu-west-1", "111122223333").build();
    /// let options = StartOptions::new().name("e1").state_machine_name("M");
    /// let outcome = runtime.start(&runtime.program(&machine)?, json!({}), options)?.await;
    /// assert_eq!(outcome.output, Some(json!({"id": "arn:aws:states:eu-west-1:111122223333:execution:M:e1"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn region_account(mut self, region: &str, account: &str) -> Self {
        self.region = region.into();
        self.account = account.into();
        self
    }

    /// The object store Distributed Map states read items from (`ItemReader`) and write
    /// results to (`ResultWriter`); without one, such a state fails with
    /// `States.ItemReaderFailed` / `States.ResultWriterFailed` saying so.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use workflow_runtime::objects::MemoryObjects;
    ///
    /// // A Distributed Map reading a JSON array from an (in-memory) S3 bucket.
    /// let objects = MemoryObjects::new().with_object("in", "items.json", br#"[1, 2, 3]"#.to_vec());
    /// let machine = workflow_asl::load(r#"{"StartAt": "Each", "States": {"Each": {
    ///   "Type": "Map",
    ///   "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
    ///                  "Parameters": {"Bucket": "in", "Key": "items.json"}},
    ///   "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    ///                     "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
    ///   "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder().objects(Arc::new(objects)).build();
    /// let outcome = runtime.run_machine(&machine, json!({})).await?;
    /// assert_eq!(outcome.output, Some(json!([1, 2, 3])));
    /// # Ok(())
    /// # }
    /// ```
    pub fn objects(mut self, store: Arc<dyn crate::objects::ObjectStore>) -> Self {
        self.objects = Some(store);
        self
    }

    /// Builds the runtime.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::builder().seed(1).build();
    /// // Clones share the handlers, settings and compiled programs.
    /// let clone = runtime.clone();
    /// assert!(clone.run_machine(&machine, json!({})).await?.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Runtime {
        Runtime {
            inner: Arc::new(Inner {
                handlers: Arc::new(self.handlers),
                callbacks: self.callbacks,
                mocks: self.mocks,
                seed: self.seed,
                start_time: self.start_time,
                history: self.history,
                payload_limit: self.payload_limit,
                history_limit: self.history_limit,
                region: self.region,
                account: self.account,
                objects: self.objects,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }
}

#[derive(Debug)]
struct Inner {
    handlers: Arc<Handlers>,
    callbacks: Arc<crate::Callbacks>,
    mocks: Option<Arc<MockTestCase>>,
    seed: Option<u64>,
    start_time: Option<i64>,
    history: HistoryLevel,
    payload_limit: usize,
    history_limit: u64,
    region: String,
    account: String,
    objects: Option<Arc<dyn crate::objects::ObjectStore>>,
    cache: Mutex<HashMap<String, Arc<Program>>>,
}

/// Runs state machines. Cheap to clone; executions started from one runtime share its handlers,
/// mocks and settings.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Add", "End": true}}}"#).expect("valid");
/// let runtime = Runtime::builder()
///     .handler("arn:aws:lambda:*:*:function:Add", |v: Value| async move {
///         Ok::<_, TaskError>(json!(v["a"].as_i64().unwrap() + v["b"].as_i64().unwrap()))
///     })
///     .build();
/// let program = runtime.program(&machine)?; // compiled once, cached per definition
/// let outcome = runtime.run(&program, json!({"a": 40, "b": 2})).await?;
/// assert_eq!(outcome.output, Some(json!(42)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::builder().build()
    }
}

impl Runtime {
    /// A builder.
    ///
    /// ```
    /// use workflow_runtime::Runtime;
    ///
    /// let runtime = Runtime::builder().seed(1).build();
    /// # let _ = runtime;
    /// ```
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The task tokens of this runtime's waiting `.waitForTaskToken` tasks: answer them with
    /// [`crate::Callbacks::send_success`] and friends.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    ///   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    ///   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    ///   "HeartbeatSeconds": 600, "End": true}}}"#).expect("valid");
    /// // The queue handler delivers the token (here: nowhere); the task then waits for a callback.
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async {
    ///         Ok::<_, TaskError>(json!({}))
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// while execution.waiting_task_tokens().is_empty() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let token = execution.waiting_task_tokens().remove(0);
    /// // Answer through the runtime's registry (as `workflow send-task-success` would).
    /// assert_eq!(runtime.callbacks().waiting(), [token.clone()]);
    /// runtime.callbacks().send_success(&token, json!({"approved": true}))?;
    /// assert_eq!(execution.await.output, Some(json!({"approved": true})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn callbacks(&self) -> &Arc<crate::Callbacks> {
        &self.inner.callbacks
    }

    /// The region and account of generated ARNs.
    pub(crate) fn region_account(&self) -> (&str, &str) {
        (&self.inner.region, &self.inner.account)
    }

    /// The payload size limit of states' inputs and outputs, in bytes.
    pub(crate) fn payload_limit_bytes(&self) -> usize {
        self.inner.payload_limit
    }

    /// The compiled program for a model, compiled once per distinct definition and cached.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// use std::sync::Arc;
    ///
    /// let runtime = Runtime::default();
    /// let first = runtime.program(&machine)?;
    /// let again = runtime.program(&machine)?;
    /// assert!(Arc::ptr_eq(&first, &again)); // the same definition compiles once
    /// assert!(runtime.run(&first, json!({})).await?.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn program(&self, machine: &StateMachine) -> Result<Arc<Program>, CompileError> {
        let key = workflow_asl::emit::machine_to_value(machine).to_string();
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&key) {
            return Ok(Arc::clone(p));
        }
        let program = Program::compile(machine)?;
        cache.insert(key, Arc::clone(&program));
        Ok(program)
    }

    /// Starts an execution of `program` on the current tokio runtime.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::StartOptions;
    ///
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&machine)?;
    /// let execution = runtime.start(&program, json!({"n": 1}), StartOptions::new().name("first"))?;
    /// // It runs on its own tokio task; await it (or `.wait()`) for the outcome.
    /// assert_eq!(execution.name(), "first");
    /// assert_eq!(execution.await.output, Some(json!({"n": 1})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(
        &self,
        program: &Arc<Program>,
        input: Value,
        options: StartOptions,
    ) -> Result<Execution, StartError> {
        let handle =
            tokio::runtime::Handle::try_current().map_err(|_| StartError::NoTokioRuntime)?;
        let size = crate::engine::json_size(&input, self.inner.payload_limit);
        if size > self.inner.payload_limit {
            return Err(StartError::InputTooLarge {
                size,
                limit: self.inner.payload_limit,
            });
        }
        let stop = Arc::new(Stop::default());
        let inner = Arc::clone(&self.inner);
        let program = Arc::clone(program);
        let stop2 = Arc::clone(&stop);
        let seed = options.seed.or(inner.seed).unwrap_or_else(rand::random);
        let name = match &options.name {
            Some(n) => n.clone(),
            None => uuid::Builder::from_random_bytes(seed_bytes(seed))
                .into_uuid()
                .to_string(),
        };
        let exec_name = name.clone();
        let join = handle.spawn(async move {
            drive(inner, program, input, options, exec_name, seed, stop2).await
        });
        let callbacks = Arc::clone(&self.inner.callbacks);
        Ok(Execution {
            name,
            join,
            stop,
            callbacks,
        })
    }

    /// Runs a program to completion (a convenience for `start(..)?.await`).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let program = runtime.program(&machine)?;
    /// assert_eq!(runtime.run(&program, json!([1])).await?.output, Some(json!([1])));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(
        &self,
        program: &Arc<Program>,
        input: Value,
    ) -> Result<ExecutionOutcome, StartError> {
        Ok(self.start(program, input, StartOptions::new())?.await)
    }

    /// Compiles (cached) and runs a model to completion.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let outcome = Runtime::default().run_machine(&machine, json!("hi")).await?;
    /// assert_eq!(outcome.output, Some(json!("hi")));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run_machine(
        &self,
        machine: &StateMachine,
        input: Value,
    ) -> Result<ExecutionOutcome, StartError> {
        let program = self.program(machine)?;
        self.run(&program, input).await
    }
}

fn seed_bytes(seed: u64) -> [u8; 16] {
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(seed ^ 0x5eed);
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rng, &mut b);
    b
}

/// A stop request.
#[derive(Debug, Default)]
struct Stop {
    requested: AtomicBool,
    notify: Notify,
    reason: Mutex<(Option<String>, Option<String>)>,
}

/// A running execution. Await it (or [`Execution::wait`]) for its [`ExecutionOutcome`].
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A day-long Wait (on tokio's paused clock).
/// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
/// let runtime = Runtime::default();
/// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
/// assert!(!execution.name().is_empty());
/// // Stop it from here; the outcome says so.
/// execution.stop_with(Some("Cancelled".into()), Some("not needed".into()));
/// let outcome = execution.await;
/// assert_eq!(outcome.status, ExecutionStatus::Aborted);
/// assert_eq!(outcome.error.as_deref(), Some("Cancelled"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Execution {
    name: String,
    join: tokio::task::JoinHandle<ExecutionOutcome>,
    stop: Arc<Stop>,
    callbacks: Arc<crate::Callbacks>,
}

impl Execution {
    /// The execution's name.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// use workflow_runtime::StartOptions;
    ///
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// assert_eq!(execution.name(), "e-1");
    /// # execution.await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SendTaskSuccess`: completes the `.waitForTaskToken` task waiting on `token` with `output`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    ///   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    ///   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    ///   "HeartbeatSeconds": 600, "End": true}}}"#).expect("valid");
    /// // The queue handler delivers the token (here: nowhere); the task then waits for a callback.
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async {
    ///         Ok::<_, TaskError>(json!({}))
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// while execution.waiting_task_tokens().is_empty() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let token = execution.waiting_task_tokens().remove(0);
    /// execution.send_task_success(&token, json!({"approved": true}))?;
    /// assert_eq!(execution.await.output, Some(json!({"approved": true})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_task_success(
        &self,
        token: &str,
        output: Value,
    ) -> Result<(), crate::CallbackError> {
        self.callbacks.send_success(token, output)
    }

    /// `SendTaskFailure`: fails the task waiting on `token` with `error` and `cause`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    ///   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    ///   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    ///   "HeartbeatSeconds": 600, "End": true}}}"#).expect("valid");
    /// // The queue handler delivers the token (here: nowhere); the task then waits for a callback.
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async {
    ///         Ok::<_, TaskError>(json!({}))
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// while execution.waiting_task_tokens().is_empty() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let token = execution.waiting_task_tokens().remove(0);
    /// execution.send_task_failure(&token, Some("Rejected".into()), Some("too dear".into()))?;
    /// let outcome = execution.await;
    /// assert_eq!(outcome.error.as_deref(), Some("Rejected"));
    /// assert_eq!(outcome.cause.as_deref(), Some("too dear"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_task_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), crate::CallbackError> {
        self.callbacks.send_failure(token, error, cause)
    }

    /// `SendTaskHeartbeat`: resets the `HeartbeatSeconds` of the task waiting on `token`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    ///   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    ///   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    ///   "HeartbeatSeconds": 600, "End": true}}}"#).expect("valid");
    /// // The queue handler delivers the token (here: nowhere); the task then waits for a callback.
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async {
    ///         Ok::<_, TaskError>(json!({}))
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// while execution.waiting_task_tokens().is_empty() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let token = execution.waiting_task_tokens().remove(0);
    /// // Heartbeats keep the task alive past its 600-second HeartbeatSeconds.
    /// for _ in 0..3 {
    ///     tokio::time::sleep(std::time::Duration::from_secs(500)).await;
    ///     execution.send_task_heartbeat(&token)?;
    /// }
    /// execution.send_task_success(&token, json!("done"))?;
    /// assert_eq!(execution.await.output, Some(json!("done")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), crate::CallbackError> {
        self.callbacks.send_heartbeat(token)
    }

    /// The tokens of the runtime's tasks that wait for a callback now.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    ///   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    ///   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    ///   "HeartbeatSeconds": 600, "End": true}}}"#).expect("valid");
    /// // The queue handler delivers the token (here: nowhere); the task then waits for a callback.
    /// let runtime = Runtime::builder()
    ///     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async {
    ///         Ok::<_, TaskError>(json!({}))
    ///     })
    ///     .build();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// while execution.waiting_task_tokens().is_empty() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let token = execution.waiting_task_tokens().remove(0);
    /// assert_eq!(execution.waiting_task_tokens(), [token.clone()]);
    /// execution.send_task_success(&token, json!(1))?;
    /// execution.await;
    /// assert!(runtime.callbacks().waiting().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn waiting_task_tokens(&self) -> Vec<String> {
        self.callbacks.waiting()
    }

    /// Stops the execution: in-flight work (handlers, waits) is dropped and `ExecutionAborted`
    /// is recorded. No effect once it has finished.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A day-long Wait (on tokio's paused clock).
    /// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// execution.stop();
    /// let outcome = execution.await;
    /// assert_eq!(outcome.status, ExecutionStatus::Aborted);
    /// assert_eq!(outcome.event_types().last(), Some(&"ExecutionAborted"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop(&self) {
        self.stop_with(None, None);
    }

    /// Stops the execution with an error and cause, recorded in `ExecutionAborted`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A day-long Wait (on tokio's paused clock).
    /// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// execution.stop_with(Some("Cancelled".into()), None);
    /// assert_eq!(execution.await.error.as_deref(), Some("Cancelled"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_with(&self, error: Option<String>, cause: Option<String>) {
        self.stop_handle().stop_with(error, cause);
    }

    /// A handle that stops this execution from elsewhere (another task), as
    /// [`Execution::stop_with`] does.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A day-long Wait (on tokio's paused clock).
    /// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// let stop = execution.stop_handle();
    /// tokio::spawn(async move { stop.stop_with(None, Some("from another task".into())) });
    /// let outcome = execution.await;
    /// assert_eq!(outcome.status, ExecutionStatus::Aborted);
    /// assert_eq!(outcome.cause.as_deref(), Some("from another task"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }
}

/// Stops a running execution from another task ([`Execution::stop_handle`]).
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A day-long Wait (on tokio's paused clock).
/// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
/// let runtime = Runtime::default();
/// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
/// let stop = execution.stop_handle();
/// stop.stop_with(Some("Timeout".into()), None);
/// assert_eq!(execution.await.status, ExecutionStatus::Aborted);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<Stop>);

impl StopHandle {
    /// Stops the execution with an error and cause, recorded in `ExecutionAborted`.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A day-long Wait (on tokio's paused clock).
    /// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// execution.stop_handle().stop_with(Some("Timeout".into()), Some("took too long".into()));
    /// assert_eq!(execution.await.cause.as_deref(), Some("took too long"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_with(&self, error: Option<String>, cause: Option<String>) {
        *self.0.reason.lock().unwrap_or_else(|p| p.into_inner()) = (error, cause);
        self.0.requested.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }
}

impl Execution {
    /// Waits for the outcome.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::{ExecutionStatus, Runtime, StartOptions};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A day-long Wait (on tokio's paused clock).
    /// let machine = workflow_asl::load(r#"{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 86400, "End": true}}}"#).expect("valid");
    /// let runtime = Runtime::default();
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new())?;
    /// // A day of virtual time passes at once on the paused clock.
    /// let outcome = execution.wait().await;
    /// assert_eq!(outcome.status, ExecutionStatus::Succeeded);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(self) -> ExecutionOutcome {
        match self.join.await {
            Ok(outcome) => outcome,
            Err(e) => ExecutionOutcome {
                status: ExecutionStatus::Failed,
                output: None,
                error: Some(names::RUNTIME.into()),
                cause: Some(format!("the execution task ended abnormally: {e}")),
                history: History::default(),
            },
        }
    }
}

impl IntoFuture for Execution {
    type Output = ExecutionOutcome;
    type IntoFuture = Pin<Box<dyn Future<Output = ExecutionOutcome> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

async fn stopped(stop: &Stop) {
    loop {
        let notified = stop.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if stop.requested.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

/// How the top-level future ended (done: the output, with its text when the last state's
/// `…Exited` event rendered it).
enum End {
    Done(Result<crate::engine::Finished, Fault>),
    TimedOut,
    Stopped,
    HistoryFull,
}

/// The most events an execution reserves room for up front (see `Program::history_hint`).
const HISTORY_HINT_CAP: usize = 1 << 16;

async fn drive(
    inner: Arc<Inner>,
    program: Arc<Program>,
    input: Value,
    options: StartOptions,
    name: String,
    seed: u64,
    stop: Arc<Stop>,
) -> ExecutionOutcome {
    let StartOptions {
        state_machine_name,
        machine_type,
        sink,
        prior,
        flush_every_state,
        drop_delivered,
        ..
    } = options;
    // A resumed execution keeps its recorded start time and input.
    let prior_start = prior
        .first()
        .filter(|e| matches!(e.kind, EventKind::ExecutionStarted { .. }));
    let start_ms = prior_start
        .and_then(|e| crate::clock::parse_ms(&e.timestamp))
        .or(inner.start_time);
    let input = prior_start
        .and_then(|e| match &e.kind {
            EventKind::ExecutionStarted { input, .. } => serde_json::from_str(input).ok(),
            _ => None,
        })
        .unwrap_or(input);
    let clock = match (inner.start_time, prior_start.is_some()) {
        (Some(ms), false) => Clock::starting_at(ms),
        _ => Clock::system(),
    };
    let start_ms = start_ms.unwrap_or_else(|| clock.now_ms());
    let sm_name = state_machine_name.unwrap_or_else(|| "StateMachine".to_string());
    // (`concat` rather than `format!`: these run once per execution, a large part of a short
    // one.)
    let state_machine_arn = [
        "arn:aws:states:",
        &inner.region,
        ":",
        &inner.account,
        ":stateMachine:",
        &sm_name,
    ]
    .concat();
    let express = machine_type == MachineType::Express;
    let execution_arn = if express {
        // Express executions are named `express:<machine>:<name>:<id>`.
        let id = uuid::Builder::from_random_bytes(seed_bytes(seed ^ 0xe4_9e55))
            .into_uuid()
            .to_string();
        format!(
            "arn:aws:states:{}:{}:express:{}:{}:{}",
            inner.region, inner.account, sm_name, name, id
        )
    } else {
        [
            "arn:aws:states:",
            &inner.region,
            ":",
            &inner.account,
            ":execution:",
            &sm_name,
            ":",
            &name,
        ]
        .concat()
    };
    let info = Arc::new(ExecInfo {
        execution_arn,
        express,
        name,
        state_machine_arn: state_machine_arn.into(),
        state_machine_name: sm_name.into(),
        role_arn: Arc::from(
            [
                "arn:aws:iam::",
                &inner.account,
                ":role/workflow-local-execution",
            ]
            .concat(),
        ),
        start_time: format_ms(start_ms),
        // Only a context object shows the input: no copy when no state builds one.
        input: if program.reads_context {
            input.clone()
        } else {
            Value::Null
        },
    });
    let exec = Exec {
        rec: Recorder::new(inner.history, clock, sink, prior)
            .with_history_limit(inner.history_limit)
            .keep_history(!drop_delivered),
        handlers: Arc::clone(&inner.handlers),
        callbacks: Arc::clone(&inner.callbacks),
        mocks: inner.mocks.clone().map(crate::mock::MockCalls::new),
        payload_limit: inner.payload_limit,
        seed,
        info,
        objects: inner.objects.clone(),
        flush_every_state,
    };
    exec.rec.reserve(
        program
            .history_hint
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    let mut root = Cursor::root(seed);
    let role = Arc::clone(&exec.info.role_arn);
    // The input's text, also the first state's input text.
    let mut input_text = None;
    exec.rec.record(&mut root, EventType::ExecutionStarted, || {
        let text: Arc<str> = Arc::from(java_json(&input));
        input_text = Some(Arc::clone(&text));
        EventKind::ExecutionStarted {
            input: text,
            role_arn: role,
        }
    });
    // AWS reports previousEventId 0 for the first state entered.
    root.last_id = 0;
    let cancel = Cancel::new();
    let deadline = program.timeout_seconds.map(|s| {
        exec.rec
            .clock
            .instant_at(start_ms.saturating_add((s as i64).saturating_mul(1000)))
    });
    let end = {
        let mut vars = serde_json::Map::new();
        let run = exec.run_root(
            &program.root,
            &mut root,
            (input, input_text),
            &mut vars,
            &cancel,
        );
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = stopped(&stop) => End::Stopped,
            _ = exec.rec.history_full() => End::HistoryFull,
            r = run => End::Done(r),
            _ = timeout => End::TimedOut,
        }
    };
    cancel.cancel();
    root.last_id = exec.rec.last_id();
    // The output's text, when the last state's `…Exited` event rendered it.
    let mut output_text = None;
    let (status, output, error, cause) = match end {
        End::Done(Ok((output, text))) => {
            output_text = text;
            (ExecutionStatus::Succeeded, Some(output), None, None)
        }
        // AWS reports an empty cause (a task timeout's) as no cause.
        End::Done(Err(Fault::Error(e))) => (
            ExecutionStatus::Failed,
            None,
            e.error,
            e.cause.filter(|c| !c.is_empty()),
        ),
        End::Done(Err(Fault::Cancelled)) | End::Stopped => {
            let (e, c) = stop
                .reason
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            (ExecutionStatus::Aborted, None, e, c)
        }
        End::TimedOut => (
            ExecutionStatus::TimedOut,
            None,
            Some(names::TIMEOUT.to_string()),
            None,
        ),
        End::HistoryFull => (
            ExecutionStatus::Failed,
            None,
            Some(names::RUNTIME.to_string()),
            Some(exec.rec.limit_cause()),
        ),
    };
    match status {
        ExecutionStatus::Succeeded => {
            let output = output.as_ref().unwrap_or(&Value::Null);
            exec.rec
                .record(&mut root, EventType::ExecutionSucceeded, || {
                    EventKind::ExecutionSucceeded {
                        output: output_text
                            .take()
                            .unwrap_or_else(|| Arc::from(java_json(output))),
                    }
                });
        }
        other => {
            let details = ErrorDetails {
                error: error.clone(),
                cause: cause.clone(),
            };
            let (ty, kind): (_, fn(ErrorDetails) -> EventKind) = match other {
                ExecutionStatus::TimedOut => {
                    (EventType::ExecutionTimedOut, EventKind::ExecutionTimedOut)
                }
                ExecutionStatus::Aborted => {
                    (EventType::ExecutionAborted, EventKind::ExecutionAborted)
                }
                _ => (EventType::ExecutionFailed, EventKind::ExecutionFailed),
            };
            exec.rec.record(&mut root, ty, || kind(details));
        }
    }
    // The next execution of the program reserves room for as many events (up to a bound, so
    // that one huge history does not make every later one start with a huge log).
    program.history_hint.fetch_max(
        exec.rec.recorded().min(HISTORY_HINT_CAP),
        std::sync::atomic::Ordering::Relaxed,
    );
    let flushed = exec.rec.flush().await;
    let mut outcome = ExecutionOutcome {
        status,
        output,
        error,
        cause,
        history: exec.rec.into_history(),
    };
    if let Err(e) = flushed {
        if outcome.status == ExecutionStatus::Succeeded {
            outcome.status = ExecutionStatus::Failed;
            outcome.output = None;
        }
        outcome.error = Some(names::RUNTIME.into());
        outcome.cause = Some(e.to_string());
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(status: ExecutionStatus, output: Option<Value>) -> ExecutionOutcome {
        ExecutionOutcome {
            status,
            output,
            error: Some("E".into()),
            cause: Some("why \"quoted\"".into()),
            history: History::default(),
        }
    }

    /// The document keeps its field order, and names the error and cause only when the run did
    /// not succeed; the text is that document's.
    #[test]
    fn the_json_document_and_its_text_agree() {
        let cases = [
            (
                outcome(ExecutionStatus::Succeeded, Some(json!({"b": 1, "a": [2]}))),
                json!({"status": "SUCCEEDED", "output": {"b": 1, "a": [2]}}),
            ),
            (
                outcome(ExecutionStatus::Failed, None),
                json!({"status": "FAILED", "error": "E", "cause": "why \"quoted\""}),
            ),
            (
                outcome(ExecutionStatus::TimedOut, None),
                json!({"status": "TIMED_OUT", "error": "E", "cause": "why \"quoted\""}),
            ),
        ];
        for (o, expected) in cases {
            assert_eq!(o.to_json(), expected);
            let mut text = Vec::new();
            o.write_json(&mut text).expect("writes");
            assert_eq!(
                String::from_utf8(text).expect("UTF-8"),
                expected.to_string()
            );
        }
    }
}
