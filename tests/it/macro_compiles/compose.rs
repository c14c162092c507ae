// Workflows compose across `workflow!` invocations and modules: the parent's ASL is a
// compile-time constant made of its own text and the branch types' constants.
use serde_json::{json, Value};
use workflow::{workflow, Workflow};

mod branches {
    use workflow::workflow;

    workflow! {
        /// Charges the card.
        pub Charge {
            start Charge;
            Charge = pass(result = { "charged": true }) -> end;
        }

        #[workflow(query_language = "JSONPath")]
        pub Ship {
            start Ship;
            Ship = pass(result = { "shipped": true }) -> end;
        }
    }
}

workflow! {
    pub Order {
        start Both;
        Both = parallel([branches::Charge, branches::Ship]) -> Each;
        Each = map(branches::Ship, processor_config = { "Mode": "INLINE" }) -> end;
    }
}

// `crate = "…"` for a renamed dependency.
mod renamed {
    extern crate workflow as wf;

    wf::workflow! {
        #[workflow(crate = "wf")]
        pub Renamed {
            start A;
            A = succeed;
        }
    }
}

const ASL: &str = Order::ASL;

#[test]
fn compiles_and_runs() {
    let v: Value = serde_json::from_str(ASL).unwrap();
    assert_eq!(
        v["States"]["Both"]["Branches"][0]["Comment"],
        "Charges the card."
    );
    assert_eq!(
        v["States"]["Both"]["Branches"][1]["QueryLanguage"],
        "JSONPath"
    );
    assert_eq!(
        v["States"]["Each"]["ItemProcessor"],
        json!({
            "QueryLanguage": "JSONPath",
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Ship",
            "States": {"Ship": {"Type": "Pass", "Result": {"shipped": true}, "End": true}}
        })
    );
    // The text is canonical: re-emitting the model gives the same text.
    let again =
        serde_json::to_string(&workflow::asl::emit::machine_to_value(Order::model())).unwrap();
    assert_eq!(again, ASL);
    // Composition is only checked here: `Ship` is used twice, and state names are global in ASL.
    assert!(!Order::diagnostics().is_empty());
    assert_eq!(<renamed::Renamed as Workflow>::NAME, "Renamed");
    // The generated state machine drives the branches declared elsewhere too, and runs as the
    // interpreter does.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let rt = Order::runtime().seed(1).build();
    let driven = tokio.block_on(Order::execute(&rt, json!({}))).unwrap();
    let interpreted = tokio.block_on(Order::interpret(&rt, json!({}))).unwrap();
    assert_eq!(
        driven.output,
        Some(json!([{"shipped": true}, {"shipped": true}]))
    );
    assert_eq!(driven.output, interpreted.output);
    assert_eq!(driven.event_types(), interpreted.event_types());
}
