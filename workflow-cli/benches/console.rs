//! How fast the console answers over a large store, as a browser sees it (HTTP on loopback,
//! a `workflow console` process, one new connection per request).
//!
//! The store holds 10,000 executions and one execution with a 10,000-event history. Measured:
//!
//! - `console/list_page`: `GET /api/executions` (the first page, 50 rows) and the list page
//!   `GET /`; target < 100 ms per page. Baseline: the same page read from the store in process
//!   (`Store::list_page`).
//! - `console/history`: what the execution page of the 10,000-event execution loads — the page
//!   with its coloured graph (`GET /executions/NAME`), its states (`…/states`) and its events
//!   (`…/history`); target < 1 s in all. Baseline: reading the history from the store in
//!   process (`Store::load_events`).
//!
//! With `--bench`, the medians and their ratios to the baselines are printed after criterion's
//! report (`cargo bench -p workflow-cli --bench console`). Run as a test (`cargo test
//! --benches`) the store is smaller (1,000 executions, a 2,000-event history) so the suite stays
//! quick; every request is still checked to answer 200.
#![allow(missing_docs)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};
use serde_json::json;
use workflow_runtime::store::{
    DurableRuntime, NewExecution, PageQuery, SqliteOptions, SqliteStore, Store,
};
use workflow_runtime::Runtime;

/// One Pass state: the smallest execution.
const ONE_STATE: &str =
    r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": true}}}"#;

/// A Pass/Choice loop: four events per round.
const LOOP: &str = r#"{"StartAt": "Count", "States": {
  "Count": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "n.$": "$.n"}, "Next": "More"},
  "More": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.n", "Next": "Count"}], "Default": "Done"},
  "Done": {"Type": "Succeed"}}}"#;

struct Sizes {
    executions: usize,
    rounds: usize,
}

fn seed(db: &std::path::Path, sizes: &Sizes) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    tokio.block_on(async {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with(db, SqliteOptions::default()).expect("store"));
        let durable = DurableRuntime::new(Runtime::builder(), Arc::clone(&store));
        for chunk in 0..sizes.executions.div_ceil(500) {
            let mut running = Vec::new();
            for i in chunk * 500..((chunk + 1) * 500).min(sizes.executions) {
                let e = durable
                    .start(NewExecution {
                        name: format!("run-{i:05}"),
                        definition: ONE_STATE.into(),
                        input: json!({"i": i}),
                        metadata: json!({}),
                    })
                    .await
                    .expect("start");
                running.push(e.wait());
            }
            futures::future::join_all(running).await;
        }
        let big = durable
            .start(NewExecution {
                name: "big".into(),
                definition: LOOP.into(),
                input: json!({"i": 0, "n": sizes.rounds}),
                metadata: json!({}),
            })
            .await
            .expect("start");
        big.wait().await;
    });
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        Sizes {
            executions: 10_000,
            rounds: 2_500,
        }
    } else {
        Sizes {
            executions: 1_000,
            rounds: 500,
        }
    };
    let dir = support::TempDir::new("bench");
    let db = dir.path("big.db");
    let t = Instant::now();
    seed(&db, &sizes);
    eprintln!(
        "seeded {} executions and a {}-round loop in {:.1?}",
        sizes.executions,
        sizes.rounds,
        t.elapsed()
    );
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let store = SqliteStore::open_with(&db, SqliteOptions::default()).expect("store");
    let events = tokio
        .block_on(store.load_events("big"))
        .expect("history")
        .len();
    assert!(events >= sizes.rounds * 4, "{events} events");
    eprintln!("the big execution has {events} events");

    let console = support::Console::start(&db);
    let addr = console.addr.clone();
    let ok = |path: &str| {
        let a = support::get(&addr, path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        a.body.len()
    };
    let list = || ok("/api/executions") + ok("/");
    let history = || {
        ok("/executions/big") + ok("/api/executions/big/states") + ok("/api/executions/big/history")
    };
    let store_page = || {
        tokio
            .block_on(store.list_page(PageQuery {
                limit: 50,
                ..PageQuery::default()
            }))
            .expect("page")
            .executions
            .len()
    };
    let store_history = || {
        tokio
            .block_on(store.load_events("big"))
            .expect("history")
            .len()
    };

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    {
        let mut g = c.benchmark_group("console");
        g.bench_function("list_page", |b| b.iter(|| black_box(list())));
        g.bench_function("list_page_store_baseline", |b| {
            b.iter(|| black_box(store_page()))
        });
        g.bench_function("history", |b| b.iter(|| black_box(history())));
        g.bench_function("history_store_baseline", |b| {
            b.iter(|| black_box(store_history()))
        });
        g.finish();
    }
    c.final_summary();

    if full {
        // Paired medians, measured here side by side, and their ratios.
        let median = |f: &dyn Fn() -> usize| {
            let mut times: Vec<Duration> = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    black_box(f());
                    t.elapsed()
                })
                .collect();
            times.sort();
            times[times.len() / 2]
        };
        let (l, lb) = (median(&list), median(&store_page));
        let (h, hb) = (median(&history), median(&store_history));
        println!(
            "console list page (JSON + HTML, {} executions): {:.1} ms (target < 100 ms); store read {:.2} ms; ratio {:.1}x",
            sizes.executions,
            l.as_secs_f64() * 1e3,
            lb.as_secs_f64() * 1e3,
            l.as_secs_f64() / lb.as_secs_f64()
        );
        println!(
            "console execution page + states + history ({events} events): {:.1} ms (target < 1000 ms); store read {:.1} ms; ratio {:.1}x",
            h.as_secs_f64() * 1e3,
            hb.as_secs_f64() * 1e3,
            h.as_secs_f64() / hb.as_secs_f64()
        );
    }
}
