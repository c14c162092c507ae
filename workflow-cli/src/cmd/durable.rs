//! What the durable-execution commands (`run --store`, `resume`, `list`, `describe`, `history`,
//! `stop`) share: the `--store` option, opening the store, the handlers recorded with an
//! execution, and a tokio runtime to drive the async store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use serde_json::{json, Value};
use workflow_runtime::store::{
    DurableError, DurableRuntime, NewExecution, SqliteOptions, SqliteStore, Store, StoreError,
    SyncPolicy, SEED_KEY,
};
use workflow_runtime::{ExecutionOutcome, ExecutionStatus, RuntimeBuilder};

use super::{builtin, INVALID, UNREADABLE};

/// Exit status of `run` and `resume`: the execution succeeded.
pub const EXIT_SUCCEEDED: u8 = 0;
/// Exit status of `run` and `resume`: the execution failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status of `run` and `resume`: bad input or usage (unreadable file, invalid definition,
/// input that is not JSON, unknown or closed execution name).
pub const EXIT_USAGE: u8 = 2;
/// Exit status of `run` and `resume`: the execution timed out.
pub const EXIT_TIMED_OUT: u8 = 3;
/// Exit status of `run` and `resume`: the execution was aborted (`workflow stop`).
pub const EXIT_ABORTED: u8 = 4;
/// Exit status of `run` and `resume`: the store failed (disk full, locked, damaged); the
/// execution stays `RUNNING` in the store and `workflow resume` continues it.
pub const EXIT_STORE_FAILED: u8 = 5;
/// Exit status of `run` and `resume`: another live process owns the execution.
pub const EXIT_OWNED: u8 = 6;

/// The exit status for an execution that ended with `status` (`RUNNING`: the store failed).
pub fn exit_code(status: ExecutionStatus) -> u8 {
    match status {
        ExecutionStatus::Succeeded => EXIT_SUCCEEDED,
        ExecutionStatus::Failed => EXIT_FAILED,
        ExecutionStatus::TimedOut => EXIT_TIMED_OUT,
        ExecutionStatus::Aborted => EXIT_ABORTED,
        // Not closed (`RUNNING`, or a status added later): the store holds it open, and
        // `workflow resume` continues it.
        _ => EXIT_STORE_FAILED,
    }
}

/// The exit status of `run` or `resume` for an execution that could not be started or resumed.
pub fn durable_exit_code(e: &DurableError) -> u8 {
    match e {
        DurableError::Store(e) => store_exit_code(e),
        DurableError::Definition { .. } | DurableError::Version { .. } => EXIT_USAGE,
        DurableError::Start { .. } => EXIT_USAGE,
        // A kind added later: the store's fault, so the execution stays resumable.
        _ => EXIT_STORE_FAILED,
    }
}

/// The exit status of `run` or `resume` for a store error.
pub fn store_exit_code(e: &StoreError) -> u8 {
    match e {
        StoreError::Owned { .. } => EXIT_OWNED,
        StoreError::Corrupt { .. }
        | StoreError::UnsupportedVersion { .. }
        | StoreError::Storage { .. }
        | StoreError::Conflict { .. } => EXIT_STORE_FAILED,
        StoreError::NotFound(_)
        | StoreError::InvalidName { .. }
        | StoreError::AlreadyExists { .. }
        | StoreError::Closed { .. } => EXIT_USAGE,
        _ => EXIT_STORE_FAILED,
    }
}

/// What went wrong with a stored run: the exit status and the message.
#[derive(Debug)]
pub struct RunError {
    /// The exit status.
    pub code: u8,
    /// The message for the user.
    pub message: String,
}

impl From<String> for RunError {
    /// An unusable argument (exit status 2).
    fn from(message: String) -> Self {
        RunError {
            code: EXIT_USAGE,
            message,
        }
    }
}

/// The message of a stored run whose store failed: the execution is still `RUNNING` there.
pub fn still_running_message(store: &Path, name: &str, why: &str) -> String {
    format!(
        "the store failed: {why}\nexecution `{name}` is still RUNNING in {} and can be \
         continued with `workflow resume --store {} {name}`",
        store.display(),
        store.display()
    )
}

/// The `--store PATH` option.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The store file (SQLite): where executions and their histories are kept.
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
}

/// When a store's commits reach the disk (`--sync`), for the commands that write to a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SyncMode {
    /// SQLite `synchronous=NORMAL`: a commit survives a crash of the process (kill -9, panic);
    /// after a power loss or an OS crash the commits since the last checkpoint may be lost (the
    /// store still opens consistent, and those executions resume from the earlier point).
    #[default]
    Normal,
    /// SQLite `synchronous=FULL`: every commit is flushed to the disk before the executor goes
    /// on, so it survives a power loss too. Slower (one fsync per state; concurrent executions
    /// share them).
    Full,
}

impl SyncMode {
    /// The store's policy.
    pub fn policy(self) -> SyncPolicy {
        match self {
            SyncMode::Normal => SyncPolicy::Normal,
            SyncMode::Full => SyncPolicy::Full,
        }
    }
}

/// The `--sync` option of the commands that write to a store (`resume`, `stop`).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct SyncArg {
    /// When commits reach the disk: `normal` survives a crash of the process, `full` a power
    /// loss too (one fsync per state).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = SyncMode::Normal)]
    pub sync: SyncMode,
}

/// The `--store PATH --name NAME --sync WHEN` options of `workflow run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunStoreArgs {
    /// Record the execution in this store file (SQLite; created if missing), committing every
    /// state's events before the next state starts and every event before the executor acts on
    /// it, so that `workflow resume` can finish it if this process dies.
    ///
    /// Not with `--mock-config`: a stored execution must be resumable by `workflow resume` in
    /// another process, which knows only what the store holds, and a history whose task results
    /// came from mocks would pass for a real run. Test durability with `--handlers builtin`.
    #[arg(long, value_name = "PATH", conflicts_with = "mock_config")]
    pub store: Option<PathBuf>,
    /// With `--store`: when commits reach the disk: `normal` survives a crash of the process,
    /// `full` a power loss too (one fsync per state).
    #[arg(long, value_enum, value_name = "WHEN", requires = "store")]
    pub sync: Option<SyncMode>,
    /// The execution's name (`$$.Execution.Name`). In a store, starting a name again with the
    /// same input continues that execution if it is still running; a different input, or a
    /// finished execution, is an error (as AWS's `StartExecution`). Default: a generated name
    /// (a UUID without `--store`, `run-<unix ms>-<pid>` with it).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Starts (or continues) the execution `name` of `definition` in the store at `path` and waits
/// for its outcome. Errors are messages for the user.
#[allow(clippy::too_many_arguments)]
pub async fn run_stored(
    path: &Path,
    name: Option<&str>,
    sync: Option<SyncMode>,
    handlers: &HandlerArgs,
    limits: LimitArgs,
    seed: Option<u64>,
    definition: &str,
    input: Value,
    configure: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder,
) -> Result<ExecutionOutcome, RunError> {
    // A store that cannot be opened is an unusable argument: nothing was started.
    let store =
        SqliteStore::open_with(path, options(sync.unwrap_or_default())).map_err(|e| RunError {
            code: EXIT_USAGE,
            message: e.to_string(),
        })?;
    let store: Arc<dyn Store> = Arc::new(store);
    let mut metadata = handlers.to_metadata();
    if let Some(seed) = seed {
        metadata[SEED_KEY] = json!(seed);
    }
    limits.record(&mut metadata);
    let name = name.map(str::to_string).unwrap_or_else(generated_name);
    let builder = limits.apply(
        configure(handlers.apply(RuntimeBuilder::default())),
        &metadata,
    );
    // The run keeps none of its events: they are in the store, and what the output needs
    // (the outcome, `--history`) is read back from there, so memory does not grow with the
    // history.
    let durable = DurableRuntime::new(builder, store.clone()).keep_history(false);
    let execution = durable
        .start(NewExecution {
            name: name.clone(),
            definition: definition.to_string(),
            input,
            metadata,
        })
        .await
        .map_err(|e| RunError {
            code: durable_exit_code(&e),
            message: e.to_string(),
        })?;
    let outcome = execution.wait().await;
    recorded_outcome(store.as_ref(), path, &name, outcome).await
}

/// The outcome as the store recorded it: the store is the truth (a run stopped by `workflow
/// stop` reports ABORTED, not the failure of its last append). An execution the store still
/// holds as `RUNNING` is a store failure: it can be resumed.
pub async fn recorded_outcome(
    store: &dyn Store,
    path: &Path,
    name: &str,
    mut outcome: ExecutionOutcome,
) -> Result<ExecutionOutcome, RunError> {
    match store.describe_execution(name).await {
        Ok(record) => match record.status.is_closed() {
            true => {
                outcome.status = record.status;
                outcome.output = record.output;
                outcome.error = record.error;
                outcome.cause = record.cause;
                Ok(outcome)
            }
            false => Err(RunError {
                code: EXIT_STORE_FAILED,
                message: still_running_message(
                    path,
                    name,
                    outcome
                        .cause
                        .as_deref()
                        .unwrap_or("the outcome was not recorded"),
                ),
            }),
        },
        Err(e) => Err(RunError {
            code: EXIT_STORE_FAILED,
            message: still_running_message(path, name, &e.to_string()),
        }),
    }
}

/// A name for an execution started without `--name`: `run-<unix milliseconds>-<process id>`.
pub fn generated_name() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("run-{ms}-{}", std::process::id())
}

/// The `--history-limit N` and `--payload-limit BYTES` options of `run` and `resume`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct LimitArgs {
    /// The most events an execution's history may hold: past it the execution fails with
    /// `States.Runtime` (default 25000, AWS's quota; 0 for no limit, for local bulk runs AWS
    /// would refuse). Recorded with a stored execution, so `resume` keeps it unless given again.
    #[arg(long, value_name = "N")]
    pub history_limit: Option<u64>,
    /// The largest input, output or result in bytes: larger ones fail with
    /// `States.DataLimitExceeded` (default 262144, AWS's quota of 256 KiB; raise it for local
    /// bulk runs AWS would refuse). Recorded with a stored execution, as `--history-limit`.
    #[arg(long, value_name = "BYTES")]
    pub payload_limit: Option<usize>,
}

/// The metadata key under which a stored execution keeps its `--history-limit`.
const HISTORY_LIMIT_KEY: &str = "historyLimit";

/// The metadata key under which a stored execution keeps its `--payload-limit`.
const PAYLOAD_LIMIT_KEY: &str = "payloadLimit";

impl LimitArgs {
    /// `builder` with these limits, else the ones recorded in `meta`, else the defaults.
    pub fn apply(&self, builder: RuntimeBuilder, meta: &Value) -> RuntimeBuilder {
        let recorded = meta.get(HISTORY_LIMIT_KEY).and_then(Value::as_u64);
        let builder = match self.history_limit.or(recorded) {
            Some(n) => builder.history_limit(n),
            None => builder,
        };
        let recorded = meta
            .get(PAYLOAD_LIMIT_KEY)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        match self.payload_limit.or(recorded) {
            Some(n) => builder.payload_limit(n),
            None => builder,
        }
    }

    /// Records the limits in a stored execution's metadata.
    pub fn record(&self, meta: &mut Value) {
        if let Some(n) = self.history_limit {
            meta[HISTORY_LIMIT_KEY] = json!(n);
        }
        if let Some(n) = self.payload_limit {
            meta[PAYLOAD_LIMIT_KEY] = json!(n);
        }
    }
}

/// Which task handlers an execution runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HandlerSet {
    /// No handlers: a Task state without a mock fails.
    None,
    /// The built-in functions `echo`, `sleep`, `fail`, `flaky` and `add` (Lambda ARNs of those
    /// names).
    Builtin,
}

/// The task handler options of `run` and `resume`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HandlerArgs {
    /// Task handlers: `builtin` registers the built-in functions `echo`, `sleep`, `fail`,
    /// `flaky` and `add` for Lambda ARNs of those names. Recorded with a stored execution, so
    /// `resume` uses the same set unless told otherwise.
    #[arg(long, value_enum, value_name = "SET")]
    pub handlers: Option<HandlerSet>,
    /// Append one JSON line per built-in task invocation to FILE (recorded like `--handlers`).
    #[arg(long, value_name = "FILE")]
    pub task_log: Option<PathBuf>,
}

impl HandlerArgs {
    /// The handler choice as stored in an execution's metadata.
    pub fn to_metadata(&self) -> Value {
        let mut meta = json!({});
        if let Some(set) = self.handlers {
            meta["handlers"] = json!(set_name(set));
        }
        if let Some(log) = &self.task_log {
            // Absolute, so that `resume` from another directory writes to the same file.
            let log = std::path::absolute(log).unwrap_or_else(|_| log.clone());
            meta["taskLog"] = json!(log.display().to_string());
        }
        meta
    }

    /// The chosen handlers (empty without `--handlers`).
    pub fn handler_set(&self) -> workflow_runtime::Handlers {
        match self.handlers {
            Some(HandlerSet::Builtin) => builtin::handlers(self.task_log.clone()),
            Some(HandlerSet::None) | None => workflow_runtime::Handlers::new(),
        }
    }

    /// The handlers for an execution whose metadata is `meta`: these options where given, else
    /// what the metadata recorded.
    pub fn handler_set_for(&self, meta: &Value) -> workflow_runtime::Handlers {
        let set = self.handlers.or_else(|| {
            meta.get("handlers")
                .and_then(Value::as_str)
                .and_then(|s| HandlerSet::from_str(s, true).ok())
        });
        let log = self.task_log.clone().or_else(|| {
            meta.get("taskLog")
                .and_then(Value::as_str)
                .map(PathBuf::from)
        });
        match set {
            Some(HandlerSet::Builtin) => builtin::handlers(log),
            Some(HandlerSet::None) | None => workflow_runtime::Handlers::new(),
        }
    }

    /// `builder` with the chosen handlers registered.
    pub fn apply(&self, builder: RuntimeBuilder) -> RuntimeBuilder {
        match self.handlers {
            Some(HandlerSet::Builtin) => builder.handlers(builtin::handlers(self.task_log.clone())),
            Some(HandlerSet::None) | None => builder,
        }
    }

    /// A runtime builder for an execution whose metadata is `meta`: these options where given,
    /// else what the metadata recorded.
    pub fn builder(&self, meta: &Value) -> RuntimeBuilder {
        RuntimeBuilder::default().handlers(self.handlers_for(meta))
    }

    /// The handlers [`HandlerArgs::builder`] registers: these options, else those recorded in
    /// the execution's metadata `meta`.
    pub fn handlers_for(&self, meta: &Value) -> workflow_runtime::Handlers {
        let set = self.handlers.or_else(|| {
            meta.get("handlers")
                .and_then(Value::as_str)
                .and_then(|s| HandlerSet::from_str(s, true).ok())
        });
        let log = self.task_log.clone().or_else(|| {
            meta.get("taskLog")
                .and_then(Value::as_str)
                .map(PathBuf::from)
        });
        match set {
            Some(HandlerSet::Builtin) => builtin::handlers(log),
            Some(HandlerSet::None) | None => workflow_runtime::Handlers::new(),
        }
    }
}

fn set_name(set: HandlerSet) -> &'static str {
    match set {
        HandlerSet::None => "none",
        HandlerSet::Builtin => "builtin",
    }
}

/// Opens the existing store at `path` for reading only (`list`, `describe`, `history`,
/// `check`): nothing in it changes, and a store the process may not write can be read. On
/// failure the message is written to `err` and the exit status returned.
pub fn open_store_read(path: &Path, err: &mut dyn Write) -> Result<Arc<SqliteStore>, u8> {
    let options = SqliteOptions {
        read_only: true,
        ..SqliteOptions::default()
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = writeln!(err, "error: there is no store at {}", path.display());
            return Err(UNREADABLE);
        }
        _ => {}
    }
    SqliteStore::open_with(path, options)
        .map(Arc::new)
        .map_err(|e| {
            let _ = writeln!(err, "error: {e}");
            status_of(&e)
        })
}

/// How the CLI opens a store with the sync policy `sync`.
fn options(sync: SyncMode) -> SqliteOptions {
    SqliteOptions {
        sync: sync.policy(),
        ..SqliteOptions::default()
    }
}

/// Opens the existing store at `path` (a missing file is an error: only `run --store` creates
/// stores) with the sync policy `sync`. On failure the message is written to `err` and the exit
/// status returned.
pub fn open_store(
    path: &Path,
    sync: SyncMode,
    err: &mut dyn Write,
) -> Result<Arc<SqliteStore>, u8> {
    if let Err(e) = std::fs::metadata(path) {
        if e.kind() == std::io::ErrorKind::NotFound {
            let _ = writeln!(err, "error: there is no store at {}", path.display());
            return Err(UNREADABLE);
        }
    }
    SqliteStore::open_with(path, options(sync))
        .map(Arc::new)
        .map_err(|e| {
            let _ = writeln!(err, "error: {e}");
            status_of(&e)
        })
}

/// The exit status for a store error: damaged or unreadable stores are `UNREADABLE`, refusals
/// (unknown name, closed execution, …) `INVALID`.
pub fn status_of(e: &StoreError) -> u8 {
    match e {
        StoreError::Corrupt { .. }
        | StoreError::UnsupportedVersion { .. }
        | StoreError::Storage { .. } => UNREADABLE,
        _ => INVALID,
    }
}

/// A tokio runtime for one command.
pub fn tokio_runtime(err: &mut dyn Write) -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            UNREADABLE
        })
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Prints rows as left-aligned columns separated by two spaces (the last column unpadded).
pub fn table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[c].saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters() {
        for (text, max, want) in [
            ("abc", 3, "abc"),
            ("abcd", 3, "ab…"),
            ("ééééé", 4, "ééé…"),
            ("", 0, ""),
        ] {
            assert_eq!(clip(text, max), want);
        }
    }

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        table(
            &mut out,
            &[
                vec!["A".into(), "BB".into(), "C".into()],
                vec!["long".into(), "x".into(), "tail".into()],
            ],
        )
        .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "A     BB  C\nlong  x   tail\n"
        );
    }

    /// `workflow run`'s arguments, parsed on their own.
    #[derive(Debug, clap::Parser)]
    struct RunCli {
        #[command(flatten)]
        run: super::super::run::Args,
    }

    /// `workflow resume`'s arguments, parsed on their own.
    #[derive(Debug, clap::Parser)]
    struct ResumeCli {
        #[command(flatten)]
        resume: super::super::resume::Args,
    }

    #[test]
    fn sync_and_store_options_parse_and_conflict_as_documented() {
        use clap::error::ErrorKind;
        use clap::Parser;

        let run = |args: &[&str]| {
            RunCli::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
                .map(|c| c.run.durable.sync)
                .map_err(|e| e.kind())
        };
        for (args, want) in [
            (&["m.json", "--store", "s.db"][..], Ok(None)),
            (
                &["m.json", "--store", "s.db", "--sync", "full"][..],
                Ok(Some(SyncMode::Full)),
            ),
            (
                &["m.json", "--store", "s.db", "--sync", "normal"][..],
                Ok(Some(SyncMode::Normal)),
            ),
            (
                &["m.json", "--sync", "full"][..],
                Err(ErrorKind::MissingRequiredArgument),
            ),
            (
                &["m.json", "--store", "s.db", "--sync", "sometimes"][..],
                Err(ErrorKind::InvalidValue),
            ),
            // A stored execution cannot use mocks (see `RunStoreArgs::store`).
            (
                &[
                    "m.json",
                    "--store",
                    "s.db",
                    "--mock-config",
                    "mocks.json",
                    "--test-case",
                    "Happy",
                ][..],
                Err(ErrorKind::ArgumentConflict),
            ),
        ] {
            assert_eq!(run(args), want, "{args:?}");
        }
        let resume = |args: &[&str]| {
            ResumeCli::try_parse_from(std::iter::once("resume").chain(args.iter().copied()))
                .map(|c| c.resume.sync.sync)
                .map_err(|e| e.kind())
        };
        assert_eq!(resume(&["--store", "s.db"]), Ok(SyncMode::Normal));
        assert_eq!(
            resume(&["--store", "s.db", "--sync", "full"]),
            Ok(SyncMode::Full)
        );
        assert_eq!(SyncMode::Full.policy(), SyncPolicy::Full);
        assert_eq!(SyncMode::default().policy(), SyncPolicy::default());
    }

    #[test]
    fn handler_choice_round_trips_through_metadata() {
        let args = HandlerArgs {
            handlers: Some(HandlerSet::Builtin),
            task_log: Some(PathBuf::from("/tmp/log.jsonl")),
        };
        let meta = args.to_metadata();
        assert_eq!(meta["handlers"], "builtin");
        assert_eq!(meta["taskLog"], "/tmp/log.jsonl");
        assert_eq!(HandlerArgs::default().to_metadata(), json!({}));
    }
}
