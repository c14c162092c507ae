//! For every workflow of the examples and tests: running it with the generated state machine
//! (`Workflow::execute`: the enum-driven driver calling the typed handlers directly; also on a
//! runtime with no handler registered) and with the interpreter (on `Workflow::program()`, and on
//! the exported ASL file read back as any deployed definition) give the same outcome — status,
//! output, error, cause — and the same history, event by event; over inputs that succeed, fail,
//! retry and are caught, with and without mocks. The golden `examples/*.asl.json` files are
//! compared with the emitted ASL (`UPDATE_GOLDEN=1` rewrites them). `typed_edges` checks that a
//! typed handler's output reaches the next typed handler as the Rust value (no deserialisation)
//! exactly when the data is unchanged in between.

#![allow(dead_code)]
// Each example brings its own copy of `examples/common` (they are separate binaries).
#![allow(clippy::duplicate_mod)]

#[path = "../../examples/choice.rs"]
mod choice;
#[path = "../../examples/import_asl.rs"]
mod import_asl;
#[path = "../../examples/inline_parallel.rs"]
mod inline_parallel;
#[path = "../../examples/jsonata.rs"]
mod jsonata;
#[path = "../../examples/map.rs"]
mod map;
#[path = "../../examples/parallel.rs"]
mod parallel;
#[path = "../../examples/retry.rs"]
mod retry;
#[path = "../../examples/sequence.rs"]
mod sequence;
#[path = "../../examples/try_catch.rs"]
mod try_catch;
#[path = "../../examples/typed_paths.rs"]
mod typed_paths;
#[path = "../../examples/wait.rs"]
mod wait;

use serde_json::{json, Value};
use workflow::{ExecutionOutcome, MockConfig, MockTestCase, Runtime, RuntimeBuilder, Workflow};

fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .expect("a valid timestamp")
        .with_timezone(&chrono::Utc)
}

fn golden_path(name: &str) -> String {
    format!("{}/examples/{name}.asl.json", env!("CARGO_MANIFEST_DIR"))
}

/// Compares the emitted ASL with the checked-in golden file.
fn golden<W: Workflow>(name: &str) -> String {
    let path = golden_path(name);
    let emitted = W::asl_pretty() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &emitted).expect("the golden file is writable");
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(
        text,
        emitted,
        "{path} differs from {}::ASL (UPDATE_GOLDEN=1 rewrites it)",
        W::NAME
    );
    assert!(
        W::diagnostics().is_empty(),
        "{}: {:?}",
        W::NAME,
        W::diagnostics()
    );
    text
}

/// One history event as compared: its type and its details.
type Event = (String, Option<(String, Value)>);

/// What must be equal between the two runs.
fn summary(o: &ExecutionOutcome) -> (Value, Vec<Event>) {
    (
        o.to_json(),
        o.history
            .iter()
            .map(|e| (e.event_type().to_string(), e.details()))
            .collect(),
    )
}

async fn equivalent<W: Workflow>(
    name: &str,
    inputs: Vec<(W::Input, Option<MockTestCase>)>,
) -> Vec<ExecutionOutcome> {
    let text = golden::<W>(name);
    // Placeholder resources (`${Fn}`) are not ARNs yet, so the file is read without the ARN rule
    // (the rest was validated above); the runtime matches handlers by the resource text.
    let parsed = workflow::asl::parse_str(&text).expect("the golden file is JSON");
    assert!(
        parsed.diagnostics.is_empty(),
        "{name}: {:?}",
        parsed.diagnostics
    );
    let loaded = parsed.machine.expect("an object");
    let driven = W::driven_program().expect("the driver fits the definition");
    let interpreted = W::program().expect("compiles");
    let mut outcomes = Vec::new();
    for (input, mocks) in inputs {
        let json_input = serde_json::to_value(&input).expect("inputs are JSON");
        let build = |b: RuntimeBuilder| {
            let b = b.seed(7).start_time(start_time());
            match &mocks {
                Some(m) => b.mocks(m.clone()),
                None => b,
            }
        };
        // The generated state machine, through the typed entry point.
        let macro_rt = build(W::runtime()).build();
        let by_macro = W::execute(&macro_rt, input)
            .await
            .expect("the execution starts");
        // The generated state machine calls its handlers itself: a runtime without any gives
        // the same run.
        let bare_rt = build(Runtime::builder()).build();
        let by_driver_alone = bare_rt
            .run(&driven, json_input.clone())
            .await
            .expect("the execution starts");
        // The interpreter, on the compile-time model and on the exported file read back.
        let interp_rt = build(Runtime::builder().handlers(W::handlers())).build();
        let by_program = interp_rt
            .run(&interpreted, json_input.clone())
            .await
            .expect("the execution starts");
        let by_interpreter = interp_rt
            .run_machine(&loaded, json_input.clone())
            .await
            .expect("the execution starts");
        let want = summary(&by_interpreter);
        for (what, got) in [
            ("W::execute (generated driver)", &by_macro),
            (
                "the generated driver without registered handlers",
                &by_driver_alone,
            ),
            ("the interpreter on W::program()", &by_program),
        ] {
            assert_eq!(
                summary(got),
                want,
                "{name} on {json_input}: {what} differs from the interpreter on the exported ASL"
            );
        }
        outcomes.push(by_macro);
    }
    outcomes
}

fn mocks(machine: &str, states: Value, responses: Value) -> MockTestCase {
    MockConfig::from_value(&json!({
        "StateMachines": { machine: { "TestCases": { "case": states } } },
        "MockedResponses": responses,
    }))
    .and_then(|c| c.test_case(machine, "case"))
    .expect("a valid mock configuration")
}

#[tokio::test(start_paused = true)]
async fn sequence() {
    let mut bad = sequence::input();
    bad.quantity = 0;
    let price_fails = mocks(
        "Sequence",
        json!({ "Price": "Down" }),
        json!({ "Down": { "0": { "Throw": { "Error": "Service.Down", "Cause": "mocked" } } } }),
    );
    let out = equivalent::<sequence::Sequence>(
        "sequence",
        vec![
            (sequence::input(), None),
            (bad, None),
            (sequence::input(), Some(price_fails)),
        ],
    )
    .await;
    assert!(out[0].succeeded());
    assert_eq!(out[1].error.as_deref(), Some("InvalidOrder"));
    // The typed entry point returns the typed output.
    let rt = sequence::Sequence::runtime().build();
    let receipt = sequence::Sequence::run(&rt, sequence::input())
        .await
        .expect("succeeds");
    assert_eq!(receipt.line, "3 x 2.5 = 7.50");
    assert_eq!(out[2].error.as_deref(), Some("Service.Down"));
}

#[tokio::test(start_paused = true)]
async fn parallel() {
    let out = equivalent::<parallel::Fulfil>(
        "parallel",
        vec![(parallel::input(), None), (json!({ "id": "o-8" }), None)],
    )
    .await;
    assert_eq!(
        out[0].output,
        Some(json!({ "charged": 42.5, "tracking": "TRK-o-7" }))
    );
    assert_eq!(
        out[1].output,
        Some(json!({ "charged": 0.0, "tracking": "TRK-o-8" }))
    );
}

/// Branches and item processors written inline emit the ASL of the named form, and run alike.
#[tokio::test(start_paused = true)]
async fn inline_parallel() {
    assert_eq!(inline_parallel::Fulfil::ASL, parallel::Fulfil::ASL);
    assert_eq!(inline_parallel::PriceOrder::ASL, map::PriceOrder::ASL);
    let out = equivalent::<inline_parallel::Fulfil>(
        "parallel",
        vec![
            (inline_parallel::input(), None),
            (json!({ "id": "o-8" }), None),
        ],
    )
    .await;
    assert_eq!(
        out[0].output,
        Some(json!({ "charged": 42.5, "tracking": "TRK-o-7" }))
    );
    let out = equivalent::<inline_parallel::PriceOrder>("map", vec![(map::input(), None)]).await;
    assert_eq!(
        out[0].output,
        Some(json!({ "order": "o-3", "total": 21.0 }))
    );
    // An inline branch is a workflow type of its own.
    let rt = inline_parallel::FulfilBothShip::runtime().build();
    let alone = inline_parallel::FulfilBothShip::run(&rt, json!({ "id": "o-9" }))
        .await
        .expect("runs");
    assert_eq!(alone.tracking, "TRK-o-9");
}

/// A JSONata workflow: the emitted definition is JSONata, and the generated machine and the
/// interpreter agree on it.
#[tokio::test(start_paused = true)]
async fn jsonata() {
    assert!(jsonata::Shipping::ASL.contains(r#""QueryLanguage":"JSONata""#));
    assert!(jsonata::Shipping::ASL.contains(r#""Condition":"{% $states.input.total >= 100 %}""#));
    let out = equivalent::<jsonata::Shipping>("jsonata", vec![(jsonata::input(), None)]).await;
    assert_eq!(out[0].output, Some(json!({ "id": "o-5", "shipping": 4.2 })));
}

#[tokio::test(start_paused = true)]
async fn typed_paths() {
    let out =
        equivalent::<typed_paths::Pricing>("typed_paths", vec![(typed_paths::input(), None)]).await;
    assert_eq!(
        out[0].output,
        Some(json!({ "order": "o-1", "total": 19.0, "shipping": 4.0, "label": "o-1 costs 19.0" }))
    );
}

#[tokio::test(start_paused = true)]
async fn choice() {
    let out = equivalent::<choice::Route>(
        "choice",
        vec![
            (choice::input(), None),
            (json!({ "kind": "book", "title": "Emma", "price": 9 }), None),
            (json!({ "kind": "song", "file": "a.mp3" }), None),
            (json!({ "kind": "toy" }), None),
        ],
    )
    .await;
    let shelves: Vec<_> = out
        .iter()
        .map(|o| o.output.as_ref().map(|v| v["shelf"].clone()))
        .collect();
    assert_eq!(
        shelves,
        [
            Some(json!("vault")),
            Some(json!("books")),
            Some(json!("media")),
            None
        ]
    );
    assert_eq!(out[3].error.as_deref(), Some("UnknownKind"));
}

#[tokio::test(start_paused = true)]
async fn try_catch() {
    let out = equivalent::<try_catch::TryCatch>(
        "try_catch",
        vec![
            (try_catch::input(), None),
            (json!({ "id": "o-1", "total": 10.0 }), None),
        ],
    )
    .await;
    assert_eq!(
        out[0]
            .output
            .as_ref()
            .map(|v| v["previous"]["refunded"].clone()),
        Some(json!(true))
    );
    assert_eq!(
        out[1]
            .output
            .as_ref()
            .map(|v| v["previous"]["payment"]["charged"].clone()),
        Some(json!(10.0))
    );
}

#[tokio::test(start_paused = true)]
async fn retry() {
    let always_fails = mocks(
        "Retry",
        json!({ "Call": "Broken" }),
        json!({ "Broken": { "0-3": { "Throw": { "Error": "Flaky.Error", "Cause": "mocked" } } } }),
    );
    let out = equivalent::<retry::Retry>(
        "retry",
        vec![(retry::input(), None), (retry::input(), Some(always_fails))],
    )
    .await;
    assert_eq!(
        out[0].output.as_ref().map(|v| v["attempts"].clone()),
        Some(json!(3))
    );
    assert_eq!(out[1].error.as_deref(), Some("GaveUp"));
}

#[tokio::test(start_paused = true)]
async fn map() {
    let out = equivalent::<map::PriceOrder>(
        "map",
        vec![
            (map::input(), None),
            (json!({ "id": "o-4", "lines": [] }), None),
            (json!({ "id": "o-5", "lines": [{ "sku": "x" }] }), None),
        ],
    )
    .await;
    assert_eq!(
        out[0].output,
        Some(json!({ "order": "o-3", "total": 21.0 }))
    );
    assert_eq!(out[1].output, Some(json!({ "order": "o-4", "total": 0.0 })));
    assert!(!out[2].succeeded());
}

#[tokio::test(start_paused = true)]
async fn wait() {
    let out = equivalent::<wait::Waits>(
        "wait",
        vec![(wait::input(), None), (json!({ "delay": "soon" }), None)],
    )
    .await;
    assert_eq!(
        out[0].history.last().map(|e| e.timestamp.as_str()),
        Some("2024-01-01T01:00:00.000Z")
    );
    assert!(!out[1].succeeded());
}

#[test]
fn item_workflow_golden() {
    // The Map's item processor is a workflow of its own, exported like any other.
    golden::<map::PriceLine>("map_item");
    golden::<parallel::ChargeCard>("parallel_charge");
    golden::<parallel::ShipParcel>("parallel_ship");
}

#[test]
fn exports_substitute_placeholders() {
    let text = sequence::Sequence::asl_with(sequence::SUBSTITUTIONS);
    assert!(!text.contains("${"), "{text}");
    let machine = workflow::asl::load(&text).expect("the exported ASL passes the validator");
    assert_eq!(machine.states.len(), 3);
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        v["States"]["Validate"]["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:validate"
    );
    // Unknown placeholders stay as written.
    assert!(sequence::Sequence::asl_with(&[]).contains("${ValidateFn}"));
    assert_eq!(
        workflow::placeholders(&workflow::asl::emit::machine_to_value(
            sequence::Sequence::model()
        )),
        ["ValidateFn", "PriceFn", "ReceiptFn"]
    );
}

#[tokio::test(start_paused = true)]
async fn imported() {
    let out = equivalent::<import_asl::Greeter>(
        "import_asl",
        vec![
            (import_asl::input(), None),
            (json!({ "person": { "name": "" } }), None),
        ],
    )
    .await;
    assert_eq!(
        out[0].output.as_ref().map(|v| v["loud"].clone()),
        Some(json!("HELLO, ADA!"))
    );
    assert_eq!(out[1].error.as_deref(), Some("NoName"));
}

#[tokio::test(start_paused = true)]
async fn imported_asl_is_canonical_and_runs() {
    let text = std::fs::read_to_string(golden_path("import_asl")).expect("the example file");
    let machine = workflow::asl::load(&text).expect("valid");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let canonical = workflow::asl::emit::machine_to_string_pretty(&machine) + "\n";
        std::fs::write(golden_path("import_asl"), &canonical).expect("writable");
        return;
    }
    // The file is in canonical form: reading and writing it back changes nothing.
    assert_eq!(
        workflow::asl::emit::machine_to_string_pretty(&machine) + "\n",
        text
    );
    let rt = import_asl::runtime()
        .seed(1)
        .start_time(start_time())
        .build();
    let ok = rt
        .run_machine(&machine, import_asl::input())
        .await
        .expect("starts");
    assert_eq!(
        ok.output.as_ref().map(|v| v["loud"].clone()),
        Some(json!("HELLO, ADA!"))
    );
    let anonymous = rt
        .run_machine(&machine, json!({ "person": { "name": "" } }))
        .await
        .expect("starts");
    assert_eq!(anonymous.error.as_deref(), Some("NoName"));
}

mod kitchen {
    use serde_json::{json, Value};
    use workflow::{workflow, TaskError};

    async fn double(v: Value) -> Result<Value, TaskError> {
        match v["n"].as_i64() {
            Some(n) if n >= 0 => Ok(json!({ "n": n * 2 })),
            _ => Err(TaskError::new(
                "Negative",
                "n must be a non-negative number",
            )),
        }
    }

    workflow! {
        /// Doubles one number.
        pub Double {
            start Double;
            Double = task(double, resource = "arn:aws:states:::lambda:invoke")
                .retry([States.TaskFailed], max_attempts = 1, interval_seconds = 1)
                -> end;
        }

        /// A bit of everything that runs on JSONPath.
        pub Kitchen {
            start Prepare;
            Prepare = pass(parameters = {
                "items": $.items,
                "count": States.ArrayLength($.items),
                "label": States.Format("{} items", States.ArrayLength($.items)),
                "mode": $.mode,
            }) -> Route;
            Route = choice {
                $.count == 0 => Empty,
                $.mode == "parallel" && $.count >= 1 => Both,
                is_present($.mode) && $.mode != "map" => Unknown,
                _ => Each,
            };
            Each = map(Double, items_path = $.items, item_selector = { "n": $$.Map.Item.Value },
                       max_concurrency = 1, result_path = $.doubled)
                .catch([States.ALL] => Recovered, result_path = $.error)
                -> Pause;
            Both = parallel([Double2, Double3], parameters = { "n": States.ArrayGetItem($.items, 0) })
                -> Pause;
            Pause = wait(seconds = 30) -> Done;
            Recovered = pass(result = { "recovered": true }, result_path = $.status) -> Done;
            Empty = fail(error = "Empty", cause = "no items");
            Unknown = fail(error_path = $.mode, cause = "unknown mode");
            Done = succeed;
        }

        pub Double2 {
            start Twice;
            Twice = task(double, resource = "arn:aws:states:::lambda:invoke") -> end;
        }

        pub Double3 {
            start Thrice;
            Thrice = task(double, resource = "arn:aws:states:::lambda:invoke") -> end;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn kitchen_sink() {
    let out = equivalent::<kitchen::Kitchen>(
        "../tests/golden/kitchen",
        vec![
            (json!({ "items": [1, 2, 3], "mode": "map" }), None),
            (json!({ "items": [1, -2], "mode": "map" }), None),
            (json!({ "items": [4], "mode": "parallel" }), None),
            (json!({ "items": [], "mode": "map" }), None),
            (json!({ "items": [1], "mode": "other" }), None),
        ],
    )
    .await;
    assert_eq!(
        out[0].output.as_ref().map(|v| v["doubled"].clone()),
        Some(json!([{ "n": 2 }, { "n": 4 }, { "n": 6 }]))
    );
    assert_eq!(
        out[1].output.as_ref().map(|v| v["status"].clone()),
        Some(json!({ "recovered": true }))
    );
    assert_eq!(out[2].output, Some(json!([{ "n": 8 }, { "n": 8 }])));
    assert_eq!(out[3].error.as_deref(), Some("Empty"));
    assert_eq!(out[4].error.as_deref(), Some("other"));
}

mod typed {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde::{Deserialize, Deserializer, Serialize};
    use workflow::{workflow, TaskContext, TaskError};

    /// How many times a `Counted` was read from JSON.
    pub static READS: AtomicUsize = AtomicUsize::new(0);

    /// A number whose deserialisations are counted.
    #[derive(Debug, Clone, Serialize)]
    pub struct Counted {
        pub n: i64,
    }

    impl<'de> Deserialize<'de> for Counted {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            #[derive(Deserialize)]
            struct Raw {
                n: i64,
            }
            READS.fetch_add(1, Ordering::SeqCst);
            Raw::deserialize(d).map(|r| Counted { n: r.n })
        }
    }

    async fn inc(c: Counted) -> Result<Counted, TaskError> {
        Ok(Counted { n: c.n + 1 })
    }

    /// Fails its first attempt.
    async fn flaky(c: Counted, cx: TaskContext) -> Result<Counted, TaskError> {
        if cx.retry_count() == 0 {
            return Err(TaskError::new("Flaky", "first attempt"));
        }
        Ok(Counted { n: c.n * 10 })
    }

    workflow! {
        /// `A`'s output reaches `B` through the Choice and the Wait unchanged (a typed edge), or
        /// through `Reset`, which changes it; `B`'s reaches `C`, whose first attempt fails.
        pub Carry: Counted -> Counted {
            start A;
            A = task(inc, resource = "arn:aws:lambda:us-east-1:123456789012:function:a") -> Route;
            Route = choice { $.n > 100 => Reset, _ => Nap };
            Reset = pass(result = 0, result_path = $.n) -> B;
            Nap = wait(seconds = 1) -> B;
            B = task(inc, resource = "arn:aws:lambda:us-east-1:123456789012:function:b") -> C;
            C = task(flaky, resource = "arn:aws:lambda:us-east-1:123456789012:function:c")
                .retry([Flaky], interval_seconds = 1, max_attempts = 1)
                -> end;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn typed_edges() {
    use std::sync::atomic::Ordering;
    use typed::{Carry, Counted, READS};

    let mocked_a = mocks(
        "Carry",
        json!({ "A": "Five" }),
        json!({ "Five": { "0": { "Return": { "n": 5 } } } }),
    );
    // (input, mocks, output, reads by the driver, reads by the interpreter)
    let cases = [
        // A reads its input; B and C's first attempt receive the Rust value; C's retry reads.
        (1, None, 30, 2, 4),
        // `Reset` changed the data: B reads it (A's value is out of date).
        (200, None, 10, 3, 4),
        // A is mocked: B reads the mocked JSON, C's first attempt gets B's value.
        (1, Some(mocked_a), 60, 2, 3),
    ];
    for (n, mock, want, driver_reads, interpreter_reads) in cases {
        let build = |b: RuntimeBuilder| {
            let b = b.seed(7).start_time(start_time());
            match &mock {
                Some(m) => b.mocks(m.clone()),
                None => b,
            }
        };
        let rt = build(Carry::runtime()).build();
        READS.store(0, Ordering::SeqCst);
        let driven = Carry::execute(&rt, Counted { n }).await.expect("starts");
        assert_eq!(
            READS.load(Ordering::SeqCst),
            driver_reads,
            "driver, n = {n}"
        );
        READS.store(0, Ordering::SeqCst);
        let interpreted = Carry::interpret(&rt, Counted { n }).await.expect("starts");
        assert_eq!(
            READS.load(Ordering::SeqCst),
            interpreter_reads,
            "interpreter, n = {n}"
        );
        assert_eq!(driven.output, Some(json!({ "n": want })), "n = {n}");
        assert_eq!(summary(&driven), summary(&interpreted), "n = {n}");
    }
    let out = Carry::run(&Carry::runtime().build(), Counted { n: 1 })
        .await
        .expect("succeeds");
    assert_eq!(out.n, 30);
}

#[tokio::test(start_paused = true)]
async fn resumes_like_the_interpreter() {
    // A driven execution resumed from any prefix of its history (as after a crash) ends as the
    // interpreter resumed from the same prefix: same status, output and event types. Parallel
    // branches and Map iterations are driven too.
    use workflow::StartOptions;
    let rt = kitchen::Kitchen::runtime()
        .seed(7)
        .start_time(start_time())
        .build();
    let interpreted = kitchen::Kitchen::program().expect("compiles");
    for input in [
        json!({ "items": [1, 2], "mode": "map" }),
        json!({ "items": [4], "mode": "parallel" }),
    ] {
        let full = kitchen::Kitchen::execute(&rt, input.clone())
            .await
            .expect("starts");
        assert!(full.succeeded(), "{:?}", full.to_json());
        let events = full.history.events().to_vec();
        for k in 1..events.len() {
            let prefix = events[..k].to_vec();
            let driven = kitchen::Kitchen::start(
                &rt,
                input.clone(),
                StartOptions::new().resume_from(prefix.clone()),
            )
            .expect("starts")
            .await;
            let by_interpreter = rt
                .start(
                    &interpreted,
                    input.clone(),
                    StartOptions::new().resume_from(prefix),
                )
                .expect("starts")
                .await;
            assert_eq!(driven.to_json(), full.to_json(), "resumed after {k} events");
            assert_eq!(driven.to_json(), by_interpreter.to_json(), "after {k}");
            assert_eq!(
                driven.event_types(),
                by_interpreter.event_types(),
                "after {k}"
            );
            assert_eq!(driven.event_types(), full.event_types(), "after {k}");
        }
    }
}
