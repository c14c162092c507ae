//! The compact form of the events a run records: typed details, rendered to AWS's JSON shape
//! ([`HistoryEvent`]) only when the history is read.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{EventType, HistoryEvent};
use crate::clock::format_ms;

/// How a task resource is described in `Task*` event details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskResource {
    /// `resourceType` (`lambda`, `sqs`, `aws-sdk:s3`, `local`).
    pub(crate) resource_type: String,
    /// `resource` (`invoke`, `sendMessage.waitForTaskToken`, or the resource itself).
    pub(crate) resource: String,
    /// `region`.
    pub(crate) region: String,
}

/// The details of one recorded event, kept compact until rendered.
#[derive(Debug, Clone)]
pub(crate) enum Detail {
    None,
    ExecutionStarted {
        input: Arc<str>,
        role_arn: Arc<str>,
    },
    ExecutionSucceeded {
        output: Arc<str>,
    },
    /// `error`/`cause` details (execution, Lambda and Map run failures).
    Error {
        error: Option<String>,
        cause: Option<String>,
    },
    StateEntered {
        name: Arc<str>,
        input: Arc<str>,
    },
    StateExited {
        name: Arc<str>,
        output: Arc<str>,
    },
    StateAborted {
        name: Arc<str>,
    },
    MapStarted {
        length: usize,
    },
    MapIteration {
        name: Arc<str>,
        index: usize,
    },
    MapRunStarted {
        arn: String,
    },
    TaskScheduled {
        res: Arc<TaskResource>,
        parameters: Arc<str>,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    },
    TaskStarted {
        res: Arc<TaskResource>,
    },
    TaskSucceeded {
        res: Arc<TaskResource>,
        output: Arc<str>,
    },
    TaskFailed {
        res: Arc<TaskResource>,
        error: Option<String>,
        cause: Option<String>,
    },
    LambdaScheduled {
        resource: Arc<str>,
        input: Arc<str>,
        timeout: Option<u64>,
    },
    LambdaSucceeded {
        output: Arc<str>,
    },
}

/// Inserts `input`/`output` and its `inputDetails`/`outputDetails` (`{"truncated": false}`).
fn payload(key: &'static str, text: &Arc<str>, o: &mut Map<String, Value>) {
    let details_key = if key == "input" {
        "inputDetails"
    } else {
        "outputDetails"
    };
    o.insert(key.into(), Value::String(text.to_string()));
    let mut truncated = Map::with_capacity(1);
    truncated.insert("truncated".into(), Value::Bool(false));
    o.insert(details_key.into(), Value::Object(truncated));
}

fn error_cause(error: &Option<String>, cause: &Option<String>, o: &mut Map<String, Value>) {
    if let Some(e) = error {
        o.insert("error".into(), Value::String(e.clone()));
    }
    if let Some(c) = cause {
        o.insert("cause".into(), Value::String(c.clone()));
    }
}

fn task_res(res: &TaskResource, o: &mut Map<String, Value>) {
    o.insert("resourceType".into(), res.resource_type.clone().into());
    o.insert("resource".into(), res.resource.clone().into());
}

impl Detail {
    fn render(&self) -> Option<Value> {
        let mut o = Map::new();
        match self {
            Detail::None => return None,
            Detail::ExecutionStarted { input, role_arn } => {
                payload("input", input, &mut o);
                o.insert("roleArn".into(), role_arn.to_string().into());
            }
            Detail::ExecutionSucceeded { output } | Detail::LambdaSucceeded { output } => {
                payload("output", output, &mut o)
            }
            Detail::Error { error, cause } => error_cause(error, cause, &mut o),
            Detail::StateEntered { name, input } => {
                o.insert("name".into(), name.to_string().into());
                payload("input", input, &mut o);
            }
            Detail::StateExited { name, output } => {
                o.insert("name".into(), name.to_string().into());
                payload("output", output, &mut o);
            }
            Detail::StateAborted { name } => {
                o.insert("name".into(), name.to_string().into());
            }
            Detail::MapStarted { length } => {
                o.insert("length".into(), (*length).into());
            }
            Detail::MapIteration { name, index } => {
                o.insert("name".into(), name.to_string().into());
                o.insert("index".into(), (*index).into());
            }
            Detail::MapRunStarted { arn } => {
                o.insert("mapRunArn".into(), arn.clone().into());
            }
            Detail::TaskScheduled {
                res,
                parameters,
                timeout,
                heartbeat,
            } => {
                task_res(res, &mut o);
                o.insert("region".into(), res.region.clone().into());
                o.insert("parameters".into(), parameters.to_string().into());
                if let Some(t) = timeout {
                    o.insert("timeoutInSeconds".into(), (*t).into());
                }
                if let Some(h) = heartbeat {
                    o.insert("heartbeatInSeconds".into(), (*h).into());
                }
            }
            Detail::TaskStarted { res } => task_res(res, &mut o),
            Detail::TaskSucceeded { res, output } => {
                task_res(res, &mut o);
                payload("output", output, &mut o);
            }
            Detail::TaskFailed { res, error, cause } => {
                task_res(res, &mut o);
                error_cause(error, cause, &mut o);
            }
            Detail::LambdaScheduled {
                resource,
                input,
                timeout,
            } => {
                o.insert("resource".into(), resource.to_string().into());
                payload("input", input, &mut o);
                if let Some(t) = timeout {
                    o.insert("timeoutInSeconds".into(), (*t).into());
                }
            }
        }
        Some(Value::Object(o))
    }
}

/// One event recorded by this run.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) id: u64,
    pub(crate) prev: u64,
    pub(crate) time_ms: i64,
    pub(crate) ty: EventType,
    /// `None` for the top level (`""`): most events, recorded without touching a shared count.
    pub(crate) scope: Option<Arc<str>>,
    pub(crate) seq: u64,
    pub(crate) detail: Detail,
}

impl Rec {
    /// The event's type.
    pub(crate) fn event_type(&self) -> EventType {
        self.ty
    }

    /// The event as AWS shows it.
    pub(crate) fn render(&self) -> HistoryEvent {
        let details = match (self.ty.details_key(), self.detail.render()) {
            (Some(key), Some(v)) => Some((key.to_string(), v)),
            (Some(key), None) => Some((key.to_string(), Value::Object(Map::new()))),
            (None, _) => None,
        };
        HistoryEvent {
            id: self.id,
            previous_event_id: self.prev,
            timestamp: format_ms(self.time_ms),
            event_type: self.ty.as_str().to_string(),
            details,
            scope: self.scope.as_deref().unwrap_or("").to_string(),
            seq: self.seq,
        }
    }
}
