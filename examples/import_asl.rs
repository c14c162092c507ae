//! Import an existing ASL file and run it with Rust handlers: the definition in
//! `examples/import_asl.asl.json` (as it would be deployed) is read and validated at run time,
//! and its Lambda resources are served by Rust functions registered by ARN.
//!
//! `cargo run --example import_asl`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{Runtime, TaskError};

/// The definition, as deployed.
pub const DEFINITION: &str = include_str!("import_asl.asl.json");

/// A greeting request.
#[derive(Debug, Deserialize)]
pub struct Person {
    /// Who to greet.
    pub name: String,
}

/// A greeting.
#[derive(Debug, Serialize)]
pub struct Greeting {
    /// The text.
    pub text: String,
}

async fn greet(p: Person) -> Result<Greeting, TaskError> {
    if p.name.is_empty() {
        return Err(TaskError::new("NoName", "the name is empty"));
    }
    Ok(Greeting {
        text: format!("Hello, {}!", p.name),
    })
}

async fn shout(g: Value) -> Result<Value, TaskError> {
    Ok(json!(g["text"].as_str().unwrap_or_default().to_uppercase()))
}

/// A runtime serving the definition's resources with the Rust handlers.
pub fn runtime() -> workflow::RuntimeBuilder {
    Runtime::builder()
        .handler(
            "arn:aws:lambda:us-east-1:123456789012:function:greet",
            greet,
        )
        .handler(
            "arn:aws:lambda:us-east-1:123456789012:function:shout",
            shout,
        )
}

/// The input of the local run.
pub fn input() -> Value {
    json!({ "person": { "name": "Ada" } })
}

#[allow(dead_code)]
fn main() {
    let machine = match workflow::asl::load(DEFINITION) {
        Ok(m) => m,
        Err(diagnostics) => {
            for d in diagnostics {
                eprintln!("{d}");
            }
            std::process::exit(1);
        }
    };
    println!(
        "== imported ASL (valid)\n{}\n",
        workflow::asl::emit::machine_to_string_pretty(&machine)
    );
    let runtime = runtime().seed(1).start_time(common::start_time()).build();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map(|rt| rt.block_on(runtime.run_machine(&machine, input())));
    match outcome {
        Ok(Ok(outcome)) => common::print_outcome(&outcome),
        Ok(Err(e)) => eprintln!("the run failed: {e}"),
        Err(e) => eprintln!("cannot start tokio: {e}"),
    }
}
