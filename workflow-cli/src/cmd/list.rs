//! `workflow list --store PATH`: the executions in a store, oldest first.

use std::io::Write;

use clap::ValueEnum;
use workflow_runtime::store::{ExecutionStatus, ListFilter, Store};

use super::durable::{open_store_read, status_of, table, tokio_runtime, StoreArg};
use super::{OK, UNREADABLE};

/// Arguments of `workflow list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// Only executions with this status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED).
    #[arg(long, value_parser = parse_status, value_name = "STATUS")]
    status: Option<ExecutionStatus>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How `list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns: name, status, start, stop, events.
    Table,
    /// One JSON array of `{name, status, startDate, stopDate, eventCount}`.
    Json,
}

/// Parses a status as AWS spells it (any case).
pub fn parse_status(s: &str) -> Result<ExecutionStatus, String> {
    s.parse()
}

/// Runs `workflow list`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store_read(&args.store.store, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let filter = ListFilter {
        status: args.status,
        limit: None,
    };
    let list = match rt.block_on(store.list_executions(filter)) {
        Ok(list) => list,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return status_of(&e);
        }
    };
    let written = match args.format {
        Format::Json => serde_json::to_string_pretty(&list)
            .map_err(std::io::Error::other)
            .and_then(|text| writeln!(out, "{text}")),
        Format::Table => {
            let mut rows = vec![["NAME", "STATUS", "START", "STOP", "EVENTS"]
                .map(String::from)
                .to_vec()];
            for s in &list {
                rows.push(vec![
                    s.name.clone(),
                    s.status.to_string(),
                    s.start_date.clone(),
                    s.stop_date.clone().unwrap_or_else(|| "-".into()),
                    s.event_count.to_string(),
                ]);
            }
            table(out, &rows)
        }
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
