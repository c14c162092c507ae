//! The executor against in-place floors: the workloads in `benches/workloads/` plus generated
//! ones, each measured beside a hand-written Rust function that makes the same reads and
//! produces the same output, written in place (the floor), in the same run.
//!
//! | workload | shape | transitions |
//! |---|---|---|
//! | `w1_chain` | 100 Pass states, each `Parameters` with two paths and `ResultPath` | 100 |
//! | `w2_loop` | Choice + Pass loop counting to 1,000 with `States.MathAdd` | 2,002 |
//! | `w3_parallel` | one Parallel state, 50 branches of 5 Pass states | 251 |
//! | `w4_map` | inline Map over 1,000 items, 3 Pass states each, MaxConcurrency 0 | 3,001 |
//! | `w5_retry` | a Task (`flaky`) failing twice with `Flaky.Error`, Retry every 1 s, Catch | 2 |
//! | `dollar` | inline Map over 10,000 items whose `ItemSelector` reads `$$.Map.Item.Index` and `$$.Map.Item.Value.v` | 10,001 |
//! | `dollar_plain` | the same Map and output without `$$` (the index is in the items) | 10,001 |
//! | `loop_1m` | the `w2_loop` shape counting to 500,000 | 1,000,002 |
//! | `map_1m` | inline Map over 1,000,000 items, one Pass state each | 1,000,001 |
//!
//! What is measured, per workload:
//! - `engine_history_read` (the headline): the runtime with its default, the full AWS-shaped
//!   history, and the history read at the end: rendered to the JSON text that
//!   `workflow run --history --format json` prints;
//! - `engine`: the runtime without history ([`HistoryLevel::Off`]);
//! - `floor`: the in-place floor;
//! - `compile`: reading and compiling the definition (`parse_str` + [`Program::compile`]).
//!
//! The floors take the input by value, as the engine does (both sides pay for one clone of the
//! input), and change it in place: a value a state copies but that stays in the document is read
//! in place, a key `Parameters` rewrites is overwritten where it is. Before measuring, each
//! workload checks that the engine's output equals the floor's.
//!
//! Criterion measures w1–w5 (`cargo bench --bench executor`); after it, a table of ratios to
//! the floor measured in alternation in the same run (so that the machine's load affects both
//! sides alike) covers every workload, with the process's CPU time over wall time while the
//! engine ran (a Map's iterations run on all cores) and the peak memory of the big runs. Run as
//! a test (`cargo test --benches`), each measurement runs once and the big workloads shrink
//! (`loop_1m` to 20,000 transitions, `map_1m` to 5,000 items); `EXECUTOR_BIG=<n>` sets their
//! size explicitly. `EXECUTOR_PROFILE=w2_loop/engine:2000` runs one measurement a fixed number
//! of times without criterion (see [`profile_mode`]); `EXECUTOR_FLOOR=<workload>` makes this
//! binary a floor process for `benches/cli.sh` (see [`floor_process`]).
//!
//! Targets (issue 13): in-process w1–w4 with history on and read ≤ 3× the floor; `$$` ≤ 1.5×
//! the same work without; the 1M-transition loop ≤ 12× its floor; Map ≤ 4× its floor using
//! both cores (CPU/wall ≥ 1.5).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, Criterion, Throughput};
use serde_json::{json, Map, Value};
use workflow::runtime::{ExecutionOutcome, HistoryLevel, Program, Runtime, TaskContext, TaskError};

/// One workload: the definition, the input and the transitions one execution makes.
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

/// The five workload files.
fn file_workloads() -> Vec<Workload> {
    vec![
        workload("w1_chain", include_str!("workloads/w1_chain.json")),
        workload("w2_loop", include_str!("workloads/w2_loop.json")),
        workload("w3_parallel", include_str!("workloads/w3_parallel.json")),
        workload("w4_map", include_str!("workloads/w4_map.json")),
        workload("w5_retry", include_str!("workloads/w5_retry.json")),
    ]
}

/// A Map over `n` items of one Pass state each; `ItemSelector` builds `{"index", "v"}` from
/// `$$.Map.Item` when `dollar`, else the items already are `{"index", "v"}`.
fn dollar_workload(name: &'static str, n: usize, dollar: bool) -> Workload {
    let mut m = json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}
        },
        "End": true
    });
    if dollar {
        m["ItemSelector"] = json!({
            "index.$": "$$.Map.Item.Index",
            "v.$": "$$.Map.Item.Value.v"
        });
    }
    let items: Vec<Value> = (0..n)
        .map(|i| {
            if dollar {
                json!({"v": format!("item-{i}")})
            } else {
                json!({"index": i, "v": format!("item-{i}")})
            }
        })
        .collect();
    Workload {
        name,
        program_text: json!({"StartAt": "M", "States": {"M": m}}),
        input: json!({"items": items, "label": "x".repeat(200)}),
        transitions: n as u64 + 1,
    }
}

/// The `w2_loop` shape counting to `limit` (`2 * limit + 2` transitions).
fn loop_workload(limit: u64) -> Workload {
    Workload {
        name: "loop_1m",
        program_text: json!({
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.counter", "NumericGreaterThanEquals": limit, "Next": "Done"}],
                    "Default": "Inc"
                },
                "Inc": {
                    "Type": "Pass",
                    "Parameters": {"counter.$": "States.MathAdd($.counter, 1)"},
                    "Next": "Check"
                },
                "Done": {"Type": "Succeed"}
            }
        }),
        input: json!({"counter": 0}),
        transitions: 2 * limit + 2,
    }
}

/// An inline Map over `n` items of one Pass state each (`Parameters` with two paths).
fn map_workload(n: usize) -> Workload {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"id": i, "v": format!("item-{i}")}))
        .collect();
    Workload {
        name: "map_1m",
        program_text: json!({
            "StartAt": "M",
            "States": {"M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "P",
                    "States": {"P": {
                        "Type": "Pass",
                        "Parameters": {"id.$": "$.id", "v.$": "$.v", "step": 1},
                        "End": true
                    }}
                },
                "End": true
            }}
        }),
        input: json!({ "items": items }),
        transitions: n as u64 + 1,
    }
}

/// Whether criterion measures (`cargo bench`), rather than runs each benchmark once as a test.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The size of the big workloads: `(loop limit, map items)`.
fn big_sizes() -> (u64, usize) {
    if let Some(n) = std::env::var("EXECUTOR_BIG")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        return ((n / 2) as u64, n);
    }
    if measuring() {
        (500_000, 1_000_000)
    } else {
        (10_000, 5_000)
    }
}

/// Every workload of the ratio table.
fn all_workloads() -> Vec<Workload> {
    let (limit, items) = big_sizes();
    let mut all = file_workloads();
    let dollar_items = if measuring() { 10_000 } else { 1_000 };
    all.push(dollar_workload("dollar", dollar_items, true));
    all.push(dollar_workload("dollar_plain", dollar_items, false));
    all.push(loop_workload(limit));
    all.push(map_workload(items));
    all
}

/// A single-threaded runtime on a paused clock (virtual time: `w5_retry`'s retry intervals take
/// no wall time).
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

/// The payload limit of the runs: 1 GiB (the big workloads' documents pass AWS's 256 KiB).
const PAYLOAD_LIMIT: usize = 1 << 30;

/// A runtime with `history`, no limit on the history's length and a payload limit of
/// [`PAYLOAD_LIMIT`] (the big workloads record millions of events and carry megabytes; AWS's
/// quotas of 25,000 events and 256 KiB are the defaults).
fn runtime(history: HistoryLevel) -> Runtime {
    Runtime::builder()
        .seed(7)
        .history(history)
        .history_limit(0)
        .payload_limit(PAYLOAD_LIMIT)
        .raw_handler("flaky", flaky)
        .build()
}

/// Reads and compiles a definition (what a first run of a definition pays).
fn compile(text: &str) -> Arc<Program> {
    let machine = workflow::asl::parse_str(text)
        .expect("the workload is JSON")
        .machine
        .expect("the workload is an object");
    Program::compile(&machine).expect("the workload compiles")
}

fn program(rt: &Runtime, w: &Workload) -> Arc<Program> {
    let machine = workflow::asl::parse_str(&w.program_text.to_string())
        .expect("the workload is JSON")
        .machine
        .expect("the workload is an object");
    rt.program(&machine).expect("the workload compiles")
}

fn output_of(outcome: ExecutionOutcome) -> Value {
    outcome.output.unwrap_or_else(|| {
        panic!(
            "the workload failed: {:?} {:?}",
            outcome.error, outcome.cause
        )
    })
}

async fn run_engine(rt: &Runtime, program: &Arc<Program>, input: Value) -> Value {
    output_of(rt.run(program, input).await.expect("the execution starts"))
}

/// Reads the whole history as `workflow run --history --format json` prints it: the events
/// rendered to AWS's JSON text (written to `out`). Returns the number of bytes.
fn read_history(outcome: &ExecutionOutcome, out: &mut impl Write) -> usize {
    let mut counted = Counted { inner: out, n: 0 };
    outcome
        .history
        .write_aws_json(&mut counted)
        .expect("the history is written");
    counted.n
}

/// A writer that counts the bytes it passes on.
struct Counted<'w, W: Write> {
    inner: &'w mut W,
    n: usize,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A run with the full history, read at the end (the headline measurement).
async fn run_read(rt: &Runtime, program: &Arc<Program>, input: Value) -> Value {
    let outcome = rt.run(program, input).await.expect("the execution starts");
    black_box(read_history(&outcome, &mut std::io::sink()));
    output_of(outcome)
}

// ===== the in-place floors: the same reads and output, written in place =====

fn object(v: &mut Value) -> &mut Map<String, Value> {
    v.as_object_mut().expect("an object")
}

/// w1: 100 × `Parameters {"i": n, "prev.$": "$.last.i", "name.$": "$.name"}` + `ResultPath
/// $.last`: `$.last.i` moves into the new `last` (the old one is replaced), `$.name` is copied.
fn chain_floor(mut doc: Value) -> Value {
    let o = object(&mut doc);
    for i in 1..=100u64 {
        let name = o.get("name").cloned().expect("$.name exists");
        let last = o
            .get_mut("last")
            .and_then(Value::as_object_mut)
            .expect("$.last is an object");
        let prev = last.get_mut("i").map(Value::take).expect("$.last.i exists");
        last.insert("i".into(), i.into());
        last.insert("prev".into(), prev);
        last.insert("name".into(), name);
    }
    doc
}

/// w2 and `loop_1m`: `Choice $.counter >= limit` / `Parameters {"counter.$":
/// "States.MathAdd($.counter, 1)"}`, the counter overwritten in place.
fn loop_floor(mut doc: Value, limit: f64) -> Value {
    loop {
        let counter = doc.get_mut("counter").expect("$.counter exists");
        if counter.as_f64().expect("$.counter is a number") >= limit {
            return doc;
        }
        *counter = (counter.as_i64().expect("an integer counter") + 1).into();
    }
}

/// w3: 50 branches × 5 × `Parameters {"b": b, "j": j, "x.$": "$.x"}`, outputs in branch order:
/// each branch copies `$.x` once, then overwrites `b` and `j` in place.
fn parallel_floor(input: Value) -> Value {
    let x = input.get("x").expect("$.x exists");
    let mut out = Vec::with_capacity(50);
    for b in 0..50u64 {
        let mut cur = Map::new();
        cur.insert("b".into(), b.into());
        cur.insert("j".into(), 0.into());
        cur.insert("x".into(), x.clone());
        for j in 1..5u64 {
            cur.insert("b".into(), b.into());
            cur.insert("j".into(), j.into());
        }
        out.push(Value::Object(cur));
    }
    Value::Array(out)
}

/// w4 and `map_1m`: each of `$.items` (moved out of the input) gets `steps` × `Parameters
/// {"id.$": "$.id", "v.$": "$.v", "step": n}`: `id` and `v` stay, `step` is overwritten.
fn map_floor(mut input: Value, steps: u64) -> Value {
    let items = match input.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => panic!("$.items is an array"),
    };
    let mut out = items;
    for item in &mut out {
        let o = object(item);
        for step in 1..=steps {
            o.insert("step".into(), step.into());
        }
    }
    Value::Array(out)
}

/// `dollar`: each item becomes `{"index": i, "v": item.v}` (`v` moved).
fn dollar_floor(mut input: Value) -> Value {
    let items = match input.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => panic!("$.items is an array"),
    };
    let out = items
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            let mut o = Map::with_capacity(2);
            o.insert("index".into(), i.into());
            o.insert(
                "v".into(),
                item.get_mut("v").map(Value::take).expect("v exists"),
            );
            Value::Object(o)
        })
        .collect();
    Value::Array(out)
}

/// `dollar_plain`: the items are the output.
fn dollar_plain_floor(mut input: Value) -> Value {
    input.get_mut("items").map(Value::take).expect("$.items")
}

/// w5: call `flaky` until it succeeds, sleeping the 1 s retry interval (virtual) between
/// attempts; `ResultPath $.result`.
async fn retry_floor(mut doc: Value) -> Value {
    let mut attempt = 0;
    loop {
        match flaky_attempt(&doc, attempt) {
            Ok(result) => {
                object(&mut doc).insert("result".into(), result);
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

async fn floor(w: &Workload, input: Value) -> Value {
    match w.name {
        "w1_chain" => chain_floor(input),
        "w2_loop" => loop_floor(input, 1000.0),
        "loop_1m" => loop_floor(input, ((w.transitions - 2) / 2) as f64),
        "w3_parallel" => parallel_floor(input),
        "w4_map" => map_floor(input, 3),
        "map_1m" => map_floor(input, 1),
        "dollar" => dollar_floor(input),
        "dollar_plain" => dollar_plain_floor(input),
        "w5_retry" => retry_floor(input).await,
        other => panic!("no floor for {other}"),
    }
}

/// Checks that the engine (history off and on) and the floor give the same output.
fn check_same_work(tokio: &tokio::runtime::Runtime, w: &Workload) {
    let (quiet, full) = (runtime(HistoryLevel::Off), runtime(HistoryLevel::Full));
    let floor_out = tokio.block_on(floor(w, w.input.clone()));
    let p = program(&quiet, w);
    let engine_out = tokio.block_on(run_engine(&quiet, &p, w.input.clone()));
    assert_eq!(
        engine_out, floor_out,
        "{}: engine and floor disagree",
        w.name
    );
    let p = program(&full, w);
    let read_out = tokio.block_on(run_read(&full, &p, w.input.clone()));
    assert_eq!(
        read_out, floor_out,
        "{}: history run and floor disagree",
        w.name
    );
}

fn executor(c: &mut Criterion) {
    let tokio = tokio_rt();
    let quiet = runtime(HistoryLevel::Off);
    let full = runtime(HistoryLevel::Full);
    for w in file_workloads() {
        check_same_work(&tokio, &w);
        let p_quiet = program(&quiet, &w);
        let p_full = program(&full, &w);
        let text = w.program_text.to_string();

        let mut group = c.benchmark_group(w.name);
        group.throughput(Throughput::Elements(w.transitions));
        group.bench_function("engine_history_read", |b| {
            b.iter(|| black_box(tokio.block_on(run_read(&full, &p_full, w.input.clone()))))
        });
        group.bench_function("engine", |b| {
            b.iter(|| black_box(tokio.block_on(run_engine(&quiet, &p_quiet, w.input.clone()))))
        });
        group.bench_function("floor", |b| {
            b.iter(|| black_box(tokio.block_on(floor(&w, w.input.clone()))))
        });
        group.bench_function("compile", |b| b.iter(|| black_box(compile(&text))));
        group.finish();
    }
}

/// `EXECUTOR_PROFILE=<workload>/<engine|engine_history_read|floor>:<count>` runs that
/// measurement `count` times and exits without criterion: a fixed amount of work for `perf stat`
/// or `valgrind --tool=callgrind` (instruction counts do not depend on the machine's load).
fn profile_mode() -> bool {
    let Ok(spec) = std::env::var("EXECUTOR_PROFILE") else {
        return false;
    };
    let (what, count) = spec.split_once(':').unwrap_or((spec.as_str(), "1000"));
    let count: u64 = count.parse().expect("EXECUTOR_PROFILE count is a number");
    let (name, kind) = what
        .split_once('/')
        .expect("EXECUTOR_PROFILE is workload/kind:count");
    let w = all_workloads()
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
            "floor" => tokio.block_on(floor(&w, w.input.clone())),
            "engine" => tokio.block_on(run_engine(&rt, &p, w.input.clone())),
            _ => tokio.block_on(run_read(&rt, &p, w.input.clone())),
        };
        black_box(out);
    }
    true
}

/// `EXECUTOR_FLOOR=<workload> <binary> <input file>`: the floor as a process, for comparing
/// whole `workflow run` processes (`benches/cli.sh`): reads the input file, runs the floor,
/// prints the output as JSON.
fn floor_process() -> bool {
    let Ok(name) = std::env::var("EXECUTOR_FLOOR") else {
        return false;
    };
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .expect("EXECUTOR_FLOOR needs an input file");
    let text = std::fs::read_to_string(&path).expect("the input file is readable");
    let input: Value = serde_json::from_str(&text).expect("the input is JSON");
    let transitions = std::env::var("EXECUTOR_TRANSITIONS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let w = Workload {
        name: all_workloads()
            .into_iter()
            .map(|w| w.name)
            .find(|n| *n == name)
            .expect("EXECUTOR_FLOOR names a workload"),
        program_text: Value::Null,
        input: Value::Null,
        transitions,
    };
    let out = tokio_rt().block_on(floor(&w, input));
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &out).expect("stdout");
    writeln!(stdout).expect("stdout");
    true
}

/// `EXECUTOR_WRITE=<dir>`: writes every workload's definition (`<name>.asl.json`) and input
/// (`<name>.input.json`) to `dir`, and its transitions to `<name>.transitions`, for
/// `benches/cli.sh`.
fn write_workloads() -> bool {
    let Ok(dir) = std::env::var("EXECUTOR_WRITE") else {
        return false;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).expect("the directory can be made");
    for w in all_workloads() {
        let write = |ext: &str, text: String| {
            std::fs::write(dir.join(format!("{}.{ext}", w.name)), text).expect("written");
        };
        write("asl.json", w.program_text.to_string());
        write("input.json", w.input.to_string());
        write("transitions", w.transitions.to_string());
    }
    true
}

criterion_group!(benches, executor);

/// The process's CPU time (user + system, all threads), from `/proc/self/stat`; `None` where
/// there is no `/proc`.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports them in USER_HZ, 100 on every platform Rust supports.
    Some(Duration::from_millis(ticks * 10))
}

/// Resets the process's peak resident memory (Linux `clear_refs` 5), so that
/// [`peak_memory`] reports the peak from now on.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory in MiB since [`reset_peak_memory`] (`VmHWM`).
fn peak_memory() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Each side's time per run over rounds that alternate the floor with the engine, the median
/// of the rounds; then the ratios, printed as a Markdown table after criterion's report.
fn paired_ratios() {
    let tokio = tokio_rt();
    let full_mode = measuring();
    println!(
        "\nratios to the in-place floor (median of alternating rounds{}):",
        if full_mode { "" } else { ", test-sized" }
    );
    println!(
        "| workload | transitions | floor | engine (history off) | history on + read | engine/floor | read/floor | CPU/wall (off / read) | compile/floor | peak MiB (read) | history text | copying it/floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut read_times = std::collections::HashMap::new();
    for w in all_workloads() {
        check_same_work(&tokio, &w);
        let big = w.transitions > 100_000;
        let quiet = runtime(HistoryLevel::Off);
        let full = runtime(HistoryLevel::Full);
        let (pq, pf) = (program(&quiet, &w), program(&full, &w));
        let program_text = w.program_text.to_string();
        // Repetitions per round: about 3 ms of floor work (one run for the big workloads).
        let once = {
            let input = w.input.clone();
            let t = Instant::now();
            black_box(tokio.block_on(floor(&w, input)));
            t.elapsed().as_secs_f64()
        };
        let reps = ((0.003 / once.max(1e-7)) as usize).clamp(1, 10_000);
        let rounds = match (full_mode, big) {
            (true, false) => 31,
            (true, true) => 3,
            (false, _) => 3,
        };
        // Times `reps` runs of `f`, each on its own copy of the input (copied outside the
        // timed region, for both sides alike).
        let time = |f: &dyn Fn(Value)| {
            let inputs: Vec<Value> = (0..reps).map(|_| w.input.clone()).collect();
            let t = Instant::now();
            for input in inputs {
                f(input);
            }
            t.elapsed().as_secs_f64() / reps as f64
        };
        let floor_run = |input: Value| {
            black_box(tokio.block_on(floor(&w, input)));
        };
        // The history's JSON text, and how long copying it once takes (`memcpy` into a fresh
        // buffer): the least any runner that prints this history spends on it beyond the floor.
        let text = if big {
            // Gigabytes for the million-transition workloads: not kept twice.
            Vec::new()
        } else {
            let outcome = tokio
                .block_on(full.run(&pf, w.input.clone()))
                .expect("the execution starts");
            let mut text = Vec::new();
            read_history(&outcome, &mut text);
            text
        };
        let copy_once = || {
            let t = Instant::now();
            let mut copy = Vec::with_capacity(text.len());
            copy.extend_from_slice(black_box(&text));
            black_box(copy);
            t.elapsed().as_secs_f64()
        };
        let mut copies: Vec<f64> = (0..rounds.max(5)).map(|_| copy_once()).collect();
        let copy = median(&mut copies);
        let (mut f, mut e, mut h, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut cpu, mut wall) = (Duration::ZERO, Duration::ZERO);
        let (mut cpu_off, mut wall_off) = (Duration::ZERO, Duration::ZERO);
        let mut peak: Option<f64> = None;
        for _ in 0..rounds {
            f.push(time(&floor_run));
            let (c0, t0) = (cpu_time(), Instant::now());
            e.push(time(&|input| {
                black_box(tokio.block_on(run_engine(&quiet, &pq, input)));
            }));
            if let (Some(c0), Some(c1)) = (c0, cpu_time()) {
                cpu_off += c1.saturating_sub(c0);
                wall_off += t0.elapsed();
            }
            f.push(time(&floor_run));
            if big {
                reset_peak_memory();
            }
            let (c0, t0) = (cpu_time(), Instant::now());
            h.push(time(&|input| {
                black_box(tokio.block_on(run_read(&full, &pf, input)));
            }));
            if let (Some(c0), Some(c1)) = (c0, cpu_time()) {
                cpu += c1.saturating_sub(c0);
                wall += t0.elapsed();
            }
            if big {
                peak = peak_memory().map(|m| m.max(peak.unwrap_or(0.0)));
            }
            c.push({
                let t = Instant::now();
                black_box(compile(&program_text));
                t.elapsed().as_secs_f64()
            });
        }
        let (f, e, h, c) = (
            median(&mut f),
            median(&mut e),
            median(&mut h),
            median(&mut c),
        );
        read_times.insert(w.name, h);
        let show = |secs: f64| {
            if secs >= 0.1 {
                format!("{secs:.2} s")
            } else if secs >= 1e-3 {
                format!("{:.2} ms", secs * 1e3)
            } else {
                format!("{:.1} µs", secs * 1e6)
            }
        };
        // CPU/wall needs runs long enough for the 10 ms ticks of `/proc/self/stat`.
        let ratio = |cpu: Duration, wall: Duration| {
            if wall >= Duration::from_millis(200) {
                format!("{:.2}", cpu.as_secs_f64() / wall.as_secs_f64())
            } else {
                "-".to_string()
            }
        };
        let cpu_wall = format!("{} / {}", ratio(cpu_off, wall_off), ratio(cpu, wall));
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× | {:.2}× | {} | {:.2}× | {} | {} | {} |",
            w.name,
            w.transitions,
            show(f),
            show(e),
            show(h),
            e / f,
            h / f,
            cpu_wall,
            c / f,
            peak.map_or("-".to_string(), |m| format!("{m:.0}")),
            if big {
                "-".to_string()
            } else {
                format!("{} KiB", text.len() / 1024)
            },
            if big {
                "-".to_string()
            } else {
                format!("{:.2}×", copy / f)
            },
        );
    }
    if let (Some(with), Some(without)) = (read_times.get("dollar"), read_times.get("dollar_plain"))
    {
        println!(
            "\n`$$` (dollar / dollar_plain, history on and read): {:.2}×",
            with / without
        );
    }
}

fn main() {
    if write_workloads() || floor_process() || profile_mode() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().all(|a| a != "--list") {
        paired_ratios();
    }
}
