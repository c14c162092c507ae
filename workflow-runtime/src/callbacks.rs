//! Task tokens and callbacks: `.waitForTaskToken` tasks wait for `SendTaskSuccess`,
//! `SendTaskFailure` or `SendTaskHeartbeat` on their token.
//!
//! The runtime mints a token for every attempt of a `.waitForTaskToken` task (`$$.Task.Token`,
//! [`crate::TaskContext::task_token`]) and registers it here before the task's handler (which
//! delivers the token to whoever will answer) is called; the task then waits for a signal on the
//! token, its `HeartbeatSeconds` and `TimeoutSeconds`, or cancellation. A token is derived from
//! the execution's name and the task's position in the history, so a resumed execution mints the
//! same token again: a token handed out before a restart still works after it.
//!
//! Errors are Step Functions' (API reference of `SendTaskSuccess`): `InvalidToken` for a token
//! that is not one (empty, or longer than 1,024 characters), `TaskDoesNotExist` for an unknown
//! token or one whose task has finished, `TaskTimedOut` for one whose task timed out, and
//! `InvalidOutput` for an output that is not JSON.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::mpsc;

/// The longest token Step Functions accepts (`taskToken`: 1 to 1,024 characters).
pub const MAX_TOKEN_LEN: usize = 1024;

/// What a callback says about a waiting task.
///
/// ```
/// use workflow_runtime::callbacks::Signal;
///
/// let s = Signal::Failure { error: Some("Rejected".into()), cause: None };
/// assert_ne!(s, Signal::Heartbeat);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// `SendTaskSuccess`: the task's result.
    Success(Value),
    /// `SendTaskFailure`: the task's error and cause.
    Failure {
        /// The error name (`Retry`/`Catch` match it).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `SendTaskHeartbeat`: the task is alive (resets `HeartbeatSeconds`).
    Heartbeat,
}

/// Why a callback was refused, named as Step Functions names it.
///
/// ```
/// use workflow_runtime::{CallbackError, Callbacks};
///
/// let err = Callbacks::new().send_heartbeat("no-such-token").unwrap_err();
/// assert!(matches!(err, CallbackError::TaskDoesNotExist(_)));
/// assert_eq!(err.aws_name(), "TaskDoesNotExist");
/// assert!(err.to_string().starts_with("TaskDoesNotExist: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackError {
    /// The token is not a token (empty or too long).
    InvalidToken(String),
    /// No task waits for this token (unknown, or its task has finished).
    TaskDoesNotExist(String),
    /// The token's task timed out.
    TaskTimedOut(String),
    /// The output is not JSON.
    InvalidOutput(String),
}

impl CallbackError {
    /// The error's AWS name (`InvalidToken`, `TaskDoesNotExist`, `TaskTimedOut`, `InvalidOutput`).
    ///
    /// ```
    /// let err = workflow_runtime::Callbacks::new().send_heartbeat("").unwrap_err();
    /// assert_eq!(err.aws_name(), "InvalidToken");
    /// ```
    pub fn aws_name(&self) -> &'static str {
        match self {
            CallbackError::InvalidToken(_) => "InvalidToken",
            CallbackError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            CallbackError::TaskTimedOut(_) => "TaskTimedOut",
            CallbackError::InvalidOutput(_) => "InvalidOutput",
        }
    }

    /// The human-readable message.
    ///
    /// ```
    /// let err = workflow_runtime::Callbacks::new().send_heartbeat("").unwrap_err();
    /// assert!(err.message().starts_with("Invalid token"));
    /// ```
    pub fn message(&self) -> &str {
        match self {
            CallbackError::InvalidToken(m)
            | CallbackError::TaskDoesNotExist(m)
            | CallbackError::TaskTimedOut(m)
            | CallbackError::InvalidOutput(m) => m,
        }
    }
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.aws_name(), self.message())
    }
}

impl std::error::Error for CallbackError {}

/// How a token's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// It succeeded, failed, or was cancelled.
    Finished,
    /// It timed out (`States.Timeout`, `States.HeartbeatTimeout`).
    TimedOut,
}

#[derive(Debug)]
enum Slot {
    Waiting {
        signals: mpsc::UnboundedSender<Signal>,
        execution: String,
        state: String,
    },
    Ended(Ended),
}

/// A task that waits for a callback now (see [`Callbacks::waiting_tasks`]).
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, StartOptions, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
/// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
/// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
/// #   "End": true}}}"#).expect("valid");
/// # let runtime = Runtime::builder()
/// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
/// #     .build();
/// // An execution whose task `Approve` waits for a callback.
/// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
/// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
/// let callbacks = runtime.callbacks();
/// let token = callbacks.waiting().remove(0);
/// let task = &callbacks.waiting_tasks(None)[0];
/// assert_eq!((task.token.as_str(), task.execution.as_str(), task.state.as_str()), (token.as_str(), "e-1", "Approve"));
/// # callbacks.send_success(&token, json!(1))?;
/// # execution.await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitingTask {
    /// Its task token.
    pub token: String,
    /// The name of its execution.
    pub execution: String,
    /// The name of its Task state.
    pub state: String,
}

/// The tokens of the waiting tasks of a runtime's executions. Shared by every execution of a
/// [`crate::Runtime`] ([`crate::Runtime::callbacks`]).
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::{Runtime, StartOptions, TaskError};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
/// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
/// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
/// #   "End": true}}}"#).expect("valid");
/// # let runtime = Runtime::builder()
/// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
/// #     .build();
/// // An execution whose task `Approve` waits for a callback.
/// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
/// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
/// let callbacks = runtime.callbacks();
/// let token = callbacks.waiting().remove(0);
/// use workflow_runtime::callbacks::WaitingTask;
///
/// let waiting: Vec<WaitingTask> = callbacks.waiting_tasks(Some("e-1"));
/// assert_eq!((waiting[0].execution.as_str(), waiting[0].state.as_str()), ("e-1", "Approve"));
/// callbacks.send_heartbeat(&token)?;
/// callbacks.send_success_text(&token, r#"{"approved": true}"#)?;
/// assert_eq!(execution.await.output, Some(json!({"approved": true})));
/// // The token is used up.
/// assert_eq!(callbacks.send_heartbeat(&token).unwrap_err().aws_name(), "TaskDoesNotExist");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Callbacks {
    slots: Mutex<HashMap<String, Slot>>,
}

/// The most ended tokens remembered (to answer `TaskTimedOut` rather than `TaskDoesNotExist`);
/// past it they are forgotten, oldest first is not tracked: the map is cleared of ended tokens.
const MAX_ENDED: usize = 100_000;

impl Callbacks {
    /// An empty registry.
    ///
    /// ```
    /// let callbacks = workflow_runtime::Callbacks::new();
    /// assert!(callbacks.waiting().is_empty());
    /// ```
    pub fn new() -> Callbacks {
        Callbacks::default()
    }

    fn check(token: &str) -> Result<(), CallbackError> {
        if token.is_empty() || token.chars().count() > MAX_TOKEN_LEN {
            return Err(CallbackError::InvalidToken(format!(
                "Invalid token: a task token has 1 to {MAX_TOKEN_LEN} characters, this one {}",
                token.chars().count()
            )));
        }
        Ok(())
    }

    fn send(&self, token: &str, signal: Signal) -> Result<(), CallbackError> {
        Self::check(token)?;
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        match slots.get(token) {
            Some(Slot::Waiting { signals, .. }) => {
                let ends = !matches!(signal, Signal::Heartbeat);
                if signals.send(signal).is_err() {
                    slots.insert(token.to_string(), Slot::Ended(Ended::Finished));
                    return Err(does_not_exist(token));
                }
                if ends {
                    // A second answer to the same token is refused, as on AWS.
                    slots.insert(token.to_string(), Slot::Ended(Ended::Finished));
                }
                Ok(())
            }
            other => Err(not_waiting(other, token)),
        }
    }

    /// Whether a callback on `token` would be taken now, without sending one: the error it
    /// would get otherwise.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// callbacks.probe(&token)?; // would be taken; nothing is sent
    /// assert_eq!(callbacks.probe("unknown").unwrap_err().aws_name(), "TaskDoesNotExist");
    /// callbacks.send_success(&token, json!(1))?;
    /// # execution.await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn probe(&self, token: &str) -> Result<(), CallbackError> {
        Self::check(token)?;
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        match slots.get(token) {
            Some(Slot::Waiting { .. }) => Ok(()),
            other => Err(not_waiting(other, token)),
        }
    }

    /// `SendTaskSuccess`: completes the token's task with `output`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// callbacks.send_success(&token, json!({"approved": true}))?;
    /// assert_eq!(execution.await.output, Some(json!({"approved": true})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_success(&self, token: &str, output: Value) -> Result<(), CallbackError> {
        self.send(token, Signal::Success(output))
    }

    /// `SendTaskSuccess` with the output as JSON text (as the API carries it).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// let err = callbacks.send_success_text(&token, "{not json").unwrap_err();
    /// assert_eq!(err.aws_name(), "InvalidOutput");
    /// callbacks.send_success_text(&token, "[1, 2]")?;
    /// assert_eq!(execution.await.output, Some(json!([1, 2])));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_success_text(&self, token: &str, output: &str) -> Result<(), CallbackError> {
        Self::check(token)?;
        let value = serde_json::from_str(output).map_err(|e| {
            CallbackError::InvalidOutput(format!("Invalid output: the output is not JSON: {e}"))
        })?;
        self.send_success(token, value)
    }

    /// `SendTaskFailure`: fails the token's task with `error` and `cause`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// callbacks.send_failure(&token, Some("Rejected".into()), None)?;
    /// assert_eq!(execution.await.error.as_deref(), Some("Rejected"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), CallbackError> {
        self.send(token, Signal::Failure { error, cause })
    }

    /// `SendTaskHeartbeat`: resets the token's task's `HeartbeatSeconds`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// callbacks.send_heartbeat(&token)?; // still waiting afterwards
    /// assert_eq!(callbacks.waiting(), [token.clone()]);
    /// assert_eq!(callbacks.send_heartbeat("").unwrap_err().aws_name(), "InvalidToken");
    /// # callbacks.send_success(&token, json!(1))?;
    /// # execution.await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        self.send(token, Signal::Heartbeat)
    }

    /// The tokens whose tasks are waiting now.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// assert_eq!(callbacks.waiting(), [token.clone()]);
    /// callbacks.send_success(&token, json!(1))?;
    /// execution.await;
    /// assert!(callbacks.waiting().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn waiting(&self) -> Vec<String> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<String> = slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Waiting { .. }))
            .map(|(t, _)| t.clone())
            .collect();
        out.sort();
        out
    }

    /// The tasks waiting now, of one execution (`Some(name)`) or of all, by token.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::{Runtime, StartOptions, TaskError};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Approve", "States": {"Approve": {
    /// #   "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    /// #   "Parameters": {"QueueUrl": "approvals", "MessageBody": {"token.$": "$$.Task.Token"}},
    /// #   "End": true}}}"#).expect("valid");
    /// # let runtime = Runtime::builder()
    /// #     .handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", |_: Value| async { Ok::<_, TaskError>(json!({})) })
    /// #     .build();
    /// // An execution whose task `Approve` waits for a callback.
    /// let execution = runtime.start(&runtime.program(&machine)?, json!({}), StartOptions::new().name("e-1"))?;
    /// # while execution.waiting_task_tokens().is_empty() { tokio::task::yield_now().await; }
    /// let callbacks = runtime.callbacks();
    /// let token = callbacks.waiting().remove(0);
    /// assert_eq!(callbacks.waiting_tasks(None).len(), 1);
    /// assert!(callbacks.waiting_tasks(Some("another")).is_empty());
    /// assert_eq!(callbacks.waiting_tasks(Some("e-1"))[0].token, token);
    /// # callbacks.send_success(&token, json!(1))?;
    /// # execution.await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn waiting_tasks(&self, execution: Option<&str>) -> Vec<WaitingTask> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<WaitingTask> = slots
            .iter()
            .filter_map(|(token, slot)| match slot {
                Slot::Waiting {
                    execution: e,
                    state,
                    ..
                } if execution.is_none_or(|want| want == e) => Some(WaitingTask {
                    token: token.clone(),
                    execution: e.clone(),
                    state: state.clone(),
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.token.cmp(&b.token));
        out
    }

    /// Registers the token of a waiting task (of `execution`'s state `state`); its signals
    /// arrive on the receiver.
    pub(crate) fn register(
        &self,
        token: &str,
        execution: &str,
        state: &str,
    ) -> mpsc::UnboundedReceiver<Signal> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_ENDED {
            slots.retain(|_, s| matches!(s, Slot::Waiting { .. }));
        }
        slots.insert(
            token.to_string(),
            Slot::Waiting {
                signals: tx,
                execution: execution.to_string(),
                state: state.to_string(),
            },
        );
        rx
    }

    /// Marks a token's task as ended.
    pub(crate) fn end(&self, token: &str, how: Ended) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.insert(token.to_string(), Slot::Ended(how));
    }
}

/// The error for a token whose task does not wait (anymore).
fn not_waiting(slot: Option<&Slot>, token: &str) -> CallbackError {
    match slot {
        Some(Slot::Ended(Ended::TimedOut)) => CallbackError::TaskTimedOut(format!(
            "Task Timed Out: the task of token '{token}' timed out"
        )),
        _ => does_not_exist(token),
    }
}

fn does_not_exist(token: &str) -> CallbackError {
    CallbackError::TaskDoesNotExist(format!(
        "Task does not exist: no task waits for the token '{token}' (unknown, or its task has finished)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_token_is_answered_once() {
        let cb = Callbacks::new();
        let mut rx = cb.register("t1", "run", "Ask");
        assert_eq!(
            cb.waiting_tasks(Some("run")),
            [WaitingTask {
                token: "t1".into(),
                execution: "run".into(),
                state: "Ask".into()
            }]
        );
        assert!(cb.waiting_tasks(Some("other")).is_empty());
        assert_eq!(cb.waiting(), ["t1"]);
        cb.send_heartbeat("t1").expect("waiting");
        cb.send_success("t1", json!(1)).expect("waiting");
        assert_eq!(rx.try_recv().ok(), Some(Signal::Heartbeat));
        assert_eq!(rx.try_recv().ok(), Some(Signal::Success(json!(1))));
        let again = cb.send_success("t1", json!(2)).expect_err("used");
        assert_eq!(again.aws_name(), "TaskDoesNotExist");
        assert!(cb.waiting().is_empty());
    }

    #[test]
    fn bad_unknown_and_timed_out_tokens_are_refused() {
        let cb = Callbacks::new();
        assert_eq!(
            cb.send_heartbeat("").expect_err("empty").aws_name(),
            "InvalidToken"
        );
        let long = "x".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            cb.send_failure(&long, None, None)
                .expect_err("long")
                .aws_name(),
            "InvalidToken"
        );
        assert_eq!(
            cb.send_heartbeat("nope").expect_err("unknown").aws_name(),
            "TaskDoesNotExist"
        );
        let _rx = cb.register("t2", "run", "Ask");
        cb.end("t2", Ended::TimedOut);
        assert_eq!(
            cb.probe("t2").expect_err("timed out").aws_name(),
            "TaskTimedOut"
        );
        assert_eq!(cb.probe("").expect_err("empty").aws_name(), "InvalidToken");
        let e = cb.send_success("t2", json!(null)).expect_err("timed out");
        assert_eq!(e.aws_name(), "TaskTimedOut");
        let _rx = cb.register("t3", "run", "Ask");
        let e = cb.send_success_text("t3", "{oops").expect_err("not JSON");
        assert_eq!(e.aws_name(), "InvalidOutput");
        assert_eq!(
            cb.waiting(),
            ["t3"],
            "a refused answer leaves the task waiting"
        );
    }
}
