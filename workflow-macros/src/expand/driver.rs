//! The typed state machine: the async driver generated for each workflow.
//!
//! For a workflow `W` with states `A`, `B`, … it emits `fn __drive`, a loop over
//! `WState` (the state enum) that runs one state per turn through the runtime's
//! `Driver` and picks the next variant with a `match` on the step's result:
//!
//! ```text
//! fn __drive(mut d: Driver<'_>) -> BoxFuture<'_, Result<Value, DriveFault>> {
//!     Box::pin(async move {
//!         let validate = bind(validate);            // the handlers, bound to their types
//!         let mut from_validate = None;             // Validate's output, as the Rust value
//!         let mut state = WState::Validate;         // StartAt
//!         loop {
//!             let next = match state {
//!                 // A Task bound to a handler: called directly, with the typed value of a
//!                 // typed edge as its input.
//!                 WState::Validate => {
//!                     let t = d.step_task(0, None, |i, cx| validate.call(i, cx)).await?;
//!                     from_validate = t.output;
//!                     t.next
//!                 }
//!                 WState::Charge => {
//!                     let input = carry(&mut from_validate, None);
//!                     d.step_task(1, input, |i, cx| charge.call(i, cx)).await?.next
//!                 }
//!                 // Every other state: one turn of the interpreter.
//!                 s => d.step(s as usize).await?,
//!             };
//!             state = match state {
//!                 WState::Validate => match next {
//!                     Some(1) => WState::Charge,
//!                     Some(2) => WState::Rejected,            // a Catch target
//!                     n => return Err(d.no_transition(0, n)),
//!                 },
//!                 WState::Charge => match next {
//!                     None => return Ok(d.into_output()),   // End
//!                     n => return Err(d.no_transition(1, n)),
//!                 },
//!                 …
//!             };
//!         }
//!     })
//! }
//! ```
//!
//! and `fn __driver`, which names `__drive`, the states in enum order, and the drivers of the
//! workflows used as Parallel branches and Map item processors (`ScopeDriver`). States that are
//! not typed tasks share one `step` call, so the generated code and its compile time grow little
//! with the number of states.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::machine::{bind, bindings, reach_from, successors};
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

    // The handler bindings the driver calls, as `register` makes them (same tokens).
    let all = bindings(l);
    let mut binds = TokenStream::new();
    let mut binding_of: HashMap<&str, Ident> = HashMap::new();
    for (j, b) in all.iter().enumerate() {
        let used = l
            .tasks
            .iter()
            .any(|t| t.resource == b.resource && index.contains_key(t.state.as_str()));
        if !used {
            continue;
        }
        let var = format_ident!("__h{j}");
        let bound = bind(krate, &b.handler);
        binds.extend(quote!(let #var = #bound;));
        binding_of.insert(b.resource.as_str(), var);
    }
    // Each typed task state: its binding.
    let mut typed: Vec<Option<&Ident>> = vec![None; n];
    for t in &l.tasks {
        if let (Some(&k), Some(var)) = (index.get(t.state.as_str()), binding_of.get(t.resource.as_str())) {
            typed[k].get_or_insert(var);
        }
    }
    // Typed edges: the typed tasks whose output may reach each typed task's handler unchanged.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut sources: Vec<bool> = vec![false; n];
    for t in &l.tasks {
        let Some(&from) = index.get(t.state.as_str()) else {
            continue;
        };
        if typed[from].is_none() {
            continue;
        }
        for (to, _) in reach_from(l, t).tasks {
            if let Some(&k) = index.get(to.state.as_str()) {
                if typed[k].is_some() && !preds[k].contains(&from) {
                    preds[k].push(from);
                    sources[from] = true;
                }
            }
        }
    }
    let carries = (0..n).filter(|&k| sources[k]).map(|k| {
        let c = format_ident!("__out{k}");
        quote!(let mut #c = ::core::option::Option::None;)
    });

    // One turn: the typed tasks' own steps, then one step for every other state.
    let mut steps = TokenStream::new();
    for k in 0..n {
        let Some(h) = typed[k] else { continue };
        let v = &variants[k];
        let input = preds[k].iter().fold(quote!(::core::option::Option::None), |acc, from| {
            let c = format_ident!("__out{from}");
            quote!(#p::carry(&mut #c, #acc))
        });
        let call = quote!(__d.step_task(#k, #input, |__i, __cx| #h.call(__i, __cx)).await?);
        steps.extend(if sources[k] {
            let c = format_ident!("__out{k}");
            quote!(#se::#v => {
                let __t = #call;
                #c = __t.output;
                __t.next
            })
        } else {
            quote!(#se::#v => #call.next,)
        });
    }
    if typed.iter().any(Option::is_none) {
        steps.extend(quote!(__s => __d.step(__s as usize).await?,));
    }

    // The transitions.
    let succ = successors(l);
    let transitions = (0..n).map(|k| {
        let v = &variants[k];
        let targets = succ[k].iter().map(|&j| {
            let t = &variants[j];
            quote!(::core::option::Option::Some(#j) => #se::#t,)
        });
        let o = states.and_then(|s| s.get(&l.states[k].text));
        let ends = o.is_some_and(|o| {
            o.get("End") == Some(&Value::Bool(true))
                || o.get("Type").and_then(Value::as_str) == Some("Succeed")
        });
        let end = ends.then(|| {
            quote!(::core::option::Option::None => {
                return ::core::result::Result::Ok(__d.into_output())
            })
        });
        quote!(#se::#v => match __next {
            #(#targets)*
            #end
            __n => return ::core::result::Result::Err(__d.no_transition(#k, __n)),
        },)
    });

    let start = l
        .value
        .get("StartAt")
        .and_then(Value::as_str)
        .and_then(|s| index.get(s))
        .map_or_else(|| variants[0].clone(), |&i| variants[i].clone());
    let drive = quote! {
        #[allow(unused_mut, unreachable_code, clippy::all)]
        fn __drive(
            mut __d: #p::Driver<'_>,
        ) -> #p::BoxFuture<'_, ::core::result::Result<#p::Value, #p::DriveFault>> {
            ::std::boxed::Box::pin(async move {
                #binds
                #(#carries)*
                let mut __state = #se::#start;
                loop {
                    let __next = match __state {
                        #steps
                    };
                    __state = match __state {
                        #(#transitions)*
                    };
                }
            })
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
