//! Runtime failures as Step Functions reports them: an error name and a cause.

use std::fmt;

/// The predefined error names of the States Language.
pub mod names {
    /// Matches any error name except `States.Runtime` (as a Retry or Catch error name; it must be
    /// alone and last). AWS's documentation says it does not match `States.DataLimitExceeded`
    /// either, but recorded executions show a Task's `States.DataLimitExceeded` caught by it; see
    /// [`crate::retry`].
    pub const ALL: &str = "States.ALL";
    /// A state ran longer than its `TimeoutSeconds` or missed a heartbeat.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A heartbeat was not received in time.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// A task failed; as an ErrorEquals name it matches every error except `States.Timeout`.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// Not allowed to run a task.
    pub const PERMISSIONS: &str = "States.Permissions";
    /// `ResultPath` cannot be applied to the state's input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A field of `Parameters` names a path that does not exist in the input.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Choice state matched no rule and has no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function call failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A payload is larger than the service quota (256 KiB).
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A runtime error that no Retry or Catch can handle through `States.ALL`.
    pub const RUNTIME: &str = "States.Runtime";
    /// A Map or Parallel branch failed beyond tolerance.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// An item reader failed.
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// A result writer failed.
    pub const RESULT_WRITER_FAILED: &str = "States.ResultWriterFailed";
    /// A branch was cancelled.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// A JSONata query failed.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// A failure with an error name and a cause, as recorded in `…Failed` history events.
///
/// ```
/// use workflow_asl::Failure;
///
/// let f = Failure::new("Rejected", "the order is invalid");
/// assert_eq!(f.to_string(), "Rejected: the order is invalid");
/// // The runtime's errors are failures with the States Language's names.
/// assert_eq!(Failure::runtime("boom").error, "States.Runtime");
/// assert_eq!(Failure::intrinsic("bad").error, workflow_asl::error::names::INTRINSIC_FAILURE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name (`States.Runtime`, `MyError`, …).
    pub error: String,
    /// The human-readable cause.
    pub cause: String,
}

impl Failure {
    /// A failure with this error name and cause.
    ///
    /// ```
    /// let f = workflow_asl::Failure::new("MyError", "it broke");
    /// assert_eq!((f.error.as_str(), f.cause.as_str()), ("MyError", "it broke"));
    /// ```
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// A `States.Runtime` failure.
    ///
    /// ```
    /// assert_eq!(workflow_asl::Failure::runtime("x").error, "States.Runtime");
    /// ```
    pub fn runtime(cause: impl Into<String>) -> Self {
        Failure::new(names::RUNTIME, cause)
    }

    /// A `States.IntrinsicFailure`.
    ///
    /// ```
    /// assert_eq!(workflow_asl::Failure::intrinsic("x").error, "States.IntrinsicFailure");
    /// ```
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Failure::new(names::INTRINSIC_FAILURE, cause)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for Failure {}
