//! Wait, in all four forms: a fixed number of seconds, seconds read from the input, a fixed
//! timestamp and a timestamp read from the input. On virtual time the hour of waiting takes no
//! wall time; the history's timestamps show the waits.
//!
//! `cargo run --example wait` / `cargo run --example wait -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde_json::{json, Value};
use workflow::workflow;

workflow! {
    /// Waits four times.
    pub Waits {
        start TenSeconds;
        TenSeconds = wait(seconds = 10) -> FromInput;
        FromInput = wait(seconds_path = $.delay) -> UntilFixed;
        UntilFixed = wait(timestamp = "2024-01-01T00:30:00Z") -> UntilInput;
        UntilInput = wait(timestamp_path = $.until) -> Done;
        Done = succeed;
    }
}

/// Nothing to substitute.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[];

/// The input of the local run.
pub fn input() -> Value {
    json!({ "delay": 60, "until": "2024-01-01T01:00:00Z" })
}

#[allow(dead_code)]
fn main() {
    common::main::<Waits>(SUBSTITUTIONS, input(), |b| b);
}
