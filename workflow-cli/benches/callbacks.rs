//! Callback round trip through `workflow run --serve`: a `.waitForTaskToken` task is started,
//! its token is answered with `SendTaskSuccess`, and the execution ends.
//!
//! - `callback/http`: the answer goes over HTTP/1.1 (one kept-alive loopback connection) to the
//!   `--serve` server (`src/cmd/serve.rs`, the same module the binary runs);
//! - `callback/in_process`: the baseline, the same execution answered by calling
//!   `Callbacks::send_success` directly.
//!
//! The difference is the protocol's cost (target: under 1 ms on loopback). With `--bench`, the
//! paired http/in-process ratio (median of alternating rounds) is printed after criterion's
//! report. Run: `cargo bench -p workflow-cli --bench callbacks`.
#![allow(missing_docs)]

#[path = "../src/cmd/serve.rs"]
#[allow(dead_code)]
mod serve;

use std::sync::Arc;
use std::time::Instant;

use criterion::{black_box, Criterion};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use workflow_runtime::{Program, Runtime, StartOptions, TaskContext, TaskError};

const DEFINITION: &str = r#"{"StartAt": "Approve", "States": {"Approve": {
  "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
  "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "End": true}}}"#;

struct Setup {
    tokio: tokio::runtime::Runtime,
    runtime: Runtime,
    program: Arc<Program>,
    tokens: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    conn: tokio::sync::Mutex<BufReader<TcpStream>>,
    addr: String,
    _server: serve::Server,
}

fn setup() -> Setup {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let (tx, rx) = mpsc::unbounded_channel();
    let runtime = Runtime::builder()
        .seed(1)
        .raw_handler(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            move |_v: Value, cx: TaskContext| {
                let _ = tx.send(cx.task_token().unwrap_or("").to_string());
                async { Ok::<_, TaskError>(Value::Null) }
            },
        )
        .build();
    let machine = workflow_asl::load(DEFINITION).expect("valid");
    let program = runtime.program(&machine).expect("compiles");
    let (server, conn) = tokio.block_on(async {
        let server = serve::start("127.0.0.1:0", Arc::clone(runtime.callbacks()))
            .await
            .expect("listening");
        let conn = TcpStream::connect(server.addr).await.expect("connected");
        conn.set_nodelay(true).expect("nodelay");
        (server, BufReader::new(conn))
    });
    Setup {
        addr: server.addr.to_string(),
        tokio,
        runtime,
        program,
        tokens: tokio::sync::Mutex::new(rx),
        conn: tokio::sync::Mutex::new(conn),
        _server: server,
    }
}

/// One SendTaskSuccess over the kept-alive connection; returns the HTTP status.
async fn post(conn: &mut BufReader<TcpStream>, addr: &str, token: &str) -> u16 {
    let body = json!({"taskToken": token, "output": "{\"ok\":true}"}).to_string();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.SendTaskSuccess\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.get_mut()
        .write_all(req.as_bytes())
        .await
        .expect("sent");
    let mut status = 0;
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await.expect("a header line");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(code) = l.strip_prefix("HTTP/1.1 ") {
            status = code[..3].parse().unwrap_or(0);
        } else if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).await.expect("the body");
    status
}

/// One execution answered over HTTP (`http`) or directly.
fn round_trip(s: &Setup, http: bool) {
    s.tokio.block_on(async {
        let exec = s
            .runtime
            .start(&s.program, json!({}), StartOptions::new())
            .expect("started");
        let token = s.tokens.lock().await.recv().await.expect("a token");
        if http {
            let mut conn = s.conn.lock().await;
            assert_eq!(post(&mut conn, &s.addr, &token).await, 200);
        } else {
            s.runtime
                .callbacks()
                .send_success(&token, json!({"ok": true}))
                .expect("waiting");
        }
        let outcome = exec.await;
        assert_eq!(outcome.output, Some(json!({"ok": true})));
        black_box(outcome);
    });
}

fn paired_ratio(s: &Setup) {
    const ROUNDS: usize = 21;
    const REPS: usize = 50;
    let time = |http: bool| {
        let t = Instant::now();
        for _ in 0..REPS {
            round_trip(s, http);
        }
        t.elapsed().as_secs_f64() / REPS as f64
    };
    let (mut h, mut d) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        h.push(time(true));
        d.push(time(false));
    }
    h.sort_by(f64::total_cmp);
    d.sort_by(f64::total_cmp);
    let (h, d) = (h[ROUNDS / 2], d[ROUNDS / 2]);
    println!(
        "\ncallback round trip (median of {ROUNDS} alternating rounds): http {:.1} µs, in-process {:.1} µs, http/in-process {:.2}×, protocol cost {:.1} µs",
        h * 1e6,
        d * 1e6,
        h / d,
        (h - d) * 1e6
    );
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("callback");
    g.bench_function("in_process", |b| b.iter(|| round_trip(&s, false)));
    g.bench_function("http", |b| b.iter(|| round_trip(&s, true)));
    g.finish();
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        paired_ratio(&s);
    }
}
