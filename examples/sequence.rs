//! Tasks in sequence: validate an order, price it, write a receipt. Each task is a typed async
//! function; `Validate -> Price` is a typed edge (the compiler checks `Order` flows into `Order`).
//!
//! `cargo run --example sequence` prints the ASL and a local run with its history;
//! `cargo run --example sequence -- --export [PATH]` writes the deployable ASL.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use workflow::{workflow, TaskError};

/// An order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: String,
    /// Item count.
    pub quantity: u32,
    /// Price of one item.
    pub unit_price: f64,
}

/// A priced order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Priced {
    /// The order.
    pub order: Order,
    /// The total.
    pub total: f64,
}

/// A receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// The order id.
    pub id: String,
    /// The line printed on the receipt.
    pub line: String,
}

pub async fn validate(order: Order) -> Result<Order, TaskError> {
    if order.quantity == 0 {
        return Err(TaskError::new("InvalidOrder", "the quantity is zero"));
    }
    Ok(order)
}

pub async fn price(order: Order) -> Result<Priced, TaskError> {
    let total = f64::from(order.quantity) * order.unit_price;
    Ok(Priced { order, total })
}

pub async fn receipt(p: Priced) -> Result<Receipt, TaskError> {
    Ok(Receipt {
        line: format!(
            "{} x {} = {:.2}",
            p.order.quantity, p.order.unit_price, p.total
        ),
        id: p.order.id,
    })
}

workflow! {
    /// Validates, prices and records an order.
    pub Sequence: Order -> Receipt {
        start Validate;
        Validate = task(validate, resource = "${ValidateFn}") -> Price;
        Price = task(price, resource = "${PriceFn}") -> Receipt;
        Receipt = task(receipt, resource = "${ReceiptFn}") -> end;
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    (
        "ValidateFn",
        "arn:aws:lambda:us-east-1:123456789012:function:validate",
    ),
    (
        "PriceFn",
        "arn:aws:lambda:us-east-1:123456789012:function:price",
    ),
    (
        "ReceiptFn",
        "arn:aws:lambda:us-east-1:123456789012:function:receipt",
    ),
];

/// The input of the local run.
pub fn input() -> Order {
    Order {
        id: "o-1".into(),
        quantity: 3,
        unit_price: 2.5,
    }
}

#[allow(dead_code)]
fn main() {
    common::main::<Sequence>(SUBSTITUTIONS, input(), |b| b);
}
