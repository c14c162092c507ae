// Mistakes of different kinds in one workflow are all reported in one build, each once, and code
// that uses the workflow type still compiles.
use serde::{Deserialize, Serialize};
use workflow::{workflow, TaskError, Workflow};

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
    pub Flow: Order -> Parcel {
        start Validate;
        Validate = task(validate).retry([States.ALL], backoff_rate = 0.5) -> Ship;
        Ship = task(ship) -> Dnoe;
        Done = succeed;
    }
}

fn main() {
    let _asl: &str = Flow::ASL;
}
