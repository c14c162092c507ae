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

mod kind;
mod record;

pub use kind::{ErrorDetails, EventKind, MapIteration, StateType, TaskResource};
pub(crate) use record::Rec;

/// One history event: its position, its time, and what happened ([`EventKind`], typed details
/// per kind). AWS's JSON shape ([`HistoryEvent::to_aws_json`], [`HistoryEvent::write_aws_json`])
/// is a rendering of it.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use chrono::TimeZone;
/// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
/// let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
/// use workflow_runtime::{EventKind, HistoryEvent};
///
/// let entered: &HistoryEvent = &outcome.history.events()[1];
/// // As on AWS, the first state follows from event 0.
/// assert_eq!((entered.id, entered.previous_event_id), (2, 0));
/// assert_eq!(entered.event_type(), "PassStateEntered");
/// assert!(matches!(&entered.kind, EventKind::StateEntered { name, .. } if &**name == "P"));
/// assert_eq!(
///     entered.to_aws_json(),
///     json!({
///         "id": 2, "previousEventId": 0, "timestamp": "2024-01-01T00:00:00.000Z",
///         "type": "PassStateEntered",
///         "stateEnteredEventDetails": {"name": "P", "input": "{\"n\":1}", "inputDetails": {"truncated": false}}
///     })
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based position in the execution's history.
    pub id: u64,
    /// The event this one follows from, as AWS reports it (0 for the first).
    pub previous_event_id: u64,
    /// When the event happened (RFC 3339, UTC, millisecond precision).
    pub timestamp: String,
    /// What happened.
    pub kind: EventKind,
    /// The logical scope that produced the event (see the module docs).
    pub scope: String,
    /// The index of this event among its scope's events.
    pub seq: u64,
}

impl HistoryEvent {
    /// An event read from AWS's shape: its type name and details object (see
    /// [`EventKind::from_aws`]).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::HistoryEvent;
    ///
    /// let e = HistoryEvent::from_aws(
    ///     3,
    ///     2,
    ///     "2024-01-01T00:00:00.000Z".into(),
    ///     "PassStateExited",
    ///     Some(("stateExitedEventDetails".into(), json!({"name": "P", "output": "{}", "outputDetails": {"truncated": false}}))),
    /// );
    /// assert_eq!(e.event_type(), "PassStateExited");
    /// assert_eq!(e.kind.state_name(), Some("P"));
    /// ```
    pub fn from_aws(
        id: u64,
        previous_event_id: u64,
        timestamp: String,
        event_type: &str,
        details: Option<(String, Value)>,
    ) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_event_id,
            timestamp,
            kind: EventKind::from_aws(event_type, details),
            scope: String::new(),
            seq: 0,
        }
    }

    /// The AWS `HistoryEventType` name (`"PassStateEntered"`, `"TaskSucceeded"`, …).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// assert_eq!(outcome.history.events()[0].event_type(), "ExecutionStarted");
    /// # Ok(())
    /// # }
    /// ```
    pub fn event_type(&self) -> &str {
        self.kind.type_name()
    }

    /// The details object under the key AWS uses for this type (`"stateEnteredEventDetails"`,
    /// …), or `None` for types without details.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let (key, details) = outcome.history.events()[2].details().expect("PassStateExited has details");
    /// assert_eq!(key, "stateExitedEventDetails");
    /// assert_eq!(details["name"], "P");
    /// # Ok(())
    /// # }
    /// ```
    pub fn details(&self) -> Option<(String, Value)> {
        self.kind.details()
    }

    /// Appends the event as AWS's JSON text: `{"id", "previousEventId", "timestamp", "type",
    /// "<details key>": {…}}`, written directly (no intermediate JSON value).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let mut text = String::new();
    /// outcome.history.events()[3].write_aws_json(&mut text);
    /// assert!(text.starts_with(r#"{"id":4,"previousEventId":3,"timestamp":"2024-01-01T00:00:00.000Z","type":"ExecutionSucceeded""#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_aws_json(&self, out: &mut String) {
        out.push_str("{\"id\":");
        out.push_str(&self.id.to_string());
        out.push_str(",\"previousEventId\":");
        out.push_str(&self.previous_event_id.to_string());
        out.push_str(",\"timestamp\":");
        kind::write_str(&self.timestamp, out);
        out.push_str(",\"type\":");
        kind::write_str(self.kind.type_name(), out);
        if let Some(key) = self.kind.details_key() {
            out.push(',');
            kind::write_str(key, out);
            out.push(':');
            self.kind.write_details(out);
        }
        out.push('}');
    }

    /// The event as AWS's JSON shape, as a value.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let v = outcome.history.events()[3].to_aws_json();
    /// assert_eq!(v["executionSucceededEventDetails"]["output"], "{\"n\":1}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_aws_json(&self) -> Value {
        let mut text = String::new();
        self.write_aws_json(&mut text);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Serialised as AWS's shape plus `scope` and `seq`.
impl Serialize for HistoryEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut v = self.to_aws_json();
        if let Value::Object(o) = &mut v {
            o.insert("scope".into(), self.scope.clone().into());
            o.insert("seq".into(), self.seq.into());
        }
        v.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Value::deserialize(deserializer)?;
        let Value::Object(mut o) = v else {
            return Err(D::Error::custom("a history event must be a JSON object"));
        };
        let num = |o: &serde_json::Map<String, Value>, k: &str| o.get(k).and_then(Value::as_u64);
        let id = num(&o, "id").ok_or_else(|| D::Error::missing_field("id"))?;
        let prev = num(&o, "previousEventId").unwrap_or(0);
        let seq = num(&o, "seq").unwrap_or(0);
        let text = |o: &mut serde_json::Map<String, Value>, k: &str| match o.remove(k) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let timestamp = text(&mut o, "timestamp").unwrap_or_default();
        let event_type = text(&mut o, "type").ok_or_else(|| D::Error::missing_field("type"))?;
        let scope = text(&mut o, "scope").unwrap_or_default();
        let details = o.into_iter().find(|(k, _)| k.ends_with("EventDetails"));
        let mut ev = HistoryEvent::from_aws(id, prev, timestamp, &event_type, details);
        ev.scope = scope;
        ev.seq = seq;
        Ok(ev)
    }
}

/// An execution's whole history, as [`ExecutionOutcome::history`](crate::ExecutionOutcome).
///
/// While an execution runs its events are kept in a compact form; they are rendered to
/// [`HistoryEvent`]s (one JSON details object each) the first time the history is read, through
/// [`History::events`] or the slice it derefs to. [`History::len`] and [`History::event_types`]
/// do not render. Cloning is cheap (the events are shared).
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use chrono::TimeZone;
/// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
/// let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
/// let history = &outcome.history;
/// assert_eq!(history.len(), 4);
/// assert_eq!(history.event_types(), ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
/// // It derefs to the events.
/// assert_eq!(history[3].id, 4);
/// assert_eq!(history.iter().filter(|e| e.kind.state_name() == Some("P")).count(), 2);
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let events = outcome.history.events();
    /// assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// assert_eq!(outcome.history.len(), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.inner.prior.len() + self.inner.recs.len()
    }

    /// Whether there are no events (history off).
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// assert!(!outcome.history.is_empty());
    /// assert!(workflow_runtime::History::default().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The event types (`"PassStateEntered"`, …), in order, without rendering the events.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// assert_eq!(outcome.history.event_types()[1], "PassStateEntered");
    /// # Ok(())
    /// # }
    /// ```
    pub fn event_types(&self) -> Vec<&str> {
        let inner = &*self.inner;
        inner
            .prior
            .iter()
            .map(|e| e.event_type())
            .chain(inner.recs.iter().map(|r| r.kind.type_name()))
            .collect()
    }

    /// Writes the events as one JSON array of AWS-shaped events (what `workflow run --history
    /// --format json` prints under `"events"`), the same text as [`HistoryEvent::write_aws_json`]
    /// of each event. This run's events are written straight from their compact records (no
    /// [`HistoryEvent`] is built), a page at a time, so the memory it takes does not grow with
    /// the history.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let mut out = Vec::new();
    /// outcome.history.write_aws_json(&mut out)?;
    /// let events: serde_json::Value = serde_json::from_slice(&out)?;
    /// assert_eq!(events.as_array().map(Vec::len), Some(4));
    /// assert_eq!(events[3]["type"], "ExecutionSucceeded");
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_aws_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        const PAGE: usize = 64 * 1024;
        let inner = &*self.inner;
        let mut buf = String::with_capacity(PAGE + 4096);
        buf.push('[');
        let mut first = true;
        let mut next = |buf: &mut String| -> std::io::Result<()> {
            if !std::mem::take(&mut first) {
                buf.push(',');
            }
            if buf.len() >= PAGE {
                out.write_all(buf.as_bytes())?;
                buf.clear();
            }
            Ok(())
        };
        match inner.rendered.get() {
            Some(events) => {
                for e in events {
                    next(&mut buf)?;
                    e.write_aws_json(&mut buf);
                }
            }
            None => {
                for e in &inner.prior {
                    next(&mut buf)?;
                    e.write_aws_json(&mut buf);
                }
                let mut cache = record::RenderCache::default();
                for r in &inner.recs {
                    next(&mut buf)?;
                    r.write_aws_json(&mut buf, &mut cache);
                }
            }
        }
        buf.push(']');
        out.write_all(buf.as_bytes())
    }

    /// The events as an owned vector.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use chrono::TimeZone;
    /// # let start = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// # let outcome = Runtime::builder().start_time(start).build().run_machine(&machine, json!({"n": 1})).await?;
    /// let events = outcome.history.into_vec();
    /// assert_eq!(events.len(), 4);
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use workflow_runtime::{HistoryLevel, Runtime};
///
/// // `workflow run` without `--history`: nothing reads the events, but an execution still fails
/// // where AWS's quota of 25,000 events would end it.
/// let runtime = Runtime::builder().history(HistoryLevel::Count).build();
/// # drop(runtime);
/// assert_eq!(HistoryLevel::default(), HistoryLevel::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HistoryLevel {
    /// Every event, with AWS's details (the default). Required for stores and replay.
    #[default]
    Full,
    /// No events are kept, only counted: the outcome (status, output, error and cause) is that
    /// of [`HistoryLevel::Full`], the history's limit
    /// ([`RuntimeBuilder::history_limit`](crate::RuntimeBuilder::history_limit)) included, and
    /// [`ExecutionOutcome::history`](crate::ExecutionOutcome::history) is empty. For runs whose
    /// history nobody reads (`workflow run` without `--history`).
    Count,
    /// No events at all, and no limit on their number: the fastest mode, for benchmarks and
    /// fire-and-forget runs.
    Off,
}

macro_rules! event_types {
    ($($variant:ident => $details:expr_2021;)*) => {
        /// The AWS `HistoryEventType` values the executor records.
        ///
        /// ```
        /// use workflow_runtime::EventType;
        ///
        /// assert_eq!(EventType::TaskSucceeded.as_str(), "TaskSucceeded");
        /// assert_eq!(EventType::TaskSucceeded.details_key(), Some("taskSucceededEventDetails"));
        /// assert_eq!(EventType::from_name("MapRunStarted"), Some(EventType::MapRunStarted));
        /// assert_eq!(EventType::from_name("NoSuchEvent"), None);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )*
        }

        impl EventType {
            /// The AWS name (`"PassStateEntered"`, …).
            ///
            /// ```
            /// assert_eq!(workflow_runtime::EventType::WaitStateEntered.as_str(), "WaitStateEntered");
            /// ```
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => stringify!($variant),)* }
            }

            /// The key AWS uses for this type's details object, if it has one.
            ///
            /// ```
            /// use workflow_runtime::EventType;
            /// assert_eq!(EventType::ExecutionFailed.details_key(), Some("executionFailedEventDetails"));
            /// assert_eq!(EventType::ParallelStateStarted.details_key(), None);
            /// ```
            pub fn details_key(self) -> Option<&'static str> {
                match self { $(EventType::$variant => $details,)* }
            }

            /// The type with this AWS name.
            ///
            /// ```
            /// use workflow_runtime::EventType;
            /// assert_eq!(EventType::from_name("TaskFailed"), Some(EventType::TaskFailed));
            /// assert_eq!(EventType::from_name("taskfailed"), None); // exact AWS spelling
            /// ```
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
///
/// ```
/// let e = workflow_runtime::SinkError("disk full".into());
/// assert_eq!(e.to_string(), "the history store failed: disk full");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the history store failed: {0}")]
pub struct SinkError(pub String);

/// A boxed future returned by [`EventSink::append`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::history::SinkFuture;
///
/// let done: SinkFuture<'static> = Box::pin(async { Ok(()) });
/// done.await?;
/// # Ok(())
/// # }
/// ```
pub type SinkFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// Where an execution's events go as they are recorded (a durable store, a log, …).
///
/// The executor calls `append` with the events recorded since the previous call, in id order,
/// and waits for it to complete **before** it performs the next effect: invoking a task handler,
/// sleeping (Wait, retry backoff), or reporting the outcome. A crash can therefore lose only
/// events whose effects never happened, apart from a task that was running (at-least-once). When
/// `append` fails the execution stops and fails with `States.Runtime`.
///
/// A sink may also queue appends ([`EventSink::queues`]): the executor then hands it each
/// state's events as the state ends without waiting ([`EventSink::append_queued`]), so the sink
/// can store the events of several states in one write, and waits for every queued append to
/// complete before the next effect, as above. Each queued append is stored whole or not at all.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::{Arc, Mutex};
/// use serde_json::json;
/// use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
/// use workflow_runtime::{Runtime, StartOptions};
///
/// /// Keeps the types of the events it is given.
/// #[derive(Default)]
/// struct Types(Mutex<Vec<String>>);
///
/// impl EventSink for Types {
///     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
///         self.0.lock().unwrap().extend(events.iter().map(|e| e.event_type().to_string()));
///         Box::pin(async { Ok(()) })
///     }
/// }
///
/// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
/// let runtime = Runtime::default();
/// let sink = Arc::new(Types::default());
/// let outcome = runtime
///     .start(&runtime.program(&machine)?, json!({}), StartOptions::new().sink(sink.clone()))?
///     .await;
/// assert_eq!(*sink.0.lock().unwrap(), outcome.event_types());
/// # Ok(())
/// # }
/// ```
pub trait EventSink: Send + Sync {
    /// Stores `events` (never empty) durably, in order.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// # #[derive(Default)]
    /// # struct Keep(Mutex<Vec<HistoryEvent>>);
    /// # impl EventSink for Keep {
    /// #     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    /// #         self.0.lock().unwrap().extend_from_slice(events);
    /// #         Box::pin(async { Ok(()) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_runtime::history::HistoryEvent as E;
    ///
    /// let sink = Keep::default();
    /// let started = E::from_aws(1, 0, "2024-01-01T00:00:00.000Z".into(), "ExecutionStarted", None);
    /// sink.append(std::slice::from_ref(&started)).await?;
    /// assert_eq!(sink.0.lock().unwrap().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a>;

    /// Whether this sink takes queued appends ([`EventSink::append_queued`]). Default `false`.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// # #[derive(Default)]
    /// # struct Keep(Mutex<Vec<HistoryEvent>>);
    /// # impl EventSink for Keep {
    /// #     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    /// #         self.0.lock().unwrap().extend_from_slice(events);
    /// #         Box::pin(async { Ok(()) })
    /// #     }
    /// # }
    /// assert!(!Keep::default().queues()); // the default: every append is awaited
    /// ```
    fn queues(&self) -> bool {
        false
    }

    /// Queues `events` (never empty) to be stored after every append queued before them, and
    /// returns a future that completes once they are stored. The append is queued before this
    /// returns, whether or not the future is polled. Called only when
    /// [`EventSink::queues`] is `true`; the default refuses.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// # #[derive(Default)]
    /// # struct Keep(Mutex<Vec<HistoryEvent>>);
    /// # impl EventSink for Keep {
    /// #     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    /// #         self.0.lock().unwrap().extend_from_slice(events);
    /// #         Box::pin(async { Ok(()) })
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A sink that does not queue refuses queued appends.
    /// assert!(Keep::default().append_queued(Vec::new()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    fn append_queued(&self, events: Vec<HistoryEvent>) -> SinkFuture<'static> {
        drop(events);
        Box::pin(async { Err(SinkError("this sink does not queue appends".into())) })
    }

    /// Whether this sink keeps the progress of distributed Map Runs
    /// ([`EventSink::record_map_children`]). Default `false`: a resumed execution then runs
    /// every child of an unfinished Map Run again.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
    /// # #[derive(Default)]
    /// # struct Keep(Mutex<Vec<HistoryEvent>>);
    /// # impl EventSink for Keep {
    /// #     fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
    /// #         self.0.lock().unwrap().extend_from_slice(events);
    /// #         Box::pin(async { Ok(()) })
    /// #     }
    /// # }
    /// assert!(!Keep::default().keeps_map_progress());
    /// ```
    fn keeps_map_progress(&self) -> bool {
        false
    }

    /// Records finished children of the Map Run `run` (see [`crate::store::MapChild`]) and,
    /// unless `None`, where the Map Run stands after them ([`crate::store::MapRunState`]): the
    /// write is made or queued before this returns, after every append queued before it; the
    /// future completes once it is stored. Called only when [`EventSink::keeps_map_progress`]
    /// is `true`; the default stores nothing.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::history::EventSink;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, Store, StoreSink};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// // A sink over a store that keeps Map Run progress.
    /// let sink = StoreSink::new(store.clone(), "e-1");
    /// assert!(sink.keeps_map_progress());
    /// let done = MapChild {
    ///     index: 0,
    ///     input_hash: 1,
    ///     start_date: "2024-01-01T00:00:00.000Z".into(),
    ///     stop_date: "2024-01-01T00:00:01.000Z".into(),
    ///     outcome: MapChildOutcome::Succeeded("1".into()),
    /// };
    /// sink.record_map_children("run-1", vec![done], Some(MapRunState::default())).await?;
    /// assert_eq!(store.load_map_children("e-1", "run-1", 0, 10).await?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    fn record_map_children(
        &self,
        run: &str,
        children: Vec<crate::store::MapChild>,
        state: Option<crate::store::MapRunState>,
    ) -> SinkFuture<'static> {
        let _ = (run, children, state);
        Box::pin(async { Ok(()) })
    }

    /// The state last recorded with the children of the Map Run `run`, if any. The default has
    /// none.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::history::EventSink;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, Store, StoreSink};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// // A sink over a store that keeps Map Run progress.
    /// let sink = StoreSink::new(store.clone(), "e-1");
    /// assert!(sink.keeps_map_progress());
    /// let done = MapChild {
    ///     index: 0,
    ///     input_hash: 1,
    ///     start_date: "2024-01-01T00:00:00.000Z".into(),
    ///     stop_date: "2024-01-01T00:00:01.000Z".into(),
    ///     outcome: MapChildOutcome::Succeeded("1".into()),
    /// };
    /// sink.record_map_children("run-1", vec![done], Some(MapRunState::default())).await?;
    /// assert_eq!(sink.load_map_run("run-1").await?, Some(MapRunState::default()));
    /// assert_eq!(sink.load_map_run("run-2").await?, None);
    /// # Ok(())
    /// # }
    /// ```
    fn load_map_run<'a>(&'a self, run: &'a str) -> MapRunFuture<'a> {
        let _ = run;
        Box::pin(async { Ok(None) })
    }

    /// At most `limit` recorded children of the Map Run `run` from index `from` on, in index
    /// order. The default has none.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::history::EventSink;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, Store, StoreSink};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// // A sink over a store that keeps Map Run progress.
    /// let sink = StoreSink::new(store.clone(), "e-1");
    /// assert!(sink.keeps_map_progress());
    /// let done = MapChild {
    ///     index: 0,
    ///     input_hash: 1,
    ///     start_date: "2024-01-01T00:00:00.000Z".into(),
    ///     stop_date: "2024-01-01T00:00:01.000Z".into(),
    ///     outcome: MapChildOutcome::Succeeded("1".into()),
    /// };
    /// sink.record_map_children("run-1", vec![done], Some(MapRunState::default())).await?;
    /// let children = sink.load_map_children("run-1", 0, 100).await?;
    /// assert_eq!(children[0].outcome, MapChildOutcome::Succeeded("1".into()));
    /// # Ok(())
    /// # }
    /// ```
    fn load_map_children<'a>(
        &'a self,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> ChildrenFuture<'a> {
        let _ = (run, from, limit);
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A boxed future returned by [`EventSink::load_map_run`].
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::history::EventSink;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, Store, StoreSink};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # store.start_execution(NewExecution {
/// #     name: "e-1".into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # }).await?;
/// // A sink over a store that keeps Map Run progress.
/// let sink = StoreSink::new(store.clone(), "e-1");
/// assert!(sink.keeps_map_progress());
/// let done = MapChild {
///     index: 0,
///     input_hash: 1,
///     start_date: "2024-01-01T00:00:00.000Z".into(),
///     stop_date: "2024-01-01T00:00:01.000Z".into(),
///     outcome: MapChildOutcome::Succeeded("1".into()),
/// };
/// sink.record_map_children("run-1", vec![done], Some(MapRunState::default())).await?;
/// use workflow_runtime::history::MapRunFuture;
///
/// let state: MapRunFuture<'_> = sink.load_map_run("run-1");
/// assert!(state.await?.is_some());
/// # Ok(())
/// # }
/// ```
pub type MapRunFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<Option<crate::store::MapRunState>, SinkError>>
            + Send
            + 'a,
    >,
>;

/// A boxed future returned by [`EventSink::load_map_children`].
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::history::EventSink;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, Store, StoreSink};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # store.start_execution(NewExecution {
/// #     name: "e-1".into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # }).await?;
/// // A sink over a store that keeps Map Run progress.
/// let sink = StoreSink::new(store.clone(), "e-1");
/// assert!(sink.keeps_map_progress());
/// let done = MapChild {
///     index: 0,
///     input_hash: 1,
///     start_date: "2024-01-01T00:00:00.000Z".into(),
///     stop_date: "2024-01-01T00:00:01.000Z".into(),
///     outcome: MapChildOutcome::Succeeded("1".into()),
/// };
/// sink.record_map_children("run-1", vec![done], Some(MapRunState::default())).await?;
/// use workflow_runtime::history::ChildrenFuture;
///
/// let children: ChildrenFuture<'_> = sink.load_map_children("run-1", 0, 1);
/// assert_eq!(children.await?.len(), 1);
/// # Ok(())
/// # }
/// ```
pub type ChildrenFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<Vec<crate::store::MapChild>, SinkError>>
            + Send
            + 'a,
    >,
>;
