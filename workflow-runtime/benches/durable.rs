//! Durable execution benchmarks. Run: `cargo bench -p workflow-runtime --bench durable`.
//!
//! - `chain`: the chain workload (`workloads/w1_chain.json`: 100 Pass states, 100 transitions),
//!   throughput in state transitions:
//!   - `in_memory`: the runtime with its in-memory history, no store (the reference);
//!   - `memory_store`, `sqlite_normal`, `sqlite_full`: durable executions
//!     ([`DurableRuntime`]) in each store, every state's events committed before the next
//!     state starts (`flush_every_state`, the durable default): one commit recording the
//!     execution, then one per state (its `…Entered` and `…Exited` events; the first also
//!     carries `ExecutionStarted`, the last `ExecutionSucceeded`);
//!   - `sqlite_normal_write_ahead_only`: the same with `flush_every_state(false)`: events are
//!     committed only before effects (task invocations, sleeps, the outcome), so a chain of
//!     Pass states commits its 202 events together when it ends.
//! - `loop`: one execution of a Choice + Pass loop (`workloads/w2_loop.json` counting to 5,000:
//!   10,002 transitions, no history limit), throughput in transitions: `in_memory` (the reference,
//!   history on) and `sqlite_normal` (durable, one commit per state, `SyncPolicy::Normal`). This is
//!   issue 13's durable target (≥ 50,000 transitions/s on one execution).
//! - `store_append`: one state's events (2) appended and committed, one execution at a time —
//!   the write-ahead cost per state — on the in-memory store and on SQLite with each sync policy.
//! - `store_append_100_concurrent`: 100 executions appending at once through one SQLite store,
//!   with group commit (`max_batch` 256) and without it (`max_batch` 1, equivalent to one
//!   connection behind a mutex).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use workflow_runtime::history::{EventKind, HistoryEvent, StateType};
use workflow_runtime::store::{
    DurableRuntime, MemoryStore, NewExecution, SqliteOptions, SqliteStore, Store, SyncPolicy,
};
use workflow_runtime::{ExecutionStatus, Runtime};

/// The chain workload: definition text, input and transitions per execution.
fn chain() -> (String, Value, u64) {
    let v: Value = serde_json::from_str(include_str!("../../benches/workloads/w1_chain.json"))
        .expect("the workload file is JSON");
    let transitions = v["transitions"]
        .as_u64()
        .expect("`transitions` is a number");
    (v["definition"].to_string(), v["input"].clone(), transitions)
}

fn chain_bench(c: &mut Criterion) {
    let (definition, input, transitions) = chain();
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("chain");
    group.throughput(Throughput::Elements(transitions));
    group.measurement_time(Duration::from_secs(5));

    let machine = workflow_asl::parse_str(&definition)
        .expect("JSON")
        .machine
        .expect("an object");
    let plain = Runtime::builder().seed(1).build();
    let program = plain.program(&machine).expect("compiles");
    group.bench_function("in_memory", |b| {
        b.iter(|| {
            let outcome = rt
                .block_on(plain.run(&program, input.clone()))
                .expect("starts");
            assert_eq!(outcome.status, ExecutionStatus::Succeeded);
            outcome
        })
    });

    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("memory_store", Arc::new(MemoryStore::new())),
        (
            "sqlite_normal",
            Arc::new(sqlite(&dir, "chain-normal.db", SyncPolicy::Normal, 256)),
        ),
        (
            "sqlite_full",
            Arc::new(sqlite(&dir, "chain-full.db", SyncPolicy::Full, 256)),
        ),
    ];
    // The last row: write-ahead only (one commit at the end), for comparison.
    let stores = stores
        .into_iter()
        .map(|(l, s)| (l, s, true))
        .chain(std::iter::once((
            "sqlite_normal_write_ahead_only",
            Arc::new(sqlite(&dir, "chain-wal-only.db", SyncPolicy::Normal, 256)) as Arc<dyn Store>,
            false,
        )));
    for (label, store, every_state) in stores {
        let durable = DurableRuntime::new(Runtime::builder(), store).flush_every_state(every_state);
        let mut n = 0u64;
        group.bench_function(label, |b| {
            b.iter(|| {
                n += 1;
                let new = NewExecution {
                    name: format!("chain-{n}"),
                    definition: definition.clone(),
                    input: input.clone(),
                    metadata: json!({"seed": 1}),
                };
                let outcome =
                    rt.block_on(async { durable.start(new).await.expect("starts").wait().await });
                assert_eq!(outcome.status, ExecutionStatus::Succeeded);
                outcome
            })
        });
    }

    group.finish();
}

/// The loop workload counting to `n`: definition text, input and transitions.
fn counting_loop(n: u64) -> (String, Value, u64) {
    let v: Value = serde_json::from_str(include_str!("../../benches/workloads/w2_loop.json"))
        .expect("the workload file is JSON");
    let mut definition = v["definition"].clone();
    definition["States"]["Check"]["Choices"][0]["NumericGreaterThanEquals"] = json!(n);
    (definition.to_string(), v["input"].clone(), 2 * n + 2)
}

fn loop_bench(c: &mut Criterion) {
    const COUNT: u64 = 5_000;
    let (definition, input, transitions) = counting_loop(COUNT);
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("loop");
    group.throughput(Throughput::Elements(transitions));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    let machine = workflow_asl::parse_str(&definition)
        .expect("JSON")
        .machine
        .expect("an object");
    let plain = Runtime::builder().seed(1).history_limit(0).build();
    let program = plain.program(&machine).expect("compiles");
    group.bench_function("in_memory", |b| {
        b.iter(|| {
            let outcome = rt
                .block_on(plain.run(&program, input.clone()))
                .expect("starts");
            assert_eq!(
                outcome.output.as_ref().map(|o| o["counter"].clone()),
                Some(json!(COUNT))
            );
            outcome
        })
    });
    let store: Arc<dyn Store> = Arc::new(sqlite(&dir, "loop-normal.db", SyncPolicy::Normal, 256));
    let durable = DurableRuntime::new(Runtime::builder().history_limit(0), store);
    let mut n = 0u64;
    group.bench_function("sqlite_normal", |b| {
        b.iter(|| {
            n += 1;
            let new = NewExecution {
                name: format!("loop-{n}"),
                definition: definition.clone(),
                input: input.clone(),
                metadata: json!({"seed": 1}),
            };
            let outcome =
                rt.block_on(async { durable.start(new).await.expect("starts").wait().await });
            assert_eq!(outcome.status, ExecutionStatus::Succeeded);
            outcome
        })
    });
    group.finish();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn new_exec(name: &str) -> NewExecution {
    NewExecution {
        name: name.into(),
        definition: r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(),
        input: json!({}),
        metadata: json!(null),
    }
}

/// The two events of one Pass state, as the executor records them.
fn state_events(first_id: u64) -> [HistoryEvent; 2] {
    let input = r#"{"name":"bench","last":{"i":41,"prev":40,"name":"bench"}}"#;
    let entered = HistoryEvent {
        id: first_id,
        previous_event_id: first_id - 1,
        timestamp: "2024-01-01T00:00:00.000Z".into(),
        kind: EventKind::StateEntered {
            state_type: StateType::Pass,
            name: "S41".into(),
            input: input.into(),
        },
        scope: String::new(),
        seq: first_id - 1,
    };
    let exited = HistoryEvent {
        id: first_id + 1,
        previous_event_id: first_id,
        kind: EventKind::StateExited {
            state_type: StateType::Pass,
            name: "S41".into(),
            output: input.into(),
        },
        seq: first_id,
        ..entered.clone()
    };
    [entered, exited]
}

fn sqlite(dir: &tempfile::TempDir, file: &str, sync: SyncPolicy, max_batch: usize) -> SqliteStore {
    let options = SqliteOptions {
        sync,
        max_batch,
        ..SqliteOptions::default()
    };
    SqliteStore::open_with(dir.path().join(file), options).expect("open the store")
}

fn store_append(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "sqlite_normal",
            Arc::new(sqlite(&dir, "normal.db", SyncPolicy::Normal, 256)),
        ),
        (
            "sqlite_full",
            Arc::new(sqlite(&dir, "full.db", SyncPolicy::Full, 256)),
        ),
    ];
    let mut group = c.benchmark_group("store_append");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    for (label, store) in stores {
        let mut next_exec = 0u64;
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| {
                next_exec += 1;
                let name = format!("bench-{next_exec}");
                rt.block_on(async {
                    store.start_execution(new_exec(&name)).await.expect("start");
                    let start = Instant::now();
                    for i in 0..iters {
                        let events = state_events(2 * i + 1);
                        store.append_events(&name, &events).await.expect("append");
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn store_append_concurrent(c: &mut Criterion) {
    const EXECUTIONS: u64 = 100;
    const STATES: u64 = 20;
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("store_append_100_concurrent");
    group.throughput(Throughput::Elements(EXECUTIONS * STATES));
    group.sample_size(10);
    for (label, sync, max_batch) in [
        ("normal_group_commit", SyncPolicy::Normal, 256),
        ("normal_no_batching", SyncPolicy::Normal, 1),
        ("full_group_commit", SyncPolicy::Full, 256),
        ("full_no_batching", SyncPolicy::Full, 1),
    ] {
        let store: Arc<dyn Store> = Arc::new(sqlite(&dir, &format!("{label}.db"), sync, max_batch));
        let mut round = 0u64;
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        round += 1;
                        for e in 0..EXECUTIONS {
                            store
                                .start_execution(new_exec(&format!("r{round}-e{e}")))
                                .await
                                .expect("start");
                        }
                        let start = Instant::now();
                        let tasks: Vec<_> = (0..EXECUTIONS)
                            .map(|e| {
                                let store = store.clone();
                                let name = format!("r{round}-e{e}");
                                tokio::spawn(async move {
                                    for s in 0..STATES {
                                        let events = state_events(2 * s + 1);
                                        store.append_events(&name, &events).await.expect("append");
                                    }
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.expect("task");
                        }
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    loop_bench,
    chain_bench,
    store_append,
    store_append_concurrent
);
criterion_main!(benches);
