//! What `workflow!` emits: the ASL text of each declaration, its model and its state enum.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::{workflow, TaskError, Workflow, WorkflowState};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Order {
    pub id: String,
    pub total: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Receipt {
    pub id: String,
}

async fn validate(o: Order) -> Result<Order, TaskError> {
    Ok(o)
}

async fn charge(o: Order) -> Result<Receipt, TaskError> {
    Ok(Receipt { id: o.id })
}

async fn ship(v: Value) -> Result<Value, TaskError> {
    Ok(v)
}

workflow! {
    /// Ships a parcel.
    Ship {
        start Pack;
        Pack = task(ship, resource = "arn:aws:states:::lambda:invoke") -> end;
    }

    /// Order processing.
    #[workflow(timeout_seconds = 300)]
    pub OrderFlow: Order -> Receipt {
        start Validate;
        /// Checks the order.
        Validate = task(validate)
            .retry([States.TaskFailed], interval_seconds = 2, max_attempts = 3, backoff_rate = 2.0)
            .catch([States.ALL] => Failed, result_path = $.error)
            -> Charge;
        Charge = task(charge) -> Route;
        Route = choice {
            $.id == "x" && $.total < 1000 => Shipping,
            !is_present($.id) || $.id != string($.other_id) => Failed,
            _ => Done,
        };
        Shipping = parallel([Ship], result_path = $.shipping) -> Done;
        Failed = fail(error = "OrderFailed", cause = "could not process");
        Done = succeed;
    }
}

#[test]
fn emits_canonical_asl() {
    let v: Value = serde_json::from_str(OrderFlow::ASL).expect("ASL is JSON");
    assert_eq!(v["Comment"], "Order processing.");
    assert_eq!(v["TimeoutSeconds"], 300);
    assert_eq!(v["StartAt"], "Validate");
    assert_eq!(
        v["States"]["Validate"],
        json!({
            "Type": "Task",
            "Comment": "Checks the order.",
            "Resource": "${validate}",
            "Next": "Charge",
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}]
        })
    );
    assert_eq!(
        v["States"]["Route"]["Choices"],
        json!([
            {"And": [
                {"Variable": "$.id", "StringEquals": "x"},
                {"Variable": "$.total", "NumericLessThan": 1000}
            ], "Next": "Shipping"},
            {"Or": [
                {"Not": {"Variable": "$.id", "IsPresent": true}},
                {"Not": {"Variable": "$.id", "StringEqualsPath": "$.other_id"}}
            ], "Next": "Failed"}
        ])
    );
    assert_eq!(v["States"]["Route"]["Default"], "Done");
    assert_eq!(
        v["States"]["Shipping"]["Branches"][0],
        json!({"Comment": "Ships a parcel.", "StartAt": "Pack", "States": {"Pack": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})
    );
    assert_eq!(OrderFlow::model().start_at, "Validate");
}

#[test]
fn state_enum() {
    let names: Vec<_> = OrderFlowState::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        ["Validate", "Charge", "Route", "Shipping", "Failed", "Done"]
    );
    assert_eq!(
        OrderFlowState::from_name("Route"),
        Some(OrderFlowState::Route)
    );
}

#[tokio::test(start_paused = true)]
async fn runs_typed() {
    use workflow::RuntimeExt;
    let rt = OrderFlow::runtime().seed(1).build();
    // `Route` reads `$.total`, which the receipt does not have: Step Functions fails the
    // execution with `States.Runtime`.
    let order = Order {
        id: "x".into(),
        total: 10.0,
    };
    match rt.run_workflow::<OrderFlow>(order.clone()).await {
        Err(workflow::RunError::Failed(o)) => {
            assert_eq!(o.error.as_deref(), Some("States.Runtime"));
            assert_eq!(o.event_types().last(), Some(&"ExecutionFailed"));
        }
        other => panic!("expected a failed execution, got {other:?}"),
    }
    let outcome = rt
        .execute_workflow::<OrderFlow>(order)
        .await
        .expect("starts");
    assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
}
