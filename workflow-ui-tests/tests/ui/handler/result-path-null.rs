// `result_path = null` keeps a state's input as its output: the value that reaches `Audit`
// goes on to `Ship` unchanged, so that edge is typed too.
use serde::{Deserialize, Serialize};
use workflow::{workflow, TaskError};

#[derive(Serialize, Deserialize)]
pub struct Order {
    pub id: String,
}

#[derive(Serialize, Deserialize)]
pub struct Parcel {
    pub weight: u32,
}

async fn validate(o: Order) -> Result<Order, TaskError> {
    Ok(o)
}

async fn audit(_o: Order) -> Result<u32, TaskError> {
    Ok(1)
}

async fn ship(p: Parcel) -> Result<Parcel, TaskError> {
    Ok(p)
}

workflow! {
    pub Kept: Order -> Parcel {
        start Validate;
        Validate = task(validate) -> Audit;
        // `audit` takes the `Order`; its `u32` is discarded and the `Order` goes on to `Ship`.
        Audit = task(audit, result_path = null) -> Ship;
        Ship = task(ship) -> end;
    }
}

fn main() {}
