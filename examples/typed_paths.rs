//! Typed paths: with `#[derive(WorkflowData)]` on the data types, every JSONPath that reads
//! typed data — here the workflow's `Order` input and the `Quote` that `price` returns — is
//! checked against the type at compile time, with serde's names (`type`, `unitPrice`). A typo,
//! `$.kidn` for `$.type`, is a compile error on the path: "no field `kidn` in `Order`; did you
//! mean `kind`?".
//!
//! `cargo run --example typed_paths` / `cargo run --example typed_paths -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{workflow, TaskError, WorkflowData};

/// An order, as JSON: `{"id", "type", "lines": [{"sku", "unitPrice", "quantity"}], "express"}`.
#[derive(Debug, Clone, Serialize, Deserialize, WorkflowData)]
pub struct Order {
    /// The order id.
    pub id: String,
    /// `book` or `music`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Whether to ship express.
    #[serde(default)]
    pub express: bool,
}

/// One order line.
#[derive(Debug, Clone, Serialize, Deserialize, WorkflowData)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// The product.
    pub sku: String,
    /// The price of one.
    pub unit_price: f64,
    /// How many.
    pub quantity: u32,
}

/// A price quote.
#[derive(Debug, Clone, Serialize, Deserialize, WorkflowData)]
pub struct Quote {
    /// The order id.
    pub id: String,
    /// The total price.
    pub total: f64,
    /// Shipping, by speed.
    pub shipping: Shipping,
}

/// Shipping prices.
#[derive(Debug, Clone, Serialize, Deserialize, WorkflowData)]
pub struct Shipping {
    /// Standard shipping.
    pub standard: f64,
    /// Express shipping.
    pub express: f64,
}

async fn price(order: Order) -> Result<Quote, TaskError> {
    let total = order
        .lines
        .iter()
        .map(|l| l.unit_price * f64::from(l.quantity))
        .sum();
    Ok(Quote {
        id: order.id,
        total,
        shipping: Shipping {
            standard: 4.0,
            express: 12.0,
        },
    })
}

workflow! {
    /// Prices an order; books ship free.
    pub Pricing: Order -> Value {
        start Route;
        Route = choice {
            $.type == "book" && $.lines[0].unitPrice > 0 => Price,
            _ => Price,
        };
        Price = task(price, resource = "${PriceFn}")
            .retry([States.TaskFailed], max_attempts = 2)
            -> Summary;
        Summary = pass(parameters = {
            "order": $.id,
            "total": $.total,
            "shipping": $.shipping.standard,
            "label": States.Format("{} costs {}", $.id, $.total),
        }) -> end;
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[(
    "PriceFn",
    "arn:aws:lambda:us-east-1:123456789012:function:price",
)];

/// The input of the local run.
pub fn input() -> Order {
    serde_json::from_value(json!({
        "id": "o-1",
        "type": "book",
        "lines": [{ "sku": "emma", "unitPrice": 9.5, "quantity": 2 }]
    }))
    .unwrap_or_else(|e| panic!("the example input is an Order: {e}"))
}

#[allow(dead_code)]
fn main() {
    common::main::<Pricing>(SUBSTITUTIONS, input(), |b| b);
}
