//! Distributed Map throughput (issue 10): N JSONL items read from a local-directory object
//! store (`DirObjects`, what `workflow run --s3-root` uses), each item a child execution of
//! 3 Pass states, every result written by a `ResultWriter` (Transformation NONE, the default)
//! to `SUCCEEDED_n.json` files and a manifest.
//!
//! Reported: wall time, items/s and item-states/s (3 Pass states per item), peak RSS
//! (`VmHWM` of `/proc/self/status`), CPU time / wall time (how many cores were busy), and the
//! ratio to a baseline measured in the same run: reading and parsing the same JSONL file with
//! `serde_json` and writing each item back as JSON text (the floor of the I/O the Map does).
//!
//! `cargo bench --bench distributed_map` runs 1,000,000 items; `cargo test --benches` (no
//! `--bench` flag) runs 2,000 items as a test. `DMAP_ITEMS=N` overrides the count. Custom
//! harness (not criterion): one run of a million items is the measurement.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use workflow::runtime::objects::DirObjects;
use workflow::runtime::{HistoryLevel, Runtime};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("DMAP_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 1_000_000 } else { 2_000 });
    let root = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir_all(root.path().join("in")).expect("bucket in");
    std::fs::create_dir_all(root.path().join("out")).expect("bucket out");
    let path = root.path().join("in/items.jsonl");
    {
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

    // Baseline: parse every line and write it back as JSON text.
    let t = Instant::now();
    let mut sink = Vec::with_capacity(1 << 20);
    let mut parsed = 0usize;
    for line in std::io::BufReader::new(std::fs::File::open(&path).expect("items")).lines() {
        let v: Value = serde_json::from_str(&line.expect("a line")).expect("JSON");
        serde_json::to_writer(&mut sink, &v).expect("write");
        if sink.len() > 1 << 20 {
            sink.clear();
        }
        parsed += 1;
    }
    let baseline = t.elapsed();
    assert_eq!(parsed, n);

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
    let machine = workflow::asl::load(&def.to_string()).expect("a valid definition");
    let runtime = Runtime::builder()
        .history(HistoryLevel::Off)
        .objects(Arc::new(DirObjects::new(root.path())))
        .build();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let outcome = rt
        .block_on(runtime.run_machine(&machine, json!({})))
        .expect("starts");
    let wall = t.elapsed();
    let cpu = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
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
    let files = manifest["ResultFiles"]["SUCCEEDED"]
        .as_array()
        .expect("files");
    let mut written = 0usize;
    for f in files {
        let body = std::fs::read(
            root.path()
                .join("out")
                .join(f["Key"].as_str().expect("key")),
        )
        .expect("a result file");
        assert_eq!(body.len() as u64, f["Size"].as_u64().expect("size"));
        let v: Value = serde_json::from_slice(&body).expect("a JSON result file");
        written += v.as_array().expect("an array").len();
    }
    assert_eq!(written, n, "every item's result is written");

    let secs = wall.as_secs_f64();
    println!(
        "distributed_map: {n} JSONL items, 3 Pass states each, ResultWriter (NONE) to {} files",
        files.len()
    );
    println!("  wall time        {secs:.3} s");
    println!("  items/s          {:.0}", n as f64 / secs);
    println!("  item-states/s    {:.0}", 3.0 * n as f64 / secs);
    if let Some(rss) = peak_rss_kib() {
        println!("  peak RSS         {:.1} MiB", rss as f64 / 1024.0);
    }
    if let Some(cpu) = cpu {
        println!("  CPU / wall       {:.2} cores busy", cpu / secs);
    }
    println!(
        "  ratio to baseline (parse + re-serialise each line, {:.3} s): {:.1}x",
        baseline.as_secs_f64(),
        secs / baseline.as_secs_f64().max(1e-9)
    );
}
