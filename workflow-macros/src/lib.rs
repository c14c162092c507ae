//! The `workflow!` procedural macro. Use it through the `workflow` crate, which documents the DSL.
//!
//! The pipeline (serde_derive's): `parse` builds a syntax tree with spans, `lower` turns it into
//! ASL JSON and remembers where each JSON pointer came from, `check` runs the shared ASL validator
//! and reports each diagnostic at its DSL tokens, and `expand` generates code (it cannot fail).
//! Errors are collected in a `ctxt::Ctxt`; on error the expansion still emits the workflow's
//! items (`expand::fallback`) so that one mistake does not cascade.
#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod data;
mod expand;
mod kw;
mod lower;
mod parse;
mod pipeline;

use proc_macro::TokenStream;

/// Declares one or more workflows: each becomes a type whose ASL is a compile-time constant,
/// checked by the same validator as ASL files, with its task handlers type-checked. The DSL is
/// described in the `workflow` crate's documentation.
///
/// ```text
/// workflow! {
///     /// Order processing.
///     pub OrderFlow: Order -> Receipt {
///         start Validate;
///         Validate = task(validate).retry([States.TaskFailed], max_attempts = 3) -> Charge;
///         Charge = task(charge) -> end;
///     }
/// }
/// ```
///
/// expands to (roughly):
///
/// ```text
/// /// Order processing.
/// pub struct OrderFlow;
/// /// The states of [`OrderFlow`], in the order they are declared.
/// pub enum OrderFlowState { Validate, Charge }
/// const _: () = {
///     impl workflow::WorkflowState for OrderFlowState { /* ALL, name, start, successors */ }
///     // The typed state machine: a loop over `OrderFlowState` whose arms run their state and
///     // whose transitions are `match` arms; `charge` receives `validate`'s `Order` directly.
///     fn __drive(d: Driver<'_>) -> DriveFuture<'_> { /* … */ }
///     impl workflow::Workflow for OrderFlow {
///         type Input = Order;
///         type Output = Receipt;
///         type State = OrderFlowState;
///         const NAME: &'static str = "OrderFlow";
///         const ASL: &'static str = r#"{"Comment":"Order processing.","StartAt":"Validate",…}"#;
///         fn model() -> &'static StateMachine { /* ASL parsed once */ }
///         fn program() -> Result<Arc<Program>, CompileError> { /* compiled once */ }
///         fn driven_program() -> Result<Arc<Program>, CompileError> {
///             /* compiled once, with `__drive` attached (and the branches' drivers) */
///         }
///         fn register(handlers: &mut Handlers) {
///             let v = bind(validate).register(handlers, "${validate}"); // `validate: TaskHandler`
///             let c = bind(charge).register(handlers, "${charge}");
///             check_edge(&v, &c);          // validate's output type == charge's input type
///             check_input::<Order>(&v);    // the workflow input flows into `validate`
///             check_output::<Receipt>(&c); // `charge` produces the workflow output
///         }
///     }
/// };
/// ```
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    expand_workflow(input.into()).into()
}

/// Derives `workflow::WorkflowData`: the JSON shape of a serde type (field names after serde's
/// renames), so that `workflow!` checks the paths into it at compile time.
#[proc_macro_derive(WorkflowData, attributes(serde))]
pub fn derive_workflow_data(input: TokenStream) -> TokenStream {
    data::derive(input.into()).into()
}

use pipeline::expand_workflow;

#[cfg(test)]
mod tests {
    use super::expand_workflow;

    /// The error messages of an expansion, in order.
    fn errors(input: proc_macro2::TokenStream) -> Vec<String> {
        let out = expand_workflow(input).to_string();
        out.match_indices("compile_error !")
            .map(|(at, _)| {
                let rest = &out[at..];
                let start = rest.find('"').map_or(0, |i| i + 1);
                let end = rest[start..].find("\" }").map_or(rest.len(), |i| start + i);
                rest[start..end].to_string()
            })
            .collect()
    }

    #[test]
    fn every_mistake_is_reported_once() {
        let cases: Vec<(proc_macro2::TokenStream, &[&str])> = vec![
            (
                quote::quote! { F { start A; A = pass -> B; B = succeed; } },
                &[],
            ),
            (quote::quote! { F { A = succeed; } }, &["has no `start"]),
            (
                quote::quote! {
                    F {
                        start A;
                        A = pass -> Bb;
                        B = taks(x) -> C;
                        C = pass(result_pth = 1) -> D;
                        D = task(resource = "arn:aws:states:::lambda:invoke")
                            .retry([States.ALL], backoff_rate = 0.5) -> E;
                        E = succeed;
                        E = succeed;
                    }
                },
                &[
                    "expected one of: `task`",
                    "did you mean `result_path`",
                    "duplicate state `E`",
                    "names \\\"Bb\\\"",
                    "`BackoffRate` is 0.5",
                ],
            ),
        ];
        for (input, expected) in cases {
            let got = errors(input.clone());
            assert_eq!(got.len(), expected.len(), "{input}: {got:#?}");
            for want in expected {
                assert!(
                    got.iter().any(|g| g.contains(want)),
                    "{input}: no error contains {want:?} in {got:#?}"
                );
            }
        }
    }

    #[test]
    fn the_driver_matches_on_the_state_enum() {
        let out = expand_workflow(quote::quote! {
            F {
                start A;
                A = task(h).catch([States.ALL] => X) -> B;
                B = choice { $.x == 1 => C, _ => D };
                C = wait(seconds = 1) -> D;
                D = task(g, resource = "arn:aws:lambda:us-east-1:123456789012:function:d") -> E;
                E = task(h) -> end;
                X = fail(error = "E");
            }
        })
        .to_string();
        for want in [
            "fn __drive",
            "let mut __state = FState :: A",
            // One arm per handler (`h` runs A and E), one for the states that never wait, one
            // for the others.
            "FState :: A | FState :: E => __d . step_task (__state as usize , & __h [0usize])",
            "FState :: D => __d . step_task (__state as usize , & __h [1usize])",
            "FState :: B | FState :: X => __d . step_now (__state as usize)",
            "__s => __d . step (__s as usize) . await",
            // The handlers are bound as `register` binds them.
            ":: workflow :: __private :: bind (h) . typed ()",
            ":: workflow :: __private :: bind (h) . register",
            // Transitions: Next, Catch, Choice arms and Default, End.
            "(FState :: A , :: core :: option :: Option :: Some (1usize)) => FState :: B",
            "(FState :: A , :: core :: option :: Option :: Some (5usize)) => FState :: X",
            "(FState :: B , :: core :: option :: Option :: Some (2usize)) => FState :: C",
            "(FState :: B , :: core :: option :: Option :: Some (3usize)) => FState :: D",
            "(FState :: E , :: core :: option :: Option :: None)",
            "__d . no_transition (__s as usize , __n)",
            "ScopeDriver :: new (__drive , & [\"A\" , \"B\" , \"C\" , \"D\" , \"E\" , \"X\"])",
        ] {
            assert!(out.contains(want), "no `{want}` in {out}");
        }
        // Branches and item processors are driven by their workflows' drivers.
        let out = expand_workflow(quote::quote! {
            G { start P; P = parallel([A, B]) -> M; M = map(C) -> end; }
        })
        .to_string();
        assert!(out.contains(
            ". nest (0usize , :: std :: vec ! [< A as :: workflow :: Workflow > :: __driver () , < B as :: workflow :: Workflow > :: __driver ()])"
        ), "{out}");
        assert!(out.contains(
            ". nest (1usize , :: std :: vec ! [< C as :: workflow :: Workflow > :: __driver ()])"
        ), "{out}");
    }

    #[test]
    fn errors_still_expand_the_items() {
        let out = expand_workflow(quote::quote! { pub F { A = succeed; } }).to_string();
        assert!(out.contains("pub struct F"));
        assert!(out.contains("pub enum FState"));
        assert!(out.contains("Workflow for F"));
    }

    /// The ASL JSON of the first workflow of `input` (which must have no errors).
    fn lowered(input: proc_macro2::TokenStream) -> serde_json::Value {
        let input: crate::parse::Input = syn::parse2(input).expect("a workflow");
        let cx = crate::ctxt::Ctxt::new();
        let (workflows, bodies) = crate::parse::parse_all(&cx, input.workflows);
        let l = crate::lower::lower_all(&cx, &workflows, &bodies);
        if let Err(e) = cx.check() {
            panic!("unexpected errors: {e}");
        }
        l[0].value.clone()
    }

    #[test]
    fn inline_branches_lower_like_named_ones() {
        let named = lowered(quote::quote! {
            F {
                start P;
                P = parallel([L, R], result_path = $.both) -> M;
                M = map(I, items_path = $.items, max_concurrency = 2) -> end;
            }
            /// Left.
            L { start A; A = pass -> end; }
            R { start B; B = succeed; }
            I { start C; C = pass(result = 1) -> end; }
        });
        let inline = lowered(quote::quote! {
            F {
                start P;
                P = parallel(result_path = $.both) {
                    /// Left.
                    Left { start A; A = pass -> end; }
                    Right { start B; B = succeed; }
                } -> M;
                M = map(items_path = $.items, max_concurrency = 2) {
                    start C;
                    C = pass(result = 1) -> end;
                } -> end;
            }
        });
        assert_eq!(named, inline);
        // The inline workflows are types of their own.
        let out = expand_workflow(quote::quote! {
            pub F { start P; P = parallel { Left { start A; A = succeed; } } -> end; }
        })
        .to_string();
        assert!(out.contains("pub struct FPLeft"), "{out}");
    }

    #[test]
    fn missing_branches_are_named() {
        let cases: Vec<(proc_macro2::TokenStream, &str)> = vec![
            (
                quote::quote! { F { start M; M = map(items_path = $.items) -> end; } },
                "`map(…)` needs its item processor",
            ),
            (
                quote::quote! { F { start M; M = map -> end; } },
                "`map(…)` needs its item processor",
            ),
            (
                quote::quote! { F { start P; P = parallel(result_path = $.r) -> end; } },
                "`parallel` needs its branches",
            ),
            (
                quote::quote! { F { start M; M = map(I) { start A; A = succeed; } -> end; } I { start A; A = succeed; } },
                "two item processors",
            ),
            (
                quote::quote! { F { start P; P = parallel { Left { A = succeed; } } -> end; } },
                "workflow `FPLeft` has no `start",
            ),
        ];
        for (input, want) in cases {
            let got = errors(input.clone());
            assert_eq!(got.len(), 1, "{input}: {got:#?}");
            assert!(got[0].contains(want), "{input}: {got:#?}");
        }
    }

    #[test]
    fn choice_rules_lower_to_asl() {
        use serde_json::json;
        let cases: Vec<(proc_macro2::TokenStream, serde_json::Value)> = vec![
            (
                quote::quote!($.s == "a"),
                json!({"Variable": "$.s", "StringEquals": "a"}),
            ),
            (
                quote::quote!($.s <= "a"),
                json!({"Variable": "$.s", "StringLessThanEquals": "a"}),
            ),
            (
                quote::quote!($.n > 1.5),
                json!({"Variable": "$.n", "NumericGreaterThan": 1.5}),
            ),
            (
                quote::quote!($.n >= -2),
                json!({"Variable": "$.n", "NumericGreaterThanEquals": -2}),
            ),
            (
                quote::quote!($.n != 3),
                json!({"Not": {"Variable": "$.n", "NumericEquals": 3}}),
            ),
            (
                quote::quote!($.b == false),
                json!({"Variable": "$.b", "BooleanEquals": false}),
            ),
            (
                quote::quote!($.v == null),
                json!({"Variable": "$.v", "IsNull": true}),
            ),
            (
                quote::quote!($.v != null),
                json!({"Not": {"Variable": "$.v", "IsNull": true}}),
            ),
            (
                quote::quote!($.t < timestamp("2024-01-01T00:00:00Z")),
                json!({"Variable": "$.t", "TimestampLessThan": "2024-01-01T00:00:00Z"}),
            ),
            (
                quote::quote!($.t >= timestamp($.u)),
                json!({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.u"}),
            ),
            (
                quote::quote!($.a == string($.b)),
                json!({"Variable": "$.a", "StringEqualsPath": "$.b"}),
            ),
            (
                quote::quote!($.a < number($.b)),
                json!({"Variable": "$.a", "NumericLessThanPath": "$.b"}),
            ),
            (
                quote::quote!($.a == boolean($.b)),
                json!({"Variable": "$.a", "BooleanEqualsPath": "$.b"}),
            ),
            (
                quote::quote!(is_timestamp($.t)),
                json!({"Variable": "$.t", "IsTimestamp": true}),
            ),
            (
                quote::quote!(!is_present($.t)),
                json!({"Not": {"Variable": "$.t", "IsPresent": true}}),
            ),
            (
                quote::quote!(matches($.f, "*.log")),
                json!({"Variable": "$.f", "StringMatches": "*.log"}),
            ),
            (
                quote::quote!($.a == 1 || $.b == 2 && ($.c == 3 || !($.d == 4))),
                json!({"Or": [
                    {"Variable": "$.a", "NumericEquals": 1},
                    {"And": [
                        {"Variable": "$.b", "NumericEquals": 2},
                        {"Or": [
                            {"Variable": "$.c", "NumericEquals": 3},
                            {"Not": {"Variable": "$.d", "NumericEquals": 4}}
                        ]}
                    ]}
                ]}),
            ),
            (
                quote::quote!("$.odd key" == 1),
                json!({"Variable": "$.odd key", "NumericEquals": 1}),
            ),
            (
                quote::quote!("{% $x > 1 %}"),
                json!({"Condition": "{% $x > 1 %}"}),
            ),
        ];
        for (rule, want) in cases {
            let v = lowered(quote::quote! {
                F { start C; C = choice { #rule => D, _ => D }; D = succeed; }
            });
            let mut got = v["States"]["C"]["Choices"][0].clone();
            assert_eq!(got["Next"], "D");
            got.as_object_mut().map(|o| o.remove("Next"));
            assert_eq!(got, want, "{rule}");
        }
    }

    #[test]
    fn values_lower_to_asl() {
        use serde_json::json;
        let v = lowered(quote::quote! {
            F {
                start P;
                P = pass(
                    parameters = { "a": $.x, "b.$": "$.y", "c": States.Format("{} it's", $.z), "d": [1, "two"] },
                    result_path = null,
                    raw = { "Future": { "x": 1 } },
                ) -> end;
            }
        });
        assert_eq!(
            v["States"]["P"],
            json!({
                "Type": "Pass",
                "Parameters": {"a.$": "$.x", "b.$": "$.y", "c.$": "States.Format('{} it\\'s', $.z)", "d": [1, "two"]},
                "ResultPath": null,
                "Future": {"x": 1},
                "End": true
            })
        );
    }

    #[test]
    fn files_are_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("workflow-macros-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let bad = dir.join("bad.asl.json");
        std::fs::write(
            &bad,
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
        )
        .expect("writable");
        let bad = bad.to_string_lossy().into_owned();
        let missing = dir.join("missing.asl.json").to_string_lossy().into_owned();
        let cases: Vec<(proc_macro2::TokenStream, &[&str])> = vec![
            (
                quote::quote! {
                    G = file("../examples/import_asl.asl.json") {
                        "arn:aws:lambda:us-east-1:123456789012:function:greet" => greet,
                    };
                },
                &[],
            ),
            (
                quote::quote! {
                    G = file("../examples/import_asl.asl.json") {
                        "arn:aws:lambda:us-east-1:123456789012:function:greett" => greet,
                    };
                },
                &["did you mean"],
            ),
            (quote::quote! { G = file(#missing); }, &["cannot read"]),
            (
                quote::quote! { G = file(#bad); },
                &["at /States/A/Next", "no terminal state"],
            ),
        ];
        for (input, expected) in cases {
            let got = errors(input.clone());
            assert_eq!(got.len(), expected.len(), "{input}: {got:#?}");
            for (g, want) in got.iter().zip(expected.iter()) {
                assert!(g.contains(want), "{input}: {g:?} does not contain {want:?}");
            }
        }
        let out = expand_workflow(quote::quote! { G = file("../examples/import_asl.asl.json"); })
            .to_string();
        assert!(
            out.contains("include_str"),
            "the file is tracked for rebuilds"
        );
        assert!(out.contains("enum GState"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
