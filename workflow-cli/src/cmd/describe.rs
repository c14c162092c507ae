//! `workflow describe --store PATH NAME`: one execution's status, input, output, error and
//! cause, as JSON (the shape of AWS's `DescribeExecution`, with input and output as JSON values
//! rather than strings).

use std::io::Write;

use serde_json::{json, Value};
use workflow_runtime::store::{ExecutionRecord, Store};

use super::durable::{open_store_read, status_of, tokio_runtime, StoreArg};
use super::OK;

/// Arguments of `workflow describe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's name.
    #[arg(value_name = "NAME")]
    name: String,
    /// Include the state machine definition.
    #[arg(long)]
    definition: bool,
}

/// An execution record as JSON.
pub fn record_json(r: &ExecutionRecord, with_definition: bool) -> Value {
    let mut v = json!({
        "name": r.name,
        "status": r.status.as_str(),
        "startDate": r.start_date,
        "input": r.input,
        "eventCount": r.event_count,
    });
    let fields = [
        ("stopDate", r.stop_date.clone().map(Value::from)),
        ("output", r.output.clone()),
        ("error", r.error.clone().map(Value::from)),
        ("cause", r.cause.clone().map(Value::from)),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            v[key] = value;
        }
    }
    if with_definition {
        v["definition"] = serde_json::from_str(&r.definition)
            .unwrap_or_else(|_| Value::String(r.definition.clone()));
    }
    v
}

/// Runs `workflow describe`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store_read(&args.store.store, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(store.describe_execution(&args.name)) {
        Ok(record) => {
            let text = serde_json::to_string_pretty(&record_json(&record, args.definition))
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            let _ = writeln!(out, "{text}");
            OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            status_of(&e)
        }
    }
}
