#![allow(dead_code)]
//! What every example does: print the ASL, run the workflow locally on virtual time and print the
//! outcome with its history; or, with `--export [PATH]`, write the ASL with the placeholders
//! substituted (like CloudFormation's `DefinitionSubstitutions`).

use workflow::{ExecutionOutcome, RuntimeBuilder, Workflow};

/// A fixed start time, so every run prints the same history.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// The example's `main`.
#[allow(dead_code)]
pub fn main<W: Workflow>(
    substitutions: &[(&str, &str)],
    input: W::Input,
    configure: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder,
) {
    let mut args = std::env::args();
    let program = args
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| W::NAME.to_string());
    if let Some(flag) = args.next() {
        if flag == "--export" {
            let text = W::asl_with(substitutions);
            match args.next() {
                Some(path) => match std::fs::write(&path, text + "\n") {
                    Ok(()) => eprintln!("wrote {path}"),
                    Err(e) => {
                        eprintln!("cannot write {path}: {e}");
                        std::process::exit(1);
                    }
                },
                None => println!("{text}"),
            }
            return;
        }
        eprintln!("usage: cargo run --example {program} [-- --export [PATH]]");
        std::process::exit(2);
    }
    println!("== {} ASL\n{}\n", W::NAME, W::asl_pretty());
    let runtime = configure(W::runtime().seed(1).start_time(start_time())).build();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map(|rt| rt.block_on(W::execute(&runtime, input)));
    match outcome {
        Ok(Ok(outcome)) => print_outcome(&outcome),
        Ok(Err(e)) => eprintln!("the run failed: {e}"),
        Err(e) => eprintln!("cannot start tokio: {e}"),
    }
}

/// Prints an outcome and its history.
pub fn print_outcome(outcome: &ExecutionOutcome) {
    println!("== local run: {}", outcome.to_json());
    println!("== history");
    for e in &outcome.history {
        let details = e.details().map(|(_, v)| v.to_string()).unwrap_or_default();
        println!(
            "{:>3} {} {:<28} {}",
            e.id,
            e.timestamp,
            e.event_type(),
            details
        );
    }
}
