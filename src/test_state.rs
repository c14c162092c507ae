//! TestState on a declared workflow: `Route::test_state("Kind", input).await` runs ONE state of
//! the workflow's ASL as AWS's `TestState` API does (see [`workflow_runtime::test_state`]), with
//! the workflow's typed handlers for a Task that is not mocked, and answers with the same fields
//! as AWS's response, the next state typed as the workflow's state enum.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use workflow_runtime::test_state::{
    InspectionData, InspectionLevel, Mock, TestStateError, TestStateOutput, TestStateRequest,
    TestStatus,
};

use crate::{Runtime, Workflow, WorkflowState};

/// One state test of workflow `W`, built by [`Workflow::test_state`]; `.await` it.
///
/// Defaults: the inspection level is `DEBUG` (a test usually wants the data after each step;
/// AWS's own default is `INFO`), no mock, no variables, a made-up context object, and a runtime
/// holding `W`'s handlers ([`Workflow::runtime`]).
#[must_use = "a state test does nothing until it is awaited"]
pub struct StateTest<W: Workflow> {
    state: String,
    input: Result<Value, String>,
    mock: Option<Mock>,
    variables: Map<String, Value>,
    context: Option<Value>,
    level: InspectionLevel,
    retries: u32,
    runtime: Option<Runtime>,
    workflow: PhantomData<fn() -> W>,
}

impl<W: Workflow> StateTest<W> {
    pub(crate) fn new(state: &str, input: Result<Value, serde_json::Error>) -> StateTest<W> {
        StateTest {
            state: state.to_string(),
            input: input.map_err(|e| e.to_string()),
            mock: None,
            variables: Map::new(),
            context: None,
            level: InspectionLevel::Debug,
            retries: 0,
            runtime: None,
            workflow: PhantomData,
        }
    }

    /// The state's result instead of its work (the task call, or the branches or iterations as
    /// an array).
    pub fn mock_result(mut self, result: impl serde::Serialize) -> Self {
        match serde_json::to_value(result) {
            Ok(v) => self.mock = Some(Mock::Returns(v)),
            Err(e) => self.input = Err(format!("the mocked result is not JSON: {e}")),
        }
        self
    }

    /// The error the state raises instead of doing its work.
    pub fn mock_error(mut self, error: impl Into<String>, cause: impl Into<String>) -> Self {
        self.mock = Some(Mock::error(error, cause));
        self
    }

    /// The workflow variables the state sees.
    pub fn variables(mut self, variables: Map<String, Value>) -> Self {
        self.variables = variables;
        self
    }

    /// The context object (`$$`, `$states.context`).
    pub fn context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    /// How much to report (`INFO` leaves out the inspection data).
    pub fn inspection_level(mut self, level: InspectionLevel) -> Self {
        self.level = level;
        self
    }

    /// The retries already made by the retrier that matches the error (TestState's
    /// `stateConfiguration.retrierRetryCount`): once its `MaxAttempts` are used up, the error
    /// goes on to the catchers.
    pub fn retrier_retry_count(mut self, count: u32) -> Self {
        self.retries = count;
        self
    }

    /// The runtime whose handlers an unmocked Task calls (default: `W::runtime().build()`).
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.runtime = Some(runtime.clone());
        self
    }
}

impl<W: Workflow> IntoFuture for StateTest<W> {
    type Output = Result<StateTestResult<W>, TestStateError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let input = self.input.map_err(|message| TestStateError {
                part: "input".into(),
                pointer: String::new(),
                message,
            })?;
            let definition = serde_json::from_str::<Value>(W::ASL).map_err(|e| TestStateError {
                part: "definition".into(),
                pointer: String::new(),
                message: format!("the ASL of `{}` is not JSON: {e}", W::NAME),
            })?;
            let mut req = TestStateRequest::new(definition, input)
                .state(self.state)
                .variables(self.variables)
                .inspection_level(self.level)
                .retrier_retry_count(self.retries);
            if let Some(m) = self.mock {
                req = req.mock(m);
            }
            if let Some(c) = self.context {
                req = req.context(c);
            }
            let runtime = self.runtime.unwrap_or_else(|| W::runtime().build());
            let out = runtime.test_state(&req).await?;
            Ok(StateTestResult::from_output(out))
        })
    }
}

/// The response of a state test: AWS's TestState fields, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTestResult<W: Workflow> {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub status: TestStatus,
    /// The state's output (a catcher's, for `CAUGHT_ERROR`).
    pub output: Option<Value>,
    /// The error, when the state failed.
    pub error: Option<String>,
    /// The cause, when the state failed with one.
    pub cause: Option<String>,
    /// The state that would run next.
    pub next_state: Option<W::State>,
    /// The data after each step of the state's data path (at `DEBUG` and `TRACE`).
    pub inspection_data: Option<InspectionData>,
}

impl<W: Workflow> StateTestResult<W> {
    fn from_output(out: TestStateOutput) -> StateTestResult<W> {
        StateTestResult {
            status: out.status,
            output: out.output,
            error: out.error,
            cause: out.cause,
            next_state: out
                .next_state
                .as_deref()
                .and_then(<W::State as WorkflowState>::from_name),
            inspection_data: out.inspection_data,
        }
    }

    /// The output read as `T`.
    pub fn output_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.output.clone().unwrap_or(Value::Null))
    }
}
