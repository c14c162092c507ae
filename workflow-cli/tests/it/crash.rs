//! Crash tests: `workflow run --store` is killed with SIGKILL at random (seeded) moments, then
//! `workflow resume` finishes the execution — sometimes after being killed itself.
//!
//! Every iteration checks that
//! - the execution completes with the output of an uninterrupted run;
//! - no task whose result was recorded before a kill is invoked again afterwards (the built-in
//!   handlers log every invocation to a side file);
//! - the history has ids `1..=n` with no gap and no `(scope, seq)` twice;
//! - the Wait deadline is absolute: the Wait ends one second after it began, or as soon as the
//!   process that finished it was running, never a full second after a restart;
//! - so is the retry interval: the retried task is scheduled again one second after its
//!   failure, or as soon as the process that retried it was running.
//!
//! A quarter of the iterations run (and resume) with `--sync full`.
//!
//! `WORKFLOW_CRASH_ITERATIONS` (default 100) and `WORKFLOW_CRASH_SEED` change the run.
//!
//! The callback leg (`killed_callback_runs_resume_and_take_their_answer_once`, 100 cycles): a
//! `.waitForTaskToken` task whose message `--handler` delivers and whose answer the test sends
//! (SendTaskSuccess on `--serve`); the run is killed before the message, while the task waits, or
//! just after the answer, and `resume` (serving again) finishes it: one recorded answer, never
//! asked for again once recorded, the same token on every delivery, contiguous histories.

#![cfg(unix)]

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::store::{ExecutionRecord, ExecutionStatus, SqliteStore, Store, StoreError};

const BIN: &str = env!("CARGO_BIN_EXE_workflow");

/// Tasks (with a retry), a Wait, a Parallel and a Map.
const DEFINITION: &str = r#"{
  "Comment": "Tasks, a Wait, a Parallel and a Map, for the crash test.",
  "StartAt": "Prepare",
  "States": {
    "Prepare": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
      "Parameters": {"items.$": "$.items", "ms.$": "$.ms"},
      "ResultPath": "$.prepared",
      "Next": "Both"
    },
    "Both": {
      "Type": "Parallel",
      "ResultPath": "$.both",
      "Next": "Each",
      "Branches": [
        {"StartAt": "Pause", "States": {
          "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Left"},
          "Left": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleep",
                   "Parameters": {"ms.$": "$.ms", "side": "left"}, "End": true}}},
        {"StartAt": "Right", "States": {
          "Right": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                    "Parameters": {"failures": 1, "side": "right"},
                    "Retry": [{"ErrorEquals": ["Builtin.Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                    "End": true}}}
      ]
    },
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 3,
      "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "ms.$": "$.ms"},
      "ItemProcessor": {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleep",
                 "Next": "Sum"},
        "Sum": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:add",
                "Parameters": {"a.$": "$.index", "b.$": "$.value"}, "End": true}}},
      "ResultPath": "$.sums",
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
}"#;

const INPUT: &str = r#"{"items": [1, 2, 3, 4, 5, 6, 7, 8], "ms": 15}"#;

/// How long an uninterrupted run takes, roughly (the Wait and the retry interval are 1 s each,
/// in parallel): first kills are spread over this, second ones over two thirds of it.
const RUN_MS: u64 = 1_200;

// ===== helpers =====

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "workflow-crash-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// SplitMix64: a tiny seeded generator for kill times.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn parse_ms(ts: &str) -> i64 {
    chrono_like_parse(ts).unwrap_or_else(|| panic!("not an RFC 3339 UTC timestamp: {ts}"))
}

/// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` (the timestamps the runtime writes) to epoch milliseconds.
fn chrono_like_parse(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms)
}

fn run_args(dir: &TempDir, name: &str, sync: &str) -> Vec<String> {
    vec![
        "run".into(),
        dir.path("machine.json").display().to_string(),
        "--input".into(),
        INPUT.into(),
        "--handlers".into(),
        "builtin".into(),
        "--task-log".into(),
        dir.path("tasks.jsonl").display().to_string(),
        "--store".into(),
        dir.path("store.db").display().to_string(),
        "--name".into(),
        name.into(),
        "--sync".into(),
        sync.into(),
        "--format".into(),
        "json".into(),
    ]
}

fn resume_args(dir: &TempDir, sync: &str) -> Vec<String> {
    vec![
        "resume".into(),
        "--store".into(),
        dir.path("store.db").display().to_string(),
        "--sync".into(),
        sync.into(),
    ]
}

/// Runs the CLI to completion.
fn finish(args: &[String]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run the workflow binary")
}

/// Starts the CLI, kills it with SIGKILL after `delay`, and waits for it.
fn kill_after(args: &[String], delay: Duration) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the workflow binary");
    std::thread::sleep(delay);
    // `kill` sends SIGKILL on Unix; an error means it had already exited.
    let _ = child.kill();
    let _ = child.wait();
}

/// An execution's record and history, read from its store.
type Snapshot = (ExecutionRecord, Vec<HistoryEvent>);

/// What the store holds for the execution (`None`: not recorded yet, or no store yet).
fn snapshot(store_path: &Path, name: &str) -> Option<Snapshot> {
    if !store_path.exists() {
        return None;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let store = SqliteStore::open(store_path).expect("a killed run never damages the store");
        match store.describe_execution(name).await {
            Ok(record) => {
                let events = store.load_events(name).await.expect("load the history");
                Some((record, events))
            }
            Err(StoreError::NotFound(_)) => None,
            Err(e) => panic!("the store cannot be read after a kill: {e}"),
        }
    })
}

/// A task invocation: state name, retry count and effective input.
type TaskKey = (String, u64, String);

/// The complete lines of the task log (a line cut by a kill is not an invocation that returned).
fn task_log(path: &Path) -> Vec<TaskKey> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a task log line is JSON");
            (
                v["state"].as_str().expect("state").to_string(),
                v["retryCount"].as_u64().expect("retryCount"),
                v["input"].to_string(),
            )
        })
        .collect()
}

/// The invocations whose results (success or failure) the history records.
fn recorded_results(events: &[HistoryEvent]) -> HashSet<TaskKey> {
    let mut by_scope: HashMap<&str, Vec<&HistoryEvent>> = HashMap::new();
    for e in events {
        by_scope.entry(e.scope.as_str()).or_default().push(e);
    }
    let mut recorded = HashSet::new();
    for list in by_scope.values_mut() {
        list.sort_by_key(|e| e.seq);
        let (mut state, mut input, mut failures) = (String::new(), String::new(), 0u64);
        for e in list.iter() {
            let details = e.details().map(|(_, d)| d);
            let details = details.as_ref();
            let text = |k: &str| {
                details
                    .and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match e.event_type() {
                "TaskStateEntered" => {
                    state = text("name");
                    failures = 0;
                }
                "LambdaFunctionScheduled" => {
                    let parsed: Value =
                        serde_json::from_str(&text("input")).expect("scheduled input is JSON");
                    input = parsed.to_string();
                }
                "LambdaFunctionSucceeded" => {
                    recorded.insert((state.clone(), failures, input.clone()));
                }
                "LambdaFunctionFailed" => {
                    recorded.insert((state.clone(), failures, input.clone()));
                    failures += 1;
                }
                _ => {}
            }
        }
    }
    recorded
}

fn check_history(events: &[HistoryEvent], what: &str) {
    let mut positions = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "{what}: event ids have no gaps");
        assert!(e.previous_event_id < e.id, "{what}: event {}", e.id);
        assert!(
            positions.insert((e.scope.clone(), e.seq)),
            "{what}: (scope `{}`, seq {}) is recorded twice",
            e.scope,
            e.seq
        );
    }
}

/// The timestamps of the Wait's entered and exited events, if recorded.
fn wait_times(events: &[HistoryEvent]) -> (Option<i64>, Option<i64>) {
    let at = |ty: &str| {
        events
            .iter()
            .find(|e| e.event_type() == ty)
            .map(|e| parse_ms(&e.timestamp))
    };
    (at("WaitStateEntered"), at("WaitStateExited"))
}

/// The timestamps of the first failure of a task that was retried and of its next scheduling,
/// if recorded.
fn retry_times(events: &[HistoryEvent]) -> (Option<i64>, Option<i64>) {
    let Some(failed) = events
        .iter()
        .find(|e| e.event_type() == "LambdaFunctionFailed")
    else {
        return (None, None);
    };
    let again = events.iter().find(|e| {
        e.scope == failed.scope && e.seq > failed.seq && e.event_type() == "LambdaFunctionScheduled"
    });
    (
        Some(parse_ms(&failed.timestamp)),
        again.map(|e| parse_ms(&e.timestamp)),
    )
}

// ===== the test =====

/// One iteration: kill the run, maybe kill the first resume, then resume to the end.
fn iteration(i: u64, seed: u64, expected: &Value) -> Report {
    let mut rng = Rng(seed ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let dir = TempDir::new(&format!("it{i}"));
    fs::write(dir.path("machine.json"), DEFINITION).expect("write the definition");
    let name = format!("crash-{i}");
    let store = dir.path("store.db");
    let log = dir.path("tasks.jsonl");
    let sync = if rng.below(4) == 0 { "full" } else { "normal" };
    let run_args = |dir: &TempDir, name: &str| run_args(dir, name, sync);
    let resume_args = |dir: &TempDir| resume_args(dir, sync);

    // (process start time, snapshot after it was killed, task log length at that moment)
    let mut kills: Vec<(i64, Option<Snapshot>, usize)> = Vec::new();
    let mut starts = vec![now_ms()];
    kill_after(
        &run_args(&dir, &name),
        Duration::from_millis(rng.below(RUN_MS)),
    );
    kills.push((starts[0], snapshot(&store, &name), task_log(&log).len()));
    let twice = rng.below(2) == 0;
    if twice {
        let args = match &kills[0].1 {
            Some(_) => resume_args(&dir),
            None => run_args(&dir, &name),
        };
        starts.push(now_ms());
        kill_after(&args, Duration::from_millis(rng.below(RUN_MS * 2 / 3)));
        kills.push((starts[1], snapshot(&store, &name), task_log(&log).len()));
    }
    // Finish: resume if the store knows the execution, else start it again (same name and
    // input: continues it if recorded in the meantime).
    let args = match &kills.last().and_then(|k| k.1.as_ref()) {
        Some(_) => resume_args(&dir),
        None => run_args(&dir, &name),
    };
    starts.push(now_ms());
    let done = finish(&args);
    assert!(
        done.status.code().is_some_and(|c| c == 0),
        "iteration {i}: the final {} failed: {}",
        args[0],
        String::from_utf8_lossy(&done.stderr)
    );
    let (record, events) = snapshot(&store, &name).expect("the execution is recorded");

    // 1. The same output as an uninterrupted run.
    assert_eq!(record.status, ExecutionStatus::Succeeded, "iteration {i}");
    assert_eq!(record.output.as_ref(), Some(expected), "iteration {i}");
    // 2. A complete, well-formed history.
    check_history(&events, &format!("iteration {i}"));
    for (_, snap, _) in &kills {
        if let Some((_, before)) = snap {
            check_history(before, &format!("iteration {i}, after a kill"));
            assert_eq!(
                before.as_slice(),
                &events[..before.len()],
                "iteration {i}: a resumed run keeps the recorded history as it was"
            );
        }
    }
    // 3. No recorded task result is produced again after the kill that preceded its recording.
    let invocations = task_log(&log);
    for (k, (_, snap, log_len)) in kills.iter().enumerate() {
        let Some((_, before)) = snap else { continue };
        let recorded = recorded_results(before);
        for key in &invocations[*log_len..] {
            assert!(
                !recorded.contains(key),
                "iteration {i}: {key:?} was recorded before kill {k} and invoked again after it"
            );
        }
    }
    // Every invocation that returned belongs to the final history's tasks, and every recorded
    // result was produced by some invocation.
    let final_results = recorded_results(&events);
    let produced: HashSet<&TaskKey> = invocations.iter().collect();
    for key in &final_results {
        assert!(
            produced.contains(key),
            "iteration {i}: {key:?} has no invocation"
        );
    }
    // 4. The Wait's deadline and the retry interval are absolute: each ends 1 s after it
    // began, or as soon as the process that ended it was running.
    type Span = fn(&[HistoryEvent]) -> (Option<i64>, Option<i64>);
    let spans: [(&str, Span); 2] = [("Wait", wait_times), ("retry interval", retry_times)];
    for (what, span) in spans {
        let (Some(begun), Some(ended)) = span(&events) else {
            continue;
        };
        assert!(
            ended - begun >= 1000,
            "iteration {i}: the {what} lasted 1 s"
        );
        // The process that ended it: the first whose snapshot after it has the end.
        let ended_by = kills
            .iter()
            .position(|(_, snap, _)| snap.as_ref().is_some_and(|(_, ev)| span(ev).1.is_some()))
            .unwrap_or(starts.len() - 1);
        let started = starts[ended_by];
        let latest = (begun + 1000).max(started);
        assert!(
            ended <= latest + 700,
            "iteration {i}: the {what} ended at +{} ms, its deadline was +1000 and the process \
             that ended it started at +{} ms",
            ended - begun,
            started - begun
        );
    }
    Report {
        recorded_at_kills: kills
            .iter()
            .map(|(_, s, _)| s.as_ref().map_or(0, |(_, e)| e.len()))
            .collect(),
        total_events: events.len(),
        reinvoked: invocations.len() - final_results.len(),
    }
}

/// What one iteration saw.
struct Report {
    /// How many events were recorded when each kill happened.
    recorded_at_kills: Vec<usize>,
    /// The final history's length.
    total_events: usize,
    /// Invocations beyond one per recorded result: tasks in flight at a kill, run again.
    reinvoked: usize,
}

#[test]
fn killed_runs_resume_to_the_uninterrupted_outcome() {
    let iterations = env_u64("WORKFLOW_CRASH_ITERATIONS", 100);
    let seed = env_u64("WORKFLOW_CRASH_SEED", 0x5EED_CAFE);
    let started = Instant::now();

    // The reference: an uninterrupted run.
    let dir = TempDir::new("reference");
    fs::write(dir.path("machine.json"), DEFINITION).expect("write the definition");
    let reference = finish(&run_args(&dir, "reference", "normal"));
    assert_eq!(
        reference.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let doc: Value = serde_json::from_slice(&reference.stdout).expect("JSON outcome");
    let expected = doc["output"].clone();
    assert_eq!(expected["sums"], json!([1, 3, 5, 7, 9, 11, 13, 15]));
    assert_eq!(task_log(&dir.path("tasks.jsonl")).len(), 1 + 1 + 2 + 8 * 2);

    // Iterations run fifty at a time: each mostly sleeps (waits, kill delays), so fifty
    // processes at once keep two cores about half busy.
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..50 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as u64;
                if i >= iterations {
                    break;
                }
                let line = iteration(i, seed, &expected);
                reports.lock().expect("not poisoned").push(line);
            });
        }
    });
    let reports: Vec<Report> = reports.into_inner().expect("not poisoned");
    assert_eq!(reports.len() as u64, iterations);
    let kills: Vec<usize> = reports
        .iter()
        .flat_map(|r| r.recorded_at_kills.iter().copied())
        .collect();
    let before_any = kills.iter().filter(|&&n| n == 0).count();
    let after_all = reports
        .iter()
        .map(|r| {
            r.recorded_at_kills
                .iter()
                .filter(|&&n| n == r.total_events)
                .count()
        })
        .sum::<usize>();
    eprintln!(
        "{iterations} crash iterations (seed {seed:#x}) in {:?}: {} kills ({before_any} before \
         anything was recorded, {after_all} after the execution had finished, the rest in \
         between); {} task invocations repeated because they were in flight at a kill",
        started.elapsed(),
        kills.len(),
        reports.iter().map(|r| r.reinvoked).sum::<usize>()
    );
}

#[test]
fn damaged_stores_are_clear_errors() {
    let dir = TempDir::new("damaged");
    let cases: [(&str, &[u8], &str); 3] = [
        ("empty.db", b"", "is empty"),
        ("text.db", b"this is not a database, just some text.........................................................................", "does not start with an SQLite header"),
        ("tiny.db", b"SQLite", "shorter than an SQLite header"),
    ];
    for (file, bytes, message) in cases {
        let path = dir.path(file);
        fs::write(&path, bytes).expect("write");
        for command in ["list", "resume", "history", "describe"] {
            let mut args = vec![
                command.to_string(),
                "--store".into(),
                path.display().to_string(),
            ];
            if matches!(command, "history" | "describe") {
                args.push("x".into());
            }
            let out = finish(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {file}: {stderr}");
            assert!(stderr.contains(message), "{command} {file}: {stderr}");
            assert!(
                stderr.contains(file),
                "{command} {file}: names the file: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{command} {file}: {stderr}");
        }
        assert_eq!(
            fs::read(&path).expect("read"),
            bytes,
            "{file} is left as it was"
        );
    }
}

#[test]
fn names_are_idempotent_and_stop_aborts() {
    let dir = TempDir::new("names");
    fs::write(dir.path("machine.json"), DEFINITION).expect("write the definition");
    let store = dir.path("store.db").display().to_string();
    // Killed in the Wait, then stopped: resume has nothing to do, describe says ABORTED.
    kill_after(
        &run_args(&dir, "stopped", "normal"),
        Duration::from_millis(400),
    );
    let stop = finish(&[
        "stop".into(),
        "--store".into(),
        store.clone(),
        "stopped".into(),
        "--cause".into(),
        "operator".into(),
    ]);
    assert_eq!(
        stop.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    let stopped: Value = serde_json::from_slice(&stop.stdout).expect("JSON");
    assert_eq!(stopped["status"], "ABORTED");
    assert_eq!(stopped["cause"], "operator");
    let again = finish(&[
        "stop".into(),
        "--store".into(),
        store.clone(),
        "stopped".into(),
    ]);
    assert_eq!(again.status.code(), Some(1));
    let resume = finish(&resume_args(&dir, "normal"));
    assert_eq!(resume.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&resume.stderr).contains("no running executions"));

    // A finished name cannot be started again (AWS ExecutionAlreadyExists), whatever the input.
    let first = finish(&run_args(&dir, "done", "normal"));
    assert_eq!(first.status.code(), Some(0));
    let second = finish(&run_args(&dir, "done", "normal"));
    assert_eq!(second.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // list and history read what was recorded.
    let list = finish(&[
        "list".into(),
        "--store".into(),
        store.clone(),
        "--format".into(),
        "json".into(),
    ]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("JSON list");
    let statuses: Vec<(&str, &str)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(statuses, [("stopped", "ABORTED"), ("done", "SUCCEEDED")]);
    let history = finish(&["history".into(), "--store".into(), store, "done".into()]);
    let table = String::from_utf8_lossy(&history.stdout);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("WaitStateExited"), "{table}");
    assert!(table
        .lines()
        .last()
        .is_some_and(|l| l.contains("ExecutionSucceeded")));
}

// ===== the callback leg =====

/// A `.waitForTaskToken` task between two Pass states: its message (with the token) is delivered
/// by `--handler Approve=…`, which appends it to a file; the test answers with SendTaskSuccess
/// on the `--serve` address of whichever process is running.
const CALLBACK: &str = r#"{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Parameters": {"i.$": "$.i", "step": "prepared"}, "Next": "Approve"},
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "i.$": "$.i"}},
      "ResultPath": "$.approval",
      "TimeoutSeconds": 120,
      "Next": "After"
    },
    "After": {"Type": "Pass", "Parameters": {"i.$": "$.i", "approval.$": "$.approval"}, "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}"#;

/// A running `workflow` process serving callbacks, its stderr drained so it never blocks.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Served {
    fn start(args: &[String]) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the workflow binary");
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let _ = stderr.read_line(&mut line);
        let addr = line
            .rsplit("http://")
            .next()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
        Served { child, addr }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs SendTaskSuccess; `None` when the process is gone.
fn send_success(addr: &str, token: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let body = json!({"taskToken": token, "output": r#"{"approved": true}"#}).to_string();
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.SendTaskSuccess\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1).and_then(|c| c.parse().ok())
}

/// The tokens delivered so far (one line per delivery).
fn deliveries(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a delivered message is JSON");
            v["MessageBody"]["token"]
                .as_str()
                .expect("a token")
                .to_string()
        })
        .collect()
}

/// Waits (a liveness bound, not a timing assertion) until `ready` holds.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One callback cycle: the run is killed at a random point — before the message, while it
/// waits, or just after the answer — then resumed (serving again) and answered if it asks again.
fn callback_iteration(i: u64, seed: u64) -> CallbackReport {
    let mut rng = Rng(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xca11);
    let dir = TempDir::new(&format!("cb{i}"));
    fs::write(dir.path("machine.json"), CALLBACK).expect("write the definition");
    let store = dir.path("store.db");
    let messages = dir.path("messages.jsonl");
    let name = format!("callback-{i}");
    let handler = format!(
        "Approve=cat >> '{}'; echo >> '{}'",
        messages.display(),
        messages.display()
    );
    let sync = if rng.below(4) == 0 { "full" } else { "normal" };
    let run_args: Vec<String> = [
        "run",
        &dir.path("machine.json").display().to_string(),
        "--input",
        &format!(r#"{{"i": {i}}}"#),
        "--store",
        &store.display().to_string(),
        "--name",
        &name,
        "--sync",
        sync,
        "--serve",
        "127.0.0.1:0",
        "--handler",
        &handler,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let resume_args: Vec<String> = [
        "resume",
        "--store",
        &store.display().to_string(),
        "--sync",
        sync,
        "--serve",
        "127.0.0.1:0",
        "--handler",
        &handler,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();

    let first = Served::start(&run_args);
    match rng.below(3) {
        // Anywhere early: before or after the message.
        0 => std::thread::sleep(Duration::from_millis(rng.below(300))),
        // While the task waits for its token.
        1 => {
            wait_until("the first delivery", || !deliveries(&messages).is_empty());
            std::thread::sleep(Duration::from_millis(rng.below(50)));
        }
        // Just after the answer: before, during or after its result is committed.
        _ => {
            wait_until("the first delivery", || !deliveries(&messages).is_empty());
            let token = deliveries(&messages)[0].clone();
            assert_eq!(send_success(&first.addr, &token), Some(200), "cycle {i}");
            std::thread::sleep(Duration::from_millis(rng.below(30)));
        }
    }
    first.kill();
    let before = snapshot(&store, &name);
    let delivered_before = deliveries(&messages).len();
    let answered_before = before
        .as_ref()
        .is_some_and(|(_, events)| events.iter().any(|e| e.event_type() == "TaskSucceeded"));

    // Finish: resume if recorded (run again if not), answering the message if it comes again.
    let closed = before
        .as_ref()
        .is_some_and(|(record, _)| record.status != ExecutionStatus::Running);
    if !closed {
        let args = if before.is_some() {
            &resume_args
        } else {
            &run_args
        };
        let mut second = Served::start(args);
        let mut answered = false;
        wait_until("the end of the resumed run", || {
            if !answered {
                let tokens = deliveries(&messages);
                if tokens.len() > delivered_before {
                    let token = tokens.last().expect("a token").clone();
                    answered = send_success(&second.addr, &token) == Some(200);
                }
            }
            matches!(second.child.try_wait(), Ok(Some(_)))
        });
        let status = second.child.wait().expect("waited");
        assert_eq!(
            status.code(),
            Some(0),
            "cycle {i}: the final {} failed",
            args[0]
        );
    }
    let (record, events) = snapshot(&store, &name).expect("the execution is recorded");
    assert_eq!(record.status, ExecutionStatus::Succeeded, "cycle {i}");
    assert_eq!(
        record.output,
        Some(json!({"i": i, "approval": {"approved": true}})),
        "cycle {i}"
    );
    check_history(&events, &format!("callback cycle {i}"));
    if let Some((_, prefix)) = &before {
        check_history(prefix, &format!("callback cycle {i}, after the kill"));
        assert_eq!(prefix.as_slice(), &events[..prefix.len()], "cycle {i}");
    }
    // The answer is recorded once; a recorded answer is never asked for again.
    let answers = events
        .iter()
        .filter(|e| e.event_type() == "TaskSucceeded")
        .count();
    assert_eq!(answers, 1, "cycle {i}: one recorded answer");
    if answered_before {
        assert_eq!(
            deliveries(&messages).len(),
            delivered_before,
            "cycle {i}: an answered task was not delivered again"
        );
    }
    // Every delivery of one execution carries the same token.
    let tokens = deliveries(&messages);
    assert!(
        tokens.windows(2).all(|w| w[0] == w[1]),
        "cycle {i}: {tokens:?}"
    );
    CallbackReport {
        unrecorded: before.is_none(),
        closed,
        answered_before,
        delivered_again: tokens.len() > delivered_before && delivered_before > 0,
    }
}

/// Where one callback cycle's kill fell.
struct CallbackReport {
    /// Before the execution was recorded.
    unrecorded: bool,
    /// After it had ended.
    closed: bool,
    /// After the answer was recorded.
    answered_before: bool,
    /// While the task waited: the resumed run delivered the message again.
    delivered_again: bool,
}

/// The callback leg of the crash matrix: `WORKFLOW_CRASH_CALLBACK_ITERATIONS` (default 100)
/// cycles, six at a time.
#[test]
fn killed_callback_runs_resume_and_take_their_answer_once() {
    let iterations = env_u64("WORKFLOW_CRASH_CALLBACK_ITERATIONS", 100);
    let seed = env_u64("WORKFLOW_CRASH_SEED", 0x5EED_CAFE);
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as u64;
                if i >= iterations {
                    break;
                }
                let report = callback_iteration(i, seed);
                reports.lock().expect("not poisoned").push(report);
            });
        }
    });
    let reports = reports.into_inner().expect("not poisoned");
    assert_eq!(reports.len() as u64, iterations);
    let count = |f: fn(&CallbackReport) -> bool| reports.iter().filter(|r| f(r)).count();
    eprintln!(
        "{iterations} callback crash cycles (seed {seed:#x}) in {:?}: killed before the \
         execution was recorded {}, while the task waited (message delivered again) {}, after \
         the answer was recorded {}, after the end {}",
        started.elapsed(),
        count(|r| r.unrecorded),
        count(|r| r.delivered_again),
        count(|r| r.answered_before),
        count(|r| r.closed),
    );
}
