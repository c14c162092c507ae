// A state with `result_path = null` passes its input through: the typed edges on either side
// of it are checked as one, and here they fit.
use serde::{Deserialize, Serialize};
use workflow::{workflow, TaskError, Workflow};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Order {
    pub id: String,
}

async fn validate(o: Order) -> Result<Order, TaskError> {
    Ok(o)
}

async fn audit(_o: Order) -> Result<u32, TaskError> {
    Ok(1)
}

async fn confirm(o: Order) -> Result<Order, TaskError> {
    Ok(Order {
        id: format!("{}!", o.id),
    })
}

workflow! {
    pub Kept: Order -> Order {
        start Validate;
        Validate = task(validate) -> Audit;
        Audit = task(audit, result_path = null) -> Note;
        Note = pass(result = "noted", result_path = null) -> Confirm;
        Confirm = task(confirm) -> end;
    }
}

#[test]
fn compiles_and_runs() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let rt = Kept::runtime().build();
    let out = tokio
        .block_on(Kept::run(&rt, Order { id: "7".into() }))
        .unwrap();
    assert_eq!(out, Order { id: "7!".into() });
}
