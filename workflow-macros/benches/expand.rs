//! The macro's own compile time: `workflow!` expanding a 100-state workflow (target: well under
//! 1 s of macro time), reported as a ratio to a baseline measured in the same run — validating the
//! same machine's ASL with the shared validator, the one step of the pipeline that judges files
//! too. Runs the pipeline as the compiler does, on `proc_macro2` tokens (the modules of the crate
//! are compiled into this bench, as a proc-macro crate exports nothing else).
#![allow(dead_code, unused_imports, clippy::all)]

#[path = "../src/check.rs"]
mod check;
#[path = "../src/ctxt.rs"]
mod ctxt;
#[path = "../src/expand/mod.rs"]
mod expand;
#[path = "../src/kw.rs"]
mod kw;
#[path = "../src/lower.rs"]
mod lower;
#[path = "../src/parse/mod.rs"]
mod parse;
#[path = "../src/pipeline.rs"]
mod pipeline;

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// A typed workflow of `n` states: tasks with retries and catches, Choice states with rules,
/// Pass states with templates, a Wait, an inline Parallel and an inline Map.
fn workflow(n: usize) -> TokenStream {
    let name = |i: usize| format_ident!("S{i}");
    let mut states = TokenStream::new();
    for i in 0..n {
        let s = name(i);
        let next = name(i + 1);
        let st = if i + 1 == n {
            quote!(#s = succeed;)
        } else {
            match i % 6 {
                0 => quote!(#s = task(handler, resource = "${Fn}")
                    .retry([States.TaskFailed], interval_seconds = 2, max_attempts = 3)
                    .catch([States.ALL] => Failed, result_path = $.error)
                    -> #next;),
                1 => {
                    quote!(#s = choice { $.total >= 100 && $.kind == "book" => #next, _ => #next };)
                }
                2 => {
                    quote!(#s = pass(parameters = { "id": $.id, "label": States.Format("n {}", $.id) }, result_path = $.p) -> #next;)
                }
                3 => quote!(#s = wait(seconds = 1) -> #next;),
                4 => {
                    let (a, b) = (format_ident!("A{i}"), format_ident!("B{i}"));
                    quote!(#s = parallel(result_path = $.both) {
                        Left { start #a; #a = pass -> end; }
                        Right { start #b; #b = pass -> end; }
                    } -> #next;)
                }
                _ => {
                    let c = format_ident!("C{i}");
                    quote!(#s = map(items_path = $.lines, result_path = $.lines) {
                        start #c; #c = pass -> end;
                    } -> #next;)
                }
            }
        };
        states.extend(st);
    }
    quote! {
        pub Big: Order -> Order {
            start S0;
            #states
            Failed = fail(error = "Failed");
        }
    }
}

/// The emitted ASL of the workflow (for the baseline).
fn asl(input: &TokenStream) -> String {
    let out = pipeline::expand_workflow(input.clone()).to_string();
    if let Some(at) = out.find("compile_error") {
        panic!(
            "the bench workflow is invalid: {}",
            &out[at..(at + 400).min(out.len())]
        );
    }
    let at = out.find("const ASL").expect("an ASL constant");
    let lit = &out[at..];
    let start = lit.find('"').expect("a literal");
    let lit: syn::LitStr =
        syn::parse_str(&lit[start..lit.find("; const __BRANCH").expect("the next const")])
            .expect("a string literal");
    lit.value()
}

fn bench(c: &mut Criterion) {
    let input = workflow(100);
    let text = asl(&input);
    // One measured run, reported in `cargo test --benches` too.
    let t = Instant::now();
    black_box(pipeline::expand_workflow(black_box(input.clone())));
    let macro_once = t.elapsed();
    let t = Instant::now();
    black_box(workflow_asl::check_str(black_box(&text)));
    let baseline_once = t.elapsed().max(Duration::from_nanos(1));
    println!(
        "workflow! on 100 states: {:.1} ms of macro time (target < 1000 ms); {:.1}x validating its ASL alone",
        macro_once.as_secs_f64() * 1e3,
        macro_once.as_secs_f64() / baseline_once.as_secs_f64()
    );
    let mut g = c.benchmark_group("macro_100_states");
    g.bench_function("baseline_validate_asl", |b| {
        b.iter(|| workflow_asl::check_str(black_box(&text)))
    });
    g.bench_function("expand_workflow", |b| {
        b.iter(|| pipeline::expand_workflow(black_box(input.clone())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
