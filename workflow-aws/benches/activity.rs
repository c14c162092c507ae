//! Activity worker throughput against the loopback Step Functions endpoint of the tests
//! (`tests/common/fake_sfn.rs`: AWS JSON 1.0 over HTTP on 127.0.0.1).
//!
//! - `activity/worker_c4`: 100 tasks queued, answered by a worker with 4 concurrent pollers
//!   (GetActivityTask, the handler, SendTaskSuccess per task through the AWS SDK);
//! - `activity/direct`: the baseline, the same handler called 100 times in process.
//!
//! Throughput is in tasks (`Throughput::Elements`); with `--bench` the paired worker/direct
//! ratio is printed after criterion's report. Run:
//! `cargo bench -p workflow-aws --features activity --bench activity`.
#![allow(missing_docs)]

#[path = "../../examples/sequence.rs"]
#[allow(dead_code)]
mod sequence;

#[path = "../tests/common/fake_sfn.rs"]
mod fake_sfn;

use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use tokio::sync::mpsc;
use workflow_aws::activity::ActivityWorker;
use workflow_aws::TaskHandlers;

const TASKS: usize = 100;
const INPUT: &str = r#"{"id":"o-1","quantity":3,"unit_price":2.5}"#;

struct Setup {
    tokio: tokio::runtime::Runtime,
    sfn: std::sync::Arc<fake_sfn::FakeSfn>,
    answers: tokio::sync::Mutex<mpsc::UnboundedReceiver<fake_sfn::Answer>>,
    handlers: TaskHandlers,
}

fn setup() -> Setup {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let handlers = TaskHandlers::new().handler("validate", sequence::validate);
    let (sfn, answers) = tokio.block_on(async {
        let (url, sfn, answers, _server) = fake_sfn::start(Duration::from_millis(50)).await;
        let worker = ActivityWorker::new(
            fake_sfn::client(&url),
            fake_sfn::ACTIVITY_ARN,
            &handlers,
            "validate",
        )
        .expect("a handler")
        .concurrency(4);
        tokio::spawn(worker.run_until(std::future::pending()));
        (sfn, answers)
    });
    Setup {
        tokio,
        sfn,
        answers: tokio::sync::Mutex::new(answers),
        handlers,
    }
}

fn through_worker(s: &Setup) {
    s.tokio.block_on(async {
        for i in 0..TASKS {
            s.sfn.push(&format!("t-{i}"), INPUT);
        }
        let mut answers = s.answers.lock().await;
        for _ in 0..TASKS {
            let a = answers.recv().await.expect("an answer");
            assert!(matches!(a, fake_sfn::Answer::Success(..)), "{a:?}");
        }
    });
}

fn direct(s: &Setup) {
    let h = s.handlers.get("validate").expect("registered");
    s.tokio.block_on(async {
        for _ in 0..TASKS {
            let input = serde_json::from_str(INPUT).expect("JSON");
            let out = h(input).await.expect("valid");
            black_box(out.to_string());
        }
    });
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("activity");
    g.throughput(Throughput::Elements(TASKS as u64));
    g.bench_function("direct", |b| b.iter(|| direct(&s)));
    g.bench_function("worker_c4", |b| b.iter(|| through_worker(&s)));
    g.finish();
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        const ROUNDS: usize = 11;
        let time = |f: &dyn Fn()| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        };
        let (mut w, mut d) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            w.push(time(&|| through_worker(&s)));
            d.push(time(&|| direct(&s)));
        }
        w.sort_by(f64::total_cmp);
        d.sort_by(f64::total_cmp);
        let (w, d) = (w[ROUNDS / 2], d[ROUNDS / 2]);
        println!(
            "\nactivity worker: {:.0} tasks/s through the loopback endpoint, direct {:.0} tasks/s, worker/direct time {:.1}×",
            TASKS as f64 / w,
            TASKS as f64 / d,
            w / d
        );
    }
}
