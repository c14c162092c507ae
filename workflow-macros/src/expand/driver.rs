//! The typed state machine: the async driver generated for each workflow (the `workflow`
//! crate's documentation shows the hand-written equivalent, and runs it).
//!
//! For a workflow `W` it emits `fn __drive`, a loop over `WState` (the state enum) that runs one
//! state per turn through the runtime's `Driver` and picks the next variant with a `match` on the
//! state and the step's result:
//!
//! ```text
//! fn __drive(mut d: Driver<'_>) -> DriveFuture<'_> {
//!     DriveFuture::new(async move {
//!         // The handlers, as `TypedHandler`s made once per process from the bindings
//!         // `register` makes (the same tokens, so a handler that is not one is reported once).
//!         static HANDLERS: OnceLock<[TypedHandler; 2]> = OnceLock::new();
//!         let h = HANDLERS.get_or_init(|| [bind(validate).typed(), bind(charge).typed()]);
//!         let mut state = WState::Validate;      // StartAt
//!         loop {
//!             let next = match state {
//!                 // Tasks bound to a handler: called directly, one arm per handler.
//!                 WState::Validate => d.step_task(state as usize, &h[0]).await?,
//!                 WState::Charge => d.step_task(state as usize, &h[1]).await?,
//!                 // States that never wait (Pass, Choice, Succeed, Fail): no `await`.
//!                 WState::Big | WState::Rejected => d.step_now(state as usize)?,
//!                 // Every other state (Wait, Parallel, Map, Task without a Rust handler).
//!                 s => d.step(s as usize).await?,
//!             };
//!             state = match (state, next) {
//!                 (WState::Validate, Some(1)) => WState::Big,
//!                 (WState::Validate, Some(4)) => WState::Rejected,  // a Catch target
//!                 …
//!                 (WState::Charge, None) => return Ok(d.into_output()), // End
//!                 (s, n) => return Err(d.no_transition(s as usize, n)),
//!             };
//!         }
//!     })
//! }
//! ```
//!
//! and the body of `fn __driver`: a `ScopeDriver` naming `__drive`, the states in enum order,
//! and the drivers of the workflows used as Parallel branches and Map item processors. The
//! states share a few arms (one per handler, one for the states that never wait, one for the
//! rest), so the generated code and its compile time grow little with the number of states. A
//! typed handler's output reaches the next typed handler as the Rust value: the runtime keeps it
//! while the data is unchanged (the types of those typed edges are checked in `register`).

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use serde_json::Value;

use super::machine::{bind, bindings, successors};
use super::{state_enum, variant};
use crate::lower::Lowered;
use crate::parse::WorkflowSyn;

/// `fn __drive` (the driver) and the body of `fn __driver` (its `ScopeDriver`).
pub fn driver(w: &WorkflowSyn, l: &Lowered, krate: &TokenStream) -> (TokenStream, TokenStream) {
    let p = quote!(#krate::__private);
    let se = state_enum(w);
    let n = l.states.len();
    let variants: Vec<Ident> = (0..n).map(|i| variant(l, i)).collect();
    let index: HashMap<&str, usize> = l
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.text.as_str(), i))
        .collect();
    let states = l.value.get("States").and_then(Value::as_object);

    // The handlers the driver calls: each bound with the tokens `register` binds it with first
    // (so that a handler that is not one is reported once), made a `TypedHandler` once per
    // process, and called by one `step_task` arm for all its tasks.
    let mut handlers: Vec<(String, TokenStream, Vec<usize>)> = Vec::new();
    for b in bindings(l) {
        let path = quote::ToTokens::to_token_stream(&b.handler).to_string();
        let tasks: Vec<usize> = l
            .tasks
            .iter()
            .filter(|t| t.resource == b.resource)
            .filter_map(|t| index.get(t.state.as_str()).copied())
            .collect();
        if tasks.is_empty() {
            continue;
        }
        if let Some((_, _, ks)) = handlers.iter_mut().find(|(p, _, _)| *p == path) {
            ks.extend(tasks);
            continue;
        }
        let bound = bind(krate, &b.handler);
        handlers.push((path, bound, tasks));
    }
    let mut typed = vec![false; n];
    let mut steps = TokenStream::new();
    for (j, (_, _, tasks)) in handlers.iter().enumerate() {
        let mut ks: Vec<usize> = Vec::new();
        for &k in tasks {
            if !typed[k] {
                typed[k] = true;
                ks.push(k);
            }
        }
        if ks.is_empty() {
            continue;
        }
        let vs = ks.iter().map(|&k| &variants[k]);
        steps.extend(quote!(#(#se::#vs)|* => __d.step_task(__state as usize, &__h[#j]).await?,));
    }
    // States that never wait run without an `await`.
    let kind = |k: usize| {
        states
            .and_then(|s| s.get(&l.states[k].text))
            .and_then(|o| o.get("Type"))
            .and_then(Value::as_str)
    };
    let pure: Vec<usize> = (0..n)
        .filter(|&k| !typed[k])
        .filter(|&k| matches!(kind(k), Some("Pass" | "Choice" | "Succeed" | "Fail")))
        .collect();
    if !pure.is_empty() {
        let vs = pure.iter().map(|&k| &variants[k]);
        steps.extend(quote!(#(#se::#vs)|* => __d.step_now(__state as usize)?,));
    }
    // One arm for the others.
    if typed.iter().filter(|t| !**t).count() > pure.len() {
        steps.extend(quote!(__s => __d.step(__s as usize).await?,));
    }

    // The transitions: from each state to each of its successors, and the ends.
    let succ = successors(l);
    let mut transitions = TokenStream::new();
    for k in 0..n {
        let v = &variants[k];
        for &j in &succ[k] {
            let t = &variants[j];
            transitions.extend(quote!((#se::#v, ::core::option::Option::Some(#j)) => #se::#t,));
        }
        let o = states.and_then(|s| s.get(&l.states[k].text));
        let ends = o.is_some_and(|o| {
            o.get("End") == Some(&Value::Bool(true))
                || o.get("Type").and_then(Value::as_str) == Some("Succeed")
        });
        if ends {
            transitions.extend(quote!((#se::#v, ::core::option::Option::None) => {
                return ::core::result::Result::Ok(__d.into_output())
            }));
        }
    }

    let handlers = (!handlers.is_empty()).then(|| {
        let m = handlers.len();
        let typed = handlers.iter().map(|(_, bound, _)| quote!(#bound.typed()));
        quote! {
            static __HANDLERS: #p::OnceLock<[#p::TypedHandler; #m]> = #p::OnceLock::new();
            let __h = __HANDLERS.get_or_init(|| [#(#typed),*]);
        }
    });
    let start = l
        .value
        .get("StartAt")
        .and_then(Value::as_str)
        .and_then(|s| index.get(s))
        .and_then(|&i| variants.get(i))
        .or(variants.first());
    let body = match start {
        Some(start) => quote! {
            #handlers
            let mut __state = #se::#start;
            loop {
                let __next = match __state {
                    #steps
                };
                __state = match (__state, __next) {
                    #transitions
                    (__s, __n) => {
                        return ::core::result::Result::Err(__d.no_transition(__s as usize, __n))
                    }
                };
            }
        },
        // No states (already reported): nothing to run.
        None => quote!(::core::result::Result::Ok(__d.into_output())),
    };
    let drive = quote! {
        #[allow(unused_mut, unreachable_code, clippy::all)]
        fn __drive(mut __d: #p::Driver<'_>) -> #p::DriveFuture<'_> {
            #p::DriveFuture::new(async move { #body })
        }
    };

    let names = l.states.iter().map(|s| s.text.as_str());
    let nested = l.nested.iter().filter_map(|(state, paths)| {
        let k = *index.get(state.as_str())?;
        let subs = paths
            .iter()
            .map(|path| quote!(<#path as #krate::Workflow>::__driver()));
        Some(quote!(.nest(#k, ::std::vec![#(#subs),*])))
    });
    let scope = quote! {
        #p::ScopeDriver::new(__drive, &[#(#names),*]) #(#nested)*
    };
    (drive, scope)
}
