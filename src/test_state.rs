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
///
/// ```
/// use serde_json::{json, Value};
/// use workflow::runtime::test_state::TestStatus;
/// use workflow::{workflow, TaskError, Workflow};
///
/// async fn charge(order: Value) -> Result<Value, TaskError> {
///     Ok(json!({"charged": order["total"]}))
/// }
///
/// workflow! {
///     pub Checkout {
///         start Charge;
///         Charge = task(charge, result_path = $.receipt)
///             .catch([States.ALL] => Declined, result_path = $.error)
///             -> Done;
///         Done = succeed;
///         Declined = fail(error = "Declined");
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The real handler, and the data after each step of the state's data path.
/// let ran = Checkout::test_state("Charge", json!({"total": 5})).await?;
/// assert_eq!(ran.status, TestStatus::Succeeded);
/// assert_eq!(ran.next_state, Some(CheckoutState::Done));
/// assert_eq!(ran.output, Some(json!({"total": 5, "receipt": {"charged": 5}})));
/// let steps = ran.inspection_data.expect("DEBUG by default");
/// assert_eq!(steps.result, Some(json!({"charged": 5})));
///
/// // A mocked error goes to the catcher.
/// let caught = Checkout::test_state("Charge", json!({"total": 5}))
///     .mock_error("CardDeclined", "over the limit")
///     .await?;
/// assert_eq!(caught.status, TestStatus::CaughtError);
/// assert_eq!(caught.next_state, Some(CheckoutState::Declined));
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let r = Checkout::test_state("Charge", json!({"total": 5}))
    ///     .mock_result(json!({"charged": 0}))
    ///     .await?;
    /// assert_eq!(r.output, Some(json!({"total": 5, "receipt": {"charged": 0}})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mock_result(mut self, result: impl serde::Serialize) -> Self {
        match serde_json::to_value(result) {
            Ok(v) => self.mock = Some(Mock::Returns(v)),
            Err(e) => self.input = Err(format!("the mocked result is not JSON: {e}")),
        }
        self
    }

    /// The error the state raises instead of doing its work.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::runtime::test_state::TestStatus;
    ///
    /// // `Throttled` matches the retrier: the state would be retried.
    /// let r = Checkout::test_state("Charge", json!({"total": 5}))
    ///     .mock_error("Throttled", "slow down")
    ///     .await?;
    /// assert_eq!(r.status, TestStatus::Retriable);
    /// assert_eq!(r.error.as_deref(), Some("Throttled"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mock_error(mut self, error: impl Into<String>, cause: impl Into<String>) -> Self {
        self.mock = Some(Mock::error(error, cause));
        self
    }

    /// The workflow variables the state sees.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow::{workflow, Workflow};
    ///
    /// workflow! {
    ///     pub Greet {
    ///         start Hello;
    ///         Hello = pass(parameters = { "who.$": "$who" }) -> end;
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut variables = serde_json::Map::new();
    /// variables.insert("who".into(), json!("Ada"));
    /// let r = Greet::test_state("Hello", json!({})).variables(variables).await?;
    /// assert_eq!(r.output, Some(json!({"who": "Ada"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn variables(mut self, variables: Map<String, Value>) -> Self {
        self.variables = variables;
        self
    }

    /// The context object (`$$`, `$states.context`).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow::{workflow, Workflow};
    ///
    /// workflow! {
    ///     pub Who {
    ///         start Name;
    ///         Name = pass(parameters = { "execution": $$.Execution.Name }) -> end;
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let r = Who::test_state("Name", json!({}))
    ///     .context(json!({"Execution": {"Name": "run-1"}}))
    ///     .await?;
    /// assert_eq!(r.output, Some(json!({"execution": "run-1"})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    /// How much to report (`INFO` leaves out the inspection data).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::runtime::test_state::InspectionLevel;
    ///
    /// let r = Checkout::test_state("Charge", json!({"total": 5}))
    ///     .inspection_level(InspectionLevel::Info)
    ///     .await?;
    /// assert!(r.inspection_data.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn inspection_level(mut self, level: InspectionLevel) -> Self {
        self.level = level;
        self
    }

    /// The retries already made by the retrier that matches the error (TestState's
    /// `stateConfiguration.retrierRetryCount`): once its `MaxAttempts` are used up, the error
    /// goes on to the catchers.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::runtime::test_state::TestStatus;
    ///
    /// // The retrier's three attempts are used up: the catcher takes the error.
    /// let r = Checkout::test_state("Charge", json!({"total": 5}))
    ///     .mock_error("Throttled", "slow down")
    ///     .retrier_retry_count(3)
    ///     .await?;
    /// assert_eq!(r.status, TestStatus::CaughtError);
    /// assert_eq!(r.next_state, Some(CheckoutState::Declined));
    /// # Ok(())
    /// # }
    /// ```
    pub fn retrier_retry_count(mut self, count: u32) -> Self {
        self.retries = count;
        self
    }

    /// The runtime whose handlers an unmocked Task calls (default: `W::runtime().build()`).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::Runtime;
    ///
    /// // A runtime whose handler for the Resource differs from the workflow's own.
    /// let runtime = Runtime::builder()
    ///     .handler("${charge}", |_: Value| async { Ok::<_, TaskError>(json!("free")) })
    ///     .build();
    /// let r = Checkout::test_state("Charge", json!({})).runtime(&runtime).await?;
    /// assert_eq!(r.output, Some(json!({"receipt": "free"})));
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow::{workflow, TaskError, Workflow};
/// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
/// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow::runtime::test_state::TestStatus;
///
/// let r = Checkout::test_state("Charge", json!({"total": 5})).await?;
/// assert_eq!(r.status, TestStatus::Succeeded);
/// assert_eq!(r.error, None);
/// // The next state is typed as the workflow's state enum.
/// assert_eq!(r.next_state, Some(CheckoutState::Done));
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn charge(order: Value) -> Result<Value, TaskError> { Ok(json!({"charged": order["total"]})) }
    /// # workflow! { pub Checkout { start Charge; Charge = task(charge, result_path = $.receipt).retry([Throttled], interval_seconds = 2, max_attempts = 3).catch([States.ALL] => Declined, result_path = $.error) -> Done; Done = succeed; Declined = fail(error = "Declined"); } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// #[derive(serde::Deserialize)]
    /// struct Charged {
    ///     receipt: Value,
    /// }
    /// let r = Checkout::test_state("Charge", json!({"total": 5})).await?;
    /// let out: Charged = r.output_as()?;
    /// assert_eq!(out.receipt, json!({"charged": 5}));
    /// # Ok(())
    /// # }
    /// ```
    pub fn output_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.output.clone().unwrap_or(Value::Null))
    }
}
