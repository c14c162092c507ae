//! `workflow resume --store PATH [NAME]`: continues every execution that is `RUNNING` in a store
//! (or the named one) after its process died, by replaying its recorded history. Recorded task
//! results are not produced again; a task that was running when the process died runs again.

use std::io::Write;
use std::sync::Arc;

use serde_json::{json, Value};
use workflow_runtime::store::{
    DurableRuntime, ExecutionRecord, ExecutionStatus, ListFilter, SqliteStore, Store,
};
use workflow_runtime::ExecutionOutcome;

use super::durable::{
    durable_exit_code, exit_code, open_store, recorded_outcome, store_exit_code, tokio_runtime,
    HandlerArgs, LimitArgs, StoreArg, SyncArg, EXIT_USAGE,
};
use super::OK;

/// Arguments of `workflow resume`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// `--sync normal|full`.
    #[command(flatten)]
    pub sync: SyncArg,
    /// Resume only this execution (default: every `RUNNING` one).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    handlers: HandlerArgs,
    /// `--handler STATE=COMMAND`, `--serve ADDR`, `--lambda-endpoint URL`, as for `run` (not
    /// recorded in the store: give them again to resume).
    #[command(flatten)]
    tasks: super::tasks::TaskArgs,
    /// `--history-limit N` (default: the one the execution was started with).
    #[command(flatten)]
    limits: LimitArgs,
}

/// One execution's result line: `{"name", "status", "output" | "error", "cause"}`.
pub fn result_line(name: &str, record: &ExecutionRecord) -> Value {
    let mut v = json!({"name": name, "status": record.status.as_str()});
    if let Some(output) = &record.output {
        v["output"] = output.clone();
    }
    if let Some(e) = &record.error {
        v["error"] = json!(e);
    }
    if let Some(c) = &record.cause {
        v["cause"] = json!(c);
    }
    v
}

/// The result line of an execution whose outcome the store could not record.
fn unrecorded_line(name: &str, outcome: &ExecutionOutcome) -> Value {
    let mut v = outcome.to_json();
    v["name"] = json!(name);
    v
}

/// Runs `workflow resume`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let store = match open_store(&args.store.store, args.sync.sync, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(resume(args, store, out, err))
}

async fn resume(
    args: &Args,
    store: Arc<SqliteStore>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let names = match &args.name {
        Some(name) => vec![name.clone()],
        None => match store
            .list_executions(ListFilter::with_status(ExecutionStatus::Running))
            .await
        {
            Ok(list) => list.into_iter().map(|s| s.name).collect(),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return store_exit_code(&e);
            }
        },
    };
    if names.is_empty() {
        let _ = writeln!(err, "no running executions to resume");
        return OK;
    }
    let dyn_store: Arc<dyn Store> = store.clone();
    let callbacks = Arc::new(workflow_runtime::Callbacks::new());
    let server = match &args.tasks.serve {
        Some(addr) => match super::serve::start(addr, Arc::clone(&callbacks)).await {
            Ok(server) => {
                let _ = writeln!(
                    err,
                    "workflow: serving SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat on http://{}",
                    server.addr
                );
                Some(server)
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let mut status = OK;
    let mut running = Vec::new();
    for name in names {
        let record = match store.describe_execution(&name).await {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                status = status.max(store_exit_code(&e));
                continue;
            }
        };
        if record.status.is_closed() {
            let _ = writeln!(err, "execution `{name}` is already {}", record.status);
            let _ = writeln!(out, "{}", result_line(&name, &record));
            if record.status != ExecutionStatus::Succeeded {
                status = status.max(EXIT_USAGE);
            }
            continue;
        }
        let mut builder = args
            .handlers
            .builder(&record.metadata)
            .callbacks(Arc::clone(&callbacks));
        let tasks = &args.tasks;
        if !tasks.handler.is_empty() || tasks.serve.is_some() || tasks.lambda_endpoint.is_some() {
            let definition: Value = serde_json::from_str(&record.definition).unwrap_or(Value::Null);
            let base = args.handlers.handler_set_for(&record.metadata);
            match super::tasks::handlers(base, &definition, tasks) {
                Ok(h) => builder = builder.handlers(h),
                Err(e) => {
                    let _ = writeln!(err, "error: {name}: {e}");
                    status = status.max(EXIT_USAGE);
                    continue;
                }
            }
        }
        let builder = args.limits.apply(builder, &record.metadata);
        // The outcome is read back from the store: the run keeps none of its events.
        let durable = DurableRuntime::new(builder, dyn_store.clone()).keep_history(false);
        match durable.resume_execution(&name).await {
            Ok(execution) => running.push(execution),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                status = status.max(durable_exit_code(&e));
            }
        }
    }
    // Every execution runs concurrently; report each as it is awaited.
    for execution in running {
        let name = execution.name().to_string();
        let outcome = execution.wait().await;
        let line = match recorded_outcome(store.as_ref(), &args.store.store, &name, outcome.clone())
            .await
        {
            Ok(recorded) => {
                status = status.max(exit_code(recorded.status));
                match store.describe_execution(&name).await {
                    Ok(record) => result_line(&name, &record),
                    Err(_) => unrecorded_line(&name, &recorded),
                }
            }
            Err(e) => {
                let _ = writeln!(err, "error: {}", e.message);
                status = status.max(e.code);
                unrecorded_line(&name, &outcome)
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if let Some(server) = server {
        server.close().await;
    }
    status
}
