//! Execution history: events shaped like Step Functions' `GetExecutionHistory` output.
//!
//! Each event has an `id` (1-based, in append order), the `previousEventId` AWS reports, a
//! timestamp, a type named exactly as AWS's `HistoryEventType`, and the type's details object
//! (`passStateEnteredEventDetails`, `executionFailedEventDetails`, …) as JSON.
//!
//! Besides AWS's fields every event carries a `scope` and a `seq`: the logical position that
//! produced it (`""` for the top level, `"b1"` for Parallel branch 1, `"b1/i7"` for Map iteration 7
//! inside it, …) and its index among that scope's events. A replayed execution produces the same
//! `(scope, seq)` keys in the same order within each scope, whatever the interleaving of
//! concurrent branches; this is what lets a resumed execution recognise what it already recorded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
