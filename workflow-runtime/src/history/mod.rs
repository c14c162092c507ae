//! Execution history: events shaped like Step Functions' `GetExecutionHistory` output.
//!
//! Each event has an `id` (1-based, in append order), the `previousEventId` AWS reports, a
//! timestamp, a type named exactly as AWS's `HistoryEventType`, and the type's details object
//! (`passStateEnteredEventDetails`, `executionFailedEventDetails`, …) as JSON.
//!
//! Besides AWS's fields every event carries a `scope` and a `seq`: the logical position that
//! produced it and its index among that scope's events. The top level is `""`; a Parallel branch or
//! a Map iteration is `"{seq}.{index}"` under its parent, where `seq` is the parent's
//! `ParallelStateStarted`/`MapStateStarted` event and `index` the branch or item (`"3.1"` is
//! branch 1 of the Parallel started by top-level event 3; `"3.1/5.7"` is item 7 of a Map inside
//! it). A replayed execution produces the same `(scope, seq)` keys in the same order within each
//! scope, whatever the interleaving of concurrent branches; this is what lets a resumed execution
//! recognise what it already recorded.
//!
//! # Recording, write-ahead and replay
//!
//! The executor records into an in-memory log and hands events to an [`EventSink`] (a durable
//! store) in id order, waiting for [`EventSink::append`] to complete before every effect: invoking
//! a task handler, sleeping (Wait, retry backoff) and reporting the outcome. A history given to
//! `StartOptions::resume_from` is replayed: the execution runs again from the start, an event whose
//! `(scope, seq)` is already recorded is not appended again (its recorded id and timestamp are used,
//! so `$$.State.EnteredTime` and Wait deadlines are the recorded ones), a recorded
//! `TaskSucceeded`/`TaskFailed`/`TaskTimedOut` (or `LambdaFunction…`) is returned instead of
//! calling the handler, and new events continue after the last recorded id. A task whose
//! scheduling was recorded but not its result runs again (at-least-once). If the re-run records a
//! different event type at a recorded position (the definition changed), the execution fails with
//! `States.Runtime`.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod record;

pub(crate) use record::{Detail, Rec, TaskResource};

/// One history event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    /// 1-based position in the execution's history.
    pub id: u64,
    /// The event this one follows from, as AWS reports it (0 for the first).
    pub previous_event_id: u64,
    /// When the event happened (RFC 3339, UTC, millisecond precision).
    pub timestamp: String,
    /// The AWS `HistoryEventType` name (`"PassStateEntered"`, `"TaskSucceeded"`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The details object, under the key AWS uses for this type (`"stateEnteredEventDetails"`, …),
    /// or `None` for types without details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<(String, Value)>,
    /// The logical scope that produced the event (see the module docs).
    pub scope: String,
    /// The index of this event among its scope's events.
    pub seq: u64,
}

impl HistoryEvent {
    /// The event as AWS's JSON shape: `{"id", "previousEventId", "timestamp", "type", "<details key>": {…}}`.
    pub fn to_aws_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("id".into(), self.id.into());
        o.insert("previousEventId".into(), self.previous_event_id.into());
        o.insert("timestamp".into(), self.timestamp.clone().into());
        o.insert("type".into(), self.event_type.clone().into());
        if let Some((k, v)) = &self.details {
            o.insert(k.clone(), v.clone());
        }
        Value::Object(o)
    }
}

/// An execution's whole history, as [`ExecutionOutcome::history`](crate::ExecutionOutcome).
///
/// While an execution runs its events are kept in a compact form; they are rendered to
/// [`HistoryEvent`]s (one JSON details object each) the first time the history is read, through
/// [`History::events`] or the slice it derefs to. [`History::len`] and [`History::event_types`]
/// do not render. Cloning is cheap (the events are shared).
#[derive(Clone, Default)]
pub struct History {
    inner: Arc<HistoryInner>,
}

#[derive(Default)]
struct HistoryInner {
    /// Events recorded before this run (a resumed execution), already rendered.
    prior: Vec<HistoryEvent>,
    /// This run's events, compact.
    recs: Vec<Rec>,
    /// `prior` followed by `recs` rendered, once read (unused when `recs` is empty).
    rendered: OnceLock<Vec<HistoryEvent>>,
}

impl History {
    /// The history of a run: prior events, then this run's records.
    pub(crate) fn new(prior: Vec<HistoryEvent>, recs: Vec<Rec>) -> History {
        History {
            inner: Arc::new(HistoryInner {
                prior,
                recs,
                rendered: OnceLock::new(),
            }),
        }
    }

    /// The events, in id order (rendered on first use).
    pub fn events(&self) -> &[HistoryEvent] {
        let inner = &*self.inner;
        if inner.recs.is_empty() {
            return &inner.prior;
        }
        inner.rendered.get_or_init(|| {
            let mut out = Vec::with_capacity(inner.prior.len() + inner.recs.len());
            out.extend(inner.prior.iter().cloned());
            out.extend(inner.recs.iter().map(Rec::render));
            out
        })
    }

    /// The number of events (without rendering them).
    pub fn len(&self) -> usize {
        self.inner.prior.len() + self.inner.recs.len()
    }

    /// Whether there are no events (history off).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The event types (`"PassStateEntered"`, …), in order, without rendering the events.
    pub fn event_types(&self) -> Vec<&str> {
        let inner = &*self.inner;
        inner
            .prior
            .iter()
            .map(|e| e.event_type.as_str())
            .chain(inner.recs.iter().map(|r| r.event_type().as_str()))
            .collect()
    }

    /// The events as an owned vector.
    pub fn into_vec(self) -> Vec<HistoryEvent> {
        self.events().to_vec()
    }
}

impl std::ops::Deref for History {
    type Target = [HistoryEvent];

    fn deref(&self) -> &[HistoryEvent] {
        self.events()
    }
}

impl<'a> IntoIterator for &'a History {
    type Item = &'a HistoryEvent;
    type IntoIter = std::slice::Iter<'a, HistoryEvent>;

    fn into_iter(self) -> Self::IntoIter {
        self.events().iter()
    }
}

impl From<Vec<HistoryEvent>> for History {
    fn from(events: Vec<HistoryEvent>) -> History {
        History::new(events, Vec::new())
    }
}

impl From<History> for Vec<HistoryEvent> {
    fn from(h: History) -> Vec<HistoryEvent> {
        h.into_vec()
    }
}

impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.events() == other.events()
    }
}

impl PartialEq<Vec<HistoryEvent>> for History {
    fn eq(&self, other: &Vec<HistoryEvent>) -> bool {
        self.events() == other.as_slice()
    }
}

impl PartialEq<History> for Vec<HistoryEvent> {
    fn eq(&self, other: &History) -> bool {
        self.as_slice() == other.events()
    }
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.events()).finish()
    }
}

/// How much history an execution records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryLevel {
    /// Every event, with AWS's details (the default). Required for stores and replay.
    #[default]
    Full,
    /// No events at all: the fastest mode, for benchmarks and fire-and-forget runs.
    Off,
}

macro_rules! event_types {
    ($($variant:ident => $details:expr;)*) => {
        /// The AWS `HistoryEventType` values the executor records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )*
        }

        impl EventType {
            /// The AWS name (`"PassStateEntered"`, …).
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => stringify!($variant),)* }
            }

            /// The key AWS uses for this type's details object, if it has one.
            pub fn details_key(self) -> Option<&'static str> {
                match self { $(EventType::$variant => $details,)* }
            }

            /// The type with this AWS name.
            pub fn from_name(name: &str) -> Option<EventType> {
                match name { $(stringify!($variant) => Some(EventType::$variant),)* _ => None }
            }
        }
    };
}

event_types! {
    ExecutionStarted => Some("executionStartedEventDetails");
    ExecutionSucceeded => Some("executionSucceededEventDetails");
    ExecutionFailed => Some("executionFailedEventDetails");
    ExecutionTimedOut => Some("executionTimedOutEventDetails");
    ExecutionAborted => Some("executionAbortedEventDetails");
    PassStateEntered => Some("stateEnteredEventDetails");
    PassStateExited => Some("stateExitedEventDetails");
    TaskStateEntered => Some("stateEnteredEventDetails");
    TaskStateExited => Some("stateExitedEventDetails");
    TaskStateAborted => Some("stateExitedEventDetails");
    ChoiceStateEntered => Some("stateEnteredEventDetails");
    ChoiceStateExited => Some("stateExitedEventDetails");
    WaitStateEntered => Some("stateEnteredEventDetails");
    WaitStateExited => Some("stateExitedEventDetails");
    WaitStateAborted => Some("stateExitedEventDetails");
    SucceedStateEntered => Some("stateEnteredEventDetails");
    SucceedStateExited => Some("stateExitedEventDetails");
    FailStateEntered => Some("stateEnteredEventDetails");
    ParallelStateEntered => Some("stateEnteredEventDetails");
    ParallelStateStarted => None;
    ParallelStateSucceeded => None;
    ParallelStateFailed => None;
    ParallelStateAborted => None;
    ParallelStateExited => Some("stateExitedEventDetails");
    MapStateEntered => Some("stateEnteredEventDetails");
    MapStateStarted => Some("mapStateStartedEventDetails");
    MapStateSucceeded => None;
    MapStateFailed => None;
    MapStateAborted => None;
    MapStateExited => Some("stateExitedEventDetails");
    MapIterationStarted => Some("mapIterationStartedEventDetails");
    MapIterationSucceeded => Some("mapIterationSucceededEventDetails");
    MapIterationFailed => Some("mapIterationFailedEventDetails");
    MapIterationAborted => Some("mapIterationAbortedEventDetails");
    MapRunStarted => Some("mapRunStartedEventDetails");
    MapRunSucceeded => None;
    MapRunFailed => Some("mapRunFailedEventDetails");
    MapRunAborted => None;
    TaskScheduled => Some("taskScheduledEventDetails");
    TaskStarted => Some("taskStartedEventDetails");
    TaskSucceeded => Some("taskSucceededEventDetails");
    TaskFailed => Some("taskFailedEventDetails");
    TaskTimedOut => Some("taskTimedOutEventDetails");
    LambdaFunctionScheduled => Some("lambdaFunctionScheduledEventDetails");
    LambdaFunctionStarted => None;
    LambdaFunctionSucceeded => Some("lambdaFunctionSucceededEventDetails");
    LambdaFunctionFailed => Some("lambdaFunctionFailedEventDetails");
    LambdaFunctionTimedOut => Some("lambdaFunctionTimedOutEventDetails");
    EvaluationFailed => Some("evaluationFailedEventDetails");
}

/// Why an [`EventSink`] could not store events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the history store failed: {0}")]
pub struct SinkError(pub String);

/// A boxed future returned by [`EventSink::append`].
pub type SinkFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// Where an execution's events go as they are recorded (a durable store, a log, …).
///
/// The executor calls `append` with the events recorded since the previous call, in id order,
/// and waits for it to complete **before** it performs the next effect: invoking a task handler,
/// sleeping (Wait, retry backoff), or reporting the outcome. A crash can therefore lose only
/// events whose effects never happened, apart from a task that was running (at-least-once). When
/// `append` fails the execution stops and fails with `States.Runtime`.
pub trait EventSink: Send + Sync {
    /// Stores `events` (never empty) durably, in order.
    fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a>;
}
