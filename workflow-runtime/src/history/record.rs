//! The form in which a run keeps the events it records: the typed [`EventKind`] with its time in
//! milliseconds, turned into a [`HistoryEvent`] (formatting the timestamp) only when the history
//! is read.

use std::sync::Arc;

use super::{EventKind, HistoryEvent};
use crate::clock::format_ms;

/// One event recorded by this run.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) id: u64,
    pub(crate) prev: u64,
    pub(crate) time_ms: i64,
    /// `None` for the top level (`""`): most events, recorded without touching a shared count.
    pub(crate) scope: Option<Arc<str>>,
    pub(crate) seq: u64,
    pub(crate) kind: EventKind,
}

impl Rec {
    /// The event as a [`HistoryEvent`].
    pub(crate) fn render(&self) -> HistoryEvent {
        HistoryEvent {
            id: self.id,
            previous_event_id: self.prev,
            timestamp: format_ms(self.time_ms),
            kind: self.kind.clone(),
            scope: self.scope.as_deref().unwrap_or("").to_string(),
            seq: self.seq,
        }
    }
}
