//! TestState, locally: runs ONE state as AWS Step Functions' `TestState` API does, and answers
//! in its response shape (`status`, `output`, `error`, `cause`, `nextState`, `inspectionData`).
//!
//! Sources: the API reference (`TestState`, `InspectionData`, `InspectionErrorDetails`,
//! `MockInput`) and, above all, the TestState calls LocalStack recorded against AWS
//! (`../shared/conformance/localstack/test_state*`, checked by `tests/it/conformance_test_state.rs`).
//! What those recordings show, and this module follows:
//!
//! - The data path is the state's own (InputPath → Parameters → result → ResultSelector → Assign
//!   → ResultPath → OutputPath, or Arguments → result → Output/Assign in JSONata), and
//!   `inspectionData` holds the value after each step. Which steps appear depends on the state:
//!   a Pass with `Result` shows `result` but not `afterInputPath`/`afterParameters`; a mocked
//!   Parallel shows only `input`, `afterResultSelector` and `afterResultPath`; a JSONata state
//!   shows `input`, `afterArguments` and `result` (Task), and `variables` when there are any.
//!   `INFO` returns no inspection data; `TRACE` adds the HTTP request/response of HTTP Tasks,
//!   which this runtime does not call (so it equals `DEBUG` here).
//! - A mock (`{"result": "<JSON text>"}` or `{"errorOutput": {"error", "cause"}}`) replaces the
//!   state's work (the task call, the branches, the iterations); without one a Task calls the
//!   runtime's handler and a Parallel or Map runs its branches or iterations on the runtime.
//! - An error is `FAILED`, or `RETRIABLE` when one of the state's retriers would retry it (the
//!   backoff is reported, no retry is made), or `CAUGHT_ERROR` when a catcher takes it: the
//!   output is the catcher's, `nextState` its `Next`. `States.Runtime` is never retried or caught.
//! - Causes carry no "An error occurred while executing the state …" prefix (there is no event
//!   id), e.g. `Reference path "$.Execution.Input" must point to array.` for a Map whose
//!   `ItemsPath` selects no array.
//! - Limits, as AWS has them: an input over the payload limit (256 KiB) is refused, an output
//!   over it fails with `States.DataLimitExceeded`, and the state's work (a handler, branches,
//!   iterations) may run five minutes, then fails with `States.Timeout`, as TestState's does.
//!   Values nested deeper than this engine records fail with `States.Runtime`.
//! - Without a context object, one is made up as TestState does: an EXPRESS execution with
//!   generated names, no role, and `State.Name` `"StateName"` (as recorded).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{json, Map, Value};
use workflow_asl::error::names;
use workflow_asl::eval::{java_json, Env, SplitMix64};
use workflow_asl::model::{PathField, QueryLanguage, State, StateKind};
use workflow_asl::path::Path;
use workflow_asl::retry::{backoff_seconds, find_catcher, find_retrier};

use super::json_size;
use super::jsonata::scope;
use crate::jtemplate::{JState, JTemplate};
use crate::sem::{Choices, Template};
use crate::Runtime;

/// How much `TestState` reports besides the outcome.
///
/// ```
/// use workflow_runtime::test_state::InspectionLevel;
///
/// assert_eq!(InspectionLevel::parse("DEBUG"), Some(InspectionLevel::Debug));
/// assert_eq!(InspectionLevel::default().as_str(), "INFO");
/// assert_eq!(InspectionLevel::parse("debug"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    /// The status, output, error, cause and next state only.
    #[default]
    Info,
    /// Also the data after each step of the data path ([`InspectionData`]).
    Debug,
    /// Also the HTTP request and response of an HTTP Task (not called by this runtime: the same
    /// as `Debug` here).
    Trace,
}

impl InspectionLevel {
    /// Reads `INFO`, `DEBUG` or `TRACE`.
    ///
    /// ```
    /// use workflow_runtime::test_state::InspectionLevel;
    /// assert_eq!(InspectionLevel::parse("TRACE"), Some(InspectionLevel::Trace));
    /// ```
    pub fn parse(s: &str) -> Option<InspectionLevel> {
        match s {
            "INFO" => Some(InspectionLevel::Info),
            "DEBUG" => Some(InspectionLevel::Debug),
            "TRACE" => Some(InspectionLevel::Trace),
            _ => None,
        }
    }

    /// `INFO`, `DEBUG` or `TRACE`.
    ///
    /// ```
    /// assert_eq!(workflow_runtime::test_state::InspectionLevel::Debug.as_str(), "DEBUG");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            InspectionLevel::Info => "INFO",
            InspectionLevel::Debug => "DEBUG",
            InspectionLevel::Trace => "TRACE",
        }
    }
}

/// The outcome of a tested state, as `TestState` names it.
///
/// ```
/// use workflow_runtime::test_state::TestStatus;
/// assert_eq!(TestStatus::Retriable.as_str(), "RETRIABLE");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// The state completed.
    Succeeded,
    /// The state failed, and no retrier or catcher takes the error.
    Failed,
    /// The state failed, and one of its retriers would retry it.
    Retriable,
    /// The state failed, and one of its catchers takes the error.
    CaughtError,
}

impl TestStatus {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    ///
    /// ```
    /// assert_eq!(workflow_runtime::test_state::TestStatus::CaughtError.as_str(), "CAUGHT_ERROR");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// `TestState`'s mock: the state's result, or the error it raises, instead of its work.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::test_state::Mock;
///
/// assert_eq!(Mock::result(json!(1)), Mock::Returns(json!(1)));
/// assert_eq!(Mock::from_json(&json!({"result": "[1, 2]"}))?, Mock::Returns(json!([1, 2])));
/// # Ok::<(), workflow_runtime::test_state::TestStateError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// The state returns this result (of the task, of the branches as an array, of the
    /// iterations as an array). (Not named `Result`: a public item of that name would make rustc
    /// spell out `std::result::Result` in every diagnostic of the crates that use this one.)
    Returns(Value),
    /// The state raises this error and cause.
    Raises {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

impl Mock {
    /// A mocked result.
    ///
    /// ```
    /// let m = workflow_runtime::test_state::Mock::result(serde_json::json!({"ok": true}));
    /// assert!(matches!(m, workflow_runtime::test_state::Mock::Returns(_)));
    /// ```
    pub fn result(value: Value) -> Mock {
        Mock::Returns(value)
    }

    /// A mocked error.
    ///
    /// ```
    /// use workflow_runtime::test_state::Mock;
    /// assert_eq!(Mock::error("E", "C"), Mock::Raises { error: Some("E".into()), cause: Some("C".into()) });
    /// ```
    pub fn error(error: impl Into<String>, cause: impl Into<String>) -> Mock {
        Mock::Raises {
            error: Some(error.into()),
            cause: Some(cause.into()),
        }
    }

    /// Reads TestState's mock object: `{"result": "<JSON text>"}` or
    /// `{"errorOutput": {"error": "…", "cause": "…"}}` (`fieldValidationMode` is accepted and
    /// ignored).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::test_state::Mock;
    ///
    /// let m = Mock::from_json(&json!({"errorOutput": {"error": "E", "cause": "C"}})).unwrap();
    /// assert_eq!(m, Mock::error("E", "C"));
    /// let err = Mock::from_json(&json!({"result": 1, "errorOutput": {}})).unwrap_err();
    /// assert_eq!(err.part, "mock");
    /// ```
    pub fn from_json(v: &Value) -> Result<Mock, TestStateError> {
        let bad = |pointer: &str, message: String| TestStateError::new("mock", pointer, message);
        let Value::Object(o) = v else {
            return Err(bad(
                "",
                format!(
                    "expected an object with `result` or `errorOutput`, got {}",
                    kind_of(v)
                ),
            ));
        };
        if let Some(k) = o
            .keys()
            .find(|k| !matches!(k.as_str(), "result" | "errorOutput" | "fieldValidationMode"))
        {
            return Err(bad(
                &format!("/{k}"),
                format!("unknown field `{k}` (expected `result` or `errorOutput`)"),
            ));
        }
        match (o.get("result"), o.get("errorOutput")) {
            (Some(_), Some(_)) => Err(bad(
                "",
                "give either `result` or `errorOutput`, not both".into(),
            )),
            (None, None) => Err(bad("", "expected `result` or `errorOutput`".into())),
            (Some(Value::String(text)), None) => workflow_asl::json::parse(text)
                .map(|p| Mock::Returns(p.value))
                .map_err(|d| {
                    bad(
                        "/result",
                        format!("the mocked result is not valid JSON text: {}", d.message),
                    )
                }),
            (Some(other), None) => Err(bad(
                "/result",
                format!(
                    "expected the result as a string of JSON text (as TestState takes it), got {}",
                    kind_of(other)
                ),
            )),
            (None, Some(Value::Object(e))) => {
                let text = |k: &str| -> Result<Option<String>, TestStateError> {
                    match e.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(other) => Err(bad(
                            &format!("/errorOutput/{k}"),
                            format!("expected a string, got {}", kind_of(other)),
                        )),
                    }
                };
                if let Some(k) = e.keys().find(|k| !matches!(k.as_str(), "error" | "cause")) {
                    return Err(bad(
                        &format!("/errorOutput/{k}"),
                        format!("unknown field `{k}` (expected `error` and `cause`)"),
                    ));
                }
                Ok(Mock::Raises {
                    error: text("error")?,
                    cause: text("cause")?,
                })
            }
            (None, Some(other)) => Err(bad(
                "/errorOutput",
                format!(
                    "expected an object with `error` and `cause`, got {}",
                    kind_of(other)
                ),
            )),
        }
    }
}

/// A request that cannot be run: where (`definition`, `input`, `mock`, … and a JSON pointer
/// into it) and what is wrong.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use serde_json::json;
/// use workflow_runtime::test_state::TestStateRequest;
/// use workflow_runtime::Runtime;
///
/// // A request that cannot run (here: the state does not exist) is an error, not a FAILED status.
/// let machine = json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}});
/// let err = Runtime::default().test_state(&TestStateRequest::new(machine, json!({})).state("B")).await.unwrap_err();
/// assert_eq!(err.part, "state");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestStateError {
    /// Which part of the request: `definition`, `state`, `mock`, `variables`, `context`.
    pub part: String,
    /// An RFC 6901 JSON pointer into that part (empty for the whole).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl TestStateError {
    fn new(part: &str, pointer: &str, message: impl Into<String>) -> TestStateError {
        TestStateError {
            part: part.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for TestStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.part, self.message)
        } else {
            write!(f, "{} at {}: {}", self.part, self.pointer, self.message)
        }
    }
}

impl std::error::Error for TestStateError {}

/// Which retrier or catcher took an error (`InspectionErrorDetails`).
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let task = json!({
/// #     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "ResultPath": "$.receipt",
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
/// #     "Next": "Done"
/// # });
/// let req = TestStateRequest::new(task, json!({}))
///     .mock(Mock::error("CardDeclined", "no funds"))
///     .inspection_level(InspectionLevel::Debug);
/// let details = Runtime::default().test_state(&req).await?.inspection_data.unwrap().error_details.unwrap();
/// assert_eq!((details.catch_index, details.retry_index), (Some(0), None));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetails {
    /// The index of the retrier that would retry the error.
    pub retry_index: Option<usize>,
    /// The backoff before that retry, in whole seconds.
    pub retry_backoff_interval_seconds: Option<u64>,
    /// The index of the catcher that took the error.
    pub catch_index: Option<usize>,
}

/// The data after each step of a state's data path (`InspectionData`); a step the state does
/// not have, or did not reach, is `None`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use serde_json::json;
/// use workflow_runtime::test_state::{InspectionLevel, TestStateRequest};
/// use workflow_runtime::Runtime;
///
/// let pass = json!({"Type": "Pass", "InputPath": "$.order", "Parameters": {"id.$": "$.id"}, "ResultPath": "$.picked", "End": true});
/// let req = TestStateRequest::new(pass, json!({"order": {"id": 7}})).inspection_level(InspectionLevel::Debug);
/// let steps = Runtime::default().test_state(&req).await?.inspection_data.expect("DEBUG");
/// assert_eq!(steps.after_input_path, Some(json!({"id": 7})));
/// assert_eq!(steps.after_parameters, Some(json!({"id": 7})));
/// // ResultPath places the result in the raw input, not in what InputPath selected.
/// assert_eq!(steps.after_result_path, Some(json!({"order": {"id": 7}, "picked": {"id": 7}})));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InspectionData {
    /// The state's raw input.
    pub input: Option<Value>,
    /// After `Arguments` (JSONata).
    pub after_arguments: Option<Value>,
    /// After `InputPath`.
    pub after_input_path: Option<Value>,
    /// After `Parameters`.
    pub after_parameters: Option<Value>,
    /// After a Map's `ItemsPath`.
    pub after_items_path: Option<Value>,
    /// After a Map's `ItemSelector`: one value per iteration.
    pub after_item_selector: Option<Value>,
    /// A Map's concurrency limit.
    pub max_concurrency: Option<i64>,
    /// A distributed Map's tolerated failure count.
    pub tolerated_failure_count: Option<i64>,
    /// A distributed Map's tolerated failure percentage.
    pub tolerated_failure_percentage: Option<f64>,
    /// The raw result (of the task, or the Pass state's `Result`).
    pub result: Option<Value>,
    /// After `ResultSelector`.
    pub after_result_selector: Option<Value>,
    /// After `ResultPath`.
    pub after_result_path: Option<Value>,
    /// The workflow variables after the state's `Assign` (when there are any).
    pub variables: Option<Map<String, Value>>,
    /// Which retrier or catcher took the error.
    pub error_details: Option<ErrorDetails>,
}

/// What `TestState` answers.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use serde_json::json;
/// use workflow_runtime::test_state::{Mock, TestStateRequest};
/// use workflow_runtime::Runtime;
///
/// let task = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true});
/// let req = TestStateRequest::new(task, json!({})).mock(Mock::error("Boom", "it broke"));
/// let out = Runtime::default().test_state(&req).await?;
/// assert_eq!(out.to_aws_json(), json!({"status": "FAILED", "error": "Boom", "cause": "it broke"}));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateOutput {
    /// The outcome.
    pub status: TestStatus,
    /// The state's output (for `CAUGHT_ERROR`, the catcher's).
    pub output: Option<Value>,
    /// The error, when the state failed.
    pub error: Option<String>,
    /// The cause, when the state failed with one.
    pub cause: Option<String>,
    /// The state that would run next (a catcher's `Next` for `CAUGHT_ERROR`).
    pub next_state: Option<String>,
    /// The data after each step (`DEBUG` and `TRACE`).
    pub inspection_data: Option<InspectionData>,
}

impl TestStateOutput {
    /// AWS's response shape: `output` and every inspection value as compact JSON text, absent
    /// fields left out.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde_json::json;
    /// use workflow_runtime::test_state::TestStateRequest;
    /// use workflow_runtime::Runtime;
    ///
    /// let pass = json!({"Type": "Pass", "Result": {"a": 1}, "Next": "X"});
    /// let out = Runtime::default().test_state(&TestStateRequest::new(pass, json!({}))).await?;
    /// // The output is JSON text, as in AWS's response.
    /// assert_eq!(out.to_aws_json(), json!({"status": "SUCCEEDED", "output": "{\"a\":1}", "nextState": "X"}));
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_aws_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("status".into(), json!(self.status.as_str()));
        if let Some(v) = &self.output {
            o.insert("output".into(), Value::String(java_json(v)));
        }
        if let Some(e) = &self.error {
            o.insert("error".into(), json!(e));
        }
        if let Some(c) = &self.cause {
            o.insert("cause".into(), json!(c));
        }
        if let Some(n) = &self.next_state {
            o.insert("nextState".into(), json!(n));
        }
        if let Some(d) = &self.inspection_data {
            let mut i = Map::new();
            let mut text = |k: &str, v: &Option<Value>| {
                if let Some(v) = v {
                    i.insert(k.into(), Value::String(java_json(v)));
                }
            };
            text("input", &d.input);
            text("afterArguments", &d.after_arguments);
            text("afterInputPath", &d.after_input_path);
            text("afterParameters", &d.after_parameters);
            text("afterItemsPath", &d.after_items_path);
            text("afterItemSelector", &d.after_item_selector);
            text("result", &d.result);
            text("afterResultSelector", &d.after_result_selector);
            text("afterResultPath", &d.after_result_path);
            if let Some(vars) = &d.variables {
                i.insert(
                    "variables".into(),
                    Value::String(java_json(&Value::Object(vars.clone()))),
                );
            }
            if let Some(n) = d.max_concurrency {
                i.insert("maxConcurrency".into(), json!(n));
            }
            if let Some(n) = d.tolerated_failure_count {
                i.insert("toleratedFailureCount".into(), json!(n));
            }
            if let Some(n) = d.tolerated_failure_percentage {
                i.insert("toleratedFailurePercentage".into(), json!(n));
            }
            if let Some(e) = &d.error_details {
                let mut ed = Map::new();
                if let Some(n) = e.retry_index {
                    ed.insert("retryIndex".into(), json!(n));
                }
                if let Some(n) = e.retry_backoff_interval_seconds {
                    ed.insert("retryBackoffIntervalSeconds".into(), json!(n));
                }
                if let Some(n) = e.catch_index {
                    ed.insert("catchIndex".into(), json!(n));
                }
                i.insert("errorDetails".into(), Value::Object(ed));
            }
            o.insert("inspectionData".into(), Value::Object(i));
        }
        Value::Object(o)
    }
}

/// One `TestState` call.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let task = json!({
///     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
///     "ResultPath": "$.receipt",
///     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
///     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
///     "Next": "Done"
/// });
/// // A whole machine, one state of it.
/// let machine = json!({"StartAt": "Charge", "States": {
///     "Charge": task, "Done": {"Type": "Succeed"}, "Declined": {"Type": "Fail"}}});
/// let req = TestStateRequest::new(machine, json!({"total": 5}))
///     .state("Charge")
///     .mock(Mock::error("Throttled", "slow down"))
///     .inspection_level(InspectionLevel::Debug);
/// let out = Runtime::default().test_state(&req).await?;
/// assert_eq!(out.status, TestStatus::Retriable);
/// assert_eq!(out.inspection_data.unwrap().error_details.unwrap().retry_backoff_interval_seconds, Some(2));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestStateRequest {
    /// One state's definition, or a whole state machine (then `state_name` picks the state).
    pub definition: Value,
    /// The state to test in a whole state machine.
    pub state_name: Option<String>,
    /// The state's input.
    pub input: Value,
    /// The mocked result or error.
    pub mock: Option<Mock>,
    /// The workflow variables the state sees.
    pub variables: Map<String, Value>,
    /// The context object (`$$`, `$states.context`); made up when absent.
    pub context: Option<Value>,
    /// How much to report.
    pub inspection_level: InspectionLevel,
    /// TestState's `stateConfiguration.retrierRetryCount`: how many retries the retrier that
    /// matches the error has already made (default 0); once it reaches the retrier's
    /// `MaxAttempts`, the error goes on to the catchers.
    pub retrier_retry_count: u32,
}

impl TestStateRequest {
    /// Tests `definition` (one state, or a whole machine with [`TestStateRequest::state`]) on
    /// `input`, at `INFO`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde_json::json;
    /// use workflow_runtime::test_state::{TestStateRequest, TestStatus};
    /// use workflow_runtime::Runtime;
    ///
    /// let pass = json!({"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true});
    /// let out = Runtime::default().test_state(&TestStateRequest::new(pass, json!({"n": 4}))).await?;
    /// assert_eq!(out.status, TestStatus::Succeeded);
    /// assert_eq!(out.output, Some(json!({"doubled": 8})));
    /// assert!(out.inspection_data.is_none()); // INFO
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(definition: Value, input: Value) -> TestStateRequest {
        TestStateRequest {
            definition,
            state_name: None,
            input,
            mock: None,
            variables: Map::new(),
            context: None,
            inspection_level: InspectionLevel::Info,
            retrier_retry_count: 0,
        }
    }

    /// The state to test in a whole state machine.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde_json::json;
    /// use workflow_runtime::test_state::TestStateRequest;
    /// use workflow_runtime::Runtime;
    ///
    /// let machine = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}});
    /// let out = Runtime::default().test_state(&TestStateRequest::new(machine, json!(1)).state("A")).await?;
    /// assert_eq!(out.next_state.as_deref(), Some("B"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn state(mut self, name: impl Into<String>) -> Self {
        self.state_name = Some(name.into());
        self
    }

    /// A mock instead of the state's work.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let task = json!({
    /// #     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "ResultPath": "$.receipt",
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
    /// #     "Next": "Done"
    /// # });
    /// let req = TestStateRequest::new(task, json!({})).mock(Mock::error("CardDeclined", "no funds"));
    /// let out = Runtime::default().test_state(&req).await?;
    /// assert_eq!(out.status, TestStatus::CaughtError);
    /// assert_eq!(out.next_state.as_deref(), Some("Declined"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mock(mut self, mock: Mock) -> Self {
        self.mock = Some(mock);
        self
    }

    /// The workflow variables.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde_json::json;
    /// use workflow_runtime::test_state::TestStateRequest;
    /// use workflow_runtime::Runtime;
    ///
    /// let pass = json!({"Type": "Pass", "Parameters": {"who.$": "$who"}, "End": true});
    /// let mut variables = serde_json::Map::new();
    /// variables.insert("who".into(), json!("Ada"));
    /// let out = Runtime::default().test_state(&TestStateRequest::new(pass, json!({})).variables(variables)).await?;
    /// assert_eq!(out.output, Some(json!({"who": "Ada"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn variables(mut self, variables: Map<String, Value>) -> Self {
        self.variables = variables;
        self
    }

    /// The context object.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use serde_json::json;
    /// use workflow_runtime::test_state::TestStateRequest;
    /// use workflow_runtime::Runtime;
    ///
    /// let pass = json!({"Type": "Pass", "Parameters": {"run.$": "$$.Execution.Name"}, "End": true});
    /// let req = TestStateRequest::new(pass, json!({})).context(json!({"Execution": {"Name": "run-7"}}));
    /// assert_eq!(Runtime::default().test_state(&req).await?.output, Some(json!({"run": "run-7"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    /// The inspection level.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let task = json!({
    /// #     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "ResultPath": "$.receipt",
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
    /// #     "Next": "Done"
    /// # });
    /// let req = TestStateRequest::new(task, json!({"total": 5}))
    ///     .mock(Mock::result(json!("ok")))
    ///     .inspection_level(InspectionLevel::Debug);
    /// let steps = Runtime::default().test_state(&req).await?.inspection_data.expect("DEBUG");
    /// assert_eq!(steps.input, Some(json!({"total": 5})));
    /// assert_eq!(steps.after_result_path, Some(json!({"total": 5, "receipt": "ok"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn inspection_level(mut self, level: InspectionLevel) -> Self {
        self.inspection_level = level;
        self
    }

    /// The retries already made by the retrier that matches the error (TestState's
    /// `stateConfiguration.retrierRetryCount`).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let task = json!({
    /// #     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "ResultPath": "$.receipt",
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
    /// #     "Next": "Done"
    /// # });
    /// // The retrier's three attempts are used up: the catcher takes the error.
    /// let req = TestStateRequest::new(task, json!({}))
    ///     .mock(Mock::error("Throttled", "slow down"))
    ///     .retrier_retry_count(3);
    /// assert_eq!(Runtime::default().test_state(&req).await?.status, TestStatus::CaughtError);
    /// # Ok(())
    /// # }
    /// ```
    pub fn retrier_retry_count(mut self, count: u32) -> Self {
        self.retrier_retry_count = count;
        self
    }
}

// ===== resolving the definition =====

/// The tested state, read and validated.
struct Resolved {
    name: String,
    state: State,
    /// The state's JSON as written.
    raw: Value,
    language: QueryLanguage,
    /// The machine's own `QueryLanguage` (what nested scopes inherit).
    machine_language: Option<QueryLanguage>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn invalid(diags: Vec<String>) -> TestStateError {
    TestStateError::new(
        "definition",
        "",
        format!("the definition is invalid: {}", diags.join("; ")),
    )
}

fn resolve(def: &Value, name: Option<&str>) -> Result<Resolved, TestStateError> {
    let Value::Object(obj) = def else {
        return Err(TestStateError::new(
            "definition",
            "",
            format!(
                "expected a JSON object (one state, or a state machine with `StartAt` and `States`), got {}",
                kind_of(def)
            ),
        ));
    };
    // Placeholders (`${Fn}`) stand for the values they will be given: a mocked or handled Task
    // needs no real ARN (as `workflow run` judges them).
    let options = workflow_asl::validate::Options {
        placeholders: workflow_asl::validate::Placeholders::Accept,
        ..workflow_asl::validate::Options::default()
    };
    if obj.contains_key("States") || obj.contains_key("StartAt") {
        let report = workflow_asl::check_value_with(def, &options);
        let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let Some(machine) = report.machine else {
            return Err(invalid(vec!["no state machine could be read".into()]));
        };
        let names: Vec<&str> = machine.states.keys().map(String::as_str).collect();
        let Some(name) = name else {
            return Err(TestStateError::new(
                "state",
                "",
                format!(
                    "the definition is a whole state machine: name the state to test (its states: {})",
                    names.join(", ")
                ),
            ));
        };
        let Some(state) = machine.states.get(name) else {
            let best = names
                .iter()
                .map(|n| (distance(n, name), *n))
                .min()
                .filter(|(d, n)| *d <= 2.max(n.len() / 3));
            let hint = best
                .map(|(_, n)| format!("; did you mean \"{n}\"?"))
                .unwrap_or_default();
            return Err(TestStateError::new(
                "state",
                "",
                format!(
                    "no state named \"{name}\" at the top level of the state machine{hint} (its states: {})",
                    names.join(", ")
                ),
            ));
        };
        let raw = obj
            .get("States")
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or(Value::Null);
        return Ok(Resolved {
            name: name.to_string(),
            language: machine.language_of(state),
            state: state.clone(),
            raw,
            machine_language: machine.query_language,
        });
    }
    if !obj.contains_key("Type") {
        return Err(TestStateError::new(
            "definition",
            "",
            "expected one state (an object with `Type`) or a state machine (with `StartAt` and `States`)",
        ));
    }
    // One state: judged as the only state of a machine whose other states are the targets it
    // names, so that every rule on a state applies and nothing about its neighbours does.
    let name = name.unwrap_or("StateName").to_string();
    let mut states = Map::new();
    states.insert(name.clone(), def.clone());
    let mut targets = BTreeSet::new();
    collect_targets(obj, &mut targets);
    for t in targets {
        if t != name {
            states.insert(t, json!({"Type": "Succeed"}));
        }
    }
    let wrapper = json!({"StartAt": name, "States": Value::Object(states)});
    let report = workflow_asl::check_value_with(&wrapper, &options);
    let prefix = format!("/States/{}", escape_pointer(&name));
    let errors: Vec<String> = report
        .errors()
        .filter(|d| d.pointer == prefix || d.pointer.starts_with(&format!("{prefix}/")))
        .map(|d| {
            let rel = &d.pointer[prefix.len()..];
            let at = if rel.is_empty() { "/" } else { rel };
            format!("{at}: {} ({})", d.message, d.code.as_str())
        })
        .collect();
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let state = report
        .machine
        .as_ref()
        .and_then(|m| m.states.get(&name))
        .cloned()
        .ok_or_else(|| invalid(vec!["the state could not be read".into()]))?;
    Ok(Resolved {
        language: state
            .common
            .query_language
            .unwrap_or(QueryLanguage::JsonPath),
        name,
        state,
        raw: def.clone(),
        machine_language: None,
    })
}

/// The state names a state's JSON transitions to.
fn collect_targets(obj: &Map<String, Value>, out: &mut BTreeSet<String>) {
    for key in ["Next", "Default"] {
        if let Some(Value::String(s)) = obj.get(key) {
            out.insert(s.clone());
        }
    }
    for key in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = obj.get(key) {
            for item in items {
                if let Some(Value::String(s)) = item.get("Next") {
                    out.insert(s.clone());
                }
            }
        }
    }
}

// ===== running the state =====

/// A failure of the tested state.
#[derive(Debug, Clone)]
struct Failed {
    error: Option<String>,
    cause: Option<String>,
}

impl Failed {
    fn new(error: &str, cause: impl Into<String>) -> Failed {
        Failed {
            error: Some(error.to_string()),
            cause: Some(cause.into()),
        }
    }

    fn runtime(cause: impl Into<String>) -> Failed {
        Failed::new(names::RUNTIME, cause)
    }
}

impl From<workflow_asl::error::Failure> for Failed {
    fn from(f: workflow_asl::error::Failure) -> Failed {
        Failed::new(&f.error, f.cause)
    }
}

impl From<crate::jtemplate::JFailure> for Failed {
    fn from(f: crate::jtemplate::JFailure) -> Failed {
        Failed::new(crate::jtemplate::QUERY_EVALUATION_ERROR, f.cause)
    }
}

/// A completed state: its output and next state.
struct Done {
    output: Value,
    next: Option<String>,
}

fn compile_tpl(v: &Value, field: &str) -> Result<Template, TestStateError> {
    Template::compile(v).map_err(|m| TestStateError::new("definition", &format!("/{field}"), m))
}

fn compile_path(p: &str, field: &str) -> Result<Path, TestStateError> {
    Path::parse(p)
        .map_err(|e| TestStateError::new("definition", &format!("/{field}"), e.to_string()))
}

/// How long the state's work may run (AWS: "The TestState API can run for up to five minutes. If
/// the execution of a state exceeds this duration, it fails with the States.Timeout error.").
const WORK_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// An `InputPath`/`OutputPath` field, compiled.
enum IoSel {
    Identity,
    Null,
    Path(Path),
}

fn io_sel(f: &Option<PathField>, field: &str) -> Result<IoSel, TestStateError> {
    Ok(match f {
        None => IoSel::Identity,
        Some(PathField::Null) => IoSel::Null,
        Some(PathField::Path(p)) if p == "$" => IoSel::Identity,
        Some(PathField::Path(p)) => IoSel::Path(compile_path(p, field)?),
    })
}

/// A `ResultPath` field, compiled.
enum ResultSel {
    Replace,
    Discard,
    Path(Path),
}

fn result_sel(f: &Option<PathField>, field: &str) -> Result<ResultSel, TestStateError> {
    Ok(match f {
        None => ResultSel::Replace,
        Some(PathField::Null) => ResultSel::Discard,
        Some(PathField::Path(p)) if p == "$" => ResultSel::Replace,
        Some(PathField::Path(p)) => ResultSel::Path(compile_path(p, field)?),
    })
}

/// The state's run: its surroundings and what it has shown so far.
struct Run<'a> {
    runtime: &'a Runtime,
    req: &'a TestStateRequest,
    r: &'a Resolved,
    ctx: Value,
    vars: Map<String, Value>,
    insp: InspectionData,
    rng: SplitMix64,
    j: Option<JState>,
}

impl Run<'_> {
    fn select(&self, sel: &IoSel, v: Value) -> Result<Value, Failed> {
        match sel {
            IoSel::Identity => Ok(v),
            IoSel::Null => Ok(Value::Object(Map::new())),
            IoSel::Path(p) => {
                let env = Env::new(&v, &self.ctx, &self.vars);
                p.evaluate(&env)
                    .map(|s| s.into_value())
                    .map_err(|m| Failed::runtime(m.invalid_path_cause(p)))
            }
        }
    }

    fn template(&mut self, tpl: &Template, on: &Value) -> Result<Value, Failed> {
        let env = Env::new(on, &self.ctx, &self.vars);
        Ok(tpl.evaluate(&env, &mut self.rng)?)
    }

    fn place(&self, rp: &ResultSel, input: Value, result: Value) -> Result<Value, Failed> {
        match rp {
            ResultSel::Replace => Ok(result),
            ResultSel::Discard => Ok(input),
            ResultSel::Path(p) => Ok(p.apply_result(input, result)?),
        }
    }

    /// `Assign` (JSONPath): all values against the variables before the assignment.
    fn assign(&mut self, tpl: Option<&Template>, on: &Value) -> Result<(), Failed> {
        let Some(tpl) = tpl else { return Ok(()) };
        if let Value::Object(o) = self.template(tpl, on)? {
            self.vars.extend(o);
        }
        Ok(())
    }

    /// JSONata `Output` (default `default`) and `Assign` against one scope, then assigns.
    fn j_output(
        &mut self,
        output: Option<&JTemplate>,
        assign: Option<&JTemplate>,
        result: Option<&Value>,
        error_output: Option<&Value>,
        default: Value,
    ) -> Result<Value, Failed> {
        let sc = scope(&self.vars, &self.req.input, &self.ctx, result, error_output);
        let out = match output {
            Some(t) => t.evaluate(&sc, "Output")?,
            None => default,
        };
        if let Some(a) = assign {
            if let Value::Object(o) = a.evaluate(&sc, "Assign")? {
                drop(sc);
                self.vars.extend(o);
            }
        }
        Ok(out)
    }

    fn j_eval(&self, t: &JTemplate, field: &str) -> Result<Value, Failed> {
        let sc = scope(&self.vars, &self.req.input, &self.ctx, None, None);
        Ok(t.evaluate(&sc, field)?)
    }

    fn next(&self) -> Option<String> {
        self.r.state.transition().and_then(|t| t.next.clone())
    }

    /// The state's result when it does work: the mock's, or the work's.
    async fn work(&mut self, effective: Value) -> Result<Value, Failed> {
        match &self.req.mock {
            Some(Mock::Returns(v)) => Ok(v.clone()),
            Some(Mock::Raises { error, cause }) => Err(Failed {
                error: error.clone(),
                cause: cause.clone(),
            }),
            None => self.run_on_runtime(effective).await,
        }
    }

    /// Runs the state's work (the task call, the branches, the iterations) as a one-state
    /// machine on the runtime, its data path removed: `effective` is what the work receives.
    async fn run_on_runtime(&mut self, effective: Value) -> Result<Value, Failed> {
        let mut st = match &self.r.raw {
            Value::Object(o) => o.clone(),
            _ => Map::new(),
        };
        for k in [
            "InputPath",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "ResultPath",
            "OutputPath",
            "Output",
            "Assign",
            "Retry",
            "Catch",
            "Next",
            "Comment",
        ] {
            st.remove(k);
        }
        if matches!(self.r.state.kind, StateKind::Map(_)) && !st.contains_key("ItemReader") {
            // The items (after ItemsPath/Items and ItemSelector) are the input.
            for k in ["ItemsPath", "Items", "ItemSelector", "MaxConcurrencyPath"] {
                st.remove(k);
            }
            if let Some(n) = self.insp.max_concurrency {
                st.insert("MaxConcurrency".into(), json!(n));
            }
        }
        if let StateKind::Task(_) = &self.r.state.kind {
            // JSONata expressions in these fields were evaluated by the caller.
            for k in ["TimeoutSeconds", "HeartbeatSeconds"] {
                if st.get(k).is_some_and(Value::is_string) {
                    st.remove(k);
                }
            }
        }
        st.insert("End".into(), Value::Bool(true));
        let name = self.r.name.clone();
        let mut states = Map::new();
        let mut start = name.clone();
        let mut input = effective;
        if !self.vars.is_empty() && !matches!(self.r.state.kind, StateKind::Task(_)) {
            // Branches and iterations read the variables of the scope around them: a first
            // Pass state assigns them.
            let seed = if name == "SeedVariables" {
                "SeedVariables_"
            } else {
                "SeedVariables"
            };
            let assign: Map<String, Value> = self
                .vars
                .keys()
                .map(|k| (format!("{k}.$"), json!(format!("$.vars['{k}']"))))
                .collect();
            states.insert(
                seed.to_string(),
                json!({"Type": "Pass", "QueryLanguage": "JSONPath", "Assign": assign,
                       "OutputPath": "$.input", "Next": name}),
            );
            input = json!({"vars": Value::Object(self.vars.clone()), "input": input});
            start = seed.to_string();
        }
        states.insert(name, Value::Object(st));
        let mut machine = json!({"StartAt": start, "States": Value::Object(states)});
        if let Some(ql) = self.r.machine_language {
            machine["QueryLanguage"] = json!(ql.as_str());
        }
        let model = {
            let (m, diags) = workflow_asl::parse::parse_machine(&machine);
            match m {
                Some(m) if !diags.iter().any(|d| d.is_error()) => m,
                _ => {
                    let why: Vec<String> = diags.iter().map(ToString::to_string).collect();
                    return Err(Failed::runtime(format!(
                        "the state's work cannot run on its own: {}",
                        why.join("; ")
                    )));
                }
            }
        };
        let program = self
            .runtime
            .program(&model)
            .map_err(|e| Failed::runtime(format!("{}: {}", e.pointer, e.message)))?;
        let run = self.runtime.run(&program, input);
        let outcome = match tokio::time::timeout(WORK_LIMIT, run).await {
            Ok(done) => done.map_err(|e| Failed::runtime(e.to_string()))?,
            Err(_) => {
                return Err(Failed::new(
                    names::TIMEOUT,
                    "The state's work did not finish within the five minutes TestState allows.",
                ))
            }
        };
        match outcome.output {
            Some(v) if outcome.succeeded() => Ok(v),
            _ => Err(Failed {
                error: outcome.error,
                cause: outcome.cause.map(|c| strip_prefix(&c)),
            }),
        }
    }
}

/// A cause without the executor's "An error occurred while executing the state 'S' (entered at
/// the event id #N). " prefix (TestState has no event ids).
fn strip_prefix(cause: &str) -> String {
    if let Some(rest) = cause.strip_prefix("An error occurred while executing the state '") {
        if let Some(at) = rest.find("). ") {
            if rest[..at].contains("(entered at the event id #") {
                return rest[at + 3..].to_string();
            }
        }
    }
    cause.to_string()
}

/// `Reference path "…" must point to array.`, with a context path shown from its `$` (as
/// recorded: `$$.Execution.Input` is shown as `$.Execution.Input`).
fn not_array_cause(path: &str) -> String {
    let shown = path
        .strip_prefix('$')
        .filter(|p| p.starts_with('$'))
        .unwrap_or(path);
    format!("Reference path \"{shown}\" must point to array.")
}

impl Runtime {
    /// Runs one state as AWS's `TestState` API does (see [`crate::test_state`]): the request's
    /// state on its input, with its mock, variables and context; a Task without a mock calls
    /// this runtime's handler, a Parallel or Map without one runs its branches or iterations
    /// here. The error is a request that cannot be run (an invalid definition, an unknown
    /// state, a malformed mock), never the state's own failure (a `FAILED` status).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest, TestStatus};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let task = json!({
    ///     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    ///     "ResultPath": "$.receipt",
    ///     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 3}],
    ///     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Declined"}],
    ///     "Next": "Done"
    /// });
    /// let runtime = Runtime::default();
    /// let req = TestStateRequest::new(task, json!({"total": 5}))
    ///     .mock(Mock::result(json!({"charged": 5})))
    ///     .inspection_level(InspectionLevel::Debug);
    /// let out = runtime.test_state(&req).await?;
    /// assert_eq!(out.status, TestStatus::Succeeded);
    /// assert_eq!(out.next_state.as_deref(), Some("Done"));
    /// assert_eq!(out.output, Some(json!({"total": 5, "receipt": {"charged": 5}})));
    /// assert_eq!(out.inspection_data.unwrap().result, Some(json!({"charged": 5})));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn test_state(
        &self,
        req: &TestStateRequest,
    ) -> Result<TestStateOutput, TestStateError> {
        let r = resolve(&req.definition, req.state_name.as_deref())?;
        let j = match r.language {
            QueryLanguage::Jsonata => Some(
                JState::compile(&r.state).map_err(|m| TestStateError::new("definition", "", m))?,
            ),
            QueryLanguage::JsonPath => None,
        };
        if req.mock.is_some()
            && !matches!(
                r.state.kind,
                StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
            )
        {
            return Err(TestStateError::new(
                "mock",
                "",
                format!(
                    "only a Task, Parallel or Map state can be mocked; \"{}\" is a {} state",
                    r.name,
                    r.state.kind.type_name()
                ),
            ));
        }
        let limit = self.payload_limit_bytes();
        let size = json_size(&req.input, limit);
        if size > limit {
            return Err(TestStateError::new(
                "input",
                "",
                format!("the input is {size} bytes, over the payload limit of {limit} bytes"),
            ));
        }
        let ctx = match &req.context {
            Some(Value::Object(_)) => req.context.clone().unwrap_or(Value::Null),
            Some(other) => {
                return Err(TestStateError::new(
                    "context",
                    "",
                    format!("expected a JSON object, got {}", kind_of(other)),
                ))
            }
            None => self.made_up_context(&req.input),
        };
        let mut run = Run {
            runtime: self,
            req,
            r: &r,
            ctx,
            vars: req.variables.clone(),
            insp: InspectionData {
                input: Some(req.input.clone()),
                ..InspectionData::default()
            },
            rng: SplitMix64::new(0x7e57_57a7e),
            j,
        };
        let outcome = match r.language {
            QueryLanguage::JsonPath => run.jsonpath().await?,
            QueryLanguage::Jsonata => run.jsonata().await?,
        };
        let outcome = outcome.and_then(|done| check_output(done, limit));
        Ok(run.finish(outcome))
    }

    /// The context object TestState makes up when none is given: an EXPRESS execution with
    /// generated names and no role (as recorded).
    fn made_up_context(&self, input: &Value) -> Value {
        let (region, account) = self.region_account();
        let now = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let id = uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .to_string();
        let machine = format!("TestStateMachine-{}", &id[..8]);
        json!({
            "Execution": {
                "Id": format!("arn:aws:states:{region}:{account}:express:{machine}:{id}"),
                "Input": input,
                "Name": id,
                "RoleArn": null,
                "StartTime": now,
            },
            "StateMachine": {
                "Id": format!("arn:aws:states:{region}:{account}:stateMachine:{machine}"),
                "Name": machine,
            },
            "State": {"Name": "StateName", "EnteredTime": now},
        })
    }
}

impl Run<'_> {
    /// Applies Retry/Catch to a failure and builds the response.
    fn finish(mut self, outcome: Result<Done, Failed>) -> TestStateOutput {
        let debug = self.req.inspection_level != InspectionLevel::Info;
        let (status, output, error, cause, next) = match outcome {
            Ok(done) => (
                TestStatus::Succeeded,
                Some(done.output),
                None,
                None,
                done.next,
            ),
            Err(f) => self.on_error(f),
        };
        if !self.vars.is_empty() {
            self.insp.variables = Some(self.vars.clone());
        }
        TestStateOutput {
            status,
            output,
            error,
            cause,
            next_state: next,
            inspection_data: debug.then_some(self.insp),
        }
    }

    #[allow(clippy::type_complexity)]
    fn on_error(
        &mut self,
        f: Failed,
    ) -> (
        TestStatus,
        Option<Value>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let name = f.error.clone().unwrap_or_default();
        let failed = |f: Failed| (TestStatus::Failed, None, f.error, f.cause, None);
        let Some(eh) = self.r.state.error_handling() else {
            return failed(f);
        };
        if name == names::RUNTIME {
            return failed(f);
        }
        if let Some(i) = find_retrier(&eh.retry, &name) {
            let retrier = &eh.retry[i];
            let done = self.req.retrier_retry_count;
            if u64::from(done) < retrier.attempts() {
                let backoff = backoff_seconds(retrier, done.saturating_add(1));
                self.insp.error_details = Some(ErrorDetails {
                    retry_index: Some(i),
                    retry_backoff_interval_seconds: Some(backoff.max(0.0).round() as u64),
                    catch_index: None,
                });
                return (TestStatus::Retriable, None, f.error, f.cause, None);
            }
        }
        let Some(i) = find_catcher(&eh.catch, &name) else {
            return failed(f);
        };
        let catcher = eh.catch[i].clone();
        let mut error_output = Map::new();
        error_output.insert(
            "Error".into(),
            f.error.clone().map_or(Value::Null, Value::String),
        );
        error_output.insert(
            "Cause".into(),
            f.cause.clone().map_or(Value::Null, Value::String),
        );
        let error_output = Value::Object(error_output);
        let placed: Result<Value, Failed> = match self.r.language {
            QueryLanguage::JsonPath => (|| {
                let assign = catcher
                    .assign
                    .as_ref()
                    .map(|a| Template::compile(a).map_err(Failed::runtime))
                    .transpose()?;
                self.assign(assign.as_ref(), &error_output)?;
                let rp = result_sel(&catcher.result_path, "ResultPath")
                    .map_err(|e| Failed::runtime(e.message))?;
                self.place(&rp, self.req.input.clone(), error_output.clone())
            })(),
            QueryLanguage::Jsonata => {
                let j = self.j.take();
                let jc = j.as_ref().and_then(|j| j.catch.get(i));
                let out = self.j_output(
                    jc.and_then(|c| c.output.as_ref()),
                    jc.and_then(|c| c.assign.as_ref()),
                    None,
                    Some(&error_output),
                    error_output.clone(),
                );
                self.j = j;
                out
            }
        };
        match placed {
            Ok(output) => {
                self.insp.error_details = Some(ErrorDetails {
                    catch_index: Some(i),
                    ..ErrorDetails::default()
                });
                (
                    TestStatus::CaughtError,
                    Some(output),
                    f.error,
                    f.cause,
                    catcher.next,
                )
            }
            Err(g) => failed(g),
        }
    }

    // ===== JSONPath =====

    async fn jsonpath(&mut self) -> Result<Result<Done, Failed>, TestStateError> {
        let st = &self.r.state;
        let input_path = io_sel(&st.common.input_path, "InputPath")?;
        let output_path = io_sel(&st.common.output_path, "OutputPath")?;
        let assign = st
            .common
            .assign
            .as_ref()
            .map(|a| compile_tpl(a, "Assign"))
            .transpose()?;
        let input = self.req.input.clone();
        Ok(match &st.kind {
            StateKind::Pass(p) => {
                let parameters = p
                    .parameters
                    .as_ref()
                    .map(|v| compile_tpl(v, "Parameters"))
                    .transpose()?;
                let rp = result_sel(&p.result_path, "ResultPath")?;
                let result = p.result.clone();
                (|| {
                    let value = match result {
                        Some(r) => {
                            self.insp.result = Some(r.clone());
                            r
                        }
                        None => {
                            let eff = self.select(&input_path, input.clone())?;
                            self.insp.after_input_path = Some(eff.clone());
                            let v = match &parameters {
                                Some(t) => self.template(t, &eff)?,
                                None => eff,
                            };
                            self.insp.after_parameters = Some(v.clone());
                            v
                        }
                    };
                    self.insp.after_result_selector = Some(value.clone());
                    self.assign(assign.as_ref(), &value)?;
                    let placed = self.place(&rp, input.clone(), value)?;
                    self.insp.after_result_path = Some(placed.clone());
                    let output = self.select(&output_path, placed)?;
                    Ok(Done {
                        output,
                        next: self.next(),
                    })
                })()
            }
            StateKind::Choice(c) => {
                let choices = Choices::compile(&c.choices)
                    .map_err(|m| TestStateError::new("definition", "/Choices", m))?;
                (|| {
                    let eff = self.select(&input_path, input.clone())?;
                    self.insp.after_input_path = Some(eff.clone());
                    let chosen = {
                        let env = Env::new(&eff, &self.ctx, &self.vars);
                        choices.evaluate(&env)?
                    };
                    let next = match chosen {
                        Some(i) => {
                            self.assign(choices.assign(i), &eff)?;
                            c.choices.get(i).and_then(|r| r.next.clone())
                        }
                        None => c.default.clone(),
                    };
                    let Some(next) = next else {
                        return Err(workflow_asl::choice::no_choice_matched().into());
                    };
                    self.assign(assign.as_ref(), &eff)?;
                    let output = self.select(&output_path, eff)?;
                    Ok(Done {
                        output,
                        next: Some(next),
                    })
                })()
            }
            StateKind::Succeed | StateKind::Wait(_) => (|| {
                let eff = self.select(&input_path, input.clone())?;
                self.insp.after_input_path = Some(eff.clone());
                if let StateKind::Wait(w) = &st.kind {
                    self.check_wait(w, &eff)?;
                }
                self.assign(assign.as_ref(), &eff)?;
                let output = self.select(&output_path, eff)?;
                Ok(Done {
                    output,
                    next: self.next(),
                })
            })(),
            StateKind::Fail(f) => {
                let read = |lit: &Option<String>,
                            path: &Option<String>,
                            field: &str|
                 -> Result<Option<Template>, TestStateError> {
                    match (lit, path) {
                        (_, Some(p)) => Ok(Some(compile_tpl(&json!({"v.$": p}), field)?)),
                        (Some(s), None) => Ok(Some(compile_tpl(&json!({ "v": s }), field)?)),
                        (None, None) => Ok(None),
                    }
                };
                let error = read(&f.error, &f.error_path, "ErrorPath")?;
                let cause = read(&f.cause, &f.cause_path, "CausePath")?;
                (|| {
                    let eff = self.select(&input_path, input.clone())?;
                    self.insp.after_input_path = Some(eff.clone());
                    let mut text = |t: &Option<Template>| -> Result<Option<String>, Failed> {
                        let Some(t) = t else { return Ok(None) };
                        let v = self.template(t, &input)?;
                        Ok(Some(match v.get("v") {
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => java_json(other),
                            None => String::new(),
                        }))
                    };
                    let error = text(&error)?;
                    let cause = text(&cause)?;
                    Err(Failed { error, cause })
                })()
            }
            StateKind::Task(t) => {
                let parameters = t
                    .result
                    .parameters
                    .as_ref()
                    .map(|v| compile_tpl(v, "Parameters"))
                    .transpose()?;
                let selector = t
                    .result
                    .result_selector
                    .as_ref()
                    .map(|v| compile_tpl(v, "ResultSelector"))
                    .transpose()?;
                let rp = result_sel(&t.result.result_path, "ResultPath")?;
                let eff = (|| {
                    let eff = self.select(&input_path, input.clone())?;
                    self.insp.after_input_path = Some(eff.clone());
                    let v = match &parameters {
                        Some(t) => self.template(t, &eff)?,
                        None => eff,
                    };
                    self.insp.after_parameters = Some(v.clone());
                    Ok(v)
                })();
                match eff {
                    Err(f) => Err(f),
                    Ok(eff) => match self.work(eff).await {
                        Err(f) => Err(f),
                        Ok(result) => {
                            self.insp.result = Some(result.clone());
                            self.shape(
                                result,
                                selector.as_ref(),
                                assign.as_ref(),
                                &rp,
                                &output_path,
                            )
                        }
                    },
                }
            }
            StateKind::Parallel(p) => {
                let parameters = p
                    .result
                    .parameters
                    .as_ref()
                    .map(|v| compile_tpl(v, "Parameters"))
                    .transpose()?;
                let selector = p
                    .result
                    .result_selector
                    .as_ref()
                    .map(|v| compile_tpl(v, "ResultSelector"))
                    .transpose()?;
                let rp = result_sel(&p.result.result_path, "ResultPath")?;
                let mocked = self.req.mock.is_some();
                let eff = (|| {
                    let eff = self.select(&input_path, input.clone())?;
                    let v = match &parameters {
                        Some(t) => self.template(t, &eff)?,
                        None => eff.clone(),
                    };
                    if !mocked {
                        // (AWS shows neither for a mocked Parallel, as recorded.)
                        self.insp.after_input_path = Some(eff);
                        self.insp.after_parameters = Some(v.clone());
                    }
                    Ok(v)
                })();
                match eff {
                    Err(f) => Err(f),
                    Ok(eff) => match self.work(eff).await {
                        Err(f) => Err(f),
                        Ok(result) => match check_branches(&result, p.branches.len(), mocked) {
                            Err(f) => Err(f),
                            Ok(()) => {
                                if !mocked {
                                    self.insp.result = Some(result.clone());
                                }
                                self.shape(
                                    result,
                                    selector.as_ref(),
                                    assign.as_ref(),
                                    &rp,
                                    &output_path,
                                )
                            }
                        },
                    },
                }
            }
            StateKind::Map(m) => {
                let selector = m
                    .result
                    .result_selector
                    .as_ref()
                    .map(|v| compile_tpl(v, "ResultSelector"))
                    .transpose()?;
                // `Parameters` is the older name of `ItemSelector`.
                let item_selector = m
                    .item_selector
                    .as_ref()
                    .or(m.result.parameters.as_ref())
                    .map(|v| compile_tpl(v, "ItemSelector"))
                    .transpose()?;
                let items_path = m
                    .items_path
                    .as_deref()
                    .map(|p| compile_path(p, "ItemsPath"))
                    .transpose()?;
                let rp = result_sel(&m.result.result_path, "ResultPath")?;
                let mocked = self.req.mock.is_some();
                let has_reader = m.item_reader.is_some();
                let prepared = (|| {
                    let eff = self.select(&input_path, input.clone())?;
                    self.insp.after_input_path = Some(eff.clone());
                    if has_reader {
                        return Ok(eff);
                    }
                    let items = match &items_path {
                        None => eff.clone(),
                        Some(p) => {
                            let env = Env::new(&eff, &self.ctx, &self.vars);
                            match p.evaluate(&env) {
                                Ok(s) => s.into_value(),
                                Err(_) => return Err(Failed::runtime(not_array_cause(p.as_str()))),
                            }
                        }
                    };
                    let Value::Array(items) = items else {
                        let shown = items_path.as_ref().map_or("$", |p| p.as_str());
                        return Err(Failed::runtime(not_array_cause(shown)));
                    };
                    self.insp.after_items_path = Some(Value::Array(items.clone()));
                    self.insp.max_concurrency =
                        self.number(&m.max_concurrency, &m.max_concurrency_path, &eff)?;
                    self.insp.tolerated_failure_count = self.number(
                        &m.tolerated_failure_count,
                        &m.tolerated_failure_count_path,
                        &eff,
                    )?;
                    self.insp.tolerated_failure_percentage = self
                        .value_of(
                            &m.tolerated_failure_percentage,
                            &m.tolerated_failure_percentage_path,
                            &eff,
                        )?
                        .and_then(|v| v.as_f64());
                    let selected = match &item_selector {
                        None => items,
                        Some(tpl) => {
                            let mut out = Vec::with_capacity(items.len());
                            for (i, item) in items.into_iter().enumerate() {
                                let mut ctx = self.ctx.clone();
                                if let Value::Object(o) = &mut ctx {
                                    o.insert(
                                        "Map".into(),
                                        json!({"Item": {"Index": i, "Value": item}}),
                                    );
                                }
                                let env = Env::new(&eff, &ctx, &self.vars);
                                out.push(tpl.evaluate(&env, &mut self.rng)?);
                            }
                            self.insp.after_item_selector = Some(Value::Array(out.clone()));
                            out
                        }
                    };
                    Ok(Value::Array(selected))
                })();
                match prepared {
                    Err(f) => Err(f),
                    Ok(items) => match self.work(items).await {
                        Err(f) => Err(f),
                        Ok(result) => {
                            if !mocked {
                                self.insp.result = Some(result.clone());
                            }
                            self.shape(
                                result,
                                selector.as_ref(),
                                assign.as_ref(),
                                &rp,
                                &output_path,
                            )
                        }
                    },
                }
            }
        })
    }

    /// A number field given literally or through a `…Path` (for the inspection data).
    fn number(
        &self,
        lit: &Option<Value>,
        path: &Option<String>,
        on: &Value,
    ) -> Result<Option<i64>, Failed> {
        Ok(self.value_of(lit, path, on)?.and_then(|v| v.as_i64()))
    }

    /// A field given literally or through a `…Path`.
    fn value_of(
        &self,
        lit: &Option<Value>,
        path: &Option<String>,
        on: &Value,
    ) -> Result<Option<Value>, Failed> {
        if let Some(p) = path {
            let p = Path::parse(p).map_err(|e| Failed::runtime(e.to_string()))?;
            let env = Env::new(on, &self.ctx, &self.vars);
            let v = p
                .evaluate(&env)
                .map_err(|m| Failed::runtime(m.invalid_path_cause(&p)))?
                .into_value();
            return Ok(Some(v));
        }
        Ok(lit.clone())
    }

    /// Checks the fields of a Wait state that read the input (no time passes in a test).
    fn check_wait(&self, w: &workflow_asl::model::Wait, on: &Value) -> Result<(), Failed> {
        for (path, field) in [
            (&w.seconds_path, "SecondsPath"),
            (&w.timestamp_path, "TimestampPath"),
        ] {
            if let Some(p) = path {
                let p = Path::parse(p).map_err(|e| Failed::runtime(e.to_string()))?;
                let env = Env::new(on, &self.ctx, &self.vars);
                if p.evaluate(&env).is_err() {
                    return Err(Failed::runtime(format!(
                        "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                        p.as_str(),
                        java_json(on)
                    )));
                }
            }
        }
        Ok(())
    }

    /// ResultSelector → Assign → ResultPath → OutputPath on a result.
    fn shape(
        &mut self,
        result: Value,
        selector: Option<&Template>,
        assign: Option<&Template>,
        rp: &ResultSel,
        output_path: &IoSel,
    ) -> Result<Done, Failed> {
        let selected = match selector {
            Some(t) => self.template(t, &result)?,
            None => result,
        };
        self.insp.after_result_selector = Some(selected.clone());
        self.assign(assign, &selected)?;
        let placed = self.place(rp, self.req.input.clone(), selected)?;
        self.insp.after_result_path = Some(placed.clone());
        let output = self.select(output_path, placed)?;
        Ok(Done {
            output,
            next: self.next(),
        })
    }

    // ===== JSONata =====

    async fn jsonata(&mut self) -> Result<Result<Done, Failed>, TestStateError> {
        let j = self.j.take().unwrap_or_default();
        let input = self.req.input.clone();
        let out = match &self.r.state.kind {
            StateKind::Pass(_) | StateKind::Succeed | StateKind::Wait(_) => self
                .j_output(j.output.as_ref(), j.assign.as_ref(), None, None, input)
                .map(|output| Done {
                    output,
                    next: self.next(),
                }),
            StateKind::Choice(c) => (|| {
                for (i, rule) in j.rules.iter().enumerate() {
                    // Field names and wording as the executor's (engine/jsonata.rs).
                    let field = format!("Choices[{i}]/Condition");
                    let holds = self.j_eval(&rule.condition, &field)?;
                    match holds {
                        Value::Bool(true) => {
                            // A rule without `Output` uses the state's.
                            let output = rule.output.as_ref().or(j.output.as_ref());
                            let output = self.j_output(
                                output,
                                rule.assign.as_ref(),
                                None,
                                None,
                                input.clone(),
                            )?;
                            return Ok(Done {
                                output,
                                next: c.choices.get(i).and_then(|r| r.next.clone()),
                            });
                        }
                        Value::Bool(false) => {}
                        other => {
                            return Err(Failed::new(
                                crate::jtemplate::QUERY_EVALUATION_ERROR,
                                format!(
                                    "The JSONata expression specified for the field '{field}' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                                    crate::jtemplate::type_name(&other),
                                    java_json(&other)
                                ),
                            ))
                        }
                    }
                }
                let Some(default) = c.default.clone() else {
                    return Err(workflow_asl::choice::no_choice_matched().into());
                };
                let output = self.j_output(
                    j.output.as_ref(),
                    j.assign.as_ref(),
                    None,
                    None,
                    input.clone(),
                )?;
                Ok(Done {
                    output,
                    next: Some(default),
                })
            })(),
            StateKind::Fail(_) => (|| {
                let text = |v: Value| match v {
                    Value::String(s) => s,
                    other => java_json(&other),
                };
                let error = j
                    .error
                    .as_ref()
                    .map(|t| self.j_eval(t, "Error"))
                    .transpose()?
                    .map(text);
                let cause = j
                    .cause
                    .as_ref()
                    .map(|t| self.j_eval(t, "Cause"))
                    .transpose()?
                    .map(text);
                Err(Failed { error, cause })
            })(),
            StateKind::Task(_) | StateKind::Parallel(_) => {
                let is_task = matches!(self.r.state.kind, StateKind::Task(_));
                let mocked = self.req.mock.is_some();
                let args = match &j.arguments {
                    Some(t) => self.j_eval(t, "Arguments"),
                    None => Ok(input.clone()),
                };
                match args {
                    Err(f) => Err(f),
                    Ok(args) => {
                        if is_task {
                            self.insp.after_arguments = Some(args.clone());
                        }
                        match self.work(args).await {
                            Err(f) => Err(f),
                            Ok(result) => {
                                if is_task || !mocked {
                                    self.insp.result = Some(result.clone());
                                }
                                self.j_output(
                                    j.output.as_ref(),
                                    j.assign.as_ref(),
                                    Some(&result),
                                    None,
                                    result.clone(),
                                )
                                .map(|output| Done {
                                    output,
                                    next: self.next(),
                                })
                            }
                        }
                    }
                }
            }
            StateKind::Map(m) => {
                let mocked = self.req.mock.is_some();
                let prepared = (|| {
                    if m.item_reader.is_some() {
                        return Ok(input.clone());
                    }
                    let items = match &j.items {
                        Some(t) => self.j_eval(t, "Items")?,
                        None => input.clone(),
                    };
                    let Value::Array(items) = items else {
                        // Wording as the executor's (engine/jsonata.rs `items_error`).
                        let cause = match j.items.as_ref().and_then(JTemplate::as_expr) {
                            Some(e) => format!(
                                "The JSONata expression '{}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                                e.source(),
                                crate::jtemplate::type_name(&items),
                                java_json(&items)
                            ),
                            None => format!(
                                "Map state input must be an array but was: {}",
                                java_json(&items)
                            ),
                        };
                        return Err(Failed::new(crate::jtemplate::QUERY_EVALUATION_ERROR, cause));
                    };
                    if let Some(t) = &j.max_concurrency {
                        self.insp.max_concurrency = self.j_eval(t, "MaxConcurrency")?.as_i64();
                    }
                    if let Some(t) = &j.tolerated_count {
                        self.insp.tolerated_failure_count =
                            self.j_eval(t, "ToleratedFailureCount")?.as_i64();
                    }
                    if let Some(t) = &j.tolerated_percentage {
                        self.insp.tolerated_failure_percentage =
                            self.j_eval(t, "ToleratedFailurePercentage")?.as_f64();
                    }
                    let Some(sel) = &j.item_selector else {
                        return Ok(Value::Array(items));
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.into_iter().enumerate() {
                        let mut ctx = self.ctx.clone();
                        if let Value::Object(o) = &mut ctx {
                            o.insert("Map".into(), json!({"Item": {"Index": i, "Value": item}}));
                        }
                        let sc = scope(&self.vars, &input, &ctx, None, None);
                        out.push(sel.evaluate(&sc, "ItemSelector")?);
                    }
                    self.insp.after_item_selector = Some(Value::Array(out.clone()));
                    Ok(Value::Array(out))
                })();
                match prepared {
                    Err(f) => Err(f),
                    Ok(items) => match self.work(items).await {
                        Err(f) => Err(f),
                        Ok(result) => {
                            if !mocked {
                                self.insp.result = Some(result.clone());
                            }
                            self.j_output(
                                j.output.as_ref(),
                                j.assign.as_ref(),
                                Some(&result),
                                None,
                                result.clone(),
                            )
                            .map(|output| Done {
                                output,
                                next: self.next(),
                            })
                        }
                    },
                }
            }
        };
        self.j = Some(j);
        Ok(out)
    }
}

/// The output over the payload limit, or nested deeper than the engine records, fails the state.
fn check_output(done: Done, limit: usize) -> Result<Done, Failed> {
    if json_size(&done.output, limit) > limit {
        return Err(Failed::new(
            names::DATA_LIMIT_EXCEEDED,
            "The state/task returned a result with a size exceeding the maximum number of bytes service limit.",
        ));
    }
    if workflow_asl::limits::nesting_depth(&done.output, workflow_asl::limits::MAX_NESTING_DEPTH)
        > workflow_asl::limits::MAX_NESTING_DEPTH
    {
        return Err(Failed::runtime(workflow_asl::limits::nesting_cause(
            "output of the state",
        )));
    }
    Ok(done)
}

/// A Parallel's mocked result must be an array with one value per branch.
fn check_branches(result: &Value, branches: usize, mocked: bool) -> Result<(), Failed> {
    if !mocked {
        return Ok(());
    }
    match result {
        Value::Array(a) if a.len() == branches => Ok(()),
        other => Err(Failed::runtime(format!(
            "The mocked result of a Parallel state must be a JSON array with one element per branch ({branches}), but it is {}.",
            java_json(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> Runtime {
        Runtime::builder().build()
    }

    async fn test(req: TestStateRequest) -> TestStateOutput {
        rt().test_state(&req).await.expect("a runnable request")
    }

    #[tokio::test]
    async fn pass_shows_each_step_at_debug() {
        let out = test(
            TestStateRequest::new(
                json!({"Type": "Pass", "InputPath": "$.a", "Parameters": {"x.$": "$.b"},
                       "ResultPath": "$.r", "Next": "After"}),
                json!({"a": {"b": 1}}),
            )
            .inspection_level(InspectionLevel::Debug),
        )
        .await;
        assert_eq!(out.status, TestStatus::Succeeded);
        assert_eq!(out.output, Some(json!({"a": {"b": 1}, "r": {"x": 1}})));
        assert_eq!(out.next_state.as_deref(), Some("After"));
        let d = out.inspection_data.expect("inspection data at DEBUG");
        assert_eq!(d.after_input_path, Some(json!({"b": 1})));
        assert_eq!(d.after_parameters, Some(json!({"x": 1})));
        assert_eq!(
            d.after_result_path,
            Some(json!({"a": {"b": 1}, "r": {"x": 1}}))
        );
    }

    #[tokio::test]
    async fn info_has_no_inspection_data() {
        let out = test(TestStateRequest::new(json!({"Type": "Succeed"}), json!(1))).await;
        assert_eq!(out.status, TestStatus::Succeeded);
        assert!(out.inspection_data.is_none());
        assert_eq!(
            out.to_aws_json(),
            json!({"status": "SUCCEEDED", "output": "1"})
        );
    }

    #[tokio::test]
    async fn mocked_error_is_retriable_then_caught() {
        let def = json!({
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}]
        });
        let out = test(
            TestStateRequest::new(def.clone(), json!({"k": 1}))
                .mock(Mock::error("Boom", "bad"))
                .inspection_level(InspectionLevel::Debug),
        )
        .await;
        assert_eq!(out.status, TestStatus::Retriable);
        assert_eq!(out.error.as_deref(), Some("Boom"));
        let details = out.inspection_data.and_then(|d| d.error_details);
        assert_eq!(
            details,
            Some(ErrorDetails {
                retry_index: Some(0),
                retry_backoff_interval_seconds: Some(3),
                catch_index: None
            })
        );
        let out =
            test(TestStateRequest::new(def, json!({"k": 1})).mock(Mock::error("Other", "c"))).await;
        assert_eq!(out.status, TestStatus::CaughtError);
        assert_eq!(out.next_state.as_deref(), Some("Handle"));
        assert_eq!(
            out.output,
            Some(json!({"k": 1, "err": {"Error": "Other", "Cause": "c"}}))
        );
    }

    #[tokio::test]
    async fn task_without_mock_calls_the_handler() {
        let runtime = Runtime::builder()
            .raw_handler("arn:aws:states:::lambda:invoke", |v: Value, _| async move {
                Ok(json!({"Payload": v["Payload"].clone()}))
            })
            .build();
        let req = TestStateRequest::new(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                   "ResultSelector": {"p.$": "$.Payload"}, "End": true}),
            json!({"n": 2}),
        );
        let out = runtime.test_state(&req).await.expect("runs");
        assert_eq!(out.status, TestStatus::Succeeded, "{out:?}");
        assert_eq!(out.output, Some(json!({"p": {"n": 2}})));
    }

    #[tokio::test]
    async fn choice_in_a_machine_picks_the_next_state() {
        let def = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
            "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}});
        let out = test(TestStateRequest::new(def, json!({"n": 5})).state("C")).await;
        assert_eq!(out.next_state.as_deref(), Some("Big"));
    }

    #[tokio::test]
    async fn parallel_without_mock_runs_its_branches() {
        let def = json!({"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]});
        let out = test(TestStateRequest::new(def, json!("x"))).await;
        assert_eq!(out.output, Some(json!([1, "x"])));
    }

    #[tokio::test]
    async fn map_items_and_selector() {
        let def = json!({"Type": "Map", "End": true, "ItemsPath": "$.xs",
            "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        let out = test(
            TestStateRequest::new(def, json!({"xs": ["a", "b"]}))
                .inspection_level(InspectionLevel::Debug),
        )
        .await;
        assert_eq!(
            out.output,
            Some(json!([{"v": "a", "i": 0}, {"v": "b", "i": 1}]))
        );
        assert_eq!(
            out.inspection_data.and_then(|d| d.after_items_path),
            Some(json!(["a", "b"]))
        );
    }

    #[tokio::test]
    async fn bad_requests_name_what_is_wrong() {
        let machine = json!({"StartAt": "Go", "States": {"Go": {"Type": "Succeed"}}});
        let e = rt()
            .test_state(&TestStateRequest::new(machine.clone(), json!({})).state("Og"))
            .await
            .expect_err("unknown state");
        assert!(
            e.message.contains("\"Og\"") && e.message.contains("did you mean \"Go\""),
            "{e}"
        );
        let e = rt()
            .test_state(&TestStateRequest::new(machine, json!({})))
            .await
            .expect_err("no state name");
        assert_eq!(e.part, "state");
        let e = rt()
            .test_state(&TestStateRequest::new(
                json!({"Type": "Pass", "InputPath": "$$$", "End": true}),
                json!({}),
            ))
            .await
            .expect_err("invalid state");
        assert!(e.message.contains("/InputPath"), "{e}");
        let e = Mock::from_json(&json!({"result": "{nope"})).expect_err("bad JSON");
        assert_eq!(e.pointer, "/result");
    }

    #[tokio::test]
    async fn branches_read_the_variables() {
        let branch = |ql: &str, out: Value| {
            json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "QueryLanguage": ql,
                "Output": out, "End": true}}})
        };
        let mut vars = Map::new();
        vars.insert("who".into(), json!("Ada"));
        let def = json!({"StartAt": "P", "QueryLanguage": "JSONata", "States": {"P": {
            "Type": "Parallel", "End": true,
            "Branches": [branch("JSONata", json!("{% $who %}"))]}}});
        let out = test(
            TestStateRequest::new(def, json!({}))
                .state("P")
                .variables(vars.clone()),
        )
        .await;
        assert_eq!(out.status, TestStatus::Succeeded, "{out:?}");
        assert_eq!(out.output, Some(json!(["Ada"])));
        let def = json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I",
            "States": {"I": {"Type": "Pass", "Parameters": {"v.$": "$", "w.$": "$who"}, "End": true}}}});
        let out = test(TestStateRequest::new(def, json!([1])).variables(vars)).await;
        assert_eq!(out.output, Some(json!([{"v": 1, "w": "Ada"}])), "{out:?}");
    }

    #[tokio::test]
    async fn jsonata_choice_rules() {
        let def = json!({"Type": "Choice", "QueryLanguage": "JSONata",
            "Output": {"from": "state"},
            "Choices": [
                {"Condition": "{% $states.input.n = 1 %}", "Next": "One"},
                {"Condition": "{% $states.input.n = 2 %}", "Output": {"from": "rule"}, "Next": "Two"},
                {"Condition": "{% $states.input.n %}", "Next": "Three"}],
            "Default": "Other"});
        let run = |n: Value| test(TestStateRequest::new(def.clone(), json!({ "n": n })));
        let one = run(json!(1)).await;
        assert_eq!(one.output, Some(json!({"from": "state"})));
        assert_eq!(one.next_state.as_deref(), Some("One"));
        let two = run(json!(2)).await;
        assert_eq!(two.output, Some(json!({"from": "rule"})));
        let bad = run(json!(3)).await;
        assert_eq!(bad.status, TestStatus::Failed);
        assert_eq!(bad.error.as_deref(), Some("States.QueryEvaluationError"));
        assert!(
            bad.cause
                .as_deref()
                .is_some_and(|c| c.contains("'Choices[2]/Condition'")),
            "{bad:?}"
        );
    }

    #[tokio::test]
    async fn limits() {
        let big = json!("x".repeat(300 * 1024));
        let e = rt()
            .test_state(&TestStateRequest::new(
                json!({"Type": "Succeed"}),
                big.clone(),
            ))
            .await
            .expect_err("input over the limit");
        assert_eq!(e.part, "input");
        let e = rt()
            .test_state(
                &TestStateRequest::new(json!({"Type": "Pass", "End": true}), json!({}))
                    .mock(Mock::Returns(json!(1))),
            )
            .await
            .expect_err("a Pass state has nothing to mock");
        assert!(e.message.contains("is a Pass state"), "{e}");
        let out = test(
            TestStateRequest::new(
                json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
                json!({}),
            )
            .mock(Mock::Returns(big)),
        )
        .await;
        assert_eq!(out.status, TestStatus::Failed);
        assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    }

    #[tokio::test(start_paused = true)]
    async fn work_is_cut_off_after_five_minutes() {
        let runtime = Runtime::builder()
            .raw_handler("arn:aws:states:::lambda:invoke", |v: Value, _| async move {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                Ok(v)
            })
            .build();
        let req = TestStateRequest::new(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
            json!({}),
        );
        let out = runtime.test_state(&req).await.expect("runs");
        assert_eq!(out.status, TestStatus::Failed);
        assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    }

    #[test]
    fn prefixes_and_causes() {
        assert_eq!(
            strip_prefix("An error occurred while executing the state 'S' (entered at the event id #2). Boom"),
            "Boom"
        );
        assert_eq!(strip_prefix("plain"), "plain");
        assert_eq!(
            not_array_cause("$$.Execution.Input"),
            "Reference path \"$.Execution.Input\" must point to array."
        );
        assert_eq!(
            not_array_cause("$.a"),
            "Reference path \"$.a\" must point to array."
        );
        assert_eq!(
            InspectionLevel::parse("TRACE"),
            Some(InspectionLevel::Trace)
        );
        assert_eq!(InspectionLevel::parse("trace"), None);
    }
}
