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
    /// `time` keeps the last timestamp's text: consecutive events mostly share their millisecond.
    pub(crate) fn write_aws_json(&self, out: &mut String, time: &mut TimeText) {
        out.push_str("{\"id\":");
        push_u64(out, self.id);
        out.push_str(",\"previousEventId\":");
        push_u64(out, self.prev);
        out.push_str(",\"timestamp\":\"");
        if time.ms != Some(self.time_ms) {
            time.text.clear();
            write_ms(self.time_ms, &mut time.text);
            time.ms = Some(self.time_ms);
        }
        out.push_str(&time.text);
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
            self.kind.write_details(out);
        }
        out.push('}');
    }
}

/// The text of the last timestamp written (see [`Rec::write_aws_json`]).
#[derive(Debug, Default)]
pub(crate) struct TimeText {
    ms: Option<i64>,
    text: String,
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or("0"));
}
