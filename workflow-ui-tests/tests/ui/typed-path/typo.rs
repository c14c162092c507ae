// A path into typed data names a field the type does not have: a compile error on the path,
// with serde's names and a suggestion. `Value` data is not checked.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use workflow::{workflow, TaskError, WorkflowData};

#[derive(Serialize, Deserialize, WorkflowData)]
pub struct Order {
    pub kind: String,
    #[serde(rename = "customerName")]
    pub customer: String,
    pub lines: Vec<Line>,
}

#[derive(Serialize, Deserialize, WorkflowData)]
pub struct Line {
    pub sku: String,
}

#[derive(Serialize, Deserialize, WorkflowData)]
pub struct Receipt {
    pub total: f64,
}

async fn charge(_: Order) -> Result<Receipt, TaskError> {
    Ok(Receipt { total: 1.0 })
}

workflow! {
    OrderFlow: Order -> Value {
        start Route;
        Route = choice {
            $.kidn == "book" => Charge,
            $.customer == "x" => Charge,
            _ => Charge,
        };
        Charge = task(charge, parameters = { "sku": $.lines[0].skuu }) -> Summary;
        Summary = pass(parameters = { "paid": $.totl, "free": $.anything.goes }) -> end;
    }

    Untyped {
        start A;
        A = pass(parameters = { "x": $.whatever }) -> end;
    }
}

fn main() {}
