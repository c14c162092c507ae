//! The stores under load: 100 executions appending at once through one store, and one store
//! holding 10,000 executions.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use workflow_runtime::history::{EventKind, HistoryEvent};
use workflow_runtime::store::{
    ExecutionStatus, ListFilter, MemoryStore, NewExecution, SqliteOptions, SqliteStore, Store,
    StoreError, SyncPolicy,
};

const DEF: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

fn new_exec(name: &str) -> NewExecution {
    NewExecution {
        name: name.into(),
        definition: DEF.into(),
        input: json!({"name": name}),
        metadata: json!(null),
    }
}

fn event(id: u64, scope: &str, seq: u64) -> HistoryEvent {
    HistoryEvent {
        scope: scope.into(),
        seq,
        ..HistoryEvent::from_aws(
            id,
            id - 1,
            "2024-01-01T00:00:00.000Z".into(),
            "PassStateEntered",
            Some((
                "stateEnteredEventDetails".into(),
                json!({"name": "A", "input": format!("{{\"n\":{id}}}")}),
            )),
        )
    }
}

fn succeeded(id: u64, output: &str) -> HistoryEvent {
    HistoryEvent {
        kind: EventKind::from_aws(
            "ExecutionSucceeded",
            Some((
                "executionSucceededEventDetails".into(),
                json!({"output": output}),
            )),
        ),
        ..event(id, "", 1_000_000)
    }
}

/// 100 executions, each appending 40 batches of 2 events from its own task, interleaved with a
/// saboteur that sends bad batches: every good append lands, in order, every bad one is rejected,
/// and a rejected append never takes a good one down with it (they share commits).
async fn hundred_concurrent_executions(store: Arc<dyn Store>) {
    const EXECUTIONS: usize = 100;
    const BATCHES: u64 = 40;
    for i in 0..EXECUTIONS {
        store
            .start_execution(new_exec(&format!("c{i}")))
            .await
            .expect("start");
    }
    let mut tasks = Vec::new();
    for i in 0..EXECUTIONS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("c{i}");
            let scope = format!("{}.{}", i % 7, i);
            for b in 0..BATCHES {
                let id = 2 * b + 1;
                let batch = [event(id, &scope, 2 * b), event(id + 1, &scope, 2 * b + 1)];
                store.append_events(&name, &batch).await.expect("append");
                // A duplicate of what was just written: must be rejected, nothing changes.
                let dup = store.append_events(&name, &batch[1..]).await;
                assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
                tokio::task::yield_now().await;
            }
            store
                .append_events(&name, &[succeeded(2 * BATCHES + 1, &i.to_string())])
                .await
                .expect("close");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(
        store
            .count_executions(Some(ExecutionStatus::Succeeded))
            .await
            .expect("count"),
        EXECUTIONS as u64
    );
    for i in 0..EXECUTIONS {
        let name = format!("c{i}");
        let events = store.load_events(&name).await.expect("load");
        assert_eq!(events.len() as u64, 2 * BATCHES + 1);
        assert!(events.iter().enumerate().all(|(k, e)| e.id == k as u64 + 1));
        let record = store.describe_execution(&name).await.expect("describe");
        assert_eq!(record.output, Some(json!(i)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_takes_100_concurrent_executions() {
    hundred_concurrent_executions(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_takes_100_concurrent_executions() {
    for sync in [SyncPolicy::Normal, SyncPolicy::Full] {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = SqliteOptions {
            sync,
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open_with(dir.path().join("c.db"), options).expect("open");
        hundred_concurrent_executions(Arc::new(store)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_store_holds_10_000_executions() {
    const N: usize = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.db");
    let started = Instant::now();
    {
        let store = Arc::new(SqliteStore::open(&path).expect("open"));
        let mut tasks = Vec::new();
        for chunk in 0..10 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in (chunk * N / 10)..((chunk + 1) * N / 10) {
                    let name = format!("exec-{i:05}");
                    store.start_execution(new_exec(&name)).await.expect("start");
                    let mut batch = vec![event(1, "", 0), event(2, "", 1)];
                    if i % 2 == 0 {
                        batch.push(succeeded(3, "{}"));
                    }
                    store.append_events(&name, &batch).await.expect("append");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    }
    let written = started.elapsed();
    let store = SqliteStore::open_with(
        &path,
        SqliteOptions {
            verify: true,
            ..SqliteOptions::default()
        },
    )
    .expect("a store of 10,000 executions reopens and verifies");
    assert_eq!(store.count_executions(None).await.expect("count"), N as u64);
    assert_eq!(
        store
            .count_executions(Some(ExecutionStatus::Running))
            .await
            .expect("count"),
        N as u64 / 2
    );
    let list = store
        .list_executions(ListFilter::all())
        .await
        .expect("list");
    assert_eq!(list.len(), N);
    let running = store
        .list_executions(ListFilter::with_status(ExecutionStatus::Running))
        .await
        .expect("list");
    assert_eq!(running.len(), N / 2);
    assert!(running.iter().all(|s| s.event_count == 2));
    let one = store
        .describe_execution("exec-09999")
        .await
        .expect("describe");
    assert_eq!(one.input, json!({"name": "exec-09999"}));
    eprintln!(
        "10,000 executions written in {written:?}; reopened, verified and listed in {:?}",
        started.elapsed() - written
    );
}

/// Queued appends (`Store::queue_events`, one per state of a durable run) are committed in the
/// order they were queued, whether or not their futures are polled; a refused one fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_appends_commit_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("q.db")).expect("open");
    assert!(store.queues_appends());
    store.start_execution(new_exec("e")).await.expect("start");
    let queued: Vec<_> = (0..50u64)
        .map(|k| {
            store.queue_events(
                "e",
                vec![event(2 * k + 1, "", 2 * k), event(2 * k + 2, "", 2 * k + 1)],
            )
        })
        .collect();
    // Not contiguous: refused, and the appends queued after it still continue the history.
    let gap = store.queue_events("e", vec![event(200, "", 199)]);
    let after = store.queue_events("e", vec![event(101, "", 100)]);
    for q in queued {
        q.await.expect("a queued append is committed");
    }
    assert!(matches!(gap.await, Err(StoreError::Conflict { .. })));
    after.await.expect("committed");
    let events = store.load_events("e").await.expect("load");
    assert_eq!(events.len(), 101);
    assert!(events.iter().enumerate().all(|(k, e)| e.id == k as u64 + 1));
    // A position that is not after its scope's last one is refused.
    let repeated = store.queue_events("e", vec![event(102, "", 50)]);
    assert!(matches!(repeated.await, Err(StoreError::Conflict { .. })));
}

/// A long durable loop in SQLite with `keep_history(false)`: the run keeps none of its events
/// (the outcome's history is empty), and the store holds the same history as an in-memory run:
/// ids without gaps, the same events in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_loop_stores_every_state_and_keeps_no_history_in_memory() {
    use workflow_runtime::store::DurableRuntime;
    use workflow_runtime::Runtime;
    let definition = json!({
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThanEquals": 3000, "Next": "Done"}],
                "Default": "Inc"},
            "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Check"},
            "Done": {"Type": "Succeed"}
        }
    })
    .to_string();
    let machine = workflow_asl::parse_str(&definition)
        .expect("JSON")
        .machine
        .expect("an object");
    let plain = Runtime::builder().history_limit(0).build();
    let program = plain.program(&machine).expect("compiles");
    let reference = plain.run(&program, json!({"n": 0})).await.expect("runs");
    let expected: Vec<(u64, String)> = reference
        .history
        .iter()
        .map(|e| (e.id, format!("{} {:?}", e.event_type(), e.details())))
        .collect();
    assert!(expected.len() > 12_000);

    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("l.db")).expect("open"));
    let durable = DurableRuntime::new(Runtime::builder().history_limit(0), Arc::clone(&store))
        .keep_history(false);
    let outcome = durable
        .start(NewExecution {
            name: "loop".into(),
            definition,
            input: json!({"n": 0}),
            metadata: json!({"seed": 1}),
        })
        .await
        .expect("starts")
        .wait()
        .await;
    assert!(outcome.succeeded());
    assert_eq!(outcome.output, Some(json!({"n": 3000})));
    assert!(outcome.history.is_empty(), "the run kept no events");
    let stored: Vec<(u64, String)> = store
        .load_events("loop")
        .await
        .expect("load")
        .iter()
        .map(|e| (e.id, format!("{} {:?}", e.event_type(), e.details())))
        .collect();
    assert_eq!(stored.len(), expected.len());
    assert!(
        stored == expected,
        "the stored history is the in-memory run's"
    );
    let record = store.describe_execution("loop").await.expect("describe");
    assert_eq!(record.status, ExecutionStatus::Succeeded);
}
