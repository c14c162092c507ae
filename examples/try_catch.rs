//! Try / catch / finally: charging may fail; the failure is caught (its error kept at
//! `$.error`), a refund runs, and the release step runs on both paths.
//!
//! `cargo run --example try_catch` / `cargo run --example try_catch -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde_json::{json, Value};
use workflow::{workflow, TaskError};

async fn charge(order: Value) -> Result<Value, TaskError> {
    let total = order["total"].as_f64().unwrap_or(0.0);
    if total > 100.0 {
        return Err(TaskError::new(
            "CardDeclined",
            format!("the card limit is 100, the total is {total}"),
        ));
    }
    Ok(json!({ "charged": total }))
}

async fn refund(order: Value) -> Result<Value, TaskError> {
    Ok(json!({ "refunded": true, "reason": order["error"]["Error"] }))
}

async fn release(v: Value) -> Result<Value, TaskError> {
    Ok(json!({ "released": true, "previous": v }))
}

workflow! {
    /// Charges, refunds on failure, and always releases the reservation.
    pub TryCatch {
        start Charge;
        // try
        Charge = task(charge, resource = "${ChargeFn}", result_path = $.payment)
            .catch([CardDeclined] => Refund, result_path = $.error)
            .catch([States.ALL] => Refund, result_path = $.error)
            -> Release;
        // catch
        Refund = task(refund, resource = "${RefundFn}") -> Release;
        // finally
        Release = task(release, resource = "${ReleaseFn}") -> end;
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    (
        "ChargeFn",
        "arn:aws:lambda:us-east-1:123456789012:function:charge",
    ),
    (
        "RefundFn",
        "arn:aws:lambda:us-east-1:123456789012:function:refund",
    ),
    (
        "ReleaseFn",
        "arn:aws:lambda:us-east-1:123456789012:function:release",
    ),
];

/// The input of the local run (over the limit, so the catch path runs).
pub fn input() -> Value {
    json!({ "id": "o-9", "total": 250.0 })
}

#[allow(dead_code)]
fn main() {
    common::main::<TryCatch>(SUBSTITUTIONS, input(), |b| b);
}
