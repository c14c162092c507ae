//! `workflow run FILE --input JSON|@PATH`: run a definition locally and print its outcome.
//!
//! Exit status: 0 when the execution succeeded, 1 when it failed, 2 when the arguments cannot be
//! used (unreadable file, input that is not JSON, bad mock file) or the definition is invalid,
//! 3 when it timed out, 4 when it was aborted; with `--store`, 5 when the store failed (the
//! execution stays `RUNNING` there and `workflow resume` continues it) and 6 when another live
//! process owns the execution.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::Value;
use std::sync::Arc;

use workflow_runtime::{Callbacks, ExecutionOutcome, Handlers, MockConfig, Runtime, StartOptions};

use super::{read_text, UNREADABLE};

/// Arguments of `workflow run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file (Amazon States Language JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The execution input: JSON text, or `@PATH` to read it from a file. Default: `{}`.
    #[arg(long, value_name = "JSON|@PATH")]
    pub input: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also print the execution history (AWS `GetExecutionHistory` events).
    #[arg(long)]
    pub history: bool,
    /// Run on a virtual clock: Wait states, retry backoff and timeouts take no real time.
    #[arg(long)]
    pub virtual_time: bool,
    /// An AWS Step Functions Local mock configuration file (`MockConfigFile.json`).
    #[arg(long, value_name = "FILE", requires = "test_case")]
    pub mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to use.
    #[arg(long, value_name = "NAME", requires = "mock_config")]
    pub test_case: Option<String>,
    /// The state machine name in the mock configuration (default: the one that has the test case).
    #[arg(long, value_name = "NAME")]
    pub state_machine: Option<String>,
    /// Seed for retry jitter, `States.UUID` and `States.MathRandom` (a fixed seed gives the same
    /// run every time).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Local S3 for Distributed Map (`ItemReader`, `ResultWriter`): `s3://BUCKET/KEY` is the
    /// file `DIR/BUCKET/KEY`.
    #[arg(long, value_name = "DIR")]
    pub s3_root: Option<PathBuf>,
    /// `--store PATH --name NAME`: a durable, named execution.
    #[command(flatten)]
    pub durable: super::durable::RunStoreArgs,
    /// `--handlers builtin --task-log FILE`: built-in task handlers.
    #[command(flatten)]
    pub handlers: super::durable::HandlerArgs,
    /// `--substitute NAME=VALUE`, `--substitutions FILE.json`: fill in `${NAME}` placeholders.
    #[command(flatten)]
    pub substitutions: super::substitute::SubstituteArgs,
    /// `--handler STATE=COMMAND`, `--serve ADDR`: commands as task handlers, callbacks.
    #[command(flatten)]
    pub tasks: super::tasks::TaskArgs,
    /// `--history-limit N`.
    #[command(flatten)]
    pub limits: super::durable::LimitArgs,
}

/// How `run` prints the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The status, then the output or the error and cause, for people.
    Human,
    /// One JSON object: `{"status", "output"}` or `{"status", "error", "cause"}` (+ `"events"`).
    Json,
}

/// Runs `workflow run`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match prepare(args) {
        Ok((runtime, program_text, input, tasks)) => {
            execute(args, runtime, &program_text, input, tasks, out, err)
        }
        Err(why) => {
            let _ = writeln!(err, "error: {why}");
            UNREADABLE
        }
    }
}

/// What `--handler` and `--serve` add to a runtime: the callbacks' registry and the handlers.
struct Tasks {
    callbacks: Arc<Callbacks>,
    handlers: Option<Handlers>,
}

/// Reads the definition, the input and the mocks; any problem is an unusable argument.
fn prepare(args: &Args) -> Result<(Runtime, String, Value, Tasks), String> {
    let name = args.file.display();
    let text = read_text(&args.file)
        .and_then(|t| args.substitutions.apply(t))
        .map_err(|why| format!("{name}: {why}"))?;
    let input = match &args.input {
        None => Value::Object(serde_json::Map::new()),
        Some(arg) => {
            let (source, text) = match arg.strip_prefix('@') {
                Some(path) => (
                    path.to_string(),
                    read_text(std::path::Path::new(path))
                        .map_err(|why| format!("{path}: {why}"))?,
                ),
                None => ("--input".to_string(), arg.clone()),
            };
            // A large input is read on all cores; when that finds anything wrong, the serial
            // read below reports it.
            match workflow_runtime::json_text::read(&text) {
                Some(input) => input,
                None => {
                    // Numbers serde_json would change (integers beyond 64 bits, 1e-400) are
                    // refused rather than run with another value.
                    workflow_asl::limits::check_numbers(&text)
                        .map_err(|e| format!("{source}: {e}"))?;
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{source}: the input is not valid JSON: {e}"))?
                }
            }
        }
    };
    let mut builder = Runtime::builder();
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let (Some(path), Some(case)) = (&args.mock_config, &args.test_case) {
        let mock_text = read_text(path).map_err(|why| format!("{}: {why}", path.display()))?;
        let config: MockConfig = mock_text
            .parse()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let test_case = match &args.state_machine {
            Some(machine) => config.test_case(machine, case),
            None => config.find_test_case(case),
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
        builder = builder.mocks(test_case);
    }
    if let Some(dir) = &args.s3_root {
        if !dir.is_dir() {
            return Err(format!(
                "--s3-root {}: not a directory (its subdirectories are the S3 buckets)",
                dir.display()
            ));
        }
        builder = builder.objects(std::sync::Arc::new(
            workflow_runtime::objects::DirObjects::new(dir),
        ));
    }
    builder = args.handlers.apply(builder);
    builder = args.limits.apply(builder, &Value::Null);
    if !args.history && args.durable.store.is_none() {
        // Nothing reads the events: count them for the history's limit, keep none.
        builder = builder.history(workflow_runtime::HistoryLevel::Count);
    }
    let callbacks = Arc::new(Callbacks::new());
    builder = builder.callbacks(Arc::clone(&callbacks));
    let mut handlers = None;
    if !args.tasks.handler.is_empty()
        || args.tasks.serve.is_some()
        || args.tasks.lambda_endpoint.is_some()
    {
        // A definition that is not JSON is reported when it is loaded.
        if let Ok(definition) = serde_json::from_str::<Value>(&text) {
            let base = args.handlers.handler_set();
            let with = super::tasks::handlers(base, &definition, &args.tasks)?;
            builder = builder.handlers(with.clone());
            handlers = Some(with);
        }
    }
    Ok((
        builder.build(),
        text,
        input,
        Tasks {
            callbacks,
            handlers,
        },
    ))
}

fn execute(
    args: &Args,
    runtime: Runtime,
    text: &str,
    input: Value,
    tasks: Tasks,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let name = args.file.display();
    // Placeholders left are accepted: a mocked or handled Task needs no real ARN.
    let machine = match workflow_asl::load_with(text, &super::placeholder_options()) {
        Ok(m) => m,
        Err(diagnostics) => {
            let _ = writeln!(err, "{name}: the definition is invalid:");
            for d in diagnostics {
                let _ = writeln!(err, "  {d}");
            }
            return UNREADABLE;
        }
    };
    let program = match runtime.program(&machine) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "{name}: {e}");
            return UNREADABLE;
        }
    };
    let mut tokio = tokio::runtime::Builder::new_current_thread();
    tokio.enable_all();
    if args.virtual_time {
        tokio.start_paused(true);
    }
    let tokio = match tokio.build() {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            return UNREADABLE;
        }
    };
    // A stored execution's name is chosen here, so that its history can be read back.
    let stored_name = args.durable.store.as_ref().map(|_| {
        args.durable
            .name
            .clone()
            .unwrap_or_else(super::durable::generated_name)
    });
    let result = tokio.block_on(async {
        // The callback server listens before the first state starts, and closes at the end.
        let server = match &args.tasks.serve {
            Some(addr) => {
                let server = super::serve::start(addr, Arc::clone(&tasks.callbacks)).await?;
                eprintln!(
                    "workflow: serving SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat on http://{}",
                    server.addr
                );
                Some(server)
            }
            None => None,
        };
        let outcome = run_execution(
            args,
            stored_name.as_deref(),
            &runtime,
            &program,
            text,
            input,
            &tasks,
        )
        .await;
        if let Some(server) = server {
            server.close().await;
        }
        outcome
    });
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "error: {}", e.message);
            return e.code;
        }
    };
    // The events: a stored run kept none in memory; they are read from the store a page at a
    // time.
    let events = match (&args.durable.store, &stored_name) {
        (Some(path), Some(name)) if args.history => {
            match super::durable::open_store_read(path, err) {
                Ok(store) => Events::Stored {
                    store,
                    name,
                    tokio: &tokio,
                },
                Err(code) => return code,
            }
        }
        _ => Events::Memory(&outcome.history),
    };
    let printed = match args.format {
        Format::Json => print_json(&outcome, args.history.then_some(&events), out),
        Format::Human => print_human(&outcome, args.history.then_some(&events), out),
    };
    // A reader that stopped early (`workflow run … | head`) closed the pipe: nothing to report,
    // and the exit status still says how the execution ended.
    if let Err(e) = printed.and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(err, "error: cannot write the output: {e}");
        }
    }
    let code = super::durable::exit_code(outcome.status);
    // The process ends next: freeing the output and the history value by value (a million-item
    // Map's results, a long history) would only delay the exit.
    std::mem::forget(outcome);
    code
}

/// Runs the execution, stored (`--store`) or in memory.
async fn run_execution(
    args: &Args,
    stored_name: Option<&str>,
    runtime: &Runtime,
    program: &Arc<workflow_runtime::Program>,
    text: &str,
    input: Value,
    tasks: &Tasks,
) -> Result<ExecutionOutcome, super::durable::RunError> {
    if let Some(store) = &args.durable.store {
        let name = stored_name;
        let sync = args.durable.sync;
        return super::durable::run_stored(
            store,
            name,
            sync,
            &args.handlers,
            args.limits,
            args.seed,
            text,
            input,
            |b| {
                let b = b.callbacks(Arc::clone(&tasks.callbacks));
                match &tasks.handlers {
                    Some(h) => b.handlers(h.clone()),
                    None => b,
                }
            },
        )
        .await;
    }
    let options = match &args.durable.name {
        Some(name) => StartOptions::new().name(name),
        None => StartOptions::new(),
    };
    let execution =
        runtime
            .start(program, input, options)
            .map_err(|e| super::durable::RunError {
                code: UNREADABLE,
                message: e.to_string(),
            })?;
    Ok(execution.await)
}

/// The events `--history` prints.
enum Events<'a> {
    /// The run's own (an execution in memory).
    Memory(&'a workflow_runtime::History),
    /// A stored execution's, read from its store a page at a time.
    Stored {
        store: Arc<workflow_runtime::store::SqliteStore>,
        name: &'a str,
        tokio: &'a tokio::runtime::Runtime,
    },
}

impl Events<'_> {
    /// Calls `each` with every event in id order.
    fn for_each(
        &self,
        each: &mut dyn FnMut(&workflow_runtime::history::HistoryEvent) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use workflow_runtime::store::Store;
        match self {
            Events::Memory(history) => history.iter().try_for_each(each),
            Events::Stored { store, name, tokio } => {
                const PAGE: usize = 1_000;
                let mut after = 0;
                loop {
                    let page = tokio
                        .block_on(store.load_events_page(name, after, PAGE))
                        .map_err(std::io::Error::other)?;
                    page.iter().try_for_each(&mut *each)?;
                    match page.last() {
                        Some(last) if page.len() == PAGE => after = last.id,
                        _ => return Ok(()),
                    }
                }
            }
        }
    }
}

fn print_json(
    outcome: &ExecutionOutcome,
    events: Option<&Events<'_>>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let Some(events) = events else {
        // Buffered: serde_json writes many small pieces, which a line-buffered stdout would
        // each scan for a newline.
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut *out);
        outcome.write_json(&mut w)?;
        w.write_all(b"\n")?;
        return w.flush();
    };
    // `{…, "events": [...]}`: the outcome's fields, then the history written as JSON text: a
    // run in memory straight from its records, a stored run a page at a time from its store.
    let mut text = Vec::new();
    outcome.write_json(&mut text)?;
    let fields = text.strip_suffix(b"}").unwrap_or(b"{");
    out.write_all(fields)?;
    out.write_all(if fields.len() > 1 {
        b",\"events\":"
    } else {
        b"\"events\":"
    })?;
    match events {
        Events::Memory(history) => history.write_aws_json(out)?,
        stored => {
            let mut out = std::io::BufWriter::new(&mut *out);
            out.write_all(b"[")?;
            let mut first = true;
            let mut buf = String::new();
            stored.for_each(&mut |e| {
                buf.clear();
                if !std::mem::take(&mut first) {
                    buf.push(',');
                }
                e.write_aws_json(&mut buf);
                out.write_all(buf.as_bytes())
            })?;
            out.write_all(b"]")?;
            out.flush()?;
        }
    }
    writeln!(out, "}}")
}

fn print_human(
    outcome: &ExecutionOutcome,
    events: Option<&Events<'_>>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if let Some(events) = events {
        events.for_each(&mut |e| {
            let details = e.details().map(|(_, v)| v.to_string()).unwrap_or_default();
            writeln!(
                out,
                "{:>4}  {}  {:<28} {}",
                e.id,
                e.timestamp,
                e.event_type(),
                details
            )
        })?;
        writeln!(out)?;
    }
    writeln!(out, "{}", outcome.status.as_str())?;
    if let Some(output) = &outcome.output {
        let text = serde_json::to_string_pretty(output).unwrap_or_else(|_| output.to_string());
        writeln!(out, "{text}")?;
    }
    if !outcome.succeeded() {
        if let Some(e) = &outcome.error {
            writeln!(out, "error: {e}")?;
        }
        if let Some(c) = &outcome.cause {
            writeln!(out, "cause: {c}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("workflow-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn run_with(argv: &[&str]) -> (u8, String, String) {
        let cli = Cli::try_parse_from(std::iter::once("run").chain(argv.iter().copied()))
            .expect("arguments parse");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(&cli.args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(err).expect("utf-8"),
        )
    }

    const MACHINE: &str = r#"{"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 86400, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:F", "End": true}}}"#;

    #[test]
    fn s3_root_is_local_s3_for_distributed_map() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("in")).expect("bucket");
        std::fs::write(root.path().join("in/items.csv"), "n,w\n1,a\n2,b\n").expect("object");
        let def = temp(
            "dmap.json",
            r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                  "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                  "Parameters": {"Bucket": "in", "Key": "items.csv"}},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                  "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                  "Parameters": {"Bucket": "out", "Prefix": "runs"}}}}}"#,
        );
        let def = def.to_str().expect("utf-8 path");
        let dir = root.path().to_str().expect("utf-8 path");
        let (code, out, err) = run_with(&[def, "--format", "json", "--s3-root", dir]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(out.trim()).expect("JSON");
        let key = v["output"]["ResultWriterDetails"]["Key"]
            .as_str()
            .expect("a key");
        assert!(
            key.starts_with("runs/") && key.ends_with("/manifest.json"),
            "{key}"
        );
        let results = key.replace("manifest.json", "SUCCEEDED_0.json");
        let text =
            std::fs::read_to_string(root.path().join("out").join(&results)).expect("results");
        let results: Value = serde_json::from_str(&text).expect("JSON");
        let outputs: Vec<&str> = results
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|r| r["Output"].as_str())
            .collect();
        assert_eq!(outputs.len(), 2);
        assert!(outputs.contains(&r#"{"n":"2","w":"b"}"#), "{outputs:?}");

        // Without --s3-root the state fails, and the cause names the flag.
        let (code, out, _) = run_with(&[def, "--format", "json"]);
        assert_eq!(code, 1);
        assert!(
            out.contains("States.ItemReaderFailed") && out.contains("--s3-root"),
            "{out}"
        );

        let (code, _, err) = run_with(&[def, "--s3-root", "/no/such/dir"]);
        assert_eq!(code, 2);
        assert!(
            err.contains("--s3-root /no/such/dir: not a directory"),
            "{err}"
        );
    }

    #[test]
    fn json_outcomes_and_exit_statuses() {
        let def = temp("m.json", MACHINE);
        let mocks = temp(
            "mocks.json",
            r#"{"StateMachines": {"M": {"TestCases": {"Ok": {"T": "R"}, "Bad": {"T": "E"}}}},
                "MockedResponses": {"R": {"0": {"Return": {"ok": 1}}},
                                    "E": {"0": {"Throw": {"Error": "Boom", "Cause": "why"}}}}}"#,
        );
        let def = def.to_str().expect("utf-8 path");
        let mocks = mocks.to_str().expect("utf-8 path");
        let table: [(&[&str], u8, &str); 3] = [
            (
                &["--test-case", "Ok"],
                0,
                r#"{"status":"SUCCEEDED","output":{"ok":1}}"#,
            ),
            (
                &["--test-case", "Bad"],
                1,
                r#"{"status":"FAILED","error":"Boom","cause":"why"}"#,
            ),
            (&["--test-case", "Nope"], 2, ""),
        ];
        for (extra, code, stdout) in table {
            let mut argv = vec![
                def,
                "--format",
                "json",
                "--virtual-time",
                "--mock-config",
                mocks,
            ];
            argv.extend_from_slice(extra);
            let (got, out, err) = run_with(&argv);
            assert_eq!(got, code, "{extra:?}: {err}");
            assert_eq!(out.trim(), stdout, "{extra:?}");
        }
    }

    #[test]
    fn history_and_input_from_a_file() {
        let def = temp(
            "p.json",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        );
        let input = temp("in.json", r#"{"x": [1, 2]}"#);
        let at = format!("@{}", input.display());
        let (code, out, _) = run_with(&[
            def.to_str().expect("utf-8"),
            "--input",
            &at,
            "--format",
            "json",
            "--history",
        ]);
        assert_eq!(code, 0);
        let doc: Value = serde_json::from_str(out.trim()).expect("one JSON object");
        assert_eq!(doc["output"], serde_json::json!({"x": [1, 2]}));
        let types: Vec<&str> = doc["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
    }

    #[test]
    fn payload_limit_raises_the_quota() {
        let def = temp(
            "big.json",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        );
        let input = temp(
            "big-in.json",
            &format!("{{\"s\": \"{}\"}}", "x".repeat(300_000)),
        );
        let (def, at) = (
            def.to_str().expect("utf-8"),
            format!("@{}", input.display()),
        );
        let (code, _, err) = run_with(&[def, "--input", &at, "--format", "json"]);
        assert_ne!(code, 0, "over 256 KiB by default");
        assert!(err.contains("262144") || err.contains("256"), "{err}");
        let (code, out, err) = run_with(&[
            def,
            "--input",
            &at,
            "--format",
            "json",
            "--payload-limit",
            "1000000",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with(r#"{"status":"SUCCEEDED""#), "{out:.80}");
    }

    #[test]
    fn unusable_arguments_exit_with_2() {
        let good = temp(
            "g.json",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        );
        let invalid = temp(
            "i.json",
            r#"{"StartAt": "Nope", "States": {"P": {"Type": "Pass", "End": true}}}"#,
        );
        let good = good.to_str().expect("utf-8");
        for argv in [
            vec![good, "--input", "{not json"],
            vec![invalid.to_str().expect("utf-8")],
            vec!["/no/such/file.json"],
            vec![good, "--input", "@/no/such/input.json"],
        ] {
            let (code, _, err) = run_with(&argv);
            assert_eq!(code, 2, "{argv:?}");
            assert!(!err.is_empty(), "{argv:?}");
        }
    }
}
