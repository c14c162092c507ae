//! `workflow stop --store PATH NAME`: records `ExecutionAborted` for an execution that is
//! `RUNNING` in the store, as AWS's `StopExecution`. A process still running it stops at its
//! next step (its next append is refused).

use std::io::Write;

use workflow_runtime::store::stop_execution;

use super::describe::record_json;
use super::durable::{open_store, status_of, tokio_runtime, StoreArg, SyncArg};
use super::OK;

/// Arguments of `workflow stop`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// `--sync normal|full`.
    #[command(flatten)]
    sync: SyncArg,
    /// The execution's name.
    #[arg(value_name = "NAME")]
    name: String,
    /// The error recorded in `ExecutionAborted`.
    #[arg(long)]
    error: Option<String>,
    /// The cause recorded in `ExecutionAborted`.
    #[arg(long)]
    cause: Option<String>,
}

/// Runs `workflow stop`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store(&args.store.store, args.sync.sync, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let stopped = rt.block_on(stop_execution(
        store.as_ref(),
        &args.name,
        args.error.clone(),
        args.cause.clone(),
    ));
    match stopped {
        Ok(record) => {
            let text = serde_json::to_string_pretty(&record_json(&record, false))
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
