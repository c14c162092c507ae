//! A JSONata workflow: `#[workflow(query = jsonata)]` (or `query = jsonata` on one state) makes
//! `output`, `arguments`, `assign`, Choice conditions, `items`, … `{% … %}` expressions. Each
//! expression is parsed at compile time, with AWS's create-time rejections as compile errors on
//! the expression; with `#[derive(WorkflowData)]`, `$states.input.<field>` references are checked
//! against the input type like JSONPaths (`$states.input.totl` fails the build: "no field `totl`
//! in `Order`; did you mean `total`?"). `Shipping::ASL` is the JSONata definition.
//!
//! `cargo run --example jsonata` / `cargo run --example jsonata -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use workflow::{workflow, WorkflowData};

/// An order.
#[derive(Debug, Clone, Serialize, Deserialize, WorkflowData)]
pub struct Order {
    /// The order id.
    pub id: String,
    /// The order total.
    pub total: f64,
    /// The destination country.
    pub country: String,
}

workflow! {
    /// Prices shipping: free from 100, else 10% of the total (20% abroad).
    #[workflow(query = jsonata)]
    pub Shipping: Order -> Value {
        start Route;
        Route = choice {
            /// Free shipping.
            "{% $states.input.total >= 100 %}" => Free,
            _ => Paid,
        };
        Free = pass(output = { "id": "{% $states.input.id %}", "shipping": 0 }) -> end;
        Paid = pass(
            assign = { "rate": "{% $states.input.country = 'FR' ? 0.1 : 0.2 %}" },
            output = "{% { 'id': $states.input.id, 'shipping': $round($states.input.total * ($states.input.country = 'FR' ? 0.1 : 0.2), 2) } %}",
        ) -> end;
    }
}

/// The input of the local run.
pub fn input() -> Order {
    Order {
        id: "o-5".into(),
        total: 42.0,
        country: "FR".into(),
    }
}

#[allow(dead_code)]
fn main() {
    common::main::<Shipping>(&[], input(), |b| b);
}
