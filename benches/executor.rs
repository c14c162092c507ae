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
//! - `floor`: the in-place floor (the output only);
//! - `history_floor`: the history floor, the headline's floor (the output and the history);
//! - `compile`: reading and compiling the definition (`parse_str` + [`Program::compile`]).
//!
//! The floors take the input by value, as the engine does (both sides pay for one clone of the
//! input), and change it in place: a value a state copies but that stays in the document is read
//! in place, a key `Parameters` rewrites is overwritten where it is. Before measuring, each
//! workload checks that the engine's output equals the floor's.
//!
//! A run with history on and read produces more than the output: the history's JSON text. The
//! plain floor produces none, so `read/floor` compares two different outputs (for w2 a single
//! `memcpy` of the 807 KiB of history text takes longer than the whole floor). The **history
//! floor** has the same output as the headline: the floor's work, done by the same functions
//! (`chain_step`, `loop_step`, …), and, written in place into one `String` as it goes (handed
//! to a sink every 64 KiB, as the engine's text is), the history text the engine writes
//! ([`HistoryText`]): the same events in the same order with the
//! same ids, `previousEventId`s and fields (`input` and `output` as JSON strings with their
//! `inputDetails`/`outputDetails`, the `Map…`/`Parallel…` events, `ExecutionStarted` with its
//! `roleArn`, `ExecutionSucceeded`), each payload serialised straight into its event field from
//! the document as it is then (one walk per field that carries it, escaped as it is written),
//! and one clock reading per state. Before measuring, each workload checks that the history
//! floor's text equals the engine's byte for byte with the timestamps masked (the only part the
//! two cannot share: each reads its own clock). `read/history floor` is the headline ratio.
//! The history floor of w4 runs on one core; the engine may run a Map's iterations on both.
//!
//! Criterion measures w1–w5 (`cargo bench --bench executor`); after it, a table of ratios to
//! the floors measured in alternation in the same run (so that the machine's load affects both
//! sides alike) covers every workload, with the process's CPU time over wall time while the
//! engine ran (a Map's iterations run on all cores) and the peak memory of the big runs. Run as
//! a test (`cargo test --benches`), each measurement runs once and the big workloads shrink
//! (`loop_1m` to 20,000 transitions, `map_1m` to 5,000 items); `EXECUTOR_BIG=<n>` sets their
//! size explicitly. `EXECUTOR_PROFILE=w2_loop/engine:2000` runs one measurement a fixed number
//! of times without criterion (see [`profile_mode`]); `EXECUTOR_FLOOR=<workload>` makes this
//! binary a floor process for `benches/cli.sh` (see [`floor_process`]).
//!
//! Targets (issue 13): in-process w1–w4 with history on and read ≤ 3× the history floor
//! (`read/history floor`); `$$` ≤ 1.5× the same work without; the 1M-transition loop ≤ 12×
//! its floor; Map ≤ 4× its floor using both cores (CPU/wall ≥ 1.5).

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
        chain_step(o, i);
    }
    doc
}

/// State `i` of w1, in place.
fn chain_step(o: &mut Map<String, Value>, i: u64) {
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

/// w2 and `loop_1m`: `Choice $.counter >= limit` / `Parameters {"counter.$":
/// "States.MathAdd($.counter, 1)"}`, the counter overwritten in place.
fn loop_floor(mut doc: Value, limit: f64) -> Value {
    loop {
        let counter = doc.get("counter").expect("$.counter exists");
        if counter.as_f64().expect("$.counter is a number") >= limit {
            return doc;
        }
        loop_step(&mut doc);
    }
}

/// The `Inc` state of w2, in place.
fn loop_step(doc: &mut Value) {
    let counter = doc.get_mut("counter").expect("$.counter exists");
    *counter = (counter.as_i64().expect("an integer counter") + 1).into();
}

/// w3: 50 branches × 5 × `Parameters {"b": b, "j": j, "x.$": "$.x"}`, outputs in branch order:
/// each branch copies `$.x` once, then overwrites `b` and `j` in place.
fn parallel_floor(input: Value) -> Value {
    let x = input.get("x").expect("$.x exists");
    let mut out = Vec::with_capacity(50);
    for b in 0..50u64 {
        let mut cur = Map::new();
        for j in 0..5u64 {
            parallel_step(&mut cur, b, j, x);
        }
        out.push(Value::Object(cur));
    }
    Value::Array(out)
}

/// State `j` of branch `b` of w3, in place (the first one builds the branch's document).
fn parallel_step(cur: &mut Map<String, Value>, b: u64, j: u64, x: &Value) {
    cur.insert("b".into(), b.into());
    cur.insert("j".into(), j.into());
    if j == 0 {
        cur.insert("x".into(), x.clone());
    }
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
        for step in 1..=steps {
            map_step(item, step);
        }
    }
    Value::Array(out)
}

/// State `step` of a w4 or `map_1m` item, in place.
fn map_step(item: &mut Value, step: u64) {
    object(item).insert("step".into(), step.into());
}

/// `dollar`: each item becomes `{"index": i, "v": item.v}` (`v` moved).
fn dollar_floor(mut input: Value) -> Value {
    let mut items = match input.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => panic!("$.items is an array"),
    };
    for (i, item) in items.iter_mut().enumerate() {
        dollar_select(i, item);
    }
    Value::Array(items)
}

/// `dollar`'s `ItemSelector` of item `i`, in place.
fn dollar_select(i: usize, item: &mut Value) {
    let mut o = Map::with_capacity(2);
    o.insert("index".into(), i.into());
    o.insert(
        "v".into(),
        item.get_mut("v").map(Value::take).expect("v exists"),
    );
    *item = Value::Object(o);
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

// ===== the history floors: the floors' work, and the history text written in place =====

/// The AWS history of a run as JSON text, written by hand in place into one `String` (what
/// [`read_history`] writes for the engine's run): a history floor's events, each written
/// whole when it happens, with its payload (`input`/`output`) serialised straight into the
/// event from the document as it is at that moment (one walk of the document per event field
/// that carries it, no intermediate text), and one clock reading per state. When measured, the
/// `String` is a page handed to a sink each time it passes 64 KiB, as [`read_history`] hands
/// the engine's text (a history of hundreds of MiB kept whole costs more than writing it).
struct HistoryText {
    out: String,
    /// Whether the whole text is kept (to check it); if not, it is handed a page at a time to
    /// a sink, as [`read_history`] hands the engine's.
    keep: bool,
    next_id: u64,
    clock: workflow::runtime::clock::Clock,
    ms: i64,
    stamp: String,
}

/// The size of the pages a history's text is written in (as `History::write_aws_json` does).
const PAGE: usize = 64 * 1024;

/// The role `ExecutionStarted` names (the runtime's default account).
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/workflow-local-execution";

impl HistoryText {
    fn new(keep: bool) -> HistoryText {
        let mut out = String::with_capacity(PAGE + 4096);
        out.push('[');
        HistoryText {
            out,
            keep,
            next_id: 1,
            clock: workflow::runtime::clock::Clock::system(),
            ms: i64::MIN,
            stamp: String::new(),
        }
    }

    /// Reads the clock (once per state); the timestamp text changes only with the millisecond.
    fn tick(&mut self) {
        let ms = self.clock.now_ms();
        if ms != self.ms {
            self.ms = ms;
            self.stamp = workflow::runtime::clock::format_ms(ms);
        }
    }

    /// Opens an event (`{"id", "previousEventId", "timestamp", "type"`, not closed) and
    /// returns its id.
    fn open(&mut self, prev: u64, ty: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if !self.keep && self.out.len() >= PAGE {
            std::io::sink()
                .write_all(black_box(self.out.as_bytes()))
                .expect("a sink takes everything");
            self.out.clear();
        }
        let out = &mut self.out;
        if id > 1 {
            out.push(',');
        }
        out.push_str("{\"id\":");
        push_u64(out, id);
        out.push_str(",\"previousEventId\":");
        push_u64(out, prev);
        out.push_str(",\"timestamp\":\"");
        out.push_str(&self.stamp);
        out.push_str("\",\"type\":\"");
        out.push_str(ty);
        out.push('"');
        id
    }

    /// An event without details.
    fn plain(&mut self, prev: u64, ty: &str) -> u64 {
        let id = self.open(prev, ty);
        self.out.push('}');
        id
    }

    /// A state's `…Entered` (`input`) or `…Exited` (`output`) event.
    fn state(&mut self, prev: u64, ty: &str, entered: bool, name: &[&str], doc: &Value) -> u64 {
        let id = self.open(prev, ty);
        let out = &mut self.out;
        out.push_str(if entered {
            ",\"stateEnteredEventDetails\":{\"name\":\""
        } else {
            ",\"stateExitedEventDetails\":{\"name\":\""
        });
        for part in name {
            out.push_str(part);
        }
        out.push_str(if entered {
            "\",\"input\":\""
        } else {
            "\",\"output\":\""
        });
        write_json_in_string(doc, out);
        out.push_str(if entered {
            "\",\"inputDetails\":{\"truncated\":false}}}"
        } else {
            "\",\"outputDetails\":{\"truncated\":false}}}"
        });
        id
    }

    fn entered(&mut self, prev: u64, ty: &str, name: &[&str], doc: &Value) -> u64 {
        self.state(prev, ty, true, name, doc)
    }

    fn exited(&mut self, prev: u64, ty: &str, name: &[&str], doc: &Value) -> u64 {
        self.state(prev, ty, false, name, doc)
    }

    /// `ExecutionStarted` (reads the clock: the execution's first moment).
    fn execution_started(&mut self, input: &Value) {
        self.tick();
        self.open(0, "ExecutionStarted");
        let out = &mut self.out;
        out.push_str(",\"executionStartedEventDetails\":{\"input\":\"");
        write_json_in_string(input, out);
        out.push_str("\",\"inputDetails\":{\"truncated\":false},\"roleArn\":\"");
        out.push_str(ROLE_ARN);
        out.push_str("\"}}");
    }

    /// `ExecutionSucceeded`, and the finished text.
    fn execution_succeeded(mut self, prev: u64, output: &Value) -> String {
        self.tick();
        self.open(prev, "ExecutionSucceeded");
        let out = &mut self.out;
        out.push_str(",\"executionSucceededEventDetails\":{\"output\":\"");
        write_json_in_string(output, out);
        out.push_str("\",\"outputDetails\":{\"truncated\":false}}}]");
        self.out
    }

    /// `MapIteration…` of item `index` of the Map state `name`.
    fn iteration(&mut self, prev: u64, ty: &str, key: &str, name: &str, index: usize) -> u64 {
        let id = self.open(prev, ty);
        let out = &mut self.out;
        out.push_str(key);
        out.push_str(name);
        out.push_str("\",\"index\":");
        push_u64(out, index as u64);
        out.push_str("}}");
        id
    }
}

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `v` as compact JSON text (as the history shows payloads: Java's number format)
/// escaped as the content of a JSON string, in one walk: `{"a":"x"}` is written `{\"a\":\"x\"}`.
fn write_json_in_string(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => push_u64(out, u),
            (None, Some(i)) => {
                out.push('-');
                push_u64(out, i.unsigned_abs());
            }
            // Java's float format (no float in these workloads' documents).
            _ => out.push_str(&workflow::asl::eval::java_json(v)),
        },
        Value::String(s) => write_string_in_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_in_string(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string_in_string(k, out);
                out.push(':');
                write_json_in_string(v, out);
            }
            out.push('}');
        }
    }
}

/// Appends a JSON string `s` escaped twice (a string inside JSON text inside a JSON string):
/// `"` becomes `\"`, an escaped quote `\\\"`; the runs that need no escape are copied whole.
fn write_string_in_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push_str("\\\"");
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        start = i + 1;
        match b {
            b'"' => out.push_str("\\\\\\\""),
            b'\\' => out.push_str("\\\\\\\\"),
            b'\n' => out.push_str("\\\\n"),
            b'\r' => out.push_str("\\\\r"),
            b'\t' => out.push_str("\\\\t"),
            0x08 => out.push_str("\\\\b"),
            0x0c => out.push_str("\\\\f"),
            _ => {
                out.push_str("\\\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
    }
    out.push_str(&s[start..]);
    out.push_str("\\\"");
}

/// w1 with its history: `S0`…`S99`, each entered with the document and exited with it after
/// [`chain_step`].
fn chain_history_floor(mut doc: Value, keep: bool) -> (Value, String) {
    let mut h = HistoryText::new(keep);
    h.execution_started(&doc);
    let mut prev = 0;
    let mut n = String::new();
    for i in 1..=100u64 {
        n.clear();
        push_u64(&mut n, i - 1);
        h.tick();
        prev = h.entered(prev, "PassStateEntered", &["S", &n], &doc);
        chain_step(object(&mut doc), i);
        prev = h.exited(prev, "PassStateExited", &["S", &n], &doc);
    }
    let text = h.execution_succeeded(prev, &doc);
    (doc, text)
}

/// w2 and `loop_1m` with their history: `Check` (Choice), `Inc` (Pass) until the counter
/// reaches `limit`, then `Done` (Succeed).
fn loop_history_floor(mut doc: Value, limit: f64, keep: bool) -> (Value, String) {
    let mut h = HistoryText::new(keep);
    h.execution_started(&doc);
    let mut prev = 0;
    loop {
        h.tick();
        prev = h.entered(prev, "ChoiceStateEntered", &["Check"], &doc);
        let counter = doc.get_mut("counter").expect("$.counter exists");
        let done = counter.as_f64().expect("$.counter is a number") >= limit;
        prev = h.exited(prev, "ChoiceStateExited", &["Check"], &doc);
        h.tick();
        if done {
            prev = h.entered(prev, "SucceedStateEntered", &["Done"], &doc);
            prev = h.exited(prev, "SucceedStateExited", &["Done"], &doc);
            break;
        }
        prev = h.entered(prev, "PassStateEntered", &["Inc"], &doc);
        loop_step(&mut doc);
        prev = h.exited(prev, "PassStateExited", &["Inc"], &doc);
    }
    let text = h.execution_succeeded(prev, &doc);
    (doc, text)
}

/// w3 with its history: `Par` (Parallel) entered and started, then the branches one after the
/// other (`B<b>P0`…`B<b>P4`, each entered with the branch's document and exited with it after
/// [`parallel_step`]), then `Par` exited with the branches' outputs.
fn parallel_history_floor(input: Value, keep: bool) -> (Value, String) {
    let mut h = HistoryText::new(keep);
    h.execution_started(&input);
    h.tick();
    let entered = h.entered(0, "ParallelStateEntered", &["Par"], &input);
    let started = h.plain(entered, "ParallelStateStarted");
    let x = input.get("x").expect("$.x exists");
    let mut out = Vec::with_capacity(50);
    let mut prev = started;
    let (mut bn, mut jn) = (String::new(), String::new());
    for b in 0..50u64 {
        bn.clear();
        push_u64(&mut bn, b);
        prev = started;
        let mut cur = Value::Object(Map::new());
        for j in 0..5u64 {
            jn.clear();
            push_u64(&mut jn, j);
            let name = ["B", bn.as_str(), "P", jn.as_str()];
            h.tick();
            prev = if j == 0 {
                h.entered(prev, "PassStateEntered", &name, &input)
            } else {
                h.entered(prev, "PassStateEntered", &name, &cur)
            };
            parallel_step(object(&mut cur), b, j, x);
            prev = h.exited(prev, "PassStateExited", &name, &cur);
        }
        out.push(cur);
    }
    let out = Value::Array(out);
    h.tick();
    // The runtime records no `ParallelStateSucceeded` (`engine/parallel.rs`).
    let exited = h.exited(prev, "ParallelStateExited", &["Par"], &out);
    let text = h.execution_succeeded(exited, &out);
    (out, text)
}

/// w4, `map_1m`, `dollar` and `dollar_plain` with their history: `M` (Map) entered and
/// started, each item's iteration started, its states `names` (entered with the item, exited
/// with it after `step`), succeeded; then `M` succeeded and exited with the items.
fn map_history_floor(
    mut input: Value,
    names: &[&str],
    select: impl Fn(usize, &mut Value),
    step: impl Fn(usize, &mut Value),
    keep: bool,
) -> (Value, String) {
    let mut h = HistoryText::new(keep);
    h.execution_started(&input);
    h.tick();
    let entered = h.entered(0, "MapStateEntered", &["M"], &input);
    let mut items = match input.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => panic!("$.items is an array"),
    };
    let started = h.open(entered, "MapStateStarted");
    h.out
        .push_str(",\"mapStateStartedEventDetails\":{\"length\":");
    push_u64(&mut h.out, items.len() as u64);
    h.out.push_str("}}");
    const ITERATION_STARTED: &str = ",\"mapIterationStartedEventDetails\":{\"name\":\"";
    const ITERATION_SUCCEEDED: &str = ",\"mapIterationSucceededEventDetails\":{\"name\":\"";
    let mut prev = started;
    for (index, item) in items.iter_mut().enumerate() {
        h.tick();
        prev = h.iteration(
            started,
            "MapIterationStarted",
            ITERATION_STARTED,
            "M",
            index,
        );
        select(index, item);
        for (k, name) in names.iter().enumerate() {
            if k > 0 {
                h.tick();
            }
            prev = h.entered(prev, "PassStateEntered", &[name], item);
            step(k, item);
            prev = h.exited(prev, "PassStateExited", &[name], item);
        }
        prev = h.iteration(
            prev,
            "MapIterationSucceeded",
            ITERATION_SUCCEEDED,
            "M",
            index,
        );
    }
    let out = Value::Array(items);
    h.tick();
    let done = h.plain(prev, "MapStateSucceeded");
    let exited = h.exited(done, "MapStateExited", &["M"], &out);
    let text = h.execution_succeeded(exited, &out);
    (out, text)
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

/// w5 with its history: `Flaky` (Task) entered, each attempt scheduled, started and failed
/// (then the 1 s retry interval, virtual) or succeeded, `Flaky` exited with the result at
/// `$.result`, then `Done` (Succeed).
async fn retry_history_floor(mut doc: Value, keep: bool) -> (Value, String) {
    const RESOURCE: &str = "{\"resourceType\":\"local\",\"resource\":\"flaky\"";
    let mut h = HistoryText::new(keep);
    h.execution_started(&doc);
    h.tick();
    let mut prev = h.entered(0, "TaskStateEntered", &["Flaky"], &doc);
    let mut attempt = 0;
    loop {
        if attempt > 0 {
            h.tick();
        }
        prev = h.open(prev, "TaskScheduled");
        h.out.push_str(",\"taskScheduledEventDetails\":");
        h.out.push_str(RESOURCE);
        h.out
            .push_str(",\"region\":\"us-east-1\",\"parameters\":\"");
        write_json_in_string(&doc, &mut h.out);
        h.out.push_str("\"}}");
        prev = h.open(prev, "TaskStarted");
        h.out.push_str(",\"taskStartedEventDetails\":");
        h.out.push_str(RESOURCE);
        h.out.push_str("}}");
        match flaky_attempt(&doc, attempt) {
            Ok(result) => {
                prev = h.open(prev, "TaskSucceeded");
                h.out.push_str(",\"taskSucceededEventDetails\":");
                h.out.push_str(RESOURCE);
                h.out.push_str(",\"output\":\"");
                write_json_in_string(&result, &mut h.out);
                h.out
                    .push_str("\",\"outputDetails\":{\"truncated\":false}}}");
                object(&mut doc).insert("result".into(), result);
                break;
            }
            Err(e) => {
                prev = h.open(prev, "TaskFailed");
                h.out.push_str(",\"taskFailedEventDetails\":");
                h.out.push_str(RESOURCE);
                h.out.push_str(",\"error\":");
                write_json_string(&e.error, &mut h.out);
                if let Some(cause) = &e.cause {
                    h.out.push_str(",\"cause\":");
                    write_json_string(cause, &mut h.out);
                }
                h.out.push_str("}}");
                black_box(json!({"Error": e.error, "Cause": e.cause}));
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    prev = h.exited(prev, "TaskStateExited", &["Flaky"], &doc);
    h.tick();
    prev = h.entered(prev, "SucceedStateEntered", &["Done"], &doc);
    prev = h.exited(prev, "SucceedStateExited", &["Done"], &doc);
    let text = h.execution_succeeded(prev, &doc);
    (doc, text)
}

/// Appends `s` as a JSON string.
fn write_json_string(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).expect("a string serialises"));
}

/// The history floor of `w`: the floor's work and output, and the history's text written in
/// place as it goes.
async fn history_floor(w: &Workload, input: Value, keep: bool) -> (Value, String) {
    let none = |_: usize, _: &mut Value| {};
    let step = |k: usize, item: &mut Value| map_step(item, k as u64 + 1);
    match w.name {
        "w1_chain" => chain_history_floor(input, keep),
        "w2_loop" => loop_history_floor(input, 1000.0, keep),
        "loop_1m" => loop_history_floor(input, ((w.transitions - 2) / 2) as f64, keep),
        "w3_parallel" => parallel_history_floor(input, keep),
        "w4_map" => map_history_floor(input, &["P1", "P2", "P3"], none, step, keep),
        "map_1m" => map_history_floor(input, &["P"], none, step, keep),
        "dollar" => map_history_floor(input, &["P"], dollar_select, none, keep),
        "dollar_plain" => map_history_floor(input, &["P"], none, none, keep),
        "w5_retry" => retry_history_floor(input, keep).await,
        other => panic!("no history floor for {other}"),
    }
}

/// `text` with every event's timestamp replaced by `*`s of the same length.
fn mask_timestamps(text: &str) -> String {
    const KEY: &str = "\"timestamp\":\"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let start = at + KEY.len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        out.extend(std::iter::repeat_n('*', end - start));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Checks that the history floor's text is the engine's byte for byte, timestamps masked.
fn check_same_history(w: &Workload, engine: &[u8], floor: &str) {
    let engine = mask_timestamps(std::str::from_utf8(engine).expect("UTF-8 history"));
    let floor = mask_timestamps(floor);
    if engine != floor {
        let at = engine
            .bytes()
            .zip(floor.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(engine.len().min(floor.len()));
        let around = |t: &str| {
            let bytes = &t.as_bytes()[at.saturating_sub(300)..(at + 300).min(t.len())];
            String::from_utf8_lossy(bytes).into_owned()
        };
        panic!(
            "{}: the history floor's text differs from the engine's at byte {at} (lengths {} and {}):\nengine: {}\nfloor:  {}",
            w.name,
            engine.len(),
            floor.len(),
            around(&engine),
            around(&floor)
        );
    }
}

/// Checks that the engine (history off and on), the floor and the history floor give the same
/// output, and the history floor the engine's history text (timestamps masked).
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
    let (history_out, floor_text) = tokio.block_on(history_floor(w, w.input.clone(), true));
    assert_eq!(
        history_out, floor_out,
        "{}: history floor and floor disagree",
        w.name
    );
    let outcome = tokio
        .block_on(full.run(&p, w.input.clone()))
        .expect("the execution starts");
    let mut engine_text = Vec::new();
    read_history(&outcome, &mut engine_text);
    check_same_history(w, &engine_text, &floor_text);
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
        group.bench_function("history_floor", |b| {
            b.iter(|| black_box(tokio.block_on(history_floor(&w, w.input.clone(), false))))
        });
        group.bench_function("compile", |b| b.iter(|| black_box(compile(&text))));
        group.finish();
    }
}

/// `EXECUTOR_PROFILE=<workload>/<engine|engine_history_read|floor|history_floor>:<count>` runs that
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
            "history_floor" => {
                let (out, text) = tokio.block_on(history_floor(&w, w.input.clone(), false));
                black_box(text);
                out
            }
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
        "| workload | transitions | floor | history floor | engine (history off) | history on + read | engine/floor | read/floor | read/history floor | CPU/wall (off / read) | compile/floor | peak MiB (read) | history text | copying it/floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
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
        let history_floor_run = |input: Value| {
            black_box(tokio.block_on(history_floor(&w, input, false)));
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
        let mut hf = Vec::new();
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
            hf.push(time(&history_floor_run));
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
        let (f, e, h, c, hf) = (
            median(&mut f),
            median(&mut e),
            median(&mut h),
            median(&mut c),
            median(&mut hf),
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
            "| {} | {} | {} | {} | {} | {} | {:.2}× | {:.2}× | **{:.2}×** | {} | {:.2}× | {} | {} | {} |",
            w.name,
            w.transitions,
            show(f),
            show(hf),
            show(e),
            show(h),
            e / f,
            h / f,
            h / hf,
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
