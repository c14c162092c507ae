//! Issue 10: a distributed Map Run is resumable child by child. Its children are silent in the
//! history, so the store keeps the finished ones apart (`Store::record_map_children`); a
//! resumed execution runs only the others and takes the recorded outcomes for the rest.
//!
//! Every failure point of a durable execution of a distributed Map (a write refused from the
//! `k`-th on, or written with its acknowledgement lost), in a `MemoryStore` and a
//! `SqliteStore`: resuming gives the uninterrupted run's output and result files, and no
//! handler of a child whose outcome was recorded runs again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::objects::MemoryObjects;
use workflow_runtime::store::{
    Claim, DurableRuntime, ExecutionRecord, ExecutionStatus, ExecutionSummary, Fault, FaultyStore,
    ListFilter, MapChild, MapChildOutcome, MapRunState, MemoryStore, NewExecution, SqliteStore,
    StartedExecution, Store, StoreFuture,
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

/// A distributed Map in each child of another: three children, each a Map Run of its own over
/// five items in batches of two, a task per batch.
const NESTED: &str = r#"{
  "StartAt": "Outer",
  "States": {
    "Outer": {
      "Type": "Map",
      "ItemsPath": "$.outer",
      "MaxConcurrency": 2,
      "ItemBatcher": {"MaxItemsPerBatch": 1},
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Inner",
        "States": {
          "Inner": {
            "Type": "Map",
            "ItemsPath": "$.Items[0].inner",
            "MaxConcurrency": 2,
            "ItemBatcher": {"MaxItemsPerBatch": 2},
            "ItemProcessor": {
              "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
              "StartAt": "Work",
              "States": {"Work": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}
            },
            "End": true
          }
        }
      },
      "ResultPath": "$.results",
      "End": true
    }
  }
}"#;

/// A distributed Map over the items of its input (no `ItemReader`, `ItemBatcher` nor
/// `ResultWriter`, run by the inline path): twelve items, a task per child, two children at a
/// time; items 3 and 8 fail and are tolerated; the results in the state output.
const FROM_INPUT: &str = r#"{
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
      "ResultPath": "$.results",
      "Next": "After"
    },
    "After": {"Type": "Pass", "End": true}
  }
}"#;

/// 600 items of the input through Pass states only (progress written in batches), with an
/// `ItemSelector`, results in the state output.
const PASSES_FROM_INPUT: &str = r#"{
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
      "End": true
    }
  }
}"#;

/// Distributed Maps over their input in each child of another: three children, each with two
/// Map Runs over the same four items and with the same settings (each keeps progress of its
/// own), a task per item in the first, Pass states in the second.
const NESTED_FROM_INPUT: &str = r#"{
  "StartAt": "Outer",
  "States": {
    "Outer": {
      "Type": "Map",
      "ItemsPath": "$.outer",
      "MaxConcurrency": 2,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Inner",
        "States": {
          "Inner": {
            "Type": "Map",
            "ItemsPath": "$.inner",
            "MaxConcurrency": 2,
            "ItemProcessor": {
              "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
              "StartAt": "Work",
              "States": {"Work": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}
            },
            "ResultPath": "$.work",
            "Next": "Again"
          },
          "Again": {
            "Type": "Map",
            "ItemsPath": "$.inner",
            "MaxConcurrency": 2,
            "ItemProcessor": {
              "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
              "StartAt": "Wrap",
              "States": {"Wrap": {"Type": "Pass", "Parameters": {"again.$": "$"}, "End": true}}
            },
            "ResultPath": "$.again",
            "End": true
          }
        }
      },
      "ResultPath": "$.results",
      "End": true
    }
  }
}"#;

/// The item of a recorded child whose output is the `work` handler's (`{"v": item, …}`).
fn output_item(c: &MapChild) -> Option<u64> {
    match &c.outcome {
        MapChildOutcome::Succeeded(text) => {
            let v: Value = serde_json::from_str(text).expect("JSON output");
            v["v"].as_u64()
        }
        MapChildOutcome::Failed { .. } => None,
    }
}

/// [`FAILING`] over the items of its input alone (no `ResultWriter`).
const FAILING_FROM_INPUT: &str = r#"{
  "StartAt": "M",
  "States": {
    "M": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Gate",
        "States": {
          "Gate": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:gate", "Next": "How"},
          "How": {"Type": "Choice", "Choices": [
            {"Variable": "$.error", "StringEquals": "Late", "Next": "Late"},
            {"Variable": "$.error", "StringEquals": "Early", "Next": "Early"}
          ], "Default": "Done"},
          "Late": {"Type": "Fail", "Error": "Late", "Cause": "the child that finished last"},
          "Early": {"Type": "Fail", "Error": "Early", "Cause": "the child that finished first"},
          "Done": {"Type": "Succeed"}
        }
      },
      "Catch": [
        {"ErrorEquals": ["Early"], "ResultPath": "$.caught", "Next": "CaughtEarly"},
        {"ErrorEquals": ["Late"], "ResultPath": "$.caught", "Next": "CaughtLate"}
      ],
      "End": true
    },
    "CaughtEarly": {"Type": "Pass", "Result": "early", "ResultPath": "$.by", "End": true},
    "CaughtLate": {"Type": "Pass", "Result": "late", "ResultPath": "$.by", "End": true}
  }
}"#;

/// The first item of a recorded child whose output is a batch's (`{"batch": [first, …]}`).
fn batch_item(c: &MapChild) -> Option<u64> {
    match &c.outcome {
        MapChildOutcome::Succeeded(text) => {
            let v: Value = serde_json::from_str(text).expect("JSON output");
            v["batch"][0].as_u64()
        }
        MapChildOutcome::Failed { .. } => None,
    }
}

/// Children that end with the error their item names (`Late`, `Early`), or succeed; each
/// calls the `gate` handler first. The Map has no tolerated failures: the first child to fail
/// decides its error, which a Catch tells apart.
const FAILING: &str = r#"{
  "StartAt": "M",
  "States": {
    "M": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 2,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Gate",
        "States": {
          "Gate": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:gate", "Next": "How"},
          "How": {"Type": "Choice", "Choices": [
            {"Variable": "$.error", "StringEquals": "Late", "Next": "Late"},
            {"Variable": "$.error", "StringEquals": "Early", "Next": "Early"}
          ], "Default": "Done"},
          "Late": {"Type": "Fail", "Error": "Late", "Cause": "the child that finished last"},
          "Early": {"Type": "Fail", "Error": "Early", "Cause": "the child that finished first"},
          "Done": {"Type": "Succeed"}
        }
      },
      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "out", "Prefix": "failing"}},
      "Catch": [
        {"ErrorEquals": ["Early"], "ResultPath": "$.caught", "Next": "CaughtEarly"},
        {"ErrorEquals": ["Late"], "ResultPath": "$.caught", "Next": "CaughtLate"}
      ],
      "End": true
    },
    "CaughtEarly": {"Type": "Pass", "Result": "early", "ResultPath": "$.by", "End": true},
    "CaughtLate": {"Type": "Pass", "Result": "late", "ResultPath": "$.by", "End": true}
  }
}"#;

/// A Map definition, its input, the first item of a recorded child (`None`: a child that
/// called no handler itself), and the runtime with its handlers (calls counted by first item).
struct Case {
    definition: &'static str,
    input: fn() -> Value,
    first_item: fn(&MapChild) -> Option<u64>,
    builder: fn(Calls, Arc<MemoryObjects>) -> RuntimeBuilder,
}

const CASES: [Case; 3] = [
    Case {
        definition: WRITTEN,
        input: || json!({"items": (0..12).collect::<Vec<_>>()}),
        first_item: |c| Some(c.index),
        builder,
    },
    Case {
        definition: BATCHED,
        input: || json!({"items": (0..10).collect::<Vec<_>>()}),
        first_item: |c| Some(3 * c.index),
        builder,
    },
    Case {
        definition: PASSES,
        input: || json!({"items": (0..600).collect::<Vec<_>>()}),
        first_item: |c| Some(c.index),
        builder,
    },
];

/// Distributed Maps over the items of their input (the inline path), nested ones last.
const FROM_INPUT_CASES: [Case; 3] = [
    Case {
        definition: FROM_INPUT,
        input: || json!({"items": (0..12).collect::<Vec<_>>()}),
        first_item: |c| Some(c.index),
        builder,
    },
    Case {
        definition: PASSES_FROM_INPUT,
        input: || json!({"items": (0..600).collect::<Vec<_>>()}),
        first_item: |c| Some(c.index),
        builder,
    },
    Case {
        definition: NESTED_FROM_INPUT,
        input: || {
            json!({"outer": [
                {"inner": [0, 1, 2, 4]},
                {"inner": [10, 11, 12, 14]},
                {"inner": [20, 21, 22, 24]}
            ]})
        },
        first_item: output_item,
        builder,
    },
];

/// Map Runs nested in the children of a Map Run.
const NESTED_CASE: Case = Case {
    definition: NESTED,
    input: || {
        json!({"outer": [
            {"inner": [0, 1, 2, 3, 4]},
            {"inner": [10, 11, 12, 13, 14]},
            {"inner": [20, 21, 22, 23, 24]}
        ]})
    },
    first_item: batch_item,
    builder,
};

/// Map Runs of `definition` that fail, with children that finish out of index order.
const fn failed_cases(definition: &'static str) -> [Case; 2] {
    [
        // Child 0 waits for child 1, which fails first (`Early`, the Map's error); child 0 fails
        // right after (`Late`), before the cancellation reaches it: both failures are recorded.
        Case {
            definition,
            input: || {
                json!({"items": [
                    {"n": 0, "wait": true, "error": "Late"},
                    {"n": 1, "signal": true, "error": "Early"}
                ]})
            },
            first_item: |c| Some(c.index),
            builder: gated,
        },
        // Child 0 waits while children 1-5 succeed, then fails: the children recorded after the
        // failing one in index order are in the result files too.
        Case {
            definition,
            input: || {
                json!({"items": [
                    {"n": 0, "wait": true, "error": "Late"},
                    {"n": 1, "error": "None"}, {"n": 2, "error": "None"},
                    {"n": 3, "error": "None"}, {"n": 4, "error": "None"},
                    {"n": 5, "signal": true, "error": "None"}
                ]})
            },
            first_item: |c| Some(c.index),
            builder: gated,
        },
    ]
}

/// Map Runs that fail, with children that finish out of index order.
const FAILED_CASES: [Case; 2] = failed_cases(FAILING);

/// [`FAILED_CASES`] for a distributed Map over its input: the Map's error is the first
/// failure's, whatever the order of the records.
const FAILED_FROM_INPUT_CASES: [Case; 2] = failed_cases(FAILING_FROM_INPUT);

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

/// The `gate` handler: counts its calls by the item's `n` and returns its input. An item with
/// `wait` waits until one with `signal` has been handled in this run, then returns at once (so
/// it finishes right after that one, before a cancellation reaches it); children thus finish
/// out of index order. A resumed run may not run the signalling child again (its outcome was
/// recorded): the wait then ends after 10,000 polls, with the same result. (Polls, not time:
/// the order does not depend on the machine's load.)
fn gated(calls: Calls, objects: Arc<MemoryObjects>) -> RuntimeBuilder {
    let signalled = Arc::new(AtomicBool::new(false));
    RuntimeBuilder::default().objects(objects).raw_handler(
        "arn:aws:lambda:*:*:function:gate",
        move |input: Value, _cx: TaskContext| {
            let (calls, signalled) = (Arc::clone(&calls), Arc::clone(&signalled));
            async move {
                let n = input["n"].as_u64().expect("an item number");
                *calls.lock().expect("calls").entry(n).or_default() += 1;
                if input["wait"] == json!(true) {
                    for _ in 0..10_000 {
                        if signalled.load(Ordering::SeqCst) {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    return Ok(input);
                }
                tokio::task::yield_now().await;
                if input["signal"] == json!(true) {
                    signalled.store(true, Ordering::SeqCst);
                }
                Ok(input)
            }
        },
    )
}

/// Passes everything to `inner`, noting the Map Runs whose progress is written; `stateless`,
/// it drops the Map Runs' states, as a store written by a version that kept none.
struct Spy {
    inner: Arc<dyn Store>,
    runs: Mutex<HashSet<String>>,
    stateless: bool,
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
        state: Option<MapRunState>,
    ) -> StoreFuture<'static, ()> {
        self.runs.lock().expect("runs").insert(run.to_string());
        let state = state.filter(|_| !self.stateless);
        self.inner.record_map_children(name, run, children, state)
    }
    fn load_map_run<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
    ) -> StoreFuture<'a, Option<MapRunState>> {
        if self.stateless {
            return Box::pin(async { Ok(None) });
        }
        self.inner.load_map_run(name, run)
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
        input: (case.input)(),
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
/// store; returns how many handler calls the recorded progress saved in all, and the output.
async fn crash_everywhere(
    case: &Case,
    make_store: impl Fn(usize) -> Arc<dyn Store>,
    fault: Fault,
) -> (usize, Value) {
    let calls: Calls = Arc::default();
    let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
    let outcome = DurableRuntime::new(
        (case.builder)(Arc::clone(&calls), Arc::clone(&objects)),
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
            stateless: false,
        });
        let faulty = Arc::new(FaultyStore::new(spy.clone(), k, fault));
        let calls: Calls = Arc::default();
        let objects = Arc::new(MemoryObjects::new().with_bucket("out"));
        let first = DurableRuntime::new(
            (case.builder)(Arc::clone(&calls), Arc::clone(&objects)),
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
            return (saved, expected);
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
            recorded.extend(kept.iter().filter_map(case.first_item));
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
            (case.builder)(Arc::clone(&calls), Arc::clone(&objects)),
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
            let (saved, _) = crash_everywhere(case, |_| Arc::new(MemoryStore::new()), fault).await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
        }
    }
}

/// A Map Run nested in a child keeps its progress too: a resumed child that runs again does
/// not run the children its Map Run recorded.
#[tokio::test]
async fn nested_map_runs_resume_from_every_crash_point() {
    for fault in [Fault::Refuse, Fault::LoseAck] {
        let (saved, output) =
            crash_everywhere(&NESTED_CASE, |_| Arc::new(MemoryStore::new()), fault).await;
        assert!(saved > 0, "no resumed run skipped a recorded child");
        assert_eq!(output["results"][2][2], json!({"batch": [24]}), "{output}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for fault in [Fault::Refuse, Fault::LoseAck] {
        let path = dir.path().join(format!("{fault:?}"));
        std::fs::create_dir_all(&path).expect("dir");
        let (saved, _) = crash_everywhere(
            &NESTED_CASE,
            move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
            fault,
        )
        .await;
        assert!(saved > 0, "no resumed run skipped a recorded child");
    }
}

/// A store that keeps no Map Run state (written by schema version 4): a resumed run counts the
/// recorded failures as it meets them, as before.
#[tokio::test]
async fn stores_without_map_run_states_resume_as_before() {
    for case in &CASES {
        let stateless = |_| -> Arc<dyn Store> {
            Arc::new(Spy {
                inner: Arc::new(MemoryStore::new()),
                runs: Mutex::default(),
                stateless: true,
            })
        };
        let (saved, _) = crash_everywhere(case, stateless, Fault::Refuse).await;
        assert!(saved > 0, "no resumed run skipped a recorded child");
    }
}

#[tokio::test]
async fn sqlite_store_resumes_map_runs_from_every_crash_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (c, case) in CASES.iter().enumerate() {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let path = dir.path().join(format!("{c}-{fault:?}"));
            std::fs::create_dir_all(&path).expect("dir");
            let (saved, _) = crash_everywhere(
                case,
                move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
                fault,
            )
            .await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
        }
    }
}

/// The uninterrupted run of a [`FAILED_CASES`] case caught the error of the child that failed
/// first: `Early` when a child fails so, else `Late`.
fn check_caught(case: &Case, output: &Value) {
    let early = (case.input)()["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["error"] == "Early");
    let (by, error) = if early {
        ("early", "Early")
    } else {
        ("late", "Late")
    };
    assert_eq!(output["by"], by, "{output}");
    assert_eq!(output["caught"]["Error"], error, "{output}");
}

/// A Map Run that failed before the crash, its children having finished out of index order,
/// resumes to the uninterrupted outcome: the Map's error is the first failure's (which the
/// Catch tells apart), and the result files hold every recorded child.
#[tokio::test]
async fn memory_store_resumes_failed_map_runs_as_they_ended() {
    for case in &FAILED_CASES {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let (saved, output) =
                crash_everywhere(case, |_| Arc::new(MemoryStore::new()), fault).await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
            check_caught(case, &output);
        }
    }
}

#[tokio::test]
async fn sqlite_store_resumes_failed_map_runs_as_they_ended() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (c, case) in FAILED_CASES.iter().enumerate() {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let path = dir.path().join(format!("{c}-{fault:?}"));
            std::fs::create_dir_all(&path).expect("dir");
            let (saved, output) = crash_everywhere(
                case,
                move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
                fault,
            )
            .await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
            check_caught(case, &output);
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
            stateless: false,
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

/// A distributed Map over the items of its input (run by the inline path, not the reader's)
/// keeps its progress too, at any depth: from every failure point, in both stores, a resumed
/// run gives the uninterrupted output and runs no recorded child again.
#[tokio::test]
async fn map_runs_over_input_items_resume_from_every_crash_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (c, case) in FROM_INPUT_CASES.iter().enumerate() {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let (saved, output) =
                crash_everywhere(case, |_| Arc::new(MemoryStore::new()), fault).await;
            assert!(
                saved > 0,
                "case {c}: no resumed run skipped a recorded child"
            );
            match c {
                0 => {
                    // Items 3 and 8 failed and were tolerated: no result.
                    let results = output["results"].as_array().expect("results");
                    assert_eq!(results.len(), 10, "{output}");
                    assert_eq!(results[3], json!({"v": 4, "double": 8}), "{output}");
                }
                1 => assert_eq!(output[599], json!({"twice": 1198}), "{output}"),
                _ => {
                    let last = &output["results"][2];
                    assert_eq!(last["work"][3], json!({"v": 24, "double": 48}), "{output}");
                    assert_eq!(last["again"][3], json!({"again": 24}), "{output}");
                }
            }
            let path = dir.path().join(format!("{c}-{fault:?}"));
            std::fs::create_dir_all(&path).expect("dir");
            let (saved, sqlite_output) = crash_everywhere(
                case,
                move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
                fault,
            )
            .await;
            assert!(
                saved > 0,
                "case {c}: no resumed run skipped a recorded child"
            );
            assert_eq!(sqlite_output, output);
        }
    }
}

/// A failed distributed Map over its input resumes to the uninterrupted outcome (the first
/// failure's error, which the Catch tells apart), in both stores, and from a store without
/// Map Run states as before.
#[tokio::test]
async fn failed_map_runs_over_input_items_resume_as_they_ended() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (c, case) in FAILED_FROM_INPUT_CASES.iter().enumerate() {
        for fault in [Fault::Refuse, Fault::LoseAck] {
            let (saved, output) =
                crash_everywhere(case, |_| Arc::new(MemoryStore::new()), fault).await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
            check_caught(case, &output);
            let path = dir.path().join(format!("{c}-{fault:?}"));
            std::fs::create_dir_all(&path).expect("dir");
            let (saved, output) = crash_everywhere(
                case,
                move |k| Arc::new(SqliteStore::open(path.join(format!("{k}.db"))).expect("open")),
                fault,
            )
            .await;
            assert!(saved > 0, "no resumed run skipped a recorded child");
            check_caught(case, &output);
        }
    }
    for case in &FROM_INPUT_CASES[..1] {
        let stateless = |_| -> Arc<dyn Store> {
            Arc::new(Spy {
                inner: Arc::new(MemoryStore::new()),
                runs: Mutex::default(),
                stateless: true,
            })
        };
        let (saved, _) = crash_everywhere(case, stateless, Fault::Refuse).await;
        assert!(saved > 0, "no resumed run skipped a recorded child");
    }
}
