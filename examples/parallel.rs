//! Tasks in parallel: charge the card and reserve the parcel at the same time, then combine
//! both results. Each branch is a workflow of its own (a type that can be reused); the Parallel
//! state's output is the array of the branch outputs, read here as a tuple.
//!
//! `cargo run --example parallel` / `cargo run --example parallel -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{workflow, TaskError};

/// A payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    /// The charged amount.
    pub charged: f64,
}

/// A reservation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parcel {
    /// The tracking number.
    pub tracking: String,
}

async fn charge(order: Value) -> Result<Payment, TaskError> {
    Ok(Payment {
        charged: order["total"].as_f64().unwrap_or(0.0),
    })
}

async fn reserve(order: Value) -> Result<Parcel, TaskError> {
    Ok(Parcel {
        tracking: format!("TRK-{}", order["id"].as_str().unwrap_or("?")),
    })
}

async fn combine(both: (Payment, Parcel)) -> Result<Value, TaskError> {
    let (payment, parcel) = both;
    Ok(json!({ "charged": payment.charged, "tracking": parcel.tracking }))
}

workflow! {
    /// Charges the card.
    pub ChargeCard {
        start Charge;
        Charge = task(charge, resource = "${ChargeFn}") -> end;
    }

    /// Reserves a parcel.
    pub ShipParcel {
        start Reserve;
        Reserve = task(reserve, resource = "${ReserveFn}") -> end;
    }

    /// Charges and ships at the same time.
    pub Fulfil {
        start Both;
        Both = parallel([ChargeCard, ShipParcel]) -> Combine;
        Combine = task(combine, resource = "${CombineFn}") -> end;
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    (
        "ChargeFn",
        "arn:aws:lambda:us-east-1:123456789012:function:charge",
    ),
    (
        "ReserveFn",
        "arn:aws:lambda:us-east-1:123456789012:function:reserve",
    ),
    (
        "CombineFn",
        "arn:aws:lambda:us-east-1:123456789012:function:combine",
    ),
];

/// The input of the local run.
pub fn input() -> Value {
    json!({ "id": "o-7", "total": 42.5 })
}

#[allow(dead_code)]
fn main() {
    common::main::<Fulfil>(SUBSTITUTIONS, input(), |b| b);
}
