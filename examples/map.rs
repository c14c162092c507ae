//! Map over items: each line of an order is priced by an item workflow (a reusable type), two
//! at a time, then the totals are summed.
//!
//! `cargo run --example map` / `cargo run --example map -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{workflow, TaskError};

/// One order line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// Price of one.
    pub unit_price: f64,
}

/// A priced line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineTotal {
    /// The product.
    pub sku: String,
    /// The line total.
    pub total: f64,
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
    /// Prices one line.
    pub PriceLine: Line -> LineTotal {
        start Price;
        Price = task(price_line, resource = "${PriceLineFn}") -> end;
    }

    /// Prices every line of an order.
    pub PriceOrder {
        start Lines;
        Lines = map(
            PriceLine,
            items_path = $.lines,
            max_concurrency = 2,
            result_path = $.lines,
        ) -> Sum;
        Sum = task(sum, resource = "${SumFn}") -> end;
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    (
        "PriceLineFn",
        "arn:aws:lambda:us-east-1:123456789012:function:price-line",
    ),
    (
        "SumFn",
        "arn:aws:lambda:us-east-1:123456789012:function:sum",
    ),
];

/// The input of the local run.
pub fn input() -> Value {
    json!({
        "id": "o-3",
        "lines": [
            { "sku": "pen", "quantity": 3, "unit_price": 1.5 },
            { "sku": "ink", "quantity": 1, "unit_price": 8.0 },
            { "sku": "pad", "quantity": 2, "unit_price": 4.25 }
        ]
    })
}

#[allow(dead_code)]
fn main() {
    common::main::<PriceOrder>(SUBSTITUTIONS, input(), |b| b);
}
