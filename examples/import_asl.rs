//! Import an existing ASL file and run it with Rust handlers: the definition in
//! `examples/import_asl.asl.json` (as it would be deployed) becomes a workflow type at compile
//! time, and its Lambda resources are served by Rust functions bound to their ARNs.
//!
//! `cargo run --example import_asl` / `cargo run --example import_asl -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{workflow, Runtime, TaskError};

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

workflow! {
    /// The deployed definition, imported: read and validated at compile time (a mistake in the
    /// file is a compile error), its Lambda resources served by Rust handlers.
    pub Greeter = file("examples/import_asl.asl.json") {
        "arn:aws:lambda:us-east-1:123456789012:function:greet" => greet,
        "arn:aws:lambda:us-east-1:123456789012:function:shout" => shout,
    };
}

/// A runtime serving the definition's resources with the Rust handlers, registered by hand (the
/// way to run a definition that is only known at run time).
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
    common::main::<Greeter>(&[], input(), |b| b);
}
