// `$states.input.<field>` in a JSONata expression is checked against the input type.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use workflow::{workflow, WorkflowData};

#[derive(Serialize, Deserialize, WorkflowData)]
pub struct Order {
    pub id: String,
    pub total: f64,
}

workflow! {
    #[workflow(query = jsonata)]
    Flow: Order -> Value {
        start Route;
        Route = choice {
            "{% $states.input.totl > 1 %}" => Done,
            _ => Done,
        };
        Done = pass(output = "{% $states.input.id %}") -> end;
    }
}

fn main() {}
