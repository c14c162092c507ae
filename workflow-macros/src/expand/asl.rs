//! The ASL text of a workflow as Rust tokens: a string literal when the workflow is self-contained,
//! else a `const` concatenation of literal pieces and the `__BRANCH_HEAD` / `__BRANCH_TAIL`
//! consts of the external workflow types it uses as branches.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value};

use crate::lower::External;

/// A piece of ASL text.
pub enum Part {
    /// Literal text.
    Lit(String),
    /// `<Path as Workflow>::__BRANCH_HEAD`.
    Head(syn::Path),
    /// `<Path as Workflow>::__BRANCH_TAIL`.
    Tail(syn::Path),
}

/// Splits `text` at every external placeholder: the placeholder object becomes the external
/// type's head, its `ProcessorConfig` (if any), and its tail.
pub fn parts(text: &str, externals: &[External]) -> Vec<Part> {
    let mut out = vec![Part::Lit(text.to_string())];
    for ext in externals {
        let needle = compact(&ext.placeholder());
        let mut next = Vec::new();
        for part in out {
            let Part::Lit(s) = part else {
                next.push(part);
                continue;
            };
            let mut rest = s.as_str();
            while let Some(at) = rest.find(&needle) {
                next.push(Part::Lit(rest[..at].to_string()));
                next.push(Part::Head(ext.path.clone()));
                if let Some(c) = &ext.config {
                    next.push(Part::Lit(format!("\"ProcessorConfig\":{},", compact(c))));
                }
                next.push(Part::Tail(ext.path.clone()));
                rest = &rest[at + needle.len()..];
            }
            next.push(Part::Lit(rest.to_string()));
        }
        out = next;
    }
    out.retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
    out
}

/// Compact JSON text.
pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The branch form of a machine's canonical JSON, split before `StartAt`: the head holds `{` and
/// `Comment`/`QueryLanguage`, the tail the rest. `None` when the machine has fields a branch cannot
/// have (named in the error).
pub fn branch_split(machine: &Value) -> Result<(String, String), String> {
    let Value::Object(o) = machine else {
        return Ok(("{".into(), "}".into()));
    };
    let mut head = Map::new();
    let mut tail = Map::new();
    let mut in_tail = false;
    for (k, v) in o {
        if k == "Version" || k == "TimeoutSeconds" {
            return Err(k.clone());
        }
        if k == "StartAt" {
            in_tail = true;
        }
        if in_tail {
            tail.insert(k.clone(), v.clone());
        } else {
            head.insert(k.clone(), v.clone());
        }
    }
    let head = compact(&Value::Object(head));
    let head = if head == "{}" {
        "{".to_string()
    } else {
        format!("{},", &head[..head.len() - 1])
    };
    let tail = compact(&Value::Object(tail));
    Ok((head, tail[1..].to_string()))
}

/// The tokens of a `&'static str` made of `parts`.
pub fn tokens(parts: &[Part], krate: &TokenStream) -> TokenStream {
    if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
        let s: String = parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) => s.as_str(),
                _ => "",
            })
            .collect();
        return quote!(#s);
    }
    let items = parts.iter().map(|p| match p {
        Part::Lit(s) => quote!(#s),
        Part::Head(path) => quote!(<#path as #krate::Workflow>::__BRANCH_HEAD),
        Part::Tail(path) => quote!(<#path as #krate::Workflow>::__BRANCH_TAIL),
    });
    quote!({
        const __PARTS: &[&str] = &[#(#items),*];
        const __LEN: usize = #krate::__private::concat_len(__PARTS);
        const __BYTES: [u8; __LEN] = #krate::__private::concat_bytes::<__LEN>(__PARTS);
        #krate::__private::utf8(&__BYTES)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_branch() {
        let v: Value = serde_json::from_str(
            r#"{"Comment":"c","StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#,
        )
        .expect("json");
        let (h, t) = branch_split(&v).expect("a branch");
        assert_eq!(h, r#"{"Comment":"c","#);
        assert_eq!(t, r#""StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#);
        assert_eq!(format!("{h}{t}"), compact(&v));
        let v: Value = serde_json::from_str(r#"{"TimeoutSeconds":3,"StartAt":"A","States":{}}"#)
            .expect("json");
        assert_eq!(branch_split(&v), Err("TimeoutSeconds".to_string()));
    }

    #[test]
    fn split_placeholders() {
        let ext = External {
            marker: "__workflow_branch_1".into(),
            path: syn::parse_quote!(Sub),
            config: None,
        };
        let mut o = Map::new();
        o.insert("Branches".into(), Value::Array(vec![ext.placeholder()]));
        let text = compact(&Value::Object(o));
        let ps = parts(&text, &[ext]);
        assert_eq!(ps.len(), 4);
        assert!(matches!(&ps[0], Part::Lit(s) if s == r#"{"Branches":["#));
        assert!(matches!(&ps[1], Part::Head(_)));
        assert!(matches!(&ps[2], Part::Tail(_)));
        assert!(matches!(&ps[3], Part::Lit(s) if s == "]}"));
    }
}
