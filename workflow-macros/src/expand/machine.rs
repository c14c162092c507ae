//! The Rust side of a workflow: handler registration and the compile-time checks of handlers and
//! typed edges.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use serde_json::{Map, Value};
use workflow_asl::diag::push_pointer;

use crate::lower::{Lowered, TaskBinding};
use crate::parse::WorkflowSyn;

/// The state objects of the lowered ASL, by name.
fn states(l: &Lowered) -> Option<&Map<String, Value>> {
    l.value.get("States")?.as_object()
}

/// Whether a path field is absent or `$` (the value passes unchanged).
fn identity(o: &Map<String, Value>, key: &str) -> bool {
    match o.get(key) {
        None => true,
        Some(Value::String(s)) => s == "$",
        Some(_) => false,
    }
}

/// Whether a Task's result leaves the state unchanged: no `ResultSelector`, `ResultPath`,
/// `OutputPath` or `Output`.
fn output_unchanged(o: &Map<String, Value>) -> bool {
    !o.contains_key("ResultSelector")
        && !o.contains_key("Output")
        && identity(o, "ResultPath")
        && identity(o, "OutputPath")
}

/// Whether a Task's input reaches its handler unchanged: no `InputPath`, `Parameters` or
/// `Arguments`.
fn input_unchanged(o: &Map<String, Value>) -> bool {
    !o.contains_key("Parameters") && !o.contains_key("Arguments") && identity(o, "InputPath")
}

/// A typed edge: the output of `from`'s handler is the input of `to`'s handler.
pub struct Edge<'a> {
    /// The producing task.
    pub from: &'a TaskBinding,
    /// The consuming task.
    pub to: &'a TaskBinding,
    /// The `-> to` token.
    pub span: Span,
}

/// The typed edges between handler-bound tasks.
pub fn edges(l: &Lowered) -> Vec<Edge<'_>> {
    let Some(states) = states(l) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for from in &l.tasks {
        let Some(Value::Object(a)) = states.get(&from.state) else {
            continue;
        };
        let Some(Value::String(next)) = a.get("Next") else {
            continue;
        };
        let Some(to) = l.tasks.iter().find(|t| &t.state == next) else {
            continue;
        };
        let Some(Value::Object(b)) = states.get(next) else {
            continue;
        };
        if output_unchanged(a) && input_unchanged(b) {
            let ptr = push_pointer(&push_pointer("/States", &from.state), "Next");
            let span = l
                .spans
                .lookup(&ptr)
                .map_or_else(Span::call_site, |(_, e)| e.value.start);
            out.push(Edge { from, to, span });
        }
    }
    out
}

/// The task that receives the workflow input unchanged, if the start state is one.
pub fn input_task(l: &Lowered) -> Option<&TaskBinding> {
    let states = states(l)?;
    let start = l.value.get("StartAt")?.as_str()?;
    let t = l.tasks.iter().find(|t| t.state == start)?;
    let Value::Object(o) = states.get(start)? else {
        return None;
    };
    input_unchanged(o).then_some(t)
}

/// Tasks that end the workflow with their handler's output unchanged.
pub fn output_tasks(l: &Lowered) -> Vec<&TaskBinding> {
    let Some(states) = states(l) else {
        return Vec::new();
    };
    l.tasks
        .iter()
        .filter(|t| {
            matches!(states.get(&t.state), Some(Value::Object(o))
                if o.get("End") == Some(&Value::Bool(true)) && output_unchanged(o))
        })
        .collect()
}

/// `fn register`: every typed handler under its resource, then the branch workflows' handlers.
///
/// It is also where the handler types are checked: `register` requires a [`TaskHandler`] (the
/// error lands on the handler path) and returns a `Typed<I, O>` token; the typed-edge checks
/// compare tokens (the error lands on the `->` target), so a handler that is not one is reported
/// once, not again at every edge.
///
/// [`TaskHandler`]: https://docs.rs/workflow
pub fn register(w: &WorkflowSyn, l: &Lowered, krate: &TokenStream) -> TokenStream {
    let mut vars: Vec<(&str, Ident)> = Vec::new();
    let mut calls = TokenStream::new();
    for t in &l.tasks {
        if vars.iter().any(|(r, _)| *r == t.resource) {
            continue;
        }
        let var = format_ident!("__task{}", vars.len());
        let h = &t.handler;
        let r = &t.resource;
        calls.extend(quote!(let #var = #krate::__private::register(__handlers, #r, #h);));
        vars.push((&t.resource, var));
    }
    let var_of = |t: &TaskBinding| {
        vars.iter()
            .find(|(r, _)| *r == t.resource)
            .map(|(_, v)| v.clone())
            .expect("every task binding has a registration variable")
    };
    // The checks are spanned at the edge's token, variables included, so that is where rustc
    // reports a mismatch.
    let at = |ptr: &str| {
        l.spans
            .lookup(ptr)
            .map_or_else(Span::call_site, |(_, e)| e.value.start)
    };
    for e in edges(l) {
        let a = Ident::new(&var_of(e.from).to_string(), e.span);
        let b = Ident::new(&var_of(e.to).to_string(), e.span);
        calls.extend(quote_spanned!(e.span=> #krate::__private::check_edge(&#a, &#b);));
    }
    if let Some((input, output)) = &w.io {
        if let Some(t) = input_task(l) {
            let span = at("/StartAt");
            let v = Ident::new(&var_of(t).to_string(), span);
            calls.extend(quote_spanned!(span=>
                #krate::__private::check_input::<#input, _, _>(&#v);));
        }
        for t in output_tasks(l) {
            let span = at(&push_pointer(&push_pointer("/States", &t.state), "End"));
            let v = Ident::new(&var_of(t).to_string(), span);
            calls.extend(quote_spanned!(span=>
                #krate::__private::check_output::<#output, _, _>(&#v);));
        }
    }
    let mut subs = std::collections::HashSet::new();
    for s in &l.subs {
        if subs.insert(quote!(#s).to_string()) {
            calls.extend(quote!(<#s as #krate::Workflow>::register(__handlers);));
        }
    }
    quote! {
        fn register(__handlers: &mut #krate::Handlers) {
            #calls
        }
    }
}
