//! `workflow history --store PATH NAME`: an execution's event history, as a readable table
//! (default) or as AWS's `GetExecutionHistory` JSON (`--format json`).

use std::io::Write;

use clap::ValueEnum;
use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::store::Store;

use super::durable::{clip, open_store, status_of, table, tokio_runtime, StoreArg, SyncMode};
use super::{OK, UNREADABLE};

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
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store(&args.store.store, SyncMode::Normal, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let events = match rt.block_on(store.load_events(&args.name)) {
        Ok(events) => events,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return status_of(&e);
        }
    };
    let written = match args.format {
        Format::Json => {
            let doc =
                json!({"events": events.iter().map(HistoryEvent::to_aws_json).collect::<Vec<_>>()});
            serde_json::to_string_pretty(&doc)
                .map_err(std::io::Error::other)
                .and_then(|text| writeln!(out, "{text}"))
        }
        Format::Table => table(out, &rows(&events)),
    };
    match written {
        Ok(()) => OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write the output: {e}");
            UNREADABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
