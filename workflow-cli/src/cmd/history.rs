//! `workflow history --store PATH NAME`: an execution's event history, as a readable table
//! (default) or as AWS's `GetExecutionHistory` JSON (`--format json`).

use std::io::Write;

use clap::ValueEnum;
use serde_json::Value;
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::store::{EventText, Store};

use super::durable::{clip, open_store_read, status_of, tokio_runtime, StoreArg};
use super::{OK, UNREADABLE};

mod pretty;

/// How many events `history` reads and writes at a time: its memory does not grow with the
/// history's length.
const PAGE: usize = 1000;

/// Arguments of `workflow history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's name.
    #[arg(value_name = "NAME")]
    name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How `history` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per event: id, previous id, time, type, state, and the main detail.
    Table,
    /// `{"events": [...]}` as AWS's `GetExecutionHistory` returns it.
    Json,
}

/// The longest detail shown in a table cell.
const DETAIL_WIDTH: usize = 80;

/// The state name and the most telling detail of an event, for the table.
fn summary(ev: &HistoryEvent) -> (String, String) {
    let Some((_, details)) = ev.details() else {
        return (String::new(), String::new());
    };
    let name = details
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut parts = Vec::new();
    if let Some(index) = details.get("index") {
        parts.push(format!("index {}", text(index)));
    }
    for key in ["error", "cause"] {
        if let Some(v) = details.get(key) {
            parts.push(format!("{key}: {}", text(v)));
        }
    }
    if parts.is_empty() {
        for key in ["output", "input", "parameters", "resource", "length"] {
            if let Some(v) = details.get(key) {
                parts.push(format!("{key}: {}", text(v)));
                break;
            }
        }
    }
    (name, clip(&parts.join("  "), DETAIL_WIDTH))
}

/// The table rows of a history, with a header.
pub fn rows(events: &[HistoryEvent]) -> Vec<Vec<String>> {
    let mut rows = vec![["ID", "PREV", "TIMESTAMP", "TYPE", "STATE", "DETAILS"]
        .map(String::from)
        .to_vec()];
    for ev in events {
        let (state, detail) = summary(ev);
        rows.push(vec![
            ev.id.to_string(),
            ev.previous_event_id.to_string(),
            ev.timestamp.clone(),
            ev.event_type().to_string(),
            state,
            detail,
        ]);
    }
    rows
}

/// Runs `workflow history`; returns the exit status.
///
/// Events are read and written a page at a time ([`PAGE`]), so a history of millions of events
/// is printed in constant memory. The JSON output is the same as pretty-printing the whole
/// `{"events": [...]}` document; the table's columns are as wide as the widest cell of the
/// first page (a longer cell later widens only its own row).
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store_read(&args.store.store, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // The execution must exist even when its history is empty.
    if let Err(e) = rt.block_on(store.describe_execution(&args.name)) {
        let _ = writeln!(err, "error: {e}");
        return status_of(&e);
    }
    // Buffered: stdout is line-buffered, and a JSON history has a line per field.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let out: &mut dyn Write = &mut out;
    let written = match args.format {
        Format::Json => write_json(&rt, &store, &args.name, out),
        Format::Table => write_table(&rt, &*store, &args.name, out),
    };
    match written {
        Ok(()) => match out.flush() {
            Ok(()) => OK,
            Err(e) => write_failed(&e, err),
        },
        Err(Failed::Write(e)) => write_failed(&e, err),
        Err(Failed::Store(e)) => {
            // What was written is complete events only; the damage is reported, not shown.
            let _ = out.flush();
            let _ = writeln!(err, "error: {e}");
            status_of(&e)
        }
    }
}

/// Why printing a history stopped.
enum Failed {
    Store(workflow_runtime::store::StoreError),
    Write(std::io::Error),
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Failed {
        Failed::Write(e)
    }
}

/// The table, a page of typed events at a time.
fn write_table(
    rt: &tokio::runtime::Runtime,
    store: &dyn Store,
    name: &str,
    out: &mut dyn Write,
) -> Result<(), Failed> {
    let mut widths = Vec::new();
    let mut after = 0;
    loop {
        let page = rt
            .block_on(store.load_events_page(name, after, PAGE))
            .map_err(Failed::Store)?;
        let mut rows = rows(&page);
        if after == 0 {
            widths = self::widths(&rows);
        } else {
            rows.remove(0);
        }
        for row in &rows {
            write_row(out, row, &widths)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.id,
            _ => return Ok(()),
        }
    }
}

/// `{"events": [...]}` in serde_json's pretty layout, from the stored text of each event (the
/// typed details are not built: the text is what they render to). Each page is rendered into one
/// buffer and written whole; the store's thread reads the next page meanwhile.
fn write_json(
    rt: &tokio::runtime::Runtime,
    store: &workflow_runtime::store::SqliteStore,
    name: &str,
    out: &mut dyn Write,
) -> Result<(), Failed> {
    let mut next = Some(store.load_event_texts_page(name, 0, PAGE));
    let mut first = true;
    let mut buf = Vec::new();
    while let Some(pending) = next.take() {
        let page = rt.block_on(pending).map_err(Failed::Store)?;
        if let Some(last) = page.last().filter(|_| page.len() == PAGE) {
            next = Some(store.load_event_texts_page(name, last.id, PAGE));
        }
        buf.clear();
        for ev in page.iter() {
            let complete = buf.len();
            buf.extend_from_slice(if std::mem::take(&mut first) {
                b"{\n  \"events\": [\n    "
            } else {
                b",\n    "
            });
            if let Err(why) = write_event(&ev, &mut buf) {
                // What is printed is complete events only; the damage is reported, not shown.
                buf.truncate(complete);
                out.write_all(&buf)?;
                return Err(Failed::Store(
                    workflow_runtime::store::StoreError::Corrupt {
                        path: store.path().to_string(),
                        detail: format!(
                            "event {} of execution `{name}` has unreadable details: {why}",
                            ev.id
                        ),
                    },
                ));
            }
        }
        out.write_all(&buf)?;
    }
    if first {
        writeln!(out, "{{\n  \"events\": []\n}}")?;
    } else {
        writeln!(out, "\n  ]\n}}")?;
    }
    Ok(())
}

/// One event as serde_json's pretty printer writes it two levels deep: its fields, then its
/// details' stored text re-indented ([`pretty::reindent`], or serde_json for what that leaves to
/// it). The error says why the details are not JSON.
fn write_event(ev: &EventText<'_>, out: &mut Vec<u8>) -> Result<(), String> {
    out.extend_from_slice(b"{\n      \"id\": ");
    pretty::push_u64(out, ev.id);
    out.extend_from_slice(b",\n      \"previousEventId\": ");
    pretty::push_u64(out, ev.previous_event_id);
    out.extend_from_slice(b",\n      \"timestamp\": ");
    pretty::push_string(out, ev.timestamp);
    out.extend_from_slice(b",\n      \"type\": ");
    pretty::push_string(out, ev.event_type);
    if let Some((key, text)) = ev.details {
        out.extend_from_slice(b",\n      ");
        pretty::push_string(out, key);
        out.extend_from_slice(b": ");
        let start = out.len();
        if !pretty::reindent(text, 3, out) {
            out.truncate(start);
            pretty::transcode(text, 3, out)?;
        }
    }
    out.extend_from_slice(b"\n    }");
    Ok(())
}

fn write_failed(e: &std::io::Error, err: &mut dyn Write) -> u8 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return OK;
    }
    let _ = writeln!(err, "error: cannot write the output: {e}");
    UNREADABLE
}

fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// One table line: cells left-aligned to `widths`, two spaces apart, the last unpadded.
fn write_row(out: &mut dyn Write, row: &[String], widths: &[usize]) -> std::io::Result<()> {
    let mut line = String::new();
    for (c, cell) in row.iter().enumerate() {
        line.push_str(cell);
        if c + 1 < row.len() {
            let width = widths.get(c).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, ty: &str, details: Option<(&str, Value)>) -> HistoryEvent {
        HistoryEvent {
            seq: id - 1,
            ..HistoryEvent::from_aws(
                id,
                id - 1,
                "2024-01-01T00:00:00.000Z".into(),
                ty,
                details.map(|(k, v)| (k.to_string(), v)),
            )
        }
    }

    #[test]
    fn the_table_shows_state_names_and_the_main_detail() {
        let long = "x".repeat(200);
        let events = [
            ev(
                1,
                "ExecutionStarted",
                Some((
                    "executionStartedEventDetails",
                    json!({"input": "{}", "roleArn": "r"}),
                )),
            ),
            ev(
                2,
                "TaskStateEntered",
                Some((
                    "stateEnteredEventDetails",
                    json!({"name": "Charge", "input": "{\"a\":1}"}),
                )),
            ),
            ev(
                3,
                "TaskFailed",
                Some((
                    "taskFailedEventDetails",
                    json!({"error": "E", "cause": long, "resource": "r"}),
                )),
            ),
            ev(
                4,
                "MapIterationStarted",
                Some((
                    "mapIterationStartedEventDetails",
                    json!({"name": "M", "index": 3}),
                )),
            ),
            ev(5, "ParallelStateStarted", None),
        ];
        let rows = rows(&events);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[1][5], "input: {}");
        assert_eq!(rows[2][4], "Charge");
        assert_eq!(rows[2][5], "input: {\"a\":1}");
        assert!(rows[3][5].starts_with("error: E  cause: xxx"));
        assert_eq!(rows[3][5].chars().count(), DETAIL_WIDTH);
        assert_eq!(rows[4][5], "index 3");
        assert_eq!(rows[5][4..], ["", ""]);
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use std::sync::Arc;
    use workflow_runtime::store::{DurableRuntime, NewExecution, SqliteStore, Store};
    use workflow_runtime::Runtime;

    /// The old way: each typed event rendered compact, then re-indented whole.
    fn from_typed(events: &[HistoryEvent]) -> String {
        let mut out = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            out.extend_from_slice(if i == 0 {
                b"{\n  \"events\": [\n    "
            } else {
                b",\n    "
            });
            let mut text = String::new();
            ev.write_aws_json(&mut text);
            let mut de = serde_json::Deserializer::from_str(&text);
            let mut ser = serde_json::Serializer::with_formatter(&mut out, pretty::Nested::at(2));
            serde_transcode::transcode(&mut de, &mut ser).expect("transcodes");
        }
        out.extend_from_slice(b"\n  ]\n}\n");
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every kind of event a run records, pages included, prints as the typed events render:
    /// the stored text is what the typed details render to.
    #[test]
    fn the_stored_text_prints_as_the_typed_events() {
        let definition = serde_json::json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true,
                  "Next": "W"}], "Default": "F"},
            "W": {"Type": "Wait", "Seconds": 0, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "ResultPath": "$.p",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "M"}],
                  "Branches": [
                      {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                      {"StartAt": "X", "States": {"X": {"Type": "Fail", "Error": "E\"1",
                          "Cause": "tab\tnew\nline é ✓"}}}]},
            "M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.m",
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
                  "Next": "S"},
            "S": {"Type": "Succeed"},
            "F": {"Type": "Fail"}}});
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("h.db");
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        let store = Arc::new(SqliteStore::open(&path).expect("opens"));
        let items: Vec<usize> = (0..(PAGE / 3)).collect();
        let outcome = tokio.block_on(async {
            DurableRuntime::new(Runtime::builder(), store.clone())
                .start(NewExecution {
                    name: "all".into(),
                    definition: definition.to_string(),
                    input: serde_json::json!({"go": true, "items": items, "s": "\u{1}\\/\"<>"}),
                    metadata: Value::Null,
                })
                .await
                .expect("starts")
                .wait()
                .await
        });
        assert!(outcome.succeeded(), "{:?}", outcome.to_json());
        let events = tokio
            .block_on(store.load_events_page("all", 0, usize::MAX))
            .expect("reads");
        assert!(events.len() > PAGE, "more than a page: {}", events.len());

        let mut printed = Vec::new();
        match write_json(&tokio, &store, "all", &mut printed) {
            Ok(()) => {}
            Err(Failed::Store(e)) => panic!("{e}"),
            Err(Failed::Write(e)) => panic!("{e}"),
        }
        assert_eq!(
            String::from_utf8(printed).expect("UTF-8"),
            from_typed(&events)
        );
    }
}
