//! JSONata state throughput against the same workflow in JSONPath (issue 9: JSONata within 3× of
//! JSONPath on w1-shaped work), both measured in the same run.
//!
//! The workload is w1's shape: a chain of 100 Pass states, each building
//! `{"i": n, "prev": <input.last.i>, "name": <input.name>}` into `last`. In JSONPath that is
//! `Parameters` (two paths) and `ResultPath: "$.last"`; in JSONata it is one `Output` template with
//! three expressions (`$states.input.name`, `$states.input.last.i`, `$states.input.name`). Both
//! definitions are compiled once (expressions parsed once); `$states` is bound once per state.
//! Before measuring, the two outputs are checked equal.
//!
//! Run: `cargo bench --bench jsonata -- --warm-up-time 1 --measurement-time 3`. The paired ratio
//! (JSONata time over JSONPath time, median of alternating rounds) is printed after criterion's
//! report.

use std::sync::Arc;

use criterion::{black_box, criterion_group, Criterion, Throughput};
use serde_json::{json, Map, Value};
use workflow::runtime::{HistoryLevel, Program, Runtime};

const STATES: usize = 100;

fn chain(jsonata: bool) -> Value {
    let mut states = Map::new();
    for n in 0..STATES {
        let mut st = if jsonata {
            json!({"Type": "Pass", "Output": {
                "name": "{% $states.input.name %}",
                "last": {"i": n + 1, "prev": "{% $states.input.last.i %}", "name": "{% $states.input.name %}"}}})
        } else {
            json!({"Type": "Pass",
                "Parameters": {"i": n + 1, "prev.$": "$.last.i", "name.$": "$.name"},
                "ResultPath": "$.last"})
        };
        if n + 1 < STATES {
            st["Next"] = json!(format!("S{}", n + 1));
        } else {
            st["End"] = json!(true);
        }
        states.insert(format!("S{n}"), st);
    }
    let mut def = json!({"StartAt": "S0", "States": states});
    if jsonata {
        def["QueryLanguage"] = json!("JSONata");
    }
    def
}

fn input() -> Value {
    json!({"name": "w1", "last": {"i": 0}})
}

fn setup(jsonata: bool) -> (Runtime, Arc<Program>) {
    let rt = Runtime::builder()
        .seed(7)
        .history(HistoryLevel::Off)
        .build();
    let machine = workflow::asl::parse_str(&chain(jsonata).to_string())
        .expect("JSON")
        .machine
        .expect("an object");
    let program = rt.program(&machine).expect("compiles");
    (rt, program)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime")
}

fn run(tokio: &tokio::runtime::Runtime, rt: &Runtime, p: &Arc<Program>) -> Value {
    let out = tokio
        .block_on(rt.run(p, input()))
        .expect("the execution starts");
    out.output
        .unwrap_or_else(|| panic!("the workload failed: {:?} {:?}", out.error, out.cause))
}

fn jsonata_vs_jsonpath(c: &mut Criterion) {
    let tokio = tokio_rt();
    let (prt, pp) = setup(false);
    let (jrt, jp) = setup(true);
    let a = run(&tokio, &prt, &pp);
    let b = run(&tokio, &jrt, &jp);
    assert_eq!(a, b, "the two workflows must do the same work");
    let mut g = c.benchmark_group("w1_chain_language");
    g.throughput(Throughput::Elements(STATES as u64));
    g.bench_function("jsonpath", |bch| {
        bch.iter(|| black_box(run(&tokio, &prt, &pp)))
    });
    g.bench_function("jsonata", |bch| {
        bch.iter(|| black_box(run(&tokio, &jrt, &jp)))
    });
    g.finish();
}

criterion_group!(benches, jsonata_vs_jsonpath);

/// JSONata time over JSONPath time, measured in alternation (median of the rounds), so that the
/// machine's load affects both alike.
fn paired_ratio() {
    use std::time::Instant;
    const ROUNDS: usize = 21;
    const REPS: usize = 20;
    let tokio = tokio_rt();
    let (prt, pp) = setup(false);
    let (jrt, jp) = setup(true);
    let time = |rt: &Runtime, p: &Arc<Program>| {
        let t = Instant::now();
        for _ in 0..REPS {
            black_box(run(&tokio, rt, p));
        }
        t.elapsed().as_secs_f64() / REPS as f64
    };
    let (mut js, mut jp_t) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        js.push(time(&prt, &pp));
        jp_t.push(time(&jrt, &jp));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (p, j) = (median(&mut js), median(&mut jp_t));
    println!(
        "\nw1-shaped chain of {STATES} Pass states: JSONPath {:.1} µs, JSONata {:.1} µs, JSONata/JSONPath {:.2}× (target ≤ 3×)",
        p * 1e6,
        j * 1e6,
        j / p
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        paired_ratio();
    }
}
