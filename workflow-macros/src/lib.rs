//! The `workflow!` procedural macro. Use it through the `workflow` crate, which documents the DSL.
//!
//! The pipeline (serde_derive's): [`parse`] builds a syntax tree with spans, [`lower`] turns it
//! into ASL JSON and remembers where each JSON pointer came from, [`check`] runs the shared ASL
//! validator and reports each diagnostic at its DSL tokens, and [`expand`] generates code (it
//! cannot fail). Errors are collected in a [`ctxt::Ctxt`]; on error the expansion still emits the
//! workflow's items ([`expand::fallback`]) so that one mistake does not cascade.
#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod expand;
mod kw;
mod lower;
mod parse;

use proc_macro::TokenStream;

/// Declares one or more workflows. See the `workflow` crate's documentation for the DSL.
#[proc_macro]
pub fn workflow(input: TokenStream) -> TokenStream {
    expand_workflow(input.into()).into()
}

/// The whole pipeline on `proc_macro2` tokens (testable outside a compiler).
fn expand_workflow(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let input: parse::Input = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let cx = ctxt::Ctxt::new();
    let bodies: Vec<parse::Body> = input
        .workflows
        .iter()
        .map(|w| parse::parse_body(&cx, &w.body))
        .collect();
    let lowered = lower::lower_all(&cx, &input.workflows, &bodies);
    let mut out = proc_macro2::TokenStream::new();
    let mut models = Vec::new();
    for l in &lowered {
        models.push(check::check(&cx, l));
    }
    let failed = cx.count() > 0;
    for ((w, l), m) in input.workflows.iter().zip(&lowered).zip(&models) {
        match m {
            Some(m) if !failed => out.extend(expand::workflow(w, l, m)),
            _ => out.extend(expand::fallback(w, l)),
        }
    }
    if let Err(e) = cx.check() {
        out.extend(e.into_compile_error());
    }
    out
}

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
    fn errors_still_expand_the_items() {
        let out = expand_workflow(quote::quote! { pub F { A = succeed; } }).to_string();
        assert!(out.contains("pub struct F"));
        assert!(out.contains("pub enum FState"));
        assert!(out.contains("Workflow for F"));
    }
}
