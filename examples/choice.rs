//! Select a task based on data: a Choice state routes each item to the handler for its kind,
//! with a price threshold, a presence test and a wildcard match; anything else fails.
//!
//! `cargo run --example choice` / `cargo run --example choice -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde_json::{json, Value};
use workflow::{workflow, TaskError};

async fn book(item: Value) -> Result<Value, TaskError> {
    Ok(json!({ "shelf": "books", "title": item["title"] }))
}

async fn premium(item: Value) -> Result<Value, TaskError> {
    Ok(json!({ "shelf": "vault", "title": item["title"] }))
}

async fn media(item: Value) -> Result<Value, TaskError> {
    Ok(json!({ "shelf": "media", "file": item["file"] }))
}

workflow! {
    /// Files an item on the right shelf.
    pub Route {
        start Kind;
        Kind = choice {
            /// Expensive books go to the vault.
            $.kind == "book" && $.price >= 100 => Premium,
            $.kind == "book" => Book,
            is_present($.file) && matches($.file, "*.mp3") => Media,
            _ => Unknown,
        };
        Book = task(book, resource = "${BookFn}") -> end;
        Premium = task(premium, resource = "${PremiumFn}") -> end;
        Media = task(media, resource = "${MediaFn}") -> end;
        Unknown = fail(error = "UnknownKind", cause = "no shelf for this item");
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    (
        "BookFn",
        "arn:aws:lambda:us-east-1:123456789012:function:book",
    ),
    (
        "PremiumFn",
        "arn:aws:lambda:us-east-1:123456789012:function:premium",
    ),
    (
        "MediaFn",
        "arn:aws:lambda:us-east-1:123456789012:function:media",
    ),
];

/// The input of the local run.
pub fn input() -> Value {
    json!({ "kind": "book", "title": "Dune", "price": 120 })
}

#[allow(dead_code)]
fn main() {
    common::main::<Route>(SUBSTITUTIONS, input(), |b| b);
}
