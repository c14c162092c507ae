//! Branches and item processors written inline: the `parallel` example's fulfilment and the
//! `map` example's pricing, each in one workflow. The emitted ASL is the same as with named
//! branch workflows (`tests/it/macro_equivalence.rs` compares them); the inline branches are still
//! workflow types of their own (`FulfilBothCharge`, `FulfilBothShip`, `PriceOrderLinesItem`), so
//! they can be run and tested alone.
//!
//! The branches are typed (`Charge: Value -> Payment`), so the Parallel state's output type is
//! known, `(Payment, Parcel)`, and the compiler checks that `combine` takes exactly that (a
//! Map's output is a `Vec` of its item processor's output).
//!
//! `cargo run --example inline_parallel` / `cargo run --example inline_parallel -- --export [PATH]`.
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

/// One order line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price of one.
    pub unit_price: f64,
}

/// The price of one line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineTotal {
    /// The product.
    pub sku: String,
    /// Quantity times unit price.
    pub total: f64,
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

async fn price_line(line: Line) -> Result<LineTotal, TaskError> {
    Ok(LineTotal {
        total: f64::from(line.quantity) * line.unit_price,
        sku: line.sku,
    })
}

async fn sum(order: Value) -> Result<Value, TaskError> {
    let lines: Vec<LineTotal> = serde_json::from_value(order["lines"].clone())
        .map_err(|e| TaskError::new("BadLines", e.to_string()))?;
    Ok(json!({ "order": order["id"], "total": lines.iter().map(|l| l.total).sum::<f64>() }))
}

workflow! {
    /// Charges and ships at the same time.
    pub Fulfil {
        start Both;
        Both = parallel {
            /// Charges the card.
            Charge: Value -> Payment {
                start Charge;
                Charge = task(charge, resource = "${ChargeFn}") -> end;
            }
            /// Reserves a parcel.
            Ship: Value -> Parcel {
                start Reserve;
                Reserve = task(reserve, resource = "${ReserveFn}") -> end;
            }
        } -> Combine;
        Combine = task(combine, resource = "${CombineFn}") -> end;
    }

    /// Prices every line of an order.
    pub PriceOrder {
        start Lines;
        Lines = map(items_path = $.lines, max_concurrency = 2, result_path = $.lines): Line -> LineTotal {
            //! Prices one line.
            start Price;
            Price = task(price_line, resource = "${PriceLineFn}") -> end;
        } -> Sum;
        Sum = task(sum, resource = "${SumFn}") -> end;
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
