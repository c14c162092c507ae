//! A fuzz harness over definition + input → run: seeded random state machines (every state
//! type, loops, retries, Choice rules with `StringMatches`, paths from a pool that includes
//! explosive ones) run against random inputs (deep nesting, edge-case numbers, long strings).
//! The cases of issue 12 are the seeds, run first.
//!
//! Whatever the case, a run ends (the history limit cuts every loop), never panics, and reports
//! a status with a history whose ids are `1..=n`; a failure names its error. Bounded for CI:
//! `WORKFLOW_FUZZ_CASES` random cases (default 300) from `WORKFLOW_FUZZ_SEED` (default fixed).
//! The module `property` checks the same over cases drawn by proptest (shrinking a failure).

use std::time::Duration;

use serde_json::{json, Map, Value};
use workflow_runtime::{
    ExecutionOutcome, ExecutionStatus, Runtime, RuntimeBuilder, StartOptions, TaskError,
};

/// SplitMix64: a small deterministic generator (the harness must not depend on the platform).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const PATHS: &[&str] = &[
    "$",
    "$.a",
    "$.a.b",
    "$.items",
    "$.items[0]",
    "$.items[*].v",
    "$..v",
    "$..*",
    "$..*..*..*..*",
    "$.s",
    "$.n",
    "$.missing",
    "$.items[?(@.v > 1)]",
];

fn input(rng: &mut Rng) -> Value {
    let mut v = json!({
        "a": {"b": rng.below(10)},
        "items": (0..rng.below(6)).map(|i| json!({"v": i})).collect::<Vec<_>>(),
        "s": "a".repeat(rng.below(64)),
        "n": *rng.pick(&[json!(0), json!(-1), json!(1.5), json!(u64::MAX), json!(i64::MIN), json!(1e300)]),
    });
    if rng.below(4) == 0 {
        // Nested as deep as an input may be.
        let mut deep = json!(1);
        for _ in 0..rng.below(120) {
            deep = json!([deep]);
        }
        v["deep"] = deep;
    }
    v
}

/// A random state whose `Next` is `next`; its other transitions (Choice rules, Catch) go to any
/// state of `names`, itself or an earlier one included: loops are allowed.
fn state(rng: &mut Rng, names: &[String], next: String, depth: usize) -> Value {
    let path = *rng.pick(PATHS);
    match rng.below(if depth > 1 { 6 } else { 8 }) {
        0 => {
            json!({"Type": "Pass", "Parameters": {"x.$": path, "k": 1}, "ResultPath": "$.p", "Next": next})
        }
        1 => json!({"Type": "Choice", "Choices": [
                {"Variable": "$.s", "StringMatches": *rng.pick(&["*a*a*a*b", "a*", "\\*", "*"]), "Next": next},
                {"Variable": path, "IsPresent": true, "Next": rng.pick(names).clone()}],
             "Default": rng.pick(names).clone()}),
        2 => json!({"Type": "Wait", "Seconds": rng.below(3), "Next": next}),
        3 => json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:flaky",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1,
                           "MaxAttempts": *rng.pick(&[0, 1, 3, 99_999_999]), "BackoffRate": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": rng.pick(names).clone()}],
                "Next": next}),
        // A terminal state ends the chain: only where nothing follows it.
        4 if next.starts_with("End") => {
            json!({"Type": "Fail", "Error": "Fuzz", "Cause": "a Fail state"})
        }
        5 if next.starts_with("End") => json!({"Type": "Succeed"}),
        4 | 5 => json!({"Type": "Pass", "Result": {"n": 1}, "Next": next}),
        6 => json!({"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.m",
                "ItemProcessor": machine(rng, depth + 1), "Next": next}),
        _ => json!({"Type": "Parallel", "ResultPath": "$.par",
                "Branches": [machine(rng, depth + 1), machine(rng, depth + 1)], "Next": next}),
    }
}

/// A random machine: a chain of states (each `Next` is the following one, the last goes to a
/// `Succeed`), with random back and forward edges through Choice rules and Catch.
fn machine(rng: &mut Rng, depth: usize) -> Value {
    let n = 1 + rng.below(4);
    // State names are unique across nested scopes (ASL requires it).
    let tag = rng.next() % 1_000_000;
    let end = format!("End{tag}");
    let mut names: Vec<String> = (0..n).map(|i| format!("S{tag}_{i}")).collect();
    let mut states = Map::new();
    for i in 0..n {
        let next = names.get(i + 1).cloned().unwrap_or_else(|| end.clone());
        names.push(end.clone());
        let st = state(rng, &names, next, depth);
        names.pop();
        states.insert(names[i].clone(), st);
    }
    // The `Succeed` at the end, unless nothing goes there (the chain ended in a terminal state).
    if Value::Object(states.clone())
        .to_string()
        .contains(&format!("\"{end}\""))
    {
        states.insert(end, json!({"Type": "Succeed"}));
    }
    json!({"StartAt": names[0], "States": states})
}

fn runtime() -> Runtime {
    RuntimeBuilder::default()
        .raw_handler(
            "arn:aws:lambda:*:*:function:flaky",
            |input: Value, cx| async move {
                if cx.retry_count() % 2 == 0 {
                    Err(TaskError::new("Flaky", "every other attempt"))
                } else {
                    Ok(input)
                }
            },
        )
        // Lower than AWS's quota so that the loops of random machines end quickly.
        .history_limit(2_000)
        .build()
}

/// Runs one case; `None` when the definition is invalid (the validator's business, not this
/// harness's).
async fn run(rt: &Runtime, def: &Value, input: Value) -> Option<ExecutionOutcome> {
    let machine = match workflow_asl::load(&def.to_string()) {
        Ok(m) => m,
        Err(d) => {
            if std::env::var_os("WORKFLOW_FUZZ_VERBOSE").is_some() {
                eprintln!("invalid: {}", d[0]);
            }
            return None;
        }
    };
    let program = rt.program(&machine).ok()?;
    let execution = rt.start(&program, input, StartOptions::new()).ok()?;
    // Virtual time: waits and retry intervals take none. A run that does not end within a
    // virtual day is a hang.
    match tokio::time::timeout(Duration::from_secs(86_400), execution.wait()).await {
        Ok(outcome) => Some(outcome),
        Err(_) => panic!("the run did not end: {def}"),
    }
}

fn check(outcome: &ExecutionOutcome, what: &str) {
    let events = outcome.history.events();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "{what}: ids without gaps");
    }
    assert!(events.len() <= 2_000, "{what}: the history limit holds");
    if outcome.status != ExecutionStatus::Succeeded {
        assert!(outcome.error.is_some(), "{what}: a failure names its error");
    }
}

/// The cases of issue 12, run first.
fn seeds() -> Vec<(Value, Value)> {
    let mut deep = json!(0);
    for _ in 0..126 {
        deep = json!([deep]);
    }
    let mut wide = json!({"v": 0});
    for i in 1..60 {
        wide = json!({"a": i, "b": i, "c": i, "v": i, "child": wide});
    }
    vec![
        // An endless loop.
        (
            json!({"StartAt": "L", "States": {"L": {"Type": "Choice",
                "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "E"}], "Default": "L"},
                "E": {"Type": "Succeed"}}}),
            json!({}),
        ),
        // A retry that never gives up.
        (
            json!({"StartAt": "T", "States": {"T": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:1:function:flaky",
                "Parameters": {"forever": true},
                "Retry": [{"ErrorEquals": ["Nope"], "MaxAttempts": 99_999_999}],
                "End": true}}}),
            json!({}),
        ),
        // An explosive path on a 2 KB input.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"x.$": "$..*..*..*..*..*"}, "End": true}}}),
            wide,
        ),
        // Deep data, as deep as an input may be, through a Map and a template.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
                "Parameters": {"wrapped.$": "$"}, "End": true}}}),
            deep,
        ),
        // StringMatches on an adversarial pattern and text.
        (
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
                {"Variable": "$.s", "StringMatches": format!("{}b", "*a".repeat(2000)), "Next": "Y"}],
                "Default": "N"}, "Y": {"Type": "Succeed"}, "N": {"Type": "Succeed"}}}),
            json!({"s": "a".repeat(200_000)}),
        ),
        // Numbers at the edges of 64 bits and of doubles.
        (
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
            json!([u64::MAX, i64::MIN, 1e-300, 1.7976931348623157e308]),
        ),
    ]
}

#[tokio::test(start_paused = true)]
async fn random_machines_and_inputs_never_crash_hang_or_exhaust() {
    let rt = runtime();
    for (i, (def, input)) in seeds().into_iter().enumerate() {
        let expected_output = (i == 5).then(|| input.clone());
        let outcome = run(&rt, &def, input).await.expect("the seeds are valid");
        check(&outcome, &format!("seed {i}"));
        if let Some(expected) = expected_output {
            // Numbers pass through exactly.
            assert_eq!(outcome.output, Some(expected));
        }
    }
    let cases: u64 = std::env::var("WORKFLOW_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("WORKFLOW_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0012);
    let mut rng = Rng(seed);
    let (mut ran, mut invalid) = (0, 0);
    for case in 0..cases {
        let def = machine(&mut rng, 0);
        let input = input(&mut rng);
        match run(&rt, &def, input).await {
            Some(outcome) => {
                check(&outcome, &format!("case {case} (seed {seed})"));
                ran += 1;
            }
            None => invalid += 1,
        }
    }
    eprintln!("fuzz: {ran} runs, {invalid} invalid definitions, seed {seed}");
    assert!(
        ran >= cases / 2,
        "most random machines are valid: {ran} of {cases}"
    );
}

// ===== the property-based harness (proptest) =====

mod property {
    //! The same property — a run ends, never panics, has ids `1..=n` within a small history
    //! limit and names its error when it fails — over definitions and inputs drawn by proptest,
    //! so a failing case shrinks to a small one. The seeds of issue 12 run first, as regression
    //! cases. Bounded for CI: `PROPTEST_CASES` (default 256) cases, a few seconds.

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{json, Map, Value};

    use super::{check, run, runtime, seeds, PATHS};

    /// One state of a generated scope, before it is named and linked.
    #[derive(Debug, Clone)]
    enum Spec {
        Pass {
            path: usize,
        },
        Choice {
            pattern: usize,
            path: usize,
            target: usize,
            default: usize,
        },
        Wait {
            seconds: u64,
        },
        Task {
            attempts: usize,
            catch_to: usize,
        },
        Fail,
        Succeed,
        Map(Vec<Spec>),
        Parallel(Vec<Spec>, Vec<Spec>),
    }

    const PATTERNS: &[&str] = &["*a*a*a*b", "a*", "\\*", "*"];
    /// The paths a Choice rule's `Variable` may take (reference paths).
    const REFERENCE_PATHS: &[&str] = &[
        "$",
        "$.a",
        "$.a.b",
        "$.items",
        "$.items[0]",
        "$.s",
        "$.n",
        "$.missing",
    ];
    const ATTEMPTS: &[u64] = &[0, 1, 3, 99_999_999];

    fn spec() -> impl Strategy<Value = Spec> {
        let leaf = prop_oneof![
            (0..PATHS.len()).prop_map(|path| Spec::Pass { path }),
            (0..PATTERNS.len(), 0..PATHS.len(), 0..6usize, 0..6usize).prop_map(
                |(pattern, path, target, default)| Spec::Choice {
                    pattern,
                    path,
                    target,
                    default
                }
            ),
            (0..3u64).prop_map(|seconds| Spec::Wait { seconds }),
            (0..ATTEMPTS.len(), 0..6usize)
                .prop_map(|(attempts, catch_to)| Spec::Task { attempts, catch_to }),
            Just(Spec::Fail),
            Just(Spec::Succeed),
        ];
        leaf.prop_recursive(2, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Spec::Map),
                (
                    prop::collection::vec(inner.clone(), 1..4),
                    prop::collection::vec(inner, 1..4)
                )
                    .prop_map(|(a, b)| Spec::Parallel(a, b)),
            ]
        })
    }

    /// A scope: its states in a chain (`S<tag>_<i>` → the next → `End<tag>`), Choice rules
    /// and catchers going to any state of the scope (loops included).
    fn machine(chain: &[Spec], tag: &mut u32) -> Value {
        *tag += 1;
        let me = *tag;
        let name = |i: usize| {
            if i < chain.len() {
                format!("S{me}_{i}")
            } else {
                format!("End{me}")
            }
        };
        let any = |k: usize| name(k % (chain.len() + 1));
        let mut states = Map::new();
        for (i, spec) in chain.iter().enumerate() {
            let next = name(i + 1);
            let last = i + 1 == chain.len();
            let state = match spec {
                Spec::Pass { path } => json!({"Type": "Pass",
                    "Parameters": {"x.$": PATHS[*path], "k": 1}, "ResultPath": "$.p", "Next": next}),
                Spec::Choice {
                    pattern,
                    path,
                    target,
                    default,
                } => json!({"Type": "Choice",
                    "Choices": [
                        {"Variable": "$.s", "StringMatches": PATTERNS[*pattern], "Next": next},
                        {"Variable": REFERENCE_PATHS[*path % REFERENCE_PATHS.len()],
                         "IsPresent": true, "Next": any(*target)}],
                    "Default": any(*default)}),
                Spec::Wait { seconds } => json!({"Type": "Wait", "Seconds": seconds, "Next": next}),
                Spec::Task { attempts, catch_to } => json!({"Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:1:function:flaky",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1,
                               "MaxAttempts": ATTEMPTS[*attempts], "BackoffRate": 1}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": any(*catch_to)}],
                    "Next": next}),
                // A terminal state only where nothing follows it.
                Spec::Fail if last => {
                    json!({"Type": "Fail", "Error": "Fuzz", "Cause": "a Fail state"})
                }
                Spec::Succeed if last => json!({"Type": "Succeed"}),
                Spec::Fail | Spec::Succeed => {
                    json!({"Type": "Pass", "Result": {"n": 1}, "Next": next})
                }
                Spec::Map(inner) => json!({"Type": "Map", "ItemsPath": "$.items",
                    "ResultPath": "$.m", "ItemProcessor": machine(inner, tag), "Next": next}),
                Spec::Parallel(a, b) => json!({"Type": "Parallel", "ResultPath": "$.par",
                    "Branches": [machine(a, tag), machine(b, tag)], "Next": next}),
            };
            states.insert(name(i), state);
        }
        let end = name(chain.len());
        if Value::Object(states.clone())
            .to_string()
            .contains(&format!("\"{end}\""))
        {
            states.insert(end, json!({"Type": "Succeed"}));
        }
        json!({"StartAt": name(0), "States": states})
    }

    /// Any JSON value (finite numbers, short strings), a few levels deep.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e300f64..1e300).prop_map(|f| json!(f)),
            "[a-b*]{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// An input with the fields the paths read, random values, and at times data nested as
    /// deep as an input may be.
    fn input() -> impl Strategy<Value = Value> {
        (
            value(),
            prop::collection::vec(value(), 0..5),
            "[a-b]{0,64}",
            value(),
            prop_oneof![Just(0usize), 0..126usize],
        )
            .prop_map(|(a, items, s, n, depth)| {
                let mut deep = json!(1);
                for _ in 0..depth {
                    deep = json!([deep]);
                }
                let items: Vec<Value> = items.into_iter().map(|v| json!({"v": v})).collect();
                json!({"a": {"b": a}, "items": items, "s": s, "n": n, "deep": deep})
            })
    }

    #[test]
    fn drawn_machines_and_inputs_never_crash_hang_or_exhaust() {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let rt = runtime();
        // The regression cases first.
        for (i, (def, input)) in seeds().into_iter().enumerate() {
            let outcome = tokio
                .block_on(run(&rt, &def, input))
                .expect("the seeds are valid");
            check(&outcome, &format!("seed {i}"));
        }
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(256);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (prop::collection::vec(spec(), 1..6), input());
        let ran = std::sync::atomic::AtomicU32::new(0);
        let result = runner.run(&strategy, |(chain, input)| {
            let def = machine(&chain, &mut 0);
            // Validating and formatting never panic, whatever the definition.
            let text = def.to_string();
            let _ = workflow_asl::check_str(&text);
            if let Some(outcome) = tokio.block_on(run(&rt, &def, input)) {
                check(&outcome, &format!("definition {text}"));
                ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        let ran = ran.into_inner();
        assert!(
            ran >= cases / 2,
            "most drawn machines are valid: {ran} of {cases}"
        );
    }
}
