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

/// Where a value goes unchanged from one point of the graph: the handler-bound tasks that receive
/// it as their handler's input, and the points where it becomes the workflow's output, each with
/// the token of the transition that leads there.
#[derive(Default)]
pub struct Reach<'a> {
    /// Tasks whose handler takes the value.
    pub tasks: Vec<(&'a TaskBinding, Span)>,
    /// Typed Parallel and Map states (`Lowered::typed_nested`) whose branches take the value.
    pub nodes: Vec<(String, Span)>,
    /// Ends of the workflow that output the value.
    pub ends: Vec<Span>,
    /// Every state whose input is the value (the transparent states on the way, and the state
    /// each way stops at).
    pub states: Vec<String>,
}

/// Whether a state's output is its own input, whatever it does: `ResultPath` is `null` (the
/// result is discarded and the state's input, before `InputPath`, is kept) and no `OutputPath`
/// or `Output` reshapes it.
fn discards_result(o: &Map<String, Value>) -> bool {
    o.get("ResultPath") == Some(&Value::Null)
        && identity(o, "OutputPath")
        && !o.contains_key("Output")
}

/// Whether a state passes its input through unchanged: a Choice, a Wait or a Pass with no
/// `InputPath`, `OutputPath`, `Output`, and for a Pass no `Parameters`, `Result` or `ResultPath`.
fn transparent(o: &Map<String, Value>) -> bool {
    let io = identity(o, "InputPath") && identity(o, "OutputPath") && !o.contains_key("Output");
    match o.get("Type").and_then(Value::as_str) {
        Some("Choice" | "Wait" | "Succeed") => io,
        Some("Pass") => {
            discards_result(o)
                || (io
                    && !o.contains_key("Parameters")
                    && !o.contains_key("Result")
                    && identity(o, "ResultPath"))
        }
        _ => false,
    }
}

/// Follows a value from the hops `start` (a target state and the pointer of the transition that
/// names it) through transparent states.
pub fn reach<'a>(l: &'a Lowered, start: Vec<(String, String)>) -> Reach<'a> {
    let mut out = Reach::default();
    let Some(states) = states(l) else {
        return out;
    };
    let span_of = |ptr: &str| {
        l.spans
            .lookup(ptr)
            .map_or_else(Span::call_site, |(_, e)| e.value.start)
    };
    let mut seen = std::collections::HashSet::new();
    let mut queue: std::collections::VecDeque<(String, String)> = start.into();
    while let Some((name, hop)) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(Value::Object(o)) = states.get(&name) else {
            continue;
        };
        out.states.push(name.clone());
        // A task or typed Parallel/Map takes the value; with `result_path = null` it also
        // passes it on, unchanged, to where it goes next.
        if let Some(t) = l.tasks.iter().find(|t| t.state == name) {
            if input_unchanged(o) {
                out.tasks.push((t, span_of(&hop)));
            }
            if !discards_result(o) {
                continue;
            }
        } else if l.typed_nested.contains(&name) {
            if input_unchanged(o) {
                out.nodes.push((name.clone(), span_of(&hop)));
            }
            if !discards_result(o) {
                continue;
            }
        } else if !transparent(o) {
            continue;
        }
        let ptr = push_pointer("/States", &name);
        if o.get("Type").and_then(Value::as_str) == Some("Succeed") {
            out.ends.push(span_of(&hop));
            continue;
        }
        if let Some(Value::Array(rules)) = o.get("Choices") {
            for (i, r) in rules.iter().enumerate() {
                if let Some(next) = r.get("Next").and_then(Value::as_str) {
                    let p = push_pointer(
                        &push_pointer(&push_pointer(&ptr, "Choices"), &i.to_string()),
                        "Next",
                    );
                    queue.push_back((next.to_string(), p));
                }
            }
        }
        if let Some(d) = o.get("Default").and_then(Value::as_str) {
            queue.push_back((d.to_string(), push_pointer(&ptr, "Default")));
        }
        if let Some(next) = o.get("Next").and_then(Value::as_str) {
            queue.push_back((next.to_string(), push_pointer(&ptr, "Next")));
        }
        if o.get("End") == Some(&Value::Bool(true)) {
            out.ends.push(span_of(&push_pointer(&ptr, "End")));
        }
    }
    out
}

/// Where the output of a handler-bound task goes unchanged (nowhere when the task reshapes it
/// with `ResultSelector`, `ResultPath`, `OutputPath` or `Output`).
pub fn reach_from<'a>(l: &'a Lowered, from: &TaskBinding) -> Reach<'a> {
    reach_from_state(l, &from.state)
}

/// Where the output of the state `from` goes unchanged.
pub fn reach_from_state<'a>(l: &'a Lowered, from: &str) -> Reach<'a> {
    let Some(Value::Object(a)) = states(l).and_then(|s| s.get(from)) else {
        return Reach::default();
    };
    if !output_unchanged(a) {
        return Reach::default();
    }
    let ptr = push_pointer("/States", from);
    let mut r = match a.get("Next").and_then(Value::as_str) {
        Some(next) => reach(l, vec![(next.to_string(), push_pointer(&ptr, "Next"))]),
        None => Reach::default(),
    };
    if a.get("End") == Some(&Value::Bool(true)) {
        let span = l
            .spans
            .lookup(&push_pointer(&ptr, "End"))
            .map_or_else(Span::call_site, |(_, e)| e.value.start);
        r.ends.push(span);
    }
    r
}

/// Where the workflow's input goes unchanged.
pub fn reach_input(l: &Lowered) -> Reach<'_> {
    match l.value.get("StartAt").and_then(Value::as_str) {
        Some(start) => reach(l, vec![(start.to_string(), "/StartAt".to_string())]),
        None => Reach::default(),
    }
}

/// The binding of a handler: `__private::bind(handler)`. The driver and `register` bind a
/// resource's handler with exactly these tokens (see [`register`]).
pub fn bind(krate: &TokenStream, h: &syn::Path) -> TokenStream {
    quote!(#krate::__private::bind(#h))
}

/// The handler bindings `register` makes, one per resource in the order of `l.tasks`: the
/// resource and the task binding whose handler tokens are used.
pub fn bindings(l: &Lowered) -> Vec<&TaskBinding> {
    let mut out: Vec<&TaskBinding> = Vec::new();
    for t in &l.tasks {
        if !out.iter().any(|b| b.resource == t.resource) {
            out.push(t);
        }
    }
    out
}

/// `fn register`: every typed handler under its resource, then the branch workflows' handlers.
///
/// It is also where the handler types are checked: `__private::bind` requires a `TaskHandler`
/// (the error lands on the handler path; the driver binds it with the same tokens, so the error
/// is reported once) and registering the binding returns a `Typed<I, O>` token; the typed-edge
/// checks compare tokens (the error lands on the transition's target), so a handler that is not
/// one is reported once, not again at every edge.
pub fn register(w: &WorkflowSyn, l: &Lowered, krate: &TokenStream) -> TokenStream {
    let mut vars: Vec<(&str, Ident)> = Vec::new();
    let mut calls = TokenStream::new();
    for (j, t) in bindings(l).into_iter().enumerate() {
        let var = format_ident!("__task{j}");
        let bind = bind(krate, &t.handler);
        let r = &t.resource;
        calls.extend(quote!(let #var = #bind.register(__handlers, #r);));
        vars.push((&t.resource, var));
    }
    let var_of = |t: &TaskBinding| {
        vars.iter()
            .find(|(r, _)| *r == t.resource)
            .map(|(_, v)| v.clone())
            .expect("every task binding has a registration variable")
    };
    // Typed Parallel and Map states: a `Typed` token per branch input (the data reaching the
    // state goes to every branch; a Map's input is the array of its items when nothing selects
    // them), whose output is the tuple of the branch outputs (a `Vec` of the item output).
    let mut nodes: Vec<(&str, Vec<Ident>, Ident)> = Vec::new();
    let st = states(l);
    for (k, (state, paths)) in l.nested.iter().enumerate() {
        if !l.typed_nested.contains(state) {
            continue;
        }
        let Some(Value::Object(o)) = st.and_then(|s| s.get(state)) else {
            continue;
        };
        let is_map = o.get("Type").and_then(Value::as_str) == Some("Map");
        let w = |p: &syn::Path| quote!(<#p as #krate::Workflow>);
        let outs = paths.iter().map(|p| {
            let w = w(p);
            quote!(#w::Output)
        });
        let out = if is_map {
            quote!(::std::vec::Vec<#(#outs)*>)
        } else {
            quote!((#(#outs,)*))
        };
        let mut ins = Vec::new();
        let whole_input =
            !o.contains_key("ItemSelector") && !o.contains_key("Items") && identity(o, "ItemsPath");
        for (b, p) in paths.iter().enumerate() {
            let var = format_ident!("__nested{k}_{b}");
            let wp = w(p);
            let input = if is_map {
                if !whole_input {
                    continue;
                }
                quote!(::std::vec::Vec<#wp::Input>)
            } else {
                quote!(#wp::Input)
            };
            calls.extend(quote!(let #var = #krate::__private::Typed::<#input, #out>::new();));
            ins.push(var);
        }
        let outv = format_ident!("__nested{k}_out");
        calls.extend(quote!(let #outv = #krate::__private::Typed::<(), #out>::new();));
        nodes.push((state.as_str(), ins, outv));
    }
    // The checks are spanned at the transition that makes the edge, variables included, so
    // that is where rustc reports a mismatch.
    let targets = |r: &Reach| {
        let mut v: Vec<(Ident, Span)> = r
            .tasks
            .iter()
            .map(|(to, span)| (var_of(to), *span))
            .collect();
        for (name, span) in &r.nodes {
            if let Some((_, ins, _)) = nodes.iter().find(|(n, _, _)| n == name) {
                v.extend(ins.iter().map(|i| (i.clone(), *span)));
            }
        }
        v
    };
    let io = w.io.as_ref();
    let mut seen = std::collections::HashSet::new();
    let mut froms: Vec<(Ident, Reach)> = Vec::new();
    for from in &l.tasks {
        if from.state.is_empty() || !seen.insert(&from.state) {
            continue;
        }
        froms.push((var_of(from), reach_from(l, from)));
    }
    for (name, _, out) in &nodes {
        froms.push((out.clone(), reach_from_state(l, name)));
    }
    for (from, r) in froms {
        for (to, span) in targets(&r) {
            let a = Ident::new(&from.to_string(), span);
            let b = Ident::new(&to.to_string(), span);
            calls.extend(quote_spanned!(span=> #krate::__private::check_edge(&#a, &#b);));
        }
        if let Some((_, output)) = io {
            for span in r.ends {
                let v = Ident::new(&from.to_string(), span);
                calls.extend(quote_spanned!(span=>
                    #krate::__private::check_output::<#output, _, _>(&#v);));
            }
        }
    }
    if let Some((input, output)) = io {
        let r = reach_input(l);
        for (to, span) in targets(&r) {
            let v = Ident::new(&to.to_string(), span);
            calls.extend(quote_spanned!(span=>
                #krate::__private::check_input::<#input, _, _>(&#v);));
        }
        if let Some(span) = r.ends.first() {
            // Aliases spanned at the end token, so the error points there, not at the header.
            let (i, o) = (
                Ident::new("__WorkflowInput", *span),
                Ident::new("__WorkflowOutput", *span),
            );
            calls.extend(quote_spanned!(*span=> {
                type #i = #input;
                type #o = #output;
                #krate::__private::check_passthrough::<#i, #o>();
            }));
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

/// The states each state may transition to (`Next`, Choice targets and `Default`, Catch targets),
/// in the order written, as indices into `l.states`; targets that name no state are left out.
pub fn successors(l: &Lowered) -> Vec<Vec<usize>> {
    let index = |name: &str| l.states.iter().position(|n| n.text == name);
    let states = states(l);
    l.states
        .iter()
        .map(|n| {
            let Some(Value::Object(o)) = states.and_then(|s| s.get(&n.text)) else {
                return Vec::new();
            };
            let mut names: Vec<&str> = Vec::new();
            names.extend(o.get("Next").and_then(Value::as_str));
            if let Some(Value::Array(rules)) = o.get("Choices") {
                names.extend(rules.iter().filter_map(|r| r.get("Next")?.as_str()));
            }
            names.extend(o.get("Default").and_then(Value::as_str));
            if let Some(Value::Array(catchers)) = o.get("Catch") {
                names.extend(catchers.iter().filter_map(|c| c.get("Next")?.as_str()));
            }
            let mut out: Vec<usize> = Vec::new();
            for i in names.into_iter().filter_map(index) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            out
        })
        .collect()
}
