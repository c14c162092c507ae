//! The form in which a run keeps the events it records: the typed [`EventKind`] with its time in
//! milliseconds, turned into a [`HistoryEvent`] (formatting the timestamp) only when the history
//! is read.

use std::sync::Arc;

use super::kind::{write_plain, write_str};
use super::{EventKind, HistoryEvent, MapIteration, StateType};
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
    pub(crate) kind: RecKind,
}

/// An [`EventKind`] as a record keeps it: the state and Map iteration events (nearly all of a
/// long history) inline in 40 bytes, any other kind boxed. An `EventKind` takes 120 bytes (its
/// `Other` variant holds a JSON value), and a long history's records are written, read back
/// and freed one by one: at 88 bytes a record instead of 168, half the memory to go through.
#[derive(Debug, Clone)]
pub(crate) enum RecKind {
    /// `StateEntered` (`entered`) or `StateExited` of a type that has one.
    State {
        entered: bool,
        state_type: StateType,
        name: Arc<str>,
        /// The input or output.
        text: Arc<str>,
    },
    /// `MapIterationStarted` (0), `…Succeeded` (1), `…Failed` (2), `…Aborted` (3).
    Iteration {
        phase: u8,
        name: Arc<str>,
        index: usize,
    },
    /// Any other kind.
    Boxed(Box<EventKind>),
}

impl From<EventKind> for RecKind {
    #[inline]
    fn from(kind: EventKind) -> RecKind {
        let iteration = |phase: u8, m: MapIteration| RecKind::Iteration {
            phase,
            name: m.name,
            index: m.index,
        };
        match kind {
            EventKind::StateEntered {
                state_type,
                name,
                input,
            } => RecKind::State {
                entered: true,
                state_type,
                name,
                text: input,
            },
            EventKind::StateExited {
                state_type,
                name,
                output,
            } if state_type.exited().is_some() => RecKind::State {
                entered: false,
                state_type,
                name,
                text: output,
            },
            EventKind::MapIterationStarted(m) => iteration(0, m),
            EventKind::MapIterationSucceeded(m) => iteration(1, m),
            EventKind::MapIterationFailed(m) => iteration(2, m),
            EventKind::MapIterationAborted(m) => iteration(3, m),
            other => RecKind::Boxed(Box::new(other)),
        }
    }
}

impl RecKind {
    /// The kind, as an [`EventKind`].
    pub(crate) fn to_kind(&self) -> EventKind {
        match self {
            RecKind::State {
                entered: true,
                state_type,
                name,
                text,
            } => EventKind::StateEntered {
                state_type: *state_type,
                name: Arc::clone(name),
                input: Arc::clone(text),
            },
            RecKind::State {
                entered: false,
                state_type,
                name,
                text,
            } => EventKind::StateExited {
                state_type: *state_type,
                name: Arc::clone(name),
                output: Arc::clone(text),
            },
            RecKind::Iteration { phase, name, index } => {
                let m = MapIteration {
                    name: Arc::clone(name),
                    index: *index,
                };
                match phase {
                    0 => EventKind::MapIterationStarted(m),
                    1 => EventKind::MapIterationSucceeded(m),
                    2 => EventKind::MapIterationFailed(m),
                    _ => EventKind::MapIterationAborted(m),
                }
            }
            RecKind::Boxed(kind) => (**kind).clone(),
        }
    }

    /// The AWS type name, as [`EventKind::type_name`].
    pub(crate) fn type_name(&self) -> &str {
        match self {
            RecKind::State {
                entered: true,
                state_type,
                ..
            } => state_type.entered().as_str(),
            RecKind::State { state_type, .. } => {
                state_type.exited().map_or("", super::EventType::as_str)
            }
            RecKind::Iteration { phase, .. } => match phase {
                0 => "MapIterationStarted",
                1 => "MapIterationSucceeded",
                2 => "MapIterationFailed",
                _ => "MapIterationAborted",
            },
            RecKind::Boxed(kind) => kind.type_name(),
        }
    }
}

impl Rec {
    /// The event as a [`HistoryEvent`].
    pub(crate) fn render(&self) -> HistoryEvent {
        HistoryEvent {
            id: self.id,
            previous_event_id: self.prev,
            timestamp: format_ms(self.time_ms),
            kind: self.kind.to_kind(),
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
        match &self.kind {
            // The state and iteration events (most of a history) written here, as
            // `write_details` writes them, the payload through the cache.
            RecKind::State {
                entered,
                name,
                text,
                ..
            } => {
                write_plain(self.kind.type_name(), out);
                out.push_str(if *entered {
                    ",\"stateEnteredEventDetails\":{\"name\":"
                } else {
                    ",\"stateExitedEventDetails\":{\"name\":"
                });
                write_str(name, out);
                out.push_str(if *entered {
                    ",\"input\":"
                } else {
                    ",\"output\":"
                });
                cache.payload(text, out);
                out.push_str(if *entered {
                    ",\"inputDetails\":{\"truncated\":false}}"
                } else {
                    ",\"outputDetails\":{\"truncated\":false}}"
                });
            }
            RecKind::Iteration { phase, name, index } => {
                out.push_str(match phase {
                    0 => "\"MapIterationStarted\",\"mapIterationStartedEventDetails\":{\"name\":",
                    1 => {
                        "\"MapIterationSucceeded\",\"mapIterationSucceededEventDetails\":{\"name\":"
                    }
                    2 => "\"MapIterationFailed\",\"mapIterationFailedEventDetails\":{\"name\":",
                    _ => "\"MapIterationAborted\",\"mapIterationAbortedEventDetails\":{\"name\":",
                });
                write_str(name, out);
                out.push_str(",\"index\":");
                push_u64(out, *index as u64);
                out.push('}');
            }
            RecKind::Boxed(kind) => {
                // This model's names need no escape; a foreign event's (`Other`) might.
                let name: fn(&str, &mut String) = if matches!(**kind, EventKind::Other { .. }) {
                    write_str
                } else {
                    write_plain
                };
                name(kind.type_name(), out);
                if let Some(key) = kind.details_key() {
                    out.push(',');
                    name(key, out);
                    out.push(':');
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
