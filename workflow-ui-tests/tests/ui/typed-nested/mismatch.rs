// A Parallel's output is the tuple of its typed branches' outputs, a Map's the `Vec` of its typed
// item processor's output: a step that takes something else is an error on the edge.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use workflow::{workflow, TaskError};

#[derive(Serialize, Deserialize)]
pub struct Payment {
    pub charged: f64,
}

#[derive(Serialize, Deserialize)]
pub struct Parcel {
    pub tracking: String,
}

async fn charge(_: Value) -> Result<Payment, TaskError> {
    Ok(Payment { charged: 1.0 })
}

async fn reserve(_: Value) -> Result<Parcel, TaskError> {
    Ok(Parcel { tracking: "t".into() })
}

// Swapped: the branches produce (Payment, Parcel).
async fn combine(_: (Parcel, Payment)) -> Result<Value, TaskError> {
    Ok(Value::Null)
}

async fn lines(_: Value) -> Result<Vec<Value>, TaskError> {
    Ok(Vec::new())
}

// The item processor produces `Parcel`s.
async fn total(_: Vec<Payment>) -> Result<f64, TaskError> {
    Ok(0.0)
}

workflow! {
    Fulfil {
        start Both;
        Both = parallel {
            Charge: Value -> Payment { start C; C = task(charge) -> end; }
            Ship: Value -> Parcel { start R; R = task(reserve) -> end; }
        } -> Combine;
        Combine = task(combine) -> Lines;
        Lines = task(lines) -> Each;
        Each = map: Value -> Parcel {
            start S;
            S = task(reserve) -> end;
        } -> Total;
        Total = task(total) -> end;
    }
}

fn main() {}
