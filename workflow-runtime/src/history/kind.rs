//! The typed event model: what happened in an event ([`EventKind`]) with typed details per
//! variant, and its rendering as AWS's JSON (written directly as text).

use std::sync::Arc;

use serde_json::Value;

use super::EventType;

/// The kind of state a state event belongs to.
///
/// ```
/// use workflow_runtime::history::StateType;
/// use workflow_runtime::EventType;
///
/// assert_eq!(StateType::Choice.as_str(), "Choice");
/// assert_eq!(StateType::Choice.entered(), EventType::ChoiceStateEntered);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateType {
    /// `Pass`
    Pass,
    /// `Task`
    Task,
    /// `Choice`
    Choice,
    /// `Wait`
    Wait,
    /// `Succeed`
    Succeed,
    /// `Fail`
    Fail,
    /// `Parallel`
    Parallel,
    /// `Map`
    Map,
}

impl StateType {
    /// The ASL `Type` name (`"Pass"`, …).
    ///
    /// ```
    /// assert_eq!(workflow_runtime::history::StateType::Parallel.as_str(), "Parallel");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Pass => "Pass",
            StateType::Task => "Task",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

/// How a task resource is described in `Task*` event details.
///
/// ```
/// use workflow_runtime::history::TaskResource;
///
/// let r = TaskResource { resource_type: "sqs".into(), resource: "sendMessage".into(), region: "us-east-1".into() };
/// assert_eq!(r.resource_type, "sqs");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskResource {
    /// `resourceType` (`lambda`, `sqs`, `aws-sdk:s3`, `local`).
    pub resource_type: String,
    /// `resource` (`invoke`, `sendMessage.waitForTaskToken`, or the resource itself).
    pub resource: String,
    /// `region`.
    pub region: String,
}

/// An error name and cause, either possibly absent (`executionFailedEventDetails`,
/// `taskFailedEventDetails`, …).
///
/// ```
/// use workflow_runtime::history::ErrorDetails;
/// use workflow_runtime::EventKind;
///
/// let timed_out = EventKind::ExecutionTimedOut(ErrorDetails { error: Some("States.Timeout".into()), cause: None });
/// assert_eq!(timed_out.details().unwrap().1, serde_json::json!({"error": "States.Timeout"}));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    /// `error`
    pub error: Option<String>,
    /// `cause`
    pub cause: Option<String>,
}

/// What happened in one history event, with the details AWS shows for it. Payloads (`input`,
/// `output`, `parameters`) are kept as the JSON text AWS shows.
///
/// ```
/// use std::sync::Arc;
/// use workflow_runtime::history::StateType;
/// use workflow_runtime::{EventKind, EventType};
///
/// let kind = EventKind::StateEntered {
///     state_type: StateType::Pass,
///     name: Arc::from("P"),
///     input: Arc::from(r#"{"n":1}"#),
/// };
/// assert_eq!(kind.event_type(), Some(EventType::PassStateEntered));
/// assert_eq!(kind.type_name(), "PassStateEntered");
/// assert_eq!(kind.state_name(), Some("P"));
/// let (key, details) = kind.details().expect("details");
/// assert_eq!(key, "stateEnteredEventDetails");
/// assert_eq!(details["input"], r#"{"n":1}"#);
/// // AWS's shape reads back into the same kind.
/// assert_eq!(EventKind::from_aws("PassStateEntered", Some((key, details))), kind);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `ExecutionStarted`
    ExecutionStarted {
        /// The execution's input (JSON text).
        input: Arc<str>,
        /// `roleArn`
        role_arn: Arc<str>,
    },
    /// `ExecutionSucceeded`
    ExecutionSucceeded {
        /// The execution's output (JSON text).
        output: Arc<str>,
    },
    /// `ExecutionFailed`
    ExecutionFailed(ErrorDetails),
    /// `ExecutionTimedOut`
    ExecutionTimedOut(ErrorDetails),
    /// `ExecutionAborted`
    ExecutionAborted(ErrorDetails),
    /// `<Type>StateEntered`
    StateEntered {
        /// The state's type.
        state_type: StateType,
        /// The state's name.
        name: Arc<str>,
        /// The state's input (JSON text).
        input: Arc<str>,
    },
    /// `<Type>StateExited`
    StateExited {
        /// The state's type.
        state_type: StateType,
        /// The state's name.
        name: Arc<str>,
        /// The state's output (JSON text).
        output: Arc<str>,
    },
    /// `<Type>StateAborted` (Task, Wait, Parallel, Map)
    StateAborted {
        /// The state's type.
        state_type: StateType,
        /// The state's name.
        name: Arc<str>,
    },
    /// `ParallelStateStarted`
    ParallelStateStarted,
    /// `ParallelStateSucceeded`
    ParallelStateSucceeded,
    /// `ParallelStateFailed`
    ParallelStateFailed,
    /// `MapStateStarted`
    MapStateStarted {
        /// The number of items.
        length: usize,
    },
    /// `MapStateSucceeded`
    MapStateSucceeded,
    /// `MapStateFailed`
    MapStateFailed,
    /// `MapIterationStarted`
    MapIterationStarted(MapIteration),
    /// `MapIterationSucceeded`
    MapIterationSucceeded(MapIteration),
    /// `MapIterationFailed`
    MapIterationFailed(MapIteration),
    /// `MapIterationAborted`
    MapIterationAborted(MapIteration),
    /// `MapRunStarted`
    MapRunStarted {
        /// `mapRunArn`
        map_run_arn: String,
    },
    /// `MapRunSucceeded`
    MapRunSucceeded,
    /// `MapRunFailed`
    MapRunFailed(ErrorDetails),
    /// `MapRunAborted`
    MapRunAborted,
    /// `TaskScheduled`
    TaskScheduled {
        /// The resource.
        resource: Arc<TaskResource>,
        /// The task's parameters (JSON text).
        parameters: Arc<str>,
        /// `timeoutInSeconds`
        timeout_in_seconds: Option<u64>,
        /// `heartbeatInSeconds`
        heartbeat_in_seconds: Option<u64>,
    },
    /// `TaskStarted`
    TaskStarted {
        /// The resource.
        resource: Arc<TaskResource>,
    },
    /// `TaskSucceeded`
    TaskSucceeded {
        /// The resource.
        resource: Arc<TaskResource>,
        /// The task's result (JSON text).
        output: Arc<str>,
    },
    /// `TaskFailed`
    TaskFailed {
        /// The resource.
        resource: Arc<TaskResource>,
        /// The error and cause.
        error: ErrorDetails,
    },
    /// `TaskTimedOut`
    TaskTimedOut {
        /// The resource.
        resource: Arc<TaskResource>,
        /// The error and cause.
        error: ErrorDetails,
    },
    /// `LambdaFunctionScheduled`
    LambdaFunctionScheduled {
        /// The function's ARN.
        resource: Arc<str>,
        /// The function's input (JSON text).
        input: Arc<str>,
        /// `timeoutInSeconds`
        timeout_in_seconds: Option<u64>,
    },
    /// `LambdaFunctionStarted`
    LambdaFunctionStarted,
    /// `LambdaFunctionSucceeded`
    LambdaFunctionSucceeded {
        /// The function's result (JSON text).
        output: Arc<str>,
    },
    /// `LambdaFunctionFailed`
    LambdaFunctionFailed(ErrorDetails),
    /// `LambdaFunctionTimedOut`
    LambdaFunctionTimedOut(ErrorDetails),
    /// `EvaluationFailed` (a JSONata expression failed)
    EvaluationFailed(ErrorDetails),
    /// An event this version does not model (read from a store or another tool), kept as AWS's
    /// type name and details.
    Other {
        /// The AWS type name.
        event_type: String,
        /// The details key and object, if any.
        details: Option<(String, Value)>,
    },
}

/// `mapIteration…EventDetails`: the Map state's name and the item's index.
///
/// ```
/// use workflow_runtime::history::MapIteration;
/// use workflow_runtime::EventKind;
///
/// let done = EventKind::MapIterationSucceeded(MapIteration { name: "Each".into(), index: 0 });
/// assert_eq!(done.details().unwrap().1, serde_json::json!({"name": "Each", "index": 0}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapIteration {
    /// The Map state's name.
    pub name: Arc<str>,
    /// The item's index.
    pub index: usize,
}

fn entered_type(s: StateType) -> EventType {
    match s {
        StateType::Pass => EventType::PassStateEntered,
        StateType::Task => EventType::TaskStateEntered,
        StateType::Choice => EventType::ChoiceStateEntered,
        StateType::Wait => EventType::WaitStateEntered,
        StateType::Succeed => EventType::SucceedStateEntered,
        StateType::Fail => EventType::FailStateEntered,
        StateType::Parallel => EventType::ParallelStateEntered,
        StateType::Map => EventType::MapStateEntered,
    }
}

fn exited_type(s: StateType) -> Option<EventType> {
    match s {
        StateType::Pass => Some(EventType::PassStateExited),
        StateType::Task => Some(EventType::TaskStateExited),
        StateType::Choice => Some(EventType::ChoiceStateExited),
        StateType::Wait => Some(EventType::WaitStateExited),
        StateType::Succeed => Some(EventType::SucceedStateExited),
        StateType::Fail => None,
        StateType::Parallel => Some(EventType::ParallelStateExited),
        StateType::Map => Some(EventType::MapStateExited),
    }
}

fn aborted_type(s: StateType) -> Option<EventType> {
    match s {
        StateType::Task => Some(EventType::TaskStateAborted),
        StateType::Wait => Some(EventType::WaitStateAborted),
        StateType::Parallel => Some(EventType::ParallelStateAborted),
        StateType::Map => Some(EventType::MapStateAborted),
        _ => None,
    }
}

impl StateType {
    /// The `…StateEntered` type of this state type.
    ///
    /// ```
    /// use workflow_runtime::{history::StateType, EventType};
    /// assert_eq!(StateType::Map.entered(), EventType::MapStateEntered);
    /// ```
    pub fn entered(self) -> EventType {
        entered_type(self)
    }

    /// The `…StateExited` type of this state type (a Fail state has none).
    ///
    /// ```
    /// use workflow_runtime::{history::StateType, EventType};
    /// assert_eq!(StateType::Task.exited(), Some(EventType::TaskStateExited));
    /// assert_eq!(StateType::Fail.exited(), None);
    /// ```
    pub fn exited(self) -> Option<EventType> {
        exited_type(self)
    }

    /// The `…StateAborted` type of this state type (Task, Wait, Parallel, Map).
    ///
    /// ```
    /// use workflow_runtime::{history::StateType, EventType};
    /// assert_eq!(StateType::Wait.aborted(), Some(EventType::WaitStateAborted));
    /// assert_eq!(StateType::Pass.aborted(), None);
    /// ```
    pub fn aborted(self) -> Option<EventType> {
        aborted_type(self)
    }
}

impl EventKind {
    /// The AWS type (`None` for [`EventKind::Other`], and for a state event of a state type
    /// that has no such event).
    ///
    /// ```
    /// use workflow_runtime::history::ErrorDetails;
    /// use workflow_runtime::{EventKind, EventType};
    ///
    /// let failed = EventKind::ExecutionFailed(ErrorDetails { error: Some("E".into()), cause: None });
    /// assert_eq!(failed.event_type(), Some(EventType::ExecutionFailed));
    /// ```
    pub fn event_type(&self) -> Option<EventType> {
        use EventKind as K;
        use EventType as T;
        Some(match self {
            K::ExecutionStarted { .. } => T::ExecutionStarted,
            K::ExecutionSucceeded { .. } => T::ExecutionSucceeded,
            K::ExecutionFailed(_) => T::ExecutionFailed,
            K::ExecutionTimedOut(_) => T::ExecutionTimedOut,
            K::ExecutionAborted(_) => T::ExecutionAborted,
            K::StateEntered { state_type, .. } => state_type.entered(),
            K::StateExited { state_type, .. } => return state_type.exited(),
            K::StateAborted { state_type, .. } => return state_type.aborted(),
            K::ParallelStateStarted => T::ParallelStateStarted,
            K::ParallelStateSucceeded => T::ParallelStateSucceeded,
            K::ParallelStateFailed => T::ParallelStateFailed,
            K::MapStateStarted { .. } => T::MapStateStarted,
            K::MapStateSucceeded => T::MapStateSucceeded,
            K::MapStateFailed => T::MapStateFailed,
            K::MapIterationStarted(_) => T::MapIterationStarted,
            K::MapIterationSucceeded(_) => T::MapIterationSucceeded,
            K::MapIterationFailed(_) => T::MapIterationFailed,
            K::MapIterationAborted(_) => T::MapIterationAborted,
            K::MapRunStarted { .. } => T::MapRunStarted,
            K::MapRunSucceeded => T::MapRunSucceeded,
            K::MapRunFailed(_) => T::MapRunFailed,
            K::MapRunAborted => T::MapRunAborted,
            K::TaskScheduled { .. } => T::TaskScheduled,
            K::TaskStarted { .. } => T::TaskStarted,
            K::TaskSucceeded { .. } => T::TaskSucceeded,
            K::TaskFailed { .. } => T::TaskFailed,
            K::TaskTimedOut { .. } => T::TaskTimedOut,
            K::LambdaFunctionScheduled { .. } => T::LambdaFunctionScheduled,
            K::LambdaFunctionStarted => T::LambdaFunctionStarted,
            K::LambdaFunctionSucceeded { .. } => T::LambdaFunctionSucceeded,
            K::LambdaFunctionFailed(_) => T::LambdaFunctionFailed,
            K::LambdaFunctionTimedOut(_) => T::LambdaFunctionTimedOut,
            K::EvaluationFailed(_) => T::EvaluationFailed,
            K::Other { .. } => return None,
        })
    }

    /// The AWS type name (`"PassStateEntered"`, …).
    ///
    /// ```
    /// use workflow_runtime::EventKind;
    /// assert_eq!(EventKind::ParallelStateStarted.type_name(), "ParallelStateStarted");
    /// ```
    pub fn type_name(&self) -> &str {
        match self {
            EventKind::Other { event_type, .. } => event_type,
            other => other.event_type().map_or("", EventType::as_str),
        }
    }

    /// The name of the state the event belongs to, when its details name one (state and Map
    /// iteration events).
    ///
    /// ```
    /// use workflow_runtime::history::{MapIteration, StateType};
    /// use workflow_runtime::EventKind;
    ///
    /// let it = EventKind::MapIterationStarted(MapIteration { name: "Each".into(), index: 2 });
    /// assert_eq!(it.state_name(), Some("Each"));
    /// assert_eq!(EventKind::ParallelStateStarted.state_name(), None);
    /// # let _ = StateType::Map;
    /// ```
    pub fn state_name(&self) -> Option<&str> {
        match self {
            EventKind::StateEntered { name, .. }
            | EventKind::StateExited { name, .. }
            | EventKind::StateAborted { name, .. } => Some(name),
            EventKind::MapIterationStarted(m)
            | EventKind::MapIterationSucceeded(m)
            | EventKind::MapIterationFailed(m)
            | EventKind::MapIterationAborted(m) => Some(&m.name),
            _ => None,
        }
    }

    /// The key AWS uses for the details object (`"stateEnteredEventDetails"`, …), if any.
    ///
    /// ```
    /// use workflow_runtime::history::ErrorDetails;
    /// use workflow_runtime::EventKind;
    ///
    /// assert_eq!(EventKind::ExecutionAborted(ErrorDetails::default()).details_key(), Some("executionAbortedEventDetails"));
    /// assert_eq!(EventKind::ParallelStateSucceeded.details_key(), None);
    /// ```
    pub fn details_key(&self) -> Option<&str> {
        match self {
            EventKind::Other { details, .. } => details.as_ref().map(|(k, _)| k.as_str()),
            other => other.event_type().and_then(EventType::details_key),
        }
    }

    /// Appends the details object as AWS's JSON text; returns `false` (and appends nothing)
    /// when the event has no details.
    ///
    /// ```
    /// use workflow_runtime::history::ErrorDetails;
    /// use workflow_runtime::EventKind;
    ///
    /// let mut text = String::new();
    /// let failed = EventKind::ExecutionFailed(ErrorDetails { error: Some("Oops".into()), cause: Some("bad".into()) });
    /// assert!(failed.write_details(&mut text));
    /// assert_eq!(text, r#"{"error":"Oops","cause":"bad"}"#);
    /// assert!(!EventKind::ParallelStateStarted.write_details(&mut text));
    /// ```
    pub fn write_details(&self, out: &mut String) -> bool {
        if self.details_key().is_none() {
            return false;
        }
        let mut o = Obj::new(out);
        match self {
            EventKind::ExecutionStarted { input, role_arn } => {
                o.payload("input", input);
                o.str("roleArn", role_arn);
            }
            EventKind::ExecutionSucceeded { output }
            | EventKind::LambdaFunctionSucceeded { output } => o.payload("output", output),
            EventKind::ExecutionFailed(e)
            | EventKind::ExecutionTimedOut(e)
            | EventKind::ExecutionAborted(e)
            | EventKind::MapRunFailed(e)
            | EventKind::LambdaFunctionFailed(e)
            | EventKind::LambdaFunctionTimedOut(e)
            | EventKind::EvaluationFailed(e) => o.error(e),
            EventKind::StateEntered { name, input, .. } => {
                o.str("name", name);
                o.payload("input", input);
            }
            EventKind::StateExited { name, output, .. } => {
                o.str("name", name);
                o.payload("output", output);
            }
            EventKind::StateAborted { name, .. } => o.str("name", name),
            EventKind::MapStateStarted { length } => o.num("length", *length as u64),
            EventKind::MapIterationStarted(m)
            | EventKind::MapIterationSucceeded(m)
            | EventKind::MapIterationFailed(m)
            | EventKind::MapIterationAborted(m) => {
                o.str("name", &m.name);
                o.num("index", m.index as u64);
            }
            EventKind::MapRunStarted { map_run_arn } => o.str("mapRunArn", map_run_arn),
            EventKind::TaskScheduled {
                resource,
                parameters,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                o.resource(resource);
                o.str("region", &resource.region);
                o.str("parameters", parameters);
                if let Some(t) = timeout_in_seconds {
                    o.num("timeoutInSeconds", *t);
                }
                if let Some(h) = heartbeat_in_seconds {
                    o.num("heartbeatInSeconds", *h);
                }
            }
            EventKind::TaskStarted { resource } => o.resource(resource),
            EventKind::TaskSucceeded { resource, output } => {
                o.resource(resource);
                o.payload("output", output);
            }
            EventKind::TaskFailed { resource, error }
            | EventKind::TaskTimedOut { resource, error } => {
                o.resource(resource);
                o.error(error);
            }
            EventKind::LambdaFunctionScheduled {
                resource,
                input,
                timeout_in_seconds,
            } => {
                o.str("resource", resource);
                o.payload("input", input);
                if let Some(t) = timeout_in_seconds {
                    o.num("timeoutInSeconds", *t);
                }
            }
            EventKind::Other { details, .. } => {
                if let Some((_, v)) = details {
                    o.out.truncate(o.start);
                    write_value(v, o.out);
                    return true;
                }
            }
            EventKind::ParallelStateStarted
            | EventKind::ParallelStateSucceeded
            | EventKind::ParallelStateFailed
            | EventKind::MapStateSucceeded
            | EventKind::MapStateFailed
            | EventKind::MapRunSucceeded
            | EventKind::MapRunAborted
            | EventKind::LambdaFunctionStarted => {}
        }
        o.close();
        true
    }

    /// The details as a JSON value, under their key (`None` without details).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::history::ErrorDetails;
    /// use workflow_runtime::EventKind;
    ///
    /// let failed = EventKind::ExecutionFailed(ErrorDetails { error: Some("Oops".into()), cause: None });
    /// assert_eq!(failed.details(), Some(("executionFailedEventDetails".into(), json!({"error": "Oops"}))));
    /// ```
    pub fn details(&self) -> Option<(String, Value)> {
        let key = self.details_key()?.to_string();
        if let EventKind::Other {
            details: Some((_, v)),
            ..
        } = self
        {
            return Some((key, v.clone()));
        }
        let mut text = String::new();
        self.write_details(&mut text);
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Some((key, value))
    }

    /// Reads an event from AWS's type name and details object. An event whose type or details
    /// this model does not hold exactly is kept as [`EventKind::Other`], so that it renders back
    /// unchanged.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::EventKind;
    ///
    /// let kind = EventKind::from_aws("ExecutionFailed", Some(("executionFailedEventDetails".into(), json!({"error": "E"}))));
    /// assert_eq!(kind.type_name(), "ExecutionFailed");
    /// // A type this model does not know is kept as it is.
    /// let other = EventKind::from_aws("ActivityScheduled", Some(("activityScheduledEventDetails".into(), json!({"resource": "r"}))));
    /// assert!(matches!(other, EventKind::Other { .. }));
    /// assert_eq!(other.type_name(), "ActivityScheduled");
    /// ```
    pub fn from_aws(event_type: &str, details: Option<(String, Value)>) -> EventKind {
        let typed = EventType::from_name(event_type)
            .and_then(|ty| typed_from_aws(ty, details.as_ref().map(|(_, v)| v)));
        if let Some(kind) = typed {
            // Only when it renders back exactly (no field it does not model).
            if kind.details_key() == details.as_ref().map(|(k, _)| k.as_str())
                && kind.details().map(|(_, v)| v) == details.as_ref().map(|(_, v)| v.clone())
            {
                return kind;
            }
        }
        EventKind::Other {
            event_type: event_type.to_string(),
            details,
        }
    }
}

impl EventKind {
    /// [`EventKind::from_aws`] for details kept as JSON text (a store's row): a typed kind whose
    /// own compact rendering is that text byte for byte holds it exactly, which is checked
    /// without building the details as a second value (what the stores write, since they write
    /// [`EventKind::write_details`]); any other text goes through [`EventKind::from_aws`].
    /// `scratch` is a buffer reused across calls.
    #[cfg(feature = "sqlite")]
    pub(crate) fn from_aws_text(
        event_type: &str,
        key: String,
        text: &str,
        scratch: &mut String,
    ) -> Result<EventKind, serde_json::Error> {
        let details: Value = serde_json::from_str(text)?;
        if let Some(kind) = EventType::from_name(event_type)
            .and_then(|ty| typed_from_aws(ty, Some(&details)))
            .filter(|kind| kind.details_key() == Some(key.as_str()))
        {
            scratch.clear();
            kind.write_details(scratch);
            if scratch.as_str() == text {
                return Ok(kind);
            }
        }
        Ok(EventKind::from_aws(event_type, Some((key, details))))
    }
}

/// The typed kind of an AWS event, when its details have the fields this model reads.
fn typed_from_aws(ty: EventType, d: Option<&Value>) -> Option<EventKind> {
    use EventKind as K;
    use EventType as T;
    let s = |k: &str| d.and_then(|d| d.get(k)).and_then(Value::as_str);
    let text = |k: &str| s(k).map(Arc::<str>::from);
    let num = |k: &str| d.and_then(|d| d.get(k)).and_then(Value::as_u64);
    let error = || ErrorDetails {
        error: s("error").map(str::to_string),
        cause: s("cause").map(str::to_string),
    };
    let resource = || {
        Some(Arc::new(TaskResource {
            resource_type: s("resourceType")?.to_string(),
            resource: s("resource")?.to_string(),
            region: s("region").unwrap_or("").to_string(),
        }))
    };
    let iteration = || {
        Some(MapIteration {
            name: text("name")?,
            index: usize::try_from(num("index")?).ok()?,
        })
    };
    let state = |name: &str| -> Option<(StateType, &'static str)> {
        const TYPES: [StateType; 8] = [
            StateType::Pass,
            StateType::Task,
            StateType::Choice,
            StateType::Wait,
            StateType::Succeed,
            StateType::Fail,
            StateType::Parallel,
            StateType::Map,
        ];
        TYPES.iter().find_map(|t| {
            let rest = name.strip_prefix(t.as_str())?;
            let phase = ["StateEntered", "StateExited", "StateAborted"]
                .into_iter()
                .find(|p| *p == rest)?;
            Some((*t, phase))
        })
    };
    if let Some((state_type, phase)) = state(ty.as_str()) {
        return Some(match phase {
            "StateEntered" => K::StateEntered {
                state_type,
                name: text("name")?,
                input: text("input")?,
            },
            "StateExited" => K::StateExited {
                state_type,
                name: text("name")?,
                output: text("output")?,
            },
            _ => K::StateAborted {
                state_type,
                name: text("name").unwrap_or_else(|| Arc::from("")),
            },
        });
    }
    Some(match ty {
        T::ExecutionStarted => K::ExecutionStarted {
            input: text("input")?,
            role_arn: text("roleArn")?,
        },
        T::ExecutionSucceeded => K::ExecutionSucceeded {
            output: text("output")?,
        },
        T::ExecutionFailed => K::ExecutionFailed(error()),
        T::ExecutionTimedOut => K::ExecutionTimedOut(error()),
        T::ExecutionAborted => K::ExecutionAborted(error()),
        T::ParallelStateStarted => K::ParallelStateStarted,
        T::ParallelStateSucceeded => K::ParallelStateSucceeded,
        T::ParallelStateFailed => K::ParallelStateFailed,
        T::MapStateStarted => K::MapStateStarted {
            length: usize::try_from(num("length")?).ok()?,
        },
        T::MapStateSucceeded => K::MapStateSucceeded,
        T::MapStateFailed => K::MapStateFailed,
        T::MapIterationStarted => K::MapIterationStarted(iteration()?),
        T::MapIterationSucceeded => K::MapIterationSucceeded(iteration()?),
        T::MapIterationFailed => K::MapIterationFailed(iteration()?),
        T::MapIterationAborted => K::MapIterationAborted(iteration()?),
        T::MapRunStarted => K::MapRunStarted {
            map_run_arn: s("mapRunArn")?.to_string(),
        },
        T::MapRunSucceeded => K::MapRunSucceeded,
        T::MapRunFailed => K::MapRunFailed(error()),
        T::MapRunAborted => K::MapRunAborted,
        T::TaskScheduled => K::TaskScheduled {
            resource: resource()?,
            parameters: text("parameters")?,
            timeout_in_seconds: num("timeoutInSeconds"),
            heartbeat_in_seconds: num("heartbeatInSeconds"),
        },
        T::TaskStarted => K::TaskStarted {
            resource: resource()?,
        },
        T::TaskSucceeded => K::TaskSucceeded {
            resource: resource()?,
            output: text("output")?,
        },
        T::TaskFailed => K::TaskFailed {
            resource: resource()?,
            error: error(),
        },
        T::TaskTimedOut => K::TaskTimedOut {
            resource: resource()?,
            error: error(),
        },
        T::LambdaFunctionScheduled => K::LambdaFunctionScheduled {
            resource: text("resource")?,
            input: text("input")?,
            timeout_in_seconds: num("timeoutInSeconds"),
        },
        T::LambdaFunctionStarted => K::LambdaFunctionStarted,
        T::LambdaFunctionSucceeded => K::LambdaFunctionSucceeded {
            output: text("output")?,
        },
        T::LambdaFunctionFailed => K::LambdaFunctionFailed(error()),
        T::LambdaFunctionTimedOut => K::LambdaFunctionTimedOut(error()),
        T::EvaluationFailed => K::EvaluationFailed(error()),
        _ => return None,
    })
}

/// Writes a JSON object field by field.
struct Obj<'o> {
    out: &'o mut String,
    start: usize,
    first: bool,
}

impl<'o> Obj<'o> {
    fn new(out: &'o mut String) -> Obj<'o> {
        let start = out.len();
        out.push('{');
        Obj {
            out,
            start,
            first: true,
        }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_plain(k, self.out);
        self.out.push(':');
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        write_str(v, self.out);
    }

    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        super::record::push_u64(self.out, v);
    }

    /// `input`/`output` and its `inputDetails`/`outputDetails` (`{"truncated":false}`).
    fn payload(&mut self, k: &'static str, text: &str) {
        self.str(k, text);
        self.key(if k == "input" {
            "inputDetails"
        } else {
            "outputDetails"
        });
        self.out.push_str("{\"truncated\":false}");
    }

    fn error(&mut self, e: &ErrorDetails) {
        if let Some(error) = &e.error {
            self.str("error", error);
        }
        if let Some(cause) = &e.cause {
            self.str("cause", cause);
        }
    }

    fn resource(&mut self, r: &TaskResource) {
        self.str("resourceType", &r.resource_type);
        self.str("resource", &r.resource);
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// Appends `s`, which needs no escape (a key, an event type), as a JSON string.
#[inline]
pub(crate) fn write_plain(s: &str, out: &mut String) {
    debug_assert!(!s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// Which bytes a JSON string escapes.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The bytes of `x` (little-endian) that are below 0x20, `"` or `\\`, as a mask with bit 7 of
/// each such byte set (the classic "has a zero byte" and "has a byte less than n" bit tricks,
/// n = 0x20 ≤ 0x80). A borrow can flag a byte above a flagged one, never below: the lowest
/// flagged byte is exact.
#[inline]
fn escaped_mask(x: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    below_space | zero(x ^ (LO * u64::from(b'"'))) | zero(x ^ (LO * u64::from(b'\\')))
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it: the runs of bytes that
/// need no escape are copied whole, found eight bytes at a time (payloads are JSON text, full
/// of `"`: each escape costs one copy of the run before it and the escape itself).
pub(crate) fn write_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        // Find the next byte that needs an escape, from `i`.
        if let Some(chunk) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            let mask = escaped_mask(u64::from_le_bytes(chunk));
            if mask == 0 {
                i += 8;
                continue;
            }
            i += (mask.trailing_zeros() / 8) as usize;
        } else {
            match bytes.get(i) {
                None => break,
                Some(&b) if !ESCAPED[usize::from(b)] => {
                    i += 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        let Some(&b) = bytes.get(i) else { break };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[start..i]);
        i += 1;
        start = i;
        match b {
            // The quote itself goes out with the next run.
            b'"' | b'\\' => {
                out.push('\\');
                start = i - 1;
            }
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let b = usize::from(b);
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xF]));
            }
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a JSON value as `serde_json` writes it.
fn write_value(v: &Value, out: &mut String) {
    out.push_str(&v.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain text that is longer than eight bytes".into(),
            r#"{"counter":5,"s":"a\"b"}"#.into(),
            "tab\there, newline\nthere, \u{1} \u{1f} \u{7f} é 日本語 🎉".into(),
            "\\\\\"\"".into(),
        ];
        // Every byte below 0x80 at every position of a 17-byte string.
        for b in 0u8..0x80 {
            for at in 0..17 {
                let mut s = "abcdefghijklmnopq".to_string().into_bytes();
                s[at] = b;
                cases.push(String::from_utf8(s).expect("ASCII"));
            }
        }
        // Long strings: multibyte characters at every alignment, and runs of escapes.
        for k in 0..8 {
            cases.push(format!("{}{}", "a".repeat(k), "é日🎉\"x".repeat(120)));
        }
        cases.push("\"".repeat(500));
        cases.push("\u{1}\\".repeat(300));
        for s in cases {
            let mut out = String::new();
            write_str(&s, &mut out);
            assert_eq!(out, serde_json::to_string(&s).expect("a string"), "{s:?}");
        }
    }

    fn every_kind() -> Vec<EventKind> {
        let res = Arc::new(TaskResource {
            resource_type: "lambda".into(),
            resource: "invoke".into(),
            region: "us-east-1".into(),
        });
        let err = ErrorDetails {
            error: Some("E".into()),
            cause: Some("line\n\"quoted\"\u{1}".into()),
        };
        let it = MapIteration {
            name: "M".into(),
            index: 3,
        };
        let mut kinds = vec![
            EventKind::ExecutionStarted {
                input: r#"{"a":1}"#.into(),
                role_arn: "arn:aws:iam::1:role/r".into(),
            },
            EventKind::ExecutionSucceeded {
                output: "[1,2]".into(),
            },
            EventKind::ExecutionFailed(err.clone()),
            EventKind::ExecutionTimedOut(ErrorDetails::default()),
            EventKind::ExecutionAborted(err.clone()),
            EventKind::ParallelStateStarted,
            EventKind::ParallelStateSucceeded,
            EventKind::ParallelStateFailed,
            EventKind::MapStateStarted { length: 7 },
            EventKind::MapStateSucceeded,
            EventKind::MapStateFailed,
            EventKind::MapIterationStarted(it.clone()),
            EventKind::MapIterationSucceeded(it.clone()),
            EventKind::MapIterationFailed(it.clone()),
            EventKind::MapIterationAborted(it),
            EventKind::MapRunStarted {
                map_run_arn: "arn:run".into(),
            },
            EventKind::MapRunSucceeded,
            EventKind::MapRunFailed(err.clone()),
            EventKind::MapRunAborted,
            EventKind::TaskScheduled {
                resource: Arc::clone(&res),
                parameters: "{}".into(),
                timeout_in_seconds: Some(5),
                heartbeat_in_seconds: None,
            },
            EventKind::TaskStarted {
                resource: Arc::clone(&res),
            },
            EventKind::TaskSucceeded {
                resource: Arc::clone(&res),
                output: "null".into(),
            },
            EventKind::TaskFailed {
                resource: Arc::clone(&res),
                error: err.clone(),
            },
            EventKind::TaskTimedOut {
                resource: res,
                error: err.clone(),
            },
            EventKind::LambdaFunctionScheduled {
                resource: "arn:aws:lambda:us-east-1:1:function:f".into(),
                input: "{}".into(),
                timeout_in_seconds: None,
            },
            EventKind::LambdaFunctionStarted,
            EventKind::LambdaFunctionSucceeded {
                output: "\"é\"".into(),
            },
            EventKind::LambdaFunctionFailed(err.clone()),
            EventKind::LambdaFunctionTimedOut(err.clone()),
            EventKind::EvaluationFailed(err),
        ];
        for t in [
            StateType::Pass,
            StateType::Task,
            StateType::Choice,
            StateType::Wait,
            StateType::Succeed,
            StateType::Parallel,
            StateType::Map,
        ] {
            kinds.push(EventKind::StateEntered {
                state_type: t,
                name: "S".into(),
                input: "{}".into(),
            });
            kinds.push(EventKind::StateExited {
                state_type: t,
                name: "S".into(),
                output: "{}".into(),
            });
        }
        kinds.push(EventKind::StateEntered {
            state_type: StateType::Fail,
            name: "F".into(),
            input: "{}".into(),
        });
        for t in [StateType::Task, StateType::Wait] {
            kinds.push(EventKind::StateAborted {
                state_type: t,
                name: "S".into(),
            });
        }
        kinds
    }

    #[test]
    fn every_kind_reads_back_from_its_aws_rendering() {
        for kind in every_kind() {
            let ty = kind.event_type().expect("a known type");
            assert_eq!(kind.type_name(), ty.as_str());
            let details = kind.details();
            assert_eq!(
                details.as_ref().map(|(k, _)| k.as_str()),
                ty.details_key(),
                "{kind:?}"
            );
            // The text written directly is the compact JSON of the details value.
            let mut text = String::new();
            assert_eq!(kind.write_details(&mut text), details.is_some());
            if let Some((_, v)) = &details {
                assert_eq!(text, v.to_string(), "{kind:?}");
            }
            let back = EventKind::from_aws(ty.as_str(), details.clone());
            assert!(!matches!(back, EventKind::Other { .. }), "{kind:?}");
            assert_eq!(back.details(), details, "{kind:?}");
            // Everything but the region of `Task*` events other than `TaskScheduled` (AWS shows
            // it only there) reads back.
            if !matches!(
                kind,
                EventKind::TaskStarted { .. }
                    | EventKind::TaskSucceeded { .. }
                    | EventKind::TaskFailed { .. }
                    | EventKind::TaskTimedOut { .. }
            ) {
                assert_eq!(back, kind);
            }
        }
    }

    #[test]
    fn details_are_aws_shaped() {
        let kind = EventKind::StateEntered {
            state_type: StateType::Pass,
            name: "A".into(),
            input: r#"{"x":1}"#.into(),
        };
        assert_eq!(
            kind.details(),
            Some((
                "stateEnteredEventDetails".to_string(),
                json!({"name": "A", "input": "{\"x\":1}", "inputDetails": {"truncated": false}})
            ))
        );
    }

    #[test]
    fn unmodelled_events_render_back_unchanged() {
        for (ty, details) in [
            (
                "EvaluationFailed",
                Some((
                    "evaluationFailedEventDetails",
                    json!({"error": "E", "state": "S"}),
                )),
            ),
            (
                "PassStateEntered",
                Some((
                    "stateEnteredEventDetails",
                    json!({"name": "A", "input": "{}", "extra": 1}),
                )),
            ),
            (
                "PassStateEntered",
                Some(("passStateEnteredEventDetails", json!({"name": "A"}))),
            ),
            ("SomethingNew", None),
        ] {
            let details = details.map(|(k, v)| (k.to_string(), v));
            let kind = EventKind::from_aws(ty, details.clone());
            assert!(matches!(kind, EventKind::Other { .. }), "{kind:?}");
            assert_eq!(kind.type_name(), ty);
            assert_eq!(kind.details(), details);
        }
    }
}
