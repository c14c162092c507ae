//! The form in which a run keeps the events it records: the typed [`EventKind`] with its time in
//! milliseconds, turned into a [`HistoryEvent`] (formatting the timestamp) only when the history
//! is read.

use std::sync::Arc;

use super::kind::{write_plain, write_str};
use super::{EventKind, HistoryEvent};
use crate::clock::{format_ms, write_ms};

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

    /// Writes the event as AWS's JSON text, as [`HistoryEvent::write_aws_json`] writes its
    /// rendering, without building the [`HistoryEvent`] (no timestamp string, no copies).
    /// `cache` keeps the last timestamp's text (consecutive events mostly share their
    /// millisecond) and the last payload's escaped text (a state's `…Exited` output is mostly
    /// the next `…Entered` input, the same text: escaped once, then copied).
    pub(crate) fn write_aws_json(&self, out: &mut String, cache: &mut RenderCache) {
        out.push_str("{\"id\":");
        push_u64(out, self.id);
        out.push_str(",\"previousEventId\":");
        push_u64(out, self.prev);
        out.push_str(",\"timestamp\":\"");
        if cache.ms != Some(self.time_ms) {
            cache.time.clear();
            write_ms(self.time_ms, &mut cache.time);
            cache.ms = Some(self.time_ms);
        }
        out.push_str(&cache.time);
        out.push_str("\",\"type\":");
        // This model's names need no escape; a foreign event's (`Other`) might.
        let name: fn(&str, &mut String) = if matches!(self.kind, EventKind::Other { .. }) {
            write_str
        } else {
            write_plain
        };
        name(self.kind.type_name(), out);
        if let Some(key) = self.kind.details_key() {
            out.push(',');
            name(key, out);
            out.push(':');
            // The state events (most of a history) written here, as `write_details` writes
            // them, with their payload through the cache.
            match &self.kind {
                EventKind::StateEntered {
                    name: state, input, ..
                } => {
                    out.push_str("{\"name\":");
                    write_str(state, out);
                    out.push_str(",\"input\":");
                    cache.payload(input, out);
                    out.push_str(",\"inputDetails\":{\"truncated\":false}}");
                }
                EventKind::StateExited {
                    name: state,
                    output,
                    ..
                } => {
                    out.push_str("{\"name\":");
                    write_str(state, out);
                    out.push_str(",\"output\":");
                    cache.payload(output, out);
                    out.push_str(",\"outputDetails\":{\"truncated\":false}}");
                }
                kind => {
                    kind.write_details(out);
                }
            }
        }
        out.push('}');
    }
}

/// What [`Rec::write_aws_json`] keeps from one event to the next.
#[derive(Debug, Default)]
pub(crate) struct RenderCache {
    /// The last timestamp, and its text.
    ms: Option<i64>,
    time: String,
    /// The last payload written (its address, compared, never read: the events that hold it
    /// are borrowed while the cache is used), and its escaped text.
    payload: Option<*const str>,
    escaped: String,
}

impl RenderCache {
    /// Appends `text` as a JSON string: escaped, or copied when the same text (the same
    /// allocation) was written last.
    fn payload(&mut self, text: &Arc<str>, out: &mut String) {
        let at = Arc::as_ptr(text);
        if self.payload.is_some_and(|last| std::ptr::eq(last, at)) {
            out.push_str(&self.escaped);
            return;
        }
        let start = out.len();
        write_str(text, out);
        self.escaped.clear();
        self.escaped.push_str(&out[start..]);
        self.payload = Some(at);
    }
}

/// Appends the decimal digits of `n`.
#[inline]
pub(crate) fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}
