//! Durable distributed Map throughput: N JSONL items read from a local-directory object store
//! (`DirObjects`), each a child execution of 3 Pass states, results written by a `ResultWriter`
//! (Transformation NONE), run by a [`DurableRuntime`] on a `SqliteStore`
//! (`SyncPolicy::Normal`), where every finished child is recorded in the store's Map Run
//! progress. Measured in the same run: the same Map in memory (no store), and durable in a
//! store that keeps no progress (the same `SqliteStore` behind a wrapper that does not forward
//! `keeps_map_progress`: what a durable Map Run cost before progress was kept), so the
//! difference is the cost of recording every child. The same pair in a `MemoryStore` (whose
//! writes run on the executor's thread) shows the executor's share of that cost.
//!
//! `cargo bench -p workflow-runtime --bench durable_map` runs 100,000 items; `cargo test
//! --benches` (no `--bench` flag) runs 1,000 as a test. `DMAP_ITEMS=N` overrides the count.
//! Custom harness (not criterion): one run is the measurement.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::objects::DirObjects;
use workflow_runtime::store::{
    Claim, ExecutionRecord, ExecutionStatus, ExecutionSummary, ListFilter, MemoryStore,
    NewExecution, SqliteStore, StartedExecution, Store, StoreFuture,
};
use workflow_runtime::{HistoryLevel, Runtime};

/// A store that keeps no Map Run progress: everything else goes to `inner`.
struct WithoutProgress(Arc<dyn Store>);

impl Store for WithoutProgress {
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
    fn queues_appends(&self) -> bool {
        self.0.queues_appends()
    }
    fn queue_events(&self, name: &str, events: Vec<HistoryEvent>) -> StoreFuture<'static, ()> {
        self.0.queue_events(name, events)
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
    fn claim_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Claim> {
        self.0.claim_execution(name)
    }
    fn release_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        self.0.release_execution(name)
    }
}

/// User + system CPU seconds of this process so far (every thread: the store's too).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, after)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall time and CPU seconds of one run.
type Took = (Duration, f64);

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("DMAP_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 100_000 } else { 1_000 });
    let root = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir_all(root.path().join("in")).expect("bucket in");
    std::fs::create_dir_all(root.path().join("out")).expect("bucket out");
    {
        let path = root.path().join("in/items.jsonl");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("items file"));
        for i in 0..n {
            writeln!(
                f,
                "{{\"id\":{i},\"name\":\"item-{i}\",\"price\":{}}}",
                i % 97
            )
            .expect("write");
        }
    }
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": true,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "in", "Key": "items.jsonl"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "A", "States": {
                "A": {"Type": "Pass", "Parameters": {"id.$": "$.id", "p.$": "$.price"}, "Next": "B"},
                "B": {"Type": "Pass", "Result": "ok", "ResultPath": "$.status", "Next": "C"},
                "C": {"Type": "Pass", "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "bench"}}}}});
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let objects = Arc::new(DirObjects::new(root.path()));

    // The reference: the same Map in memory.
    let machine = workflow_asl::load(&def.to_string()).expect("a valid definition");
    let memory = Runtime::builder()
        .history(HistoryLevel::Off)
        .objects(objects.clone())
        .build();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let outcome = rt
        .block_on(memory.run_machine(&machine, json!({})))
        .expect("starts");
    let in_memory: Took = (t.elapsed(), cpu_seconds() - cpu);
    assert!(
        outcome.succeeded(),
        "{:?} {:?}",
        outcome.error,
        outcome.cause
    );

    // Durable, in SQLite: without progress (as before it was kept), then with it.
    let sqlite = Arc::new(SqliteStore::open(root.path().join("store.db")).expect("a store"));
    let run = |store: Arc<dyn Store>, name: &str| {
        let durable = Runtime::builder().objects(objects.clone()).durable(store);
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let outcome = rt.block_on(async {
            durable
                .start(NewExecution {
                    name: name.into(),
                    definition: def.to_string(),
                    input: json!({}),
                    metadata: json!({}),
                })
                .await
                .expect("starts")
                .wait()
                .await
        });
        let took: Took = (t.elapsed(), cpu_seconds() - cpu);
        assert!(
            outcome.succeeded(),
            "{:?} {:?}",
            outcome.error,
            outcome.cause
        );
        let key = outcome.output.as_ref().expect("output")["ResultWriterDetails"]["Key"]
            .as_str()
            .expect("a manifest key")
            .to_string();
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(root.path().join("out").join(&key)).expect("the manifest"),
        )
        .expect("JSON");
        assert!(manifest["ResultFiles"]["SUCCEEDED"].is_array());
        took
    };
    let without = run(
        Arc::new(WithoutProgress(sqlite.clone())),
        "without-progress",
    );
    let with = run(sqlite.clone(), "with-progress");
    // The same in a `MemoryStore`, whose writes are made on the executor's thread: the
    // executor's share of the cost (each child's output text and input hash).
    let memory_store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mem_without = run(
        Arc::new(WithoutProgress(memory_store.clone())),
        "without-progress",
    );
    let mem_with = run(memory_store, "with-progress");

    let line = |what: &str, (wall, cpu): Took| {
        println!(
            "  {what:<32} {:.3} s, {:.0} items/s, {:.2} CPU s ({:.1} µs of CPU per item)",
            wall.as_secs_f64(),
            n as f64 / wall.as_secs_f64().max(1e-9),
            cpu,
            cpu * 1e6 / n as f64
        );
    };
    let extra = |with: Took, without: Took| {
        println!(
            "    recording every child: {:+.1}% wall time, {:+.2} µs of CPU per item",
            (with.0.as_secs_f64() / without.0.as_secs_f64().max(1e-9) - 1.0) * 100.0,
            (with.1 - without.1) * 1e6 / n as f64
        );
    };
    println!("durable_map: {n} JSONL items, 3 Pass states each, ResultWriter (NONE)");
    line("in memory", in_memory);
    line("SqliteStore, no progress kept", without);
    line("SqliteStore, every child kept", with);
    extra(with, without);
    line("MemoryStore, no progress kept", mem_without);
    line("MemoryStore, every child kept", mem_with);
    extra(mem_with, mem_without);
}
