//! Durable executions crash at every point where they write ahead, and resume.
//!
//! A store wrapper refuses every append after the first `k`, as if the process had died there:
//! the executor never acts on events that were not stored, so the store holds exactly what a
//! crashed process would have left. `DurableRuntime::resume` must then finish the execution with
//! the uninterrupted run's output, without invoking again any task whose result was recorded,
//! with a history that has no gap and no `(scope, seq)` twice. Runs on tokio's paused clock, so
//! the Wait and the retry interval take no real time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::store::{
    DurableRuntime, ExecutionRecord, ExecutionStatus, ExecutionSummary, Fault, FaultyStore,
    ListFilter, MemoryStore, NewExecution, SqliteStore, StartedExecution, Store, StoreError,
    StoreFuture,
};
use workflow_runtime::{Runtime, RuntimeBuilder, TaskContext, TaskError};

const DEFINITION: &str = r#"{
  "StartAt": "Stamp",
  "States": {
    "Stamp": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "items.$": "$.items"}, "Next": "Both"},
    "Both": {
      "Type": "Parallel",
      "ResultPath": "$.both",
      "Next": "Each",
      "Branches": [
        {"StartAt": "Pause", "States": {
          "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Left"},
          "Left": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
                   "Parameters": {"side": "left"}, "End": true}}},
        {"StartAt": "Right", "States": {
          "Right": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                    "Parameters": {"side": "right"},
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2}],
                    "End": true}}}
      ]
    },
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
      "ItemProcessor": {"StartAt": "Double", "States": {
        "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work",
                   "End": true}}},
      "ResultPath": "$.doubled",
      "End": true
    }
  }
}"#;

/// A task invocation: state, retry count, input.
type Key = (String, u32, String);

/// Handlers that log every invocation; `flaky` fails on its first two attempts.
fn builder(log: Arc<Mutex<Vec<Key>>>) -> RuntimeBuilder {
    let work_log = Arc::clone(&log);
    RuntimeBuilder::default()
        .raw_handler(
            "arn:aws:lambda:*:*:function:work",
            move |input: Value, cx: TaskContext| {
                let log = Arc::clone(&work_log);
                async move {
                    log.lock().expect("log").push((
                        cx.state_name().to_string(),
                        cx.retry_count(),
                        input.to_string(),
                    ));
                    Ok(match input.get("value").and_then(Value::as_i64) {
                        Some(v) => json!(v * 2),
                        None => input,
                    })
                }
            },
        )
        .raw_handler(
            "arn:aws:lambda:*:*:function:flaky",
            move |input: Value, cx: TaskContext| {
                let log = Arc::clone(&log);
                async move {
                    log.lock().expect("log").push((
                        cx.state_name().to_string(),
                        cx.retry_count(),
                        input.to_string(),
                    ));
                    if cx.retry_count() < 2 {
                        Err(TaskError::new("Flaky", "not yet"))
                    } else {
                        Ok(input)
                    }
                }
            },
        )
}

/// A store that stores the first `budget` appends and refuses the rest.
struct CrashAfter {
    inner: Arc<dyn Store>,
    budget: AtomicUsize,
}

impl Store for CrashAfter {
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
        self.inner.start_execution(new)
    }

    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()> {
        let left = self
            .budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1));
        match left {
            Ok(_) => self.inner.append_events(name, events),
            Err(_) => Box::pin(async {
                Err(StoreError::Storage {
                    path: "crash".into(),
                    detail: "the process died".into(),
                })
            }),
        }
    }

    fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord> {
        self.inner.describe_execution(name)
    }

    fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>> {
        self.inner.load_events(name)
    }

    fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>> {
        self.inner.list_executions(filter)
    }

    fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64> {
        self.inner.count_executions(status)
    }
}

fn new_exec(name: &str) -> NewExecution {
    NewExecution {
        name: name.into(),
        definition: DEFINITION.into(),
        input: json!({"items": [1, 2, 3, 4, 5]}),
        metadata: json!({}),
    }
}

/// The invocations whose results (success or failure) the history records.
fn recorded(events: &[HistoryEvent]) -> HashSet<Key> {
    let mut by_scope: std::collections::HashMap<&str, Vec<&HistoryEvent>> = Default::default();
    for e in events {
        by_scope.entry(&e.scope).or_default().push(e);
    }
    let mut keys = HashSet::new();
    for list in by_scope.values() {
        let (mut state, mut input, mut attempt) = (String::new(), String::new(), 0u32);
        for e in list {
            let d = e.details().map(|(_, d)| d);
            let d = d.as_ref();
            let text = |k: &str| {
                d.and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            match e.event_type() {
                "TaskStateEntered" => {
                    state = text("name");
                    attempt = 0;
                }
                "LambdaFunctionScheduled" => {
                    input = serde_json::from_str::<Value>(&text("input"))
                        .expect("JSON input")
                        .to_string();
                }
                "LambdaFunctionSucceeded" => {
                    keys.insert((state.clone(), attempt, input.clone()));
                }
                "LambdaFunctionFailed" => {
                    keys.insert((state.clone(), attempt, input.clone()));
                    attempt += 1;
                }
                _ => {}
            }
        }
    }
    keys
}

fn check_history(events: &[HistoryEvent]) {
    let mut positions = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "no gaps");
        assert!(e.previous_event_id < e.id);
        assert!(
            positions.insert((e.scope.clone(), e.seq)),
            "no (scope, seq) twice"
        );
    }
}

/// Runs the execution once per failure point `k` over a store whose `k`-th append fails (as
/// `fault` says; `None`: every append from the `k`-th on is refused, as if the process died),
/// then resumes it on the healthy store and checks the result.
async fn crash_everywhere(make_store: impl Fn(usize) -> Arc<dyn Store>, fault: Option<Fault>) {
    // The reference: an uninterrupted run.
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = make_store(0);
    let durable = DurableRuntime::new(builder(Arc::clone(&log)), Arc::clone(&store));
    let mut reference = new_exec("reference");
    reference.metadata = json!({"seed": 7});
    let outcome = durable.start(reference).await.expect("start").wait().await;
    assert_eq!(outcome.status, workflow_runtime::ExecutionStatus::Succeeded);
    let expected_invocations = log.lock().expect("log").len();
    assert_eq!(expected_invocations, 1 + 3 + 5);
    let expected = outcome.output.expect("output");

    let mut crash_points = 0;
    for k in 0.. {
        let store = make_store(k + 1);
        let log = Arc::new(Mutex::new(Vec::new()));
        let crashing: Arc<dyn Store> = match fault {
            None => Arc::new(CrashAfter {
                inner: Arc::clone(&store),
                budget: AtomicUsize::new(k),
            }),
            Some(fault) => Arc::new(FaultyStore::new(Arc::clone(&store), k, fault)),
        };
        let name = format!("crash-{k}");
        let mut new = new_exec(&name);
        new.metadata = json!({"seed": 7});
        let first = DurableRuntime::new(builder(Arc::clone(&log)), crashing)
            .start(new)
            .await
            .expect("start")
            .wait()
            .await;
        let before = store.load_events(&name).await.expect("load");
        if first.status == workflow_runtime::ExecutionStatus::Succeeded {
            // Every append fitted in the budget: no crash left to try.
            assert_eq!(first.output.as_ref(), Some(&expected));
            break;
        }
        crash_points += 1;
        check_history(&before);
        let record = store.describe_execution(&name).await.expect("describe");
        if record.status.is_closed() {
            // The closing batch was written and only its acknowledgement lost: the store holds
            // the right outcome, and nothing is left to resume.
            assert_eq!(fault, Some(Fault::LoseAck), "crash point {k}");
            assert_eq!(record.status, ExecutionStatus::Succeeded, "crash point {k}");
            assert_eq!(record.output.as_ref(), Some(&expected), "crash point {k}");
            break;
        }
        let recorded_before = recorded(&before);
        let invoked_before = log.lock().expect("log").len();

        let resumed = DurableRuntime::new(builder(Arc::clone(&log)), Arc::clone(&store))
            .resume()
            .await
            .expect("resume");
        assert_eq!(resumed.len(), 1, "crash point {k}: one execution to resume");
        for r in resumed {
            let execution = r.expect("resumes");
            assert_eq!(execution.replayed, before.len());
            let outcome = execution.wait().await;
            assert_eq!(
                outcome.status,
                workflow_runtime::ExecutionStatus::Succeeded,
                "crash point {k}: {outcome:?}"
            );
            assert_eq!(outcome.output.as_ref(), Some(&expected), "crash point {k}");
        }
        let record = store.describe_execution(&name).await.expect("describe");
        assert_eq!(record.status, ExecutionStatus::Succeeded);
        let after = store.load_events(&name).await.expect("load");
        check_history(&after);
        assert_eq!(&after[..before.len()], before.as_slice(), "crash point {k}");
        let log = log.lock().expect("log");
        for key in &log[invoked_before..] {
            assert!(
                !recorded_before.contains(key),
                "crash point {k}: {key:?} was recorded before the crash and invoked again"
            );
        }
        // The UUID drawn before the crash is the one in the output (the seed was kept).
        if let Some(stamp) = before.iter().find(|e| e.event_type() == "PassStateExited") {
            let text = stamp.details().expect("details").1["output"]
                .as_str()
                .expect("output text")
                .to_string();
            let v: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(v["id"], expected["id"], "crash point {k}");
        }
    }
    assert!(crash_points >= 10, "{crash_points} crash points");
    eprintln!("resumed from {crash_points} crash points");
}

#[tokio::test(start_paused = true)]
async fn memory_store_resumes_from_every_crash_point() {
    crash_everywhere(|_| Arc::new(MemoryStore::new()), None).await;
}

/// A write refused by the store (a full disk, an I/O error) at every point: the execution stays
/// RUNNING and resumes to the right result, with no task result lost or repeated.
#[tokio::test(start_paused = true)]
async fn refused_writes_at_every_point_resume_to_the_right_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    crash_everywhere(
        move |k| Arc::new(SqliteStore::open(path.join(format!("r{k}.db"))).expect("open")),
        Some(Fault::Refuse),
    )
    .await;
}

/// A write that reached the store but whose acknowledgement was lost (an fsync error after the
/// write, a crash between commit and reply), at every point: resuming finds the events
/// recorded and neither loses nor repeats a task result.
#[tokio::test(start_paused = true)]
async fn lost_acknowledgements_at_every_point_resume_to_the_right_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    crash_everywhere(
        move |k| Arc::new(SqliteStore::open(path.join(format!("l{k}.db"))).expect("open")),
        Some(Fault::LoseAck),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn sqlite_store_resumes_from_every_crash_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    crash_everywhere(
        move |k| Arc::new(SqliteStore::open(path.join(format!("s{k}.db"))).expect("open")),
        None,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn start_is_idempotent_and_stop_closes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let log = Arc::new(Mutex::new(Vec::new()));
    let crashing: Arc<dyn Store> = Arc::new(CrashAfter {
        inner: Arc::clone(&store),
        budget: AtomicUsize::new(3),
    });
    let first = DurableRuntime::new(builder(Arc::clone(&log)), crashing)
        .start(new_exec("e"))
        .await
        .expect("start");
    assert!(first.created);
    let failed = first.wait().await;
    assert_eq!(failed.error.as_deref(), Some("States.Runtime"));

    let durable = DurableRuntime::new(builder(Arc::clone(&log)), Arc::clone(&store));
    // A different input under the same name is refused.
    let mut other = new_exec("e");
    other.input = json!({"items": []});
    assert!(matches!(
        durable.start(other).await,
        Err(workflow_runtime::store::DurableError::Store(
            StoreError::AlreadyExists { .. }
        ))
    ));
    // The same input continues the recorded execution.
    let again = durable.start(new_exec("e")).await.expect("continues");
    assert!(!again.created);
    assert!(again.replayed > 0);
    let done = again.wait().await;
    assert_eq!(done.status, workflow_runtime::ExecutionStatus::Succeeded);
    // Once closed, the name is taken.
    assert!(durable.start(new_exec("e")).await.is_err());

    // Stopping a crashed execution closes it; resume leaves it alone.
    let crashing: Arc<dyn Store> = Arc::new(CrashAfter {
        inner: Arc::clone(&store),
        budget: AtomicUsize::new(2),
    });
    DurableRuntime::new(builder(Arc::clone(&log)), crashing)
        .start(new_exec("s"))
        .await
        .expect("start")
        .wait()
        .await;
    let stopped = durable
        .stop("s", Some("Operator".into()), Some("enough".into()))
        .await
        .expect("stop");
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert_eq!(stopped.error.as_deref(), Some("Operator"));
    assert!(durable.resume().await.expect("resume").is_empty());
    assert!(matches!(
        durable.stop("s", None, None).await,
        Err(workflow_runtime::store::DurableError::Store(
            StoreError::Closed { .. }
        ))
    ));
    let events = store.load_events("s").await.expect("load");
    check_history(&events);
    assert_eq!(
        events.last().map(|e| e.event_type()),
        Some("ExecutionAborted")
    );
}

#[tokio::test(start_paused = true)]
async fn an_invalid_definition_is_refused_before_anything_is_recorded() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let durable = DurableRuntime::new(RuntimeBuilder::default(), Arc::clone(&store));
    let mut bad = new_exec("bad");
    bad.definition =
        r#"{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}"#.into();
    let err = durable.start(bad).await.expect_err("invalid");
    assert!(err.to_string().contains("Nope"), "{err}");
    assert_eq!(store.count_executions(None).await.expect("count"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_hundred_executions_share_one_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("shared.db")).expect("open"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let durable = DurableRuntime::new(builder(Arc::clone(&log)), Arc::clone(&store));
    let mut running = Vec::new();
    for i in 0..100 {
        let mut new = new_exec(&format!("many-{i}"));
        new.input = json!({"items": [i, i + 1, i + 2]});
        running.push(durable.start(new).await.expect("start"));
    }
    for (i, execution) in running.into_iter().enumerate() {
        let outcome = execution.wait().await;
        assert_eq!(
            outcome.status,
            workflow_runtime::ExecutionStatus::Succeeded,
            "{outcome:?}"
        );
        let i = i as i64;
        assert_eq!(
            outcome.output.expect("output")["doubled"],
            json!([2 * i, 2 * (i + 1), 2 * (i + 2)])
        );
    }
    assert_eq!(
        store
            .count_executions(Some(ExecutionStatus::Succeeded))
            .await
            .expect("count"),
        100
    );
    for i in 0..100 {
        check_history(&store.load_events(&format!("many-{i}")).await.expect("load"));
    }
    // 100 × (Left, 3 attempts of Right, 3 Map items).
    assert_eq!(log.lock().expect("log").len(), 100 * 7);
}

/// A retry interval counts from the recorded failure, not from the restart: an execution that
/// crashed during a 100 s retry interval and is resumed 70 s (of wall-clock time) after its
/// failure retries 30 s later — for a Task's own Retry, and for a Parallel's and a Map's, whose
/// failure is recorded in a branch or an iteration.
#[tokio::test(start_paused = true)]
async fn a_retry_interval_survives_a_restart() {
    use workflow_runtime::clock::{format_ms, parse_ms};

    let flaky = r#"{"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "End": true RETRY}"#;
    let retry =
        r#", "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 100, "MaxAttempts": 2}]"#;
    let task = flaky.replace("RETRY", retry);
    let inner = flaky.replace("RETRY", "");
    let cases = [
        (
            "task",
            format!(r#"{{"StartAt": "F", "States": {{"F": {task}}}}}"#),
        ),
        (
            "parallel",
            format!(
                r#"{{"StartAt": "P", "States": {{"P": {{"Type": "Parallel", "End": true{retry},
                    "Branches": [{{"StartAt": "F", "States": {{"F": {inner}}}}}]}}}}}}"#
            ),
        ),
        (
            "map",
            format!(
                r#"{{"StartAt": "M", "States": {{"M": {{"Type": "Map", "End": true{retry},
                    "ItemProcessor": {{"StartAt": "F", "States": {{"F": {inner}}}}}}}}}}}"#
            ),
        ),
    ];
    // `flaky` fails on the first attempt (of the Task, or of the Parallel or Map around it).
    let attempts = Arc::new(AtomicUsize::new(0));
    let invoked_at = Arc::new(Mutex::new(Vec::new()));
    let flaky_builder = || {
        let attempts = Arc::clone(&attempts);
        let invoked_at = Arc::clone(&invoked_at);
        RuntimeBuilder::default().raw_handler(
            "arn:aws:lambda:*:*:function:flaky",
            move |input: Value, _cx: TaskContext| {
                let n = attempts.fetch_add(1, Ordering::SeqCst);
                invoked_at
                    .lock()
                    .expect("log")
                    .push(tokio::time::Instant::now());
                async move {
                    if n == 0 {
                        Err(TaskError::new("Flaky", "not yet"))
                    } else {
                        Ok(input)
                    }
                }
            },
        )
    };
    for (label, definition) in cases {
        // Run until the store holds the failure, and crash at the next append.
        let mut stored = Vec::new();
        for budget in 1..20 {
            attempts.store(0, Ordering::SeqCst);
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let crashing: Arc<dyn Store> = Arc::new(CrashAfter {
                inner: Arc::clone(&store),
                budget: AtomicUsize::new(budget),
            });
            let mut new = new_exec("r");
            new.definition = definition.clone();
            new.input = json!([1]);
            let outcome = DurableRuntime::new(flaky_builder(), crashing)
                .start(new)
                .await
                .expect("start")
                .wait()
                .await;
            assert_ne!(
                outcome.status,
                workflow_runtime::ExecutionStatus::Succeeded,
                "{label}: the failure is stored before the retry"
            );
            stored = store.load_events("r").await.expect("load");
            if stored
                .iter()
                .any(|e| e.event_type() == "LambdaFunctionFailed")
            {
                break;
            }
        }
        assert_eq!(
            stored
                .iter()
                .filter(|e| e.event_type() == "LambdaFunctionScheduled")
                .count(),
            1,
            "{label}: crashed before the second attempt"
        );

        // The process restarts 70 s after the failure (wall clock): the stored history moved
        // 70 s into the past.
        let restarted: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let first = &stored[0];
        let input: Value = serde_json::from_str(
            first.details().expect("details").1["input"]
                .as_str()
                .expect("input text"),
        )
        .expect("JSON");
        let mut new = new_exec("r");
        new.definition = definition.clone();
        new.input = input;
        new.metadata = json!({"seed": 1});
        restarted.start_execution(new).await.expect("start");
        let shifted: Vec<HistoryEvent> = stored
            .iter()
            .map(|e| HistoryEvent {
                timestamp: format_ms(parse_ms(&e.timestamp).expect("timestamp") - 70_000),
                ..e.clone()
            })
            .collect();
        restarted
            .append_events("r", &shifted)
            .await
            .expect("append");

        attempts.store(1, Ordering::SeqCst);
        invoked_at.lock().expect("log").clear();
        let resumed_at = tokio::time::Instant::now();
        let resumed = flaky_builder()
            .build()
            .durable(Arc::clone(&restarted))
            .resume()
            .await
            .expect("resume");
        for r in resumed {
            let outcome = r.expect("resumes").wait().await;
            assert_eq!(
                outcome.status,
                workflow_runtime::ExecutionStatus::Succeeded,
                "{label}: {outcome:?}"
            );
        }
        // `Runtime::resume` is the same as `durable(store).resume()`: nothing is left running.
        assert!(Runtime::default()
            .resume(Arc::clone(&restarted))
            .await
            .expect("resume")
            .is_empty());
        let invoked = invoked_at.lock().expect("log").clone();
        assert_eq!(invoked.len(), 1, "{label}: one more attempt");
        let waited = invoked[0] - resumed_at;
        assert!(
            (29..=31).contains(&waited.as_secs()),
            "{label}: retried {waited:?} after the restart (the interval has 30 s left)"
        );
    }
}

/// A sink that keeps each append's event types.
#[derive(Default)]
struct Appends(Mutex<Vec<Vec<String>>>);

impl workflow_runtime::EventSink for Appends {
    fn append<'a>(
        &'a self,
        events: &'a [HistoryEvent],
    ) -> workflow_runtime::history::SinkFuture<'a> {
        let types = events.iter().map(|e| e.event_type().to_string()).collect();
        self.0.lock().expect("appends").push(types);
        Box::pin(async { Ok(()) })
    }
}

/// `StartOptions::flush_every_state` stores each state's events before the next state starts;
/// without it a run of Pass states is stored in one batch. `StartOptions::seed` fixes one
/// execution's random numbers, whatever the runtime's seed.
#[tokio::test(start_paused = true)]
async fn options_flush_every_state_and_seed_one_execution() {
    let machine = workflow_asl::load(
        r#"{"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "Next": "B"},
            "B": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Pass", "End": true}}}"#,
    )
    .expect("valid");
    let runtime = Runtime::builder().seed(99).build();
    let program = runtime.program(&machine).expect("compiles");
    let run = |every_state: bool, seed: Option<u64>| {
        let runtime = runtime.clone();
        let program = Arc::clone(&program);
        async move {
            let sink = Arc::new(Appends::default());
            let mut options = workflow_runtime::StartOptions::new()
                .sink(sink.clone())
                .flush_every_state(every_state);
            if let Some(seed) = seed {
                options = options.seed(seed);
            }
            let outcome = runtime
                .start(&program, json!({}), options)
                .expect("starts")
                .wait()
                .await;
            assert!(outcome.succeeded(), "{outcome:?}");
            let appends = sink.0.lock().expect("appends").clone();
            (outcome.output.expect("output")["id"].clone(), appends)
        }
    };
    let (id, appends) = run(true, Some(7)).await;
    assert_eq!(
        appends,
        [
            &["ExecutionStarted", "PassStateEntered", "PassStateExited"][..],
            &["PassStateEntered", "PassStateExited"],
            &["PassStateEntered", "PassStateExited"],
            &["ExecutionSucceeded"],
        ]
    );
    let (same, batched) = run(false, Some(7)).await;
    assert_eq!(batched.len(), 1, "{batched:?}");
    assert_eq!(batched[0].len(), 8);
    assert_eq!(same, id, "the same seed draws the same UUID");
    let (other, _) = run(false, Some(8)).await;
    assert_ne!(other, id);
    let (runtime_seed, _) = run(false, None).await;
    assert_ne!(
        runtime_seed, id,
        "without one, the runtime's seed (99) is used"
    );
    assert_eq!(run(false, Some(99)).await.0, runtime_seed);
}
