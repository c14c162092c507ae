//! Issue 10: a distributed Map Run is resumable child by child. Its children are silent in the
//! history, so the store keeps the finished ones apart (`Store::record_map_children`); a
//! resumed execution runs only the others and takes the recorded outcomes for the rest.
//!
//! Every failure point of a durable execution of a distributed Map (a write refused from the
//! `k`-th on, or written with its acknowledgement lost), in a `MemoryStore` and a
//! `SqliteStore`: resuming gives the uninterrupted run's output and result files, and no
//! handler of a child whose outcome was recorded runs again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::objects::MemoryObjects;
use workflow_runtime::store::{
    Claim, DurableRuntime, ExecutionRecord, ExecutionStatus, ExecutionSummary, Fault, FaultyStore,
    ListFilter, MapChild, MemoryStore, NewExecution, SqliteStore, StartedExecution, Store,
    StoreFuture,
};
use workflow_runtime::{RuntimeBuilder, TaskContext, TaskError};

/// Twelve items, a task per child, two children at a time; items 3 and 8 fail and are
/// tolerated; the results go to a `ResultWriter`.
const WRITTEN: &str = r#"{
  "StartAt": "M",
  "States": {
    "M": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ToleratedFailureCount": 5,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task",
          "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}
      },
      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out", "Prefix": "results"}},
      "Next": "After"
    },
    "After": {"Type": "Pass", "End": true}
  }
}"#;

/// Ten items in batches of three (four children), results in the state output.
const BATCHED: &str = r#"{
  "StartAt": "M",
  "States": {
    "M": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 3,
      "ItemBatcher": {"MaxItemsPerBatch": 3},
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task",
          "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}
      },
      "ResultPath": "$.results",
      "End": true
    }
  }
}"#;

/// 600 items through Pass states only (children that never wait, so their progress is
/// written in batches), results in the state output.
const PASSES: &str = r#"{
  "StartAt": "M",
  "States": {
    "M": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "ItemSelector": {"n.$": "$$.Map.Item.Value"},
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": true}}
      },
      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out", "Prefix": "passes"}},
      "End": true
    }
  }
}"#;

/// A Map definition, its item count, and the first item of child `index`.
struct Case {
    definition: &'static str,
    items: u64,
    first_item: fn(u64) -> u64,
}

const CASES: [Case; 3] = [
    Case {
        definition: WRITTEN,
        items: 12,
        first_item: |i| i,
    },
    Case {
        definition: BATCHED,
        items: 10,
        first_item: |i| 3 * i,
    },
    Case {
        definition: PASSES,
        items: 600,
        first_item: |i| i,
    },
];

/// Calls of the handler, by the child's first item.
type Calls = Arc<Mutex<HashMap<u64, usize>>>;

/// The `work` handler: counts its calls; an item `v` with `v % 5 == 3` fails with `Bad`. It
/// yields once, as a handler that does I/O would, so the Map Run waits for its children (and
/// writes their progress one by one).
fn builder(calls: Calls, objects: Arc<MemoryObjects>) -> RuntimeBuilder {
    RuntimeBuilder::default().objects(objects).raw_handler(
        "arn:aws:lambda:*:*:function:work",
        move |input: Value, _cx: TaskContext| {
            let calls = Arc::clone(&calls);
            async move {
                let first = input
                    .as_u64()
                    .or_else(|| input["Items"][0].as_u64())
                    .expect("an item or a batch");
                *calls.lock().expect("calls").entry(first).or_default() += 1;
                tokio::task::yield_now().await;
                match input.as_u64() {
                    Some(v) if v % 5 == 3 => Err(TaskError::new("Bad", format!("item {v}"))),
                    Some(v) => Ok(json!({"v": v, "double": v * 2})),
                    None => Ok(json!({"batch": input["Items"]})),
                }
            }
        },
    )
}

/// Passes everything to `inner`, noting the Map Runs whose progress is written.
struct Spy {
    inner: Arc<dyn Store>,
    runs: Mutex<HashSet<String>>,
}

impl Store for Spy {
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
        self.inner.start_execution(new)
    }
    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()> {
        self.inner.append_events(name, events)
    }
    fn queues_appends(&self) -> bool {
        self.inner.queues_appends()
    }
    fn queue_events(&self, name: &str, events: Vec<HistoryEvent>) -> StoreFuture<'static, ()> {
        self.inner.queue_events(name, events)
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
    fn claim_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Claim> {
        self.inner.claim_execution(name)
    }
    fn release_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        self.inner.release_execution(name)
    }
    fn keeps_map_progress(&self) -> bool {
        self.inner.keeps_map_progress()
    }
    fn record_map_children(
        &self,
        name: &str,
        run: &str,
        children: Vec<MapChild>,
    ) -> StoreFuture<'static, ()> {
        self.runs.lock().expect("runs").insert(run.to_string());
        self.inner.record_map_children(name, run, children)
    }
    fn load_map_children<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<MapChild>> {
        self.inner.load_map_children(name, run, from, limit)
    }
}

fn new_exec(case: &Case) -> NewExecution {
    NewExecution {
        name: "e".into(),
        definition: case.definition.into(),
        input: json!({"items": (0..case.items).collect::<Vec<_>>()}),
        metadata: json!({"seed": 7}),
    }
}

/// Every manifest and the result files it lists (a crashed run may leave others behind, as a
/// process that fails does: the manifest says which are the Map Run's), the entries without
/// their dates (which read the clock) and Lambda request ids, and sorted by child (they are
/// written as children finish, and a resumed run finishes its recorded children first).
fn result_files(objects: &MemoryObjects) -> BTreeMap<String, Value> {
    let read = |key: &str| -> Value {
        let body = objects.object("out", key).expect("an object");
        serde_json::from_slice(&body).expect("JSON")
    };
    let mut files = BTreeMap::new();
    for (_, key) in objects.keys() {
        if !key.ends_with("manifest.json") {
            continue;
        }
        let manifest = read(&key);
        for listed in manifest["ResultFiles"]
            .as_object()
            .expect("result files")
            .values()
        {
            for file in listed.as_array().expect("a list") {
                let name = file["Key"].as_str().expect("a key");
                let mut v = read(name);
                if let Value::Array(entries) = &mut v {
                    for e in entries.iter_mut() {
                        if let Value::Object(e) = e {
                            e.remove("StartDate");
                            e.remove("StopDate");
                            // A Lambda error document's `requestId` is drawn per call.
                            if let Some(Value::String(cause)) = e.get_mut("Cause") {
                                if let Ok(Value::Object(mut doc)) = serde_json::from_str(cause) {
                                    doc.remove("requestId");
                                    *cause = Value::Object(doc).to_string();
                                }
                            }
                        }
                    }
                    entries.sort_by_key(|e| e["Name"].as_str().unwrap_or_default().to_string());
                }
                files.insert(name.to_string(), v);
            }
        }
        files.insert(key, manifest);
    }
    files
}

fn check_history(events: &[HistoryEvent]) {
    let mut positions = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "no gaps");
        assert!(
            positions.insert((e.scope.clone(), e.seq)),
            "no position twice"
        );
    }
}

/// Runs `case` once uninterrupted, then once per failure point, each resumed on the healthy
/// store; returns how many handler calls the recorded progress saved in all.
async fn crash_everywhere(
    case: &Case,
    make_store: impl Fn(usize) -> Arc<dyn Store>,
    fault: Fault,
) -> usize {
    let calls: Calls = Arc::default();
    let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
    let outcome = DurableRuntime::new(
        builder(Arc::clone(&calls), Arc::clone(&objects)),
        make_store(0),
    )
    .start(new_exec(case))
    .await
    .expect("start")
    .wait()
    .await;
    assert_eq!(
        outcome.status,
        workflow_runtime::ExecutionStatus::Succeeded,
        "{outcome:?}"
    );
    let expected = outcome.output.expect("output");
    let expected_files = result_files(&objects);
    // Children with a task (none in the Pass-only case).
    let children = calls.lock().expect("calls").len();
    assert!(calls.lock().expect("calls").values().all(|&n| n == 1));

    let mut saved = 0;
    for k in 0..500 {
        let inner = make_store(k + 1);
        let spy = Arc::new(Spy {
            inner: Arc::clone(&inner),
            runs: Mutex::default(),
        });
        let faulty = Arc::new(FaultyStore::new(spy.clone(), k, fault));
        let calls: Calls = Arc::default();
        let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
        let first = DurableRuntime::new(
            builder(Arc::clone(&calls), Arc::clone(&objects)),
            faulty.clone(),
        )
        .start(new_exec(case))
        .await
        .expect("start")
        .wait()
        .await;
        if !faulty.injected() {
            // Every write came before the failure point: no crash left to try.
            assert_eq!(first.output.as_ref(), Some(&expected));
            assert!(k >= 3, "only {k} failure points");
            return saved;
        }
        let before = inner.load_events("e").await.expect("load");
        check_history(&before);
        let record = inner.describe_execution("e").await.expect("describe");
        if record.status.is_closed() {
            // The closing append was written and only its acknowledgement lost.
            assert_eq!(fault, Fault::LoseAck, "crash point {k}");
            assert_eq!(record.output.as_ref(), Some(&expected), "crash point {k}");
            continue;
        }
        // The children the store holds: their handlers must not run again.
        let mut recorded = HashSet::new();
        let runs: Vec<String> = spy.runs.lock().expect("runs").iter().cloned().collect();
        for run in &runs {
            let kept = inner
                .load_map_children("e", run, 0, usize::MAX)
                .await
                .expect("progress");
            recorded.extend(kept.iter().map(|c| (case.first_item)(c.index)));
        }
        if children > 0 {
            for item in &recorded {
                assert_eq!(
                    calls.lock().expect("calls").get(item),
                    Some(&1),
                    "crash point {k}: recorded child {item} ran once before the crash"
                );
            }
        }

        let resumed = DurableRuntime::new(
            builder(Arc::clone(&calls), Arc::clone(&objects)),
            Arc::clone(&inner),
        )
        .resume()
        .await
        .expect("resume");
        assert_eq!(resumed.len(), 1, "crash point {k}");
        for r in resumed {
            let outcome = r.expect("resumes").wait().await;
            assert_eq!(
                outcome.status,
                workflow_runtime::ExecutionStatus::Succeeded,
                "crash point {k}: {outcome:?}"
            );
            assert_eq!(outcome.output.as_ref(), Some(&expected), "crash point {k}");
        }
        let after = inner.load_events("e").await.expect("load");
        check_history(&after);
        assert_eq!(&after[..before.len()], before.as_slice(), "crash point {k}");
        assert_eq!(result_files(&objects), expected_files, "crash point {k}");
        let calls = calls.lock().expect("calls");
        assert_eq!(calls.len(), children, "crash point {k}: every child ran");
        for item in recorded.iter().filter(|_| children > 0) {
            assert_eq!(
                calls.get(item),
                Some(&1),
                "crash point {k}: child {item} was recorded before the crash and ran again"
            );
        }
        saved += recorded.len();
    }
    panic!("more than 500 failure points");
}

#[tokio::test]
async fn memory_store_resumes_map_runs_from_every_crash_point() {
    for case in &CASES {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let saved = crash_everywhere(case, |_| Arc::new(MemoryStore::new()), fault).await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
        }
    }
}

#[tokio::test]
async fn sqlite_store_resumes_map_runs_from_every_crash_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (c, case) in CASES.iter().enumerate() {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let path = dir.path().join(format!("{c}-{fault:?}"));
            std::fs::create_dir_all(&path).expect("dir");
            let saved = crash_everywhere(
                case,
                move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
                fault,
            )
            .await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
        }
    }
}

/// A resumed execution whose Map Run had finished every child calls no handler again.
#[tokio::test]
async fn a_finished_map_run_is_not_run_again() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let case = &CASES[0];
    let calls: Calls = Arc::default();
    let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
    // The events after the Map Run are refused: the Map state's own end is the last write.
    let events_before_after = {
        let probe: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let spy = Arc::new(Spy {
            inner: Arc::clone(&probe),
            runs: Mutex::default(),
        });
        let faulty = Arc::new(FaultyStore::new(spy, usize::MAX, Fault::Refuse));
        DurableRuntime::new(
            builder(
                Arc::default(),
                Arc::new(MemoryObjects::new().with_bucket("out")),
            ),
            faulty.clone(),
        )
        .start(new_exec(case))
        .await
        .expect("start")
        .wait()
        .await;
        faulty.appends()
    };
    let faulty = Arc::new(FaultyStore::new(
        Arc::clone(&store),
        events_before_after - 1,
        Fault::Refuse,
    ));
    let first = DurableRuntime::new(builder(Arc::clone(&calls), Arc::clone(&objects)), faulty)
        .start(new_exec(case))
        .await
        .expect("start")
        .wait()
        .await;
    assert_ne!(first.status, workflow_runtime::ExecutionStatus::Succeeded);
    let ran = calls.lock().expect("calls").clone();
    assert_eq!(ran.len(), 12);
    let events = store.load_events("e").await.expect("load");
    assert!(
        events.iter().any(|e| e.event_type() == "MapRunSucceeded"),
        "the Map Run ended before the crash"
    );
    let resumed = DurableRuntime::new(builder(Arc::clone(&calls), objects), Arc::clone(&store))
        .resume()
        .await
        .expect("resume");
    for r in resumed {
        let outcome = r.expect("resumes").wait().await;
        assert_eq!(outcome.status, workflow_runtime::ExecutionStatus::Succeeded);
    }
    assert_eq!(*calls.lock().expect("calls"), ran, "no handler ran again");
}

/// Damaged progress stops a resumed execution with the store's error, naming the child; the
/// execution stays `RUNNING`, nothing is appended.
#[tokio::test]
async fn damaged_progress_is_a_clear_error() {
    struct Damaged(Arc<dyn Store>);
    impl Store for Damaged {
        fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
            self.0.start_execution(new)
        }
        fn append_events<'a>(
            &'a self,
            name: &'a str,
            events: &'a [HistoryEvent],
        ) -> StoreFuture<'a, ()> {
            self.0.append_events(name, events)
        }
        fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord> {
            self.0.describe_execution(name)
        }
        fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>> {
            self.0.load_events(name)
        }
        fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>> {
            self.0.list_executions(filter)
        }
        fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64> {
            self.0.count_executions(status)
        }
        fn keeps_map_progress(&self) -> bool {
            true
        }
        fn load_map_children<'a>(
            &'a self,
            _name: &'a str,
            run: &'a str,
            _from: u64,
            _limit: usize,
        ) -> StoreFuture<'a, Vec<MapChild>> {
            let detail = format!("child 4 of Map Run `{run}` does not match its checksum");
            Box::pin(async move {
                Err(workflow_runtime::store::StoreError::Corrupt {
                    path: "damaged.db".into(),
                    detail,
                })
            })
        }
    }
    let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let case = &CASES[0];
    let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
    // Crash midway: the sixth write is refused.
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner), 6, Fault::Refuse));
    DurableRuntime::new(builder(Arc::default(), Arc::clone(&objects)), faulty)
        .start(new_exec(case))
        .await
        .expect("start")
        .wait()
        .await;
    let before = inner.load_events("e").await.expect("load").len();
    let calls: Calls = Arc::default();
    let resumed = DurableRuntime::new(
        builder(Arc::clone(&calls), objects),
        Arc::new(Damaged(Arc::clone(&inner))),
    )
    .resume()
    .await
    .expect("resume");
    assert_eq!(resumed.len(), 1);
    for r in resumed {
        let outcome = r.expect("resumes").wait().await;
        assert_eq!(outcome.status, workflow_runtime::ExecutionStatus::Failed);
        let cause = outcome.cause.unwrap_or_default();
        assert!(
            cause.contains("damaged.db is corrupted") && cause.contains("child 4 of Map Run"),
            "{cause}"
        );
    }
    assert!(calls.lock().expect("calls").is_empty(), "no child ran");
    let record = inner.describe_execution("e").await.expect("describe");
    assert_eq!(record.status, ExecutionStatus::Running);
    assert_eq!(inner.load_events("e").await.expect("load").len(), before);
}
