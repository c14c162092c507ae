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

    // Choice, Wait and plain Pass states pass the data through unchanged: still a typed edge.
    pub Routed: Order -> Order {
        start Validate;
        Validate = task(validate) -> Route;
        Route = choice { $.id == "x" => Pause, _ => Done };
        Pause = wait(seconds = 1) -> Ship;
        Ship = task(ship, result_path = $.parcel) -> Done;
        Done = succeed;
    }

    // Nothing reshapes the input on its way to the output.
    pub Echo: Order -> Parcel {
        start Nap;
        Nap = wait(seconds = 1) -> end;
    }

    // With `result_path`, the edge is not typed: no error.
    pub Shaped: Order -> Order {
        start Validate;
        Validate = task(validate, result_path = $.validated) -> Ship;
        Ship = task(ship, input_path = $.validated, result_path = $.parcel) -> end;
    }
}

fn main() {}
