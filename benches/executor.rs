//! State transitions per second of the executor on the five workloads in `benches/workloads/`,
//! each measured beside a hand-written Rust function doing the same `serde_json` work (the floor).
//!
//! | workload | shape | transitions |
//! |---|---|---|
//! | `w1_chain` | 100 Pass states, each `Parameters` with two paths and `ResultPath` | 100 |
//! | `w2_loop` | Choice + Pass loop counting to 1,000 with `States.MathAdd` | 2,002 |
//! | `w3_parallel` | one Parallel state, 50 branches of 5 Pass states | 251 |
//! | `w4_map` | inline Map over 1,000 items, 3 Pass states each, MaxConcurrency 0 | 3,001 |
//! | `w5_retry` | a Task (`flaky`) failing twice with `Flaky.Error`, Retry every 1 s, Catch | 2 |
//!
//! Every execution runs on a single-threaded tokio runtime with a paused clock, so `w5_retry`'s
//! two one-second retry intervals take no wall time (the floor sleeps the same virtual seconds).
//! Three measurements per workload, throughput in transitions (`Throughput::Elements`):
//! - `engine`: the runtime without history ([`HistoryLevel::Off`]);
//! - `engine_history`: the runtime recording the full AWS-shaped history in memory (the default);
//! - `hand_written`: the floor.
//!
//! Before measuring, each workload checks that the engine's output equals the floor's, so both
//! do the same work. Targets (issue 3): `w1_chain` ≥ 2,000,000 transitions/s, and every workload
//! within 3× of its floor. Run: `cargo bench --bench executor -- --warm-up-time 1 --measurement-time 3`.
//! For profiling, `EXECUTOR_PROFILE=w2_loop/engine:2000` runs one measurement a fixed number of
//! times without criterion (see [`profile_mode`]).

use std::sync::Arc;
use std::time::Duration;

use criterion::{black_box, criterion_group, Criterion, Throughput};
use serde_json::{json, Map, Value};
use workflow::runtime::{HistoryLevel, Program, Runtime, TaskContext, TaskError};

/// One workload file: the definition, the input and the transitions one execution makes.
struct Workload {
    name: &'static str,
    program_text: Value,
    input: Value,
    transitions: u64,
}

fn workload(name: &'static str, text: &str) -> Workload {
    let v: Value = serde_json::from_str(text).expect("a workload file is JSON");
    Workload {
        name,
        program_text: v["definition"].clone(),
        input: v["input"].clone(),
        transitions: v["transitions"]
            .as_u64()
            .expect("`transitions` is a number"),
    }
}

fn workloads() -> Vec<Workload> {
    vec![
        workload("w1_chain", include_str!("workloads/w1_chain.json")),
        workload("w2_loop", include_str!("workloads/w2_loop.json")),
        workload("w3_parallel", include_str!("workloads/w3_parallel.json")),
        workload("w4_map", include_str!("workloads/w4_map.json")),
        workload("w5_retry", include_str!("workloads/w5_retry.json")),
    ]
}

/// A single-threaded runtime on a paused clock (one core, virtual time).
fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

/// The `flaky` resource: fails with `Flaky.Error` on the first two attempts of an execution.
async fn flaky(input: Value, cx: TaskContext) -> Result<Value, TaskError> {
    flaky_attempt(&input, cx.retry_count())
}

fn flaky_attempt(input: &Value, attempt: u32) -> Result<Value, TaskError> {
    if attempt < 2 {
        return Err(TaskError::new(
            "Flaky.Error",
            format!("attempt {attempt} failed"),
        ));
    }
    Ok(json!({"ok": true, "attempts": attempt + 1, "seen": input["attempts"].clone()}))
}

fn runtime(history: HistoryLevel) -> Runtime {
    Runtime::builder()
        .seed(7)
        .history(history)
        .raw_handler("flaky", flaky)
        .build()
}

fn program(rt: &Runtime, w: &Workload) -> Arc<Program> {
    let machine = workflow::asl::parse_str(&w.program_text.to_string())
        .expect("the workload is JSON")
        .machine
        .expect("the workload is an object");
    rt.program(&machine).expect("the workload compiles")
}

async fn run_engine(rt: &Runtime, program: &Arc<Program>, input: &Value) -> Value {
    let outcome = rt
        .run(program, input.clone())
        .await
        .expect("the execution starts");
    outcome.output.unwrap_or_else(|| {
        panic!(
            "the workload failed: {:?} {:?}",
            outcome.error, outcome.cause
        )
    })
}

// ===== the hand-written floors: the same serde_json work, written directly =====

/// `ResultPath: "$.<key>"` on an object input.
fn set_result(doc: &mut Value, key: &str, result: Value) {
    if let Value::Object(o) = doc {
        o.insert(key.to_string(), result);
    }
}

/// w1: 100 × `Parameters {"i": n, "prev.$": "$.last.i", "name.$": "$.name"}` + `ResultPath $.last`.
fn chain_floor(input: &Value) -> Value {
    let mut doc = input.clone();
    for i in 1..=100u64 {
        let prev = doc
            .get("last")
            .and_then(|l| l.get("i"))
            .cloned()
            .expect("$.last.i exists");
        let name = doc.get("name").cloned().expect("$.name exists");
        let mut params = Map::new();
        params.insert("i".into(), i.into());
        params.insert("prev".into(), prev);
        params.insert("name".into(), name);
        set_result(&mut doc, "last", Value::Object(params));
    }
    doc
}

/// w2: `Choice $.counter >= 1000` / `Parameters {"counter.$": "States.MathAdd($.counter, 1)"}`.
fn loop_floor(input: &Value) -> Value {
    let mut doc = input.clone();
    loop {
        let counter = doc
            .get("counter")
            .and_then(Value::as_f64)
            .expect("$.counter is a number");
        if counter >= 1000.0 {
            return doc;
        }
        let n = doc["counter"].as_i64().expect("an integer counter") + 1;
        let mut params = Map::new();
        params.insert("counter".into(), n.into());
        doc = Value::Object(params);
    }
}

/// w3: 50 branches × 5 × `Parameters {"b": b, "j": j, "x.$": "$.x"}`, outputs in branch order.
fn parallel_floor(input: &Value) -> Value {
    let mut out = Vec::with_capacity(50);
    for b in 0..50u64 {
        let mut cur = input.clone();
        for j in 0..5u64 {
            let x = cur.get("x").cloned().expect("$.x exists");
            let mut params = Map::new();
            params.insert("b".into(), b.into());
            params.insert("j".into(), j.into());
            params.insert("x".into(), x);
            cur = Value::Object(params);
        }
        out.push(cur);
    }
    Value::Array(out)
}

/// w4: for each of `$.items`, 3 × `Parameters {"id.$": "$.id", "v.$": "$.v", "step": n}`.
fn map_floor(input: &Value) -> Value {
    let items = input
        .get("items")
        .and_then(Value::as_array)
        .expect("$.items is an array");
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut cur = item.clone();
        for step in 1..=3u64 {
            let id = cur.get("id").cloned().expect("$.id exists");
            let v = cur.get("v").cloned().expect("$.v exists");
            let mut params = Map::new();
            params.insert("id".into(), id);
            params.insert("v".into(), v);
            params.insert("step".into(), step.into());
            cur = Value::Object(params);
        }
        out.push(cur);
    }
    Value::Array(out)
}

/// w5: call `flaky` until it succeeds, sleeping the 1 s retry interval (virtual) between
/// attempts; `ResultPath $.result`.
async fn retry_floor(input: &Value) -> Value {
    let mut attempt = 0;
    loop {
        match flaky_attempt(&input.clone(), attempt) {
            Ok(result) => {
                let mut doc = input.clone();
                set_result(&mut doc, "result", result);
                return doc;
            }
            Err(e) => {
                black_box(json!({"Error": e.error, "Cause": e.cause}));
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn floor(name: &str, input: &Value) -> Value {
    match name {
        "w1_chain" => chain_floor(input),
        "w2_loop" => loop_floor(input),
        "w3_parallel" => parallel_floor(input),
        "w4_map" => map_floor(input),
        "w5_retry" => retry_floor(input).await,
        other => panic!("no floor for {other}"),
    }
}

fn executor(c: &mut Criterion) {
    let tokio = tokio_rt();
    let quiet = runtime(HistoryLevel::Off);
    let full = runtime(HistoryLevel::Full);
    for w in workloads() {
        let p_quiet = program(&quiet, &w);
        let p_full = program(&full, &w);
        // Both sides must do the same work: same output.
        let engine_out = tokio.block_on(run_engine(&quiet, &p_quiet, &w.input));
        let floor_out = tokio.block_on(floor(w.name, &w.input));
        assert_eq!(
            engine_out, floor_out,
            "{}: engine and floor disagree",
            w.name
        );
        let with_history = tokio
            .block_on(full.run(&p_full, w.input.clone()))
            .expect("starts");
        assert!(
            with_history.succeeded(),
            "{}: {:?}",
            w.name,
            with_history.cause
        );

        let mut group = c.benchmark_group(w.name);
        group.throughput(Throughput::Elements(w.transitions));
        group.bench_function("engine", |b| {
            b.iter(|| black_box(tokio.block_on(run_engine(&quiet, &p_quiet, &w.input))))
        });
        group.bench_function("engine_history", |b| {
            b.iter(|| black_box(tokio.block_on(run_engine(&full, &p_full, &w.input))))
        });
        group.bench_function("hand_written", |b| {
            b.iter(|| black_box(tokio.block_on(floor(w.name, &w.input))))
        });
        group.finish();
    }
}

/// `EXECUTOR_PROFILE=<workload>/<engine|engine_history|hand_written>:<count>` runs that
/// measurement `count` times and exits without criterion: a fixed amount of work for `perf stat`
/// (instruction counts do not depend on the machine's load) or a profiler.
fn profile_mode() -> bool {
    let Ok(spec) = std::env::var("EXECUTOR_PROFILE") else {
        return false;
    };
    let (what, count) = spec.split_once(':').unwrap_or((spec.as_str(), "1000"));
    let count: u64 = count.parse().expect("EXECUTOR_PROFILE count is a number");
    let (name, kind) = what
        .split_once('/')
        .expect("EXECUTOR_PROFILE is workload/kind:count");
    let w = workloads()
        .into_iter()
        .find(|w| w.name == name)
        .expect("EXECUTOR_PROFILE names a workload");
    let tokio = tokio_rt();
    let rt = runtime(if kind == "engine" {
        HistoryLevel::Off
    } else {
        HistoryLevel::Full
    });
    let p = program(&rt, &w);
    for _ in 0..count {
        let out = match kind {
            "hand_written" => tokio.block_on(floor(w.name, &w.input)),
            _ => tokio.block_on(run_engine(&rt, &p, &w.input)),
        };
        black_box(out);
    }
    true
}

criterion_group!(benches, executor);

/// Engine time over floor time with the two measured in alternation (rounds of a few
/// milliseconds each, median of the rounds), so that a change in the machine's load during the
/// run affects both sides alike. Printed after criterion's report.
fn paired_ratios() {
    use std::time::Instant;
    const ROUNDS: usize = 31;
    let tokio = tokio_rt();
    println!("\npaired engine/floor ratios (median of {ROUNDS} alternating rounds):");
    println!(
        "| workload | engine | engine_history | hand_written | engine/floor | history/floor |"
    );
    println!("|---|---|---|---|---|---|");
    for w in workloads() {
        let quiet = runtime(HistoryLevel::Off);
        let full = runtime(HistoryLevel::Full);
        let (pq, pf) = (program(&quiet, &w), program(&full, &w));
        // Repetitions per round: about 2 ms of floor work.
        let once = {
            let t = Instant::now();
            black_box(tokio.block_on(floor(w.name, &w.input)));
            t.elapsed().as_secs_f64()
        };
        let reps = ((0.002 / once.max(1e-7)) as usize).clamp(1, 10_000);
        let time = |f: &dyn Fn()| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            t.elapsed().as_secs_f64() / reps as f64
        };
        let floor_once = || {
            black_box(tokio.block_on(floor(w.name, &w.input)));
        };
        // Each engine configuration alternates with the floor on its own (a history run frees
        // thousands of blocks, which changes the allocator's state for whatever runs next).
        let (mut e, mut h, mut f, mut f2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            e.push(time(&|| {
                black_box(tokio.block_on(run_engine(&quiet, &pq, &w.input)));
            }));
            f.push(time(&floor_once));
        }
        for _ in 0..ROUNDS {
            h.push(time(&|| {
                black_box(tokio.block_on(run_engine(&full, &pf, &w.input)));
            }));
            f2.push(time(&floor_once));
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (e, f) = (median(&mut e), median(&mut f));
        let (h, f2) = (median(&mut h), median(&mut f2));
        let show = |secs: f64| {
            format!(
                "{:.1} µs ({:.2} M/s)",
                secs * 1e6,
                w.transitions as f64 / secs / 1e6
            )
        };
        println!(
            "| {} ({}) | {} | {} | {} | {:.2}× | {:.2}× |",
            w.name,
            w.transitions,
            show(e),
            show(h),
            show(f),
            e / f,
            h / f2
        );
    }
}

fn main() {
    if profile_mode() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().all(|a| a != "--list") {
        paired_ratios();
    }
}
