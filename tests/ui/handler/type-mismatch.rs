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

async fn ship(p: Parcel) -> Result<Parcel, TaskError> {
    Ok(p)
}

workflow! {
    pub Flow: Order -> Order {
        start Validate;
        // `validate` returns an `Order`, `ship` takes a `Parcel`.
        Validate = task(validate) -> Ship;
        // `ship` returns a `Parcel`, the workflow's output is an `Order`.
        Ship = task(ship) -> end;
    }

    // With `result_path`, the edge is not typed: no error.
    pub Shaped: Order -> Order {
        start Validate;
        Validate = task(validate, result_path = $.validated) -> Ship;
        Ship = task(ship, input_path = $.validated, result_path = $.parcel) -> end;
    }
}

fn main() {}
