//! `W::test_state("State", input)` on macro-declared workflows: the typed handlers for unmocked
//! Tasks, mocks, the typed next state, inspection levels, and requests that cannot run.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use workflow::runtime::test_state::{InspectionLevel, TestStatus};
use workflow::{workflow, Runtime, TaskError, Workflow};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Order {
    id: String,
    total: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Receipt {
    id: String,
    charged: f64,
}

async fn charge(o: Order) -> Result<Receipt, TaskError> {
    if o.total > 100.0 {
        return Err(TaskError::new("CardDeclined", "over the limit"));
    }
    Ok(Receipt {
        id: o.id,
        charged: o.total,
    })
}

async fn notify(v: Value) -> Result<Value, TaskError> {
    Ok(json!({ "notified": v }))
}

workflow! {
    pub Checkout {
        start Route;
        Route = choice {
            $.total > 0 => Charge,
            _ => Free,
        };
        Charge = task(charge, resource = "${ChargeFn}", result_path = $.receipt)
            .retry([Throttled], interval_seconds = 2, max_attempts = 3)
            .catch([CardDeclined] => Declined, result_path = $.error)
            -> Notify;
        Notify = task(notify, resource = "${NotifyFn}") -> end;
        Free = pass(result = { "free": true }) -> end;
        Declined = fail(error = "Declined", cause = "the card was declined");
    }
}

fn order(total: f64) -> Value {
    json!({"id": "o-1", "total": total})
}

#[tokio::test]
async fn a_choice_names_the_next_state() {
    let r = Checkout::test_state("Route", order(5.0))
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(r.next_state, Some(CheckoutState::Charge));
    assert_eq!(r.output, Some(order(5.0)));
    let r = Checkout::test_state("Route", order(0.0))
        .await
        .expect("runs");
    assert_eq!(r.next_state, Some(CheckoutState::Free));
}

#[tokio::test]
async fn an_unmocked_task_calls_the_typed_handler() {
    let r = Checkout::test_state("Charge", order(5.0))
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::Succeeded, "{r:?}");
    assert_eq!(r.next_state, Some(CheckoutState::Notify));
    let steps = r.inspection_data.clone().expect("DEBUG by default");
    assert_eq!(steps.result, Some(json!({"id": "o-1", "charged": 5.0})));
    assert_eq!(steps.after_input_path, Some(order(5.0)));
    #[derive(Deserialize)]
    struct Out {
        receipt: Receipt,
    }
    let out: Out = r.output_as().expect("typed output");
    assert_eq!(
        out.receipt,
        Receipt {
            id: "o-1".into(),
            charged: 5.0
        }
    );
}

#[tokio::test]
async fn the_handlers_error_is_caught() {
    let r = Checkout::test_state("Charge", order(500.0))
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::CaughtError);
    assert_eq!(r.error.as_deref(), Some("CardDeclined"));
    assert_eq!(r.next_state, Some(CheckoutState::Declined));
    assert_eq!(
        r.output.as_ref().map(|o| o["error"]["Cause"].clone()),
        Some(json!("over the limit"))
    );
}

#[tokio::test]
async fn mocks_replace_the_handler() {
    let r = Checkout::test_state("Charge", order(5.0))
        .mock_result(json!({"id": "m", "charged": 1.0}))
        .inspection_level(InspectionLevel::Info)
        .await
        .expect("runs");
    assert_eq!(
        r.output,
        Some(json!({"id": "o-1", "total": 5.0, "receipt": {"id": "m", "charged": 1.0}}))
    );
    assert!(r.inspection_data.is_none(), "INFO has no inspection data");
    let r = Checkout::test_state("Charge", order(5.0))
        .mock_error("Throttled", "slow down")
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::Retriable);
    let details = r
        .inspection_data
        .and_then(|d| d.error_details)
        .expect("details");
    assert_eq!(details.retry_index, Some(0));
    assert_eq!(details.retry_backoff_interval_seconds, Some(2));
    // With its three attempts used up, the error goes on to the catchers (none takes Throttled).
    let r = Checkout::test_state("Charge", order(5.0))
        .mock_error("Throttled", "slow down")
        .retrier_retry_count(3)
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::Failed);
}

#[tokio::test]
async fn a_fail_state_and_a_pass_state() {
    let r = Checkout::test_state("Declined", json!({}))
        .await
        .expect("runs");
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(r.cause.as_deref(), Some("the card was declined"));
    let r = Checkout::test_state("Free", json!({})).await.expect("runs");
    assert_eq!(r.output, Some(json!({"free": true})));
    assert_eq!(r.next_state, None);
}

#[tokio::test]
async fn another_runtime_and_bad_requests() {
    let runtime = Runtime::builder()
        .raw_handler("${NotifyFn}", |_v: Value, _cx| async move {
            Ok(json!("stand-in"))
        })
        .build();
    let r = Checkout::test_state("Notify", json!({}))
        .runtime(&runtime)
        .await
        .expect("runs");
    assert_eq!(r.output, Some(json!("stand-in")));
    let e = Checkout::test_state("Chrage", json!({}))
        .await
        .expect_err("no such state");
    assert_eq!(e.part, "state");
    assert!(e.message.contains("did you mean \"Charge\""), "{e}");
}
