//! Typed paths: the compile-time checks of the JSONPaths that read data of a known type.
//!
//! Where the type of a state's input is known — the workflow's input type, or a typed handler's
//! output type, reaching the state unchanged (see [`super::machine::reach_from`]) — each field
//! step of each path that reads that input is checked against the type's `WorkflowData` shape by
//! a constant evaluation spanned at the path:
//!
//! ```text
//! const _: () = check_path(
//!     shape_of(&|| (&&Probe::<Order>::new()).select()),  // None when `Order: !WorkflowData`
//!     &[Seg::Field("kidn")],
//! );  // evaluation panicked: no field `kidn` in `Order`; did you mean `kind`?
//! ```
//!
//! The closure is never called: its return type (`Checked<Order>` or `Unchecked`, chosen by
//! method resolution) is how a constant learns whether the type has a shape. A handler's output
//! type is inferred the same way, from the handler (`probe_output(&charge)`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use serde_json::{Map, Value};
use workflow_asl::diag::push_pointer;

use super::machine::{reach, reach_from};
use crate::ctxt::Range;
use crate::lower::Lowered;
use crate::parse::WorkflowSyn;

/// Where the type of some data comes from.
enum Source<'a> {
    /// A type written in the DSL.
    Type(&'a syn::Type),
    /// A handler's output type.
    Output(&'a syn::Path),
}

/// The field steps of a JSONPath that reads the state's input (`$.a.b[0]['c d']`), up to the
/// first step that is not a plain field or index; `None` for `$$…`, `$var…` and non-paths.
pub fn segments(path: &str) -> Option<Vec<Seg>> {
    let rest = path.strip_prefix('$')?;
    if !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')) {
        return None;
    }
    let b = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => break,
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                let name = &rest[start..j];
                if name.is_empty() || name == "*" || name.ends_with(')') {
                    break;
                }
                out.push(Seg::Field(name.to_string()));
                i = j;
            }
            b'[' => {
                let Some(end) = rest[i..].find(']') else {
                    break;
                };
                let inner = rest[i + 1..i + end].trim();
                if !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_digit()) {
                    out.push(Seg::Index);
                } else if inner.len() >= 2
                    && (inner.starts_with('\'') && inner.ends_with('\'')
                        || inner.starts_with('"') && inner.ends_with('"'))
                    && !inner[1..inner.len() - 1].contains(['\'', '"', ','])
                {
                    out.push(Seg::Field(inner[1..inner.len() - 1].to_string()));
                } else {
                    break;
                }
                i += end + 1;
            }
            _ => break,
        }
    }
    Some(out)
}

/// A step of a path.
#[derive(Debug, PartialEq)]
pub enum Seg {
    /// A field.
    Field(String),
    /// An array index.
    Index,
}

/// The paths inside an intrinsic call's text (`States.Format('{}', $.a)` → `$.a`).
fn intrinsic_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'\'' => quoted = !quoted,
            b'$' if !quoted => {
                let start = i;
                let mut depth = 0i32;
                while i < b.len() {
                    match b[i] {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b',' | b')' | b' ' if depth <= 0 => break,
                        _ => {}
                    }
                    i += 1;
                }
                out.push(text[start..i].to_string());
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The paths of a payload template (`Parameters`, `ItemSelector`, `ResultSelector`) that read
/// the data: each `.$` value, with its pointer.
fn template_paths(v: &Value, ptr: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = push_pointer(ptr, k);
                match x {
                    Value::String(s) if k.ends_with(".$") => {
                        if s.starts_with("States.") {
                            out.extend(intrinsic_paths(s).into_iter().map(|t| (p.clone(), t)));
                        } else {
                            out.push((p, s.clone()));
                        }
                    }
                    _ => template_paths(x, &p, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                template_paths(x, &push_pointer(ptr, &i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// The paths of a Choice rule that read the data.
fn rule_paths(v: &Value, ptr: &str, out: &mut Vec<(String, String)>) {
    let Value::Object(o) = v else { return };
    for (k, x) in o {
        let p = push_pointer(ptr, k);
        match (k.as_str(), x) {
            ("And" | "Or", Value::Array(items)) => {
                for (i, r) in items.iter().enumerate() {
                    rule_paths(r, &push_pointer(&p, &i.to_string()), out);
                }
            }
            ("Not", r) => rule_paths(r, &p, out),
            ("Variable", Value::String(s)) => out.push((p, s.clone())),
            (k, Value::String(s)) if k.ends_with("Path") => out.push((p, s.clone())),
            _ => {}
        }
    }
}

/// The field references `root.a.b` (`$states.input.a.b`) in the `{% … %}` expressions of the
/// strings in `v`, as JSONPaths (`$.a.b`), with their pointers; nested scopes are skipped.
fn jsonata_refs(v: &Value, root: &str, ptr: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if s.trim_start().starts_with("{%") => {
            let b = s.as_bytes();
            let mut from = 0;
            while let Some(at) = s[from..].find(root) {
                let mut i = from + at + root.len();
                from = i;
                let mut path = String::from("$");
                loop {
                    if b.get(i) == Some(&b'.') {
                        let start = i + 1;
                        let (name, end) = if b.get(start) == Some(&b'`') {
                            match s[start + 1..].find('`') {
                                Some(e) => (&s[start + 1..start + 1 + e], start + e + 2),
                                None => break,
                            }
                        } else {
                            let mut j = start;
                            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                                j += 1;
                            }
                            (&s[start..j], j)
                        };
                        if name.is_empty() || name.contains(['[', ']', '\'', '"']) {
                            break;
                        }
                        // A function call (`.$string()`) or a name followed by `(` ends it.
                        if b.get(end) == Some(&b'(') {
                            break;
                        }
                        path.push_str(&format!("['{name}']"));
                        i = end;
                    } else if b.get(i) == Some(&b'[') {
                        let Some(e) = s[i..].find(']') else { break };
                        let inner = &s[i + 1..i + e];
                        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_digit()) {
                            break;
                        }
                        path.push_str("[0]");
                        i += e + 1;
                    } else {
                        break;
                    }
                }
                if path.len() > 1 {
                    out.push((ptr.to_string(), path));
                }
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                if matches!(
                    k.as_str(),
                    "Branches" | "ItemProcessor" | "Iterator" | "Catch"
                ) {
                    continue;
                }
                jsonata_refs(x, root, &push_pointer(ptr, k), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                jsonata_refs(x, root, &push_pointer(ptr, &i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// The paths of a state that read its input, with their pointers.
fn input_paths(o: &Map<String, Value>, ptr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    jsonata_refs(&Value::Object(o.clone()), "$states.input", ptr, &mut out);
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    if let Some(p) = s("InputPath") {
        out.push((push_pointer(ptr, "InputPath"), p.to_string()));
        if p != "$" {
            // The rest reads what InputPath selected, whose type is not known here.
            return out;
        }
    }
    for k in ["Parameters", "ItemSelector"] {
        if let Some(v) = o.get(k) {
            template_paths(v, &push_pointer(ptr, k), &mut out);
        }
    }
    for k in [
        "ItemsPath",
        "SecondsPath",
        "TimestampPath",
        "ErrorPath",
        "CausePath",
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
    ] {
        if let Some(p) = s(k) {
            out.push((push_pointer(ptr, k), p.to_string()));
        }
    }
    if let Some(Value::Array(rules)) = o.get("Choices") {
        let base = push_pointer(ptr, "Choices");
        for (i, r) in rules.iter().enumerate() {
            rule_paths(r, &push_pointer(&base, &i.to_string()), &mut out);
        }
    }
    out
}

/// The paths of a Task that read its handler's result.
fn result_paths(o: &Map<String, Value>, ptr: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in ["Output", "Assign"] {
        if let Some(v) = o.get(k) {
            jsonata_refs(v, "$states.result", &push_pointer(ptr, k), &mut out);
        }
    }
    match o.get("ResultSelector") {
        Some(v) => template_paths(v, &push_pointer(ptr, "ResultSelector"), &mut out),
        None => {
            let unchanged = match o.get("ResultPath") {
                None => true,
                Some(Value::String(s)) => s == "$",
                Some(_) => false,
            };
            if let (true, Some(p)) = (unchanged, o.get("OutputPath").and_then(Value::as_str)) {
                out.push((push_pointer(ptr, "OutputPath"), p.to_string()));
            }
        }
    }
    out
}

/// The constant checks of every path into typed data of the workflow.
pub fn checks(w: &WorkflowSyn, l: &Lowered, krate: &TokenStream) -> TokenStream {
    let Some(states) = l.value.get("States").and_then(Value::as_object) else {
        return TokenStream::new();
    };
    let add = |names: Vec<String>, result_of: Option<&str>| {
        let mut paths = Vec::new();
        for n in names {
            if let Some(Value::Object(o)) = states.get(&n) {
                paths.extend(input_paths(o, &push_pointer("/States", &n)));
            }
        }
        if let Some(n) = result_of {
            if let Some(Value::Object(o)) = states.get(n) {
                paths.extend(result_paths(o, &push_pointer("/States", n)));
            }
        }
        paths
    };
    let mut all = Vec::new();
    if let Some((input, _)) = &w.io {
        if let Some(start) = l.value.get("StartAt").and_then(Value::as_str) {
            let r = reach(l, vec![(start.to_string(), "/StartAt".to_string())]);
            all.push((Source::Type(input), add(r.states, None)));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for t in &l.tasks {
        if t.state.is_empty() || !seen.insert(&t.state) {
            continue;
        }
        let r = reach_from(l, t);
        all.push((Source::Output(&t.handler), add(r.states, Some(&t.state))));
    }
    let p = quote!(#krate::__private);
    let mut out = TokenStream::new();
    for (src, paths) in all {
        let probe = match src {
            Source::Type(t) => quote!(#p::Probe::<#t>::new()),
            Source::Output(h) => quote!(#p::probe_output(&#h)),
        };
        for (ptr, text) in paths {
            let Some(segs) = segments(&text) else {
                continue;
            };
            if segs.is_empty() {
                continue;
            }
            let range = l.spans.lookup(&ptr).map_or_else(
                || Range::one(proc_macro2::Span::call_site()),
                |(_, e)| e.value,
            );
            let segs = segs.iter().map(|s| match s {
                Seg::Field(f) => quote!(#p::Seg::Field(#f)),
                Seg::Index => quote!(#p::Seg::Index),
            });
            // The call's first token carries the path's first span and its last token the
            // path's last span, so rustc reports the evaluation error over the whole path.
            let (start, end) = (range.start, range.end);
            let call = respan(quote!(#p::check_path), start);
            let args = quote_spanned!(end=> (
                #p::shape_of(&|| {
                    #[allow(unused_imports)]
                    use #p::{ViaAny as _, ViaData as _};
                    (&&#probe).select()
                }),
                &[#(#segs),*],
            ));
            out.extend(quote!(const _: () = #call #args;));
        }
    }
    out
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut n = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                n.set_span(span);
                t = proc_macro2::TokenTree::Group(n);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments() {
        let f = |s: &str| Seg::Field(s.to_string());
        assert_eq!(segments("$.a.b"), Some(vec![f("a"), f("b")]));
        assert_eq!(
            segments("$.a[0]['c d'].e"),
            Some(vec![f("a"), Seg::Index, f("c d"), f("e")])
        );
        assert_eq!(segments("$.a[*].b"), Some(vec![f("a")]));
        assert_eq!(segments("$..a"), Some(vec![]));
        assert_eq!(segments("$.a.length()"), Some(vec![f("a")]));
        assert_eq!(segments("$$.Execution.Id"), None);
        assert_eq!(segments("$var.x"), None);
        assert_eq!(segments("$"), Some(vec![]));
        let mut refs = Vec::new();
        jsonata_refs(
            &serde_json::json!({"Output": "{% $states.input.order.`unit price` & $states.input.lines[0].sku & $states.input.id.$string() %}", "X": "$states.input.no"}),
            "$states.input",
            "",
            &mut refs,
        );
        let refs: Vec<&str> = refs.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            refs,
            [
                "$['order']['unit price']",
                "$['lines'][0]['sku']",
                "$['id']"
            ]
        );
        assert_eq!(
            intrinsic_paths("States.Format('{} $.x', $.a, States.Array($.b[0]))"),
            ["$.a", "$.b[0]"]
        );
    }
}
