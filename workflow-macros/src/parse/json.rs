//! JSON literal syntax with spans: payload templates, results and field values.
//!
//! Besides plain JSON (string, number, `true`, `false`, `null`, arrays, objects with string or
//! identifier keys) two forms are sugar for ASL's `.$` fields:
//! - a path, `$.order.id` or `$$.Execution.Id` (see [`parse_path`]);
//! - an intrinsic call, `States.Format("Hello {}", $.name)` (see [`parse_intrinsic`]).
//!
//! Inside an object, `"id": $.x` becomes `"id.$": "$.x"`. As the whole value of a field
//! (`result_path = $.x`) a path is the string `"$.x"`.

use proc_macro2::{Delimiter, TokenTree};
use serde_json::Number;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token};

use crate::ctxt::Range;

/// A JSON value with the source range it was written at.
pub struct J {
    /// The value.
    pub kind: JKind,
    /// Where it was written.
    pub range: Range,
}

/// The kinds of [`J`].
pub enum JKind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, keeping its written form (`2.0` stays `2.0`).
    Num(Number),
    /// A string (or a bare identifier used as a field value).
    Str(String),
    /// `[ … ]`.
    Arr(Vec<J>),
    /// `{ … }`, keys in the order written (duplicates are reported when lowering).
    Obj(Vec<(Key, J)>),
    /// A path (`$.a.b`), sugar for a `.$` field.
    Path(String),
    /// An intrinsic call (`States.Format(…)`), sugar for a `.$` field.
    Intrinsic(String),
}

/// An object key.
pub struct Key {
    /// The key text.
    pub text: String,
    /// Where it was written.
    pub range: Range,
}

/// Parses a JSON value. `field` allows a bare identifier, read as a string
/// (`jitter_strategy = FULL`).
pub fn parse_value(input: ParseStream, field: bool) -> syn::Result<J> {
    let first = input.span();
    if input.peek(Token![$]) {
        let (text, range) = parse_path(input)?;
        return Ok(J {
            kind: JKind::Path(text),
            range,
        });
    }
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        return Ok(J {
            kind: JKind::Str(s.value()),
            range: Range::one(s.span()),
        });
    }
    if input.peek(syn::LitInt) || input.peek(syn::LitFloat) || input.peek(Token![-]) {
        let (n, range) = parse_number(input)?;
        return Ok(J {
            kind: JKind::Num(n),
            range,
        });
    }
    if input.peek(syn::token::Bracket) {
        let content;
        let b = syn::bracketed!(content in input);
        let items = content.parse_terminated(|i| parse_value(i, false), Token![,])?;
        return Ok(J {
            kind: JKind::Arr(items.into_iter().collect()),
            range: Range::one(b.span.join()),
        });
    }
    if input.peek(syn::token::Brace) {
        let content;
        let b = syn::braced!(content in input);
        let entries = content.parse_terminated(parse_entry, Token![,])?;
        return Ok(J {
            kind: JKind::Obj(entries.into_iter().collect()),
            range: Range::one(b.span.join()),
        });
    }
    if input.peek(Ident::peek_any) {
        let fork = input.fork();
        let id = fork.call(Ident::parse_any)?;
        if id == "States" && fork.peek(Token![.]) {
            let (text, range) = parse_intrinsic(input)?;
            return Ok(J {
                kind: JKind::Intrinsic(text),
                range,
            });
        }
        let id = input.call(Ident::parse_any)?;
        let range = Range::one(id.span());
        let kind = match id.to_string().as_str() {
            "null" => JKind::Null,
            "true" => JKind::Bool(true),
            "false" => JKind::Bool(false),
            other if field => JKind::Str(other.to_string()),
            other => {
                return Err(syn::Error::new(
                    id.span(),
                    format!(
                        "expected a JSON value, found `{other}`; write strings in double quotes"
                    ),
                ))
            }
        };
        return Ok(J { kind, range });
    }
    Err(syn::Error::new(
        first,
        "expected a JSON value: a string, number, `true`, `false`, `null`, `[…]`, `{…}`, a path (`$.a`) or an intrinsic call (`States.Format(…)`)",
    ))
}

fn parse_entry(input: ParseStream) -> syn::Result<(Key, J)> {
    let key = if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        Key {
            text: s.value(),
            range: Range::one(s.span()),
        }
    } else {
        let id = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an object key (a string or an identifier)",
            )
        })?;
        Key {
            text: id.unraw().to_string(),
            range: Range::one(id.span()),
        }
    };
    input.parse::<Token![:]>()?;
    let value = parse_value(input, false)?;
    Ok((key, value))
}

/// Parses a number literal, with an optional leading `-`.
pub fn parse_number(input: ParseStream) -> syn::Result<(Number, Range)> {
    let neg: Option<Token![-]> = input.parse()?;
    let (digits, span) = if input.peek(syn::LitInt) {
        let l: syn::LitInt = input.parse()?;
        if !l.suffix().is_empty() {
            return Err(syn::Error::new(
                l.span(),
                "a JSON number has no type suffix",
            ));
        }
        (l.base10_digits().to_string(), l.span())
    } else {
        let l: syn::LitFloat = input.parse()?;
        if !l.suffix().is_empty() {
            return Err(syn::Error::new(
                l.span(),
                "a JSON number has no type suffix",
            ));
        }
        (l.base10_digits().to_string(), l.span())
    };
    let text = if neg.is_some() {
        format!("-{digits}")
    } else {
        digits
    };
    let n: Number = serde_json::from_str(&text)
        .map_err(|_| syn::Error::new(span, format!("`{text}` is not a JSON number")))?;
    let start = neg.map_or(span, |m| m.span);
    Ok((n, Range { start, end: span }))
}

/// Parses a path written as tokens: `$` or `$$`, then any of `.name`, `.*`, `..name`, `[0]`,
/// `[*]`, `["key"]`, `[1:3]`. Anything fancier (filters) is written as a string literal.
/// Returns the path text and its range.
pub fn parse_path(input: ParseStream) -> syn::Result<(String, Range)> {
    let dollar: Token![$] = input.parse()?;
    let mut end = dollar.span;
    let mut text = String::from("$");
    if input.peek(Token![$]) {
        let d: Token![$] = input.parse()?;
        end = d.span;
        text.push('$');
    }
    loop {
        if input.peek(Token![..]) && !input.peek(Token![..=]) {
            input.parse::<Token![..]>()?;
            let id = input.call(Ident::parse_any)?;
            text.push_str("..");
            text.push_str(&id.unraw().to_string());
            end = id.span();
        } else if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            if input.peek(Token![*]) {
                let star: Token![*] = input.parse()?;
                text.push_str(".*");
                end = star.span;
            } else if input.peek(Ident::peek_any) {
                let id = input.call(Ident::parse_any)?;
                text.push('.');
                text.push_str(&id.unraw().to_string());
                end = id.span();
            } else if input.peek(syn::LitInt) {
                let l: syn::LitInt = input.parse()?;
                text.push('.');
                text.push_str(&l.to_string());
                end = l.span();
            } else {
                return Err(syn::Error::new(
                    input.span(),
                    "expected a field name after `.` in a path",
                ));
            }
        } else if input.peek(syn::token::Bracket) {
            let tt: TokenTree = input.parse()?;
            end = tt.span();
            text.push('[');
            text.push_str(&bracket_text(&tt)?);
            text.push(']');
        } else {
            break;
        }
    }
    Ok((
        text,
        Range {
            start: dollar.span,
            end,
        },
    ))
}

/// The content of a `[…]` path segment.
fn bracket_text(tt: &TokenTree) -> syn::Result<String> {
    let TokenTree::Group(g) = tt else {
        return Err(syn::Error::new(tt.span(), "expected `[…]`"));
    };
    debug_assert_eq!(g.delimiter(), Delimiter::Bracket);
    let parser = |input: ParseStream| -> syn::Result<String> {
        let mut out = String::new();
        while !input.is_empty() {
            if input.peek(Token![*]) {
                input.parse::<Token![*]>()?;
                out.push('*');
            } else if input.peek(Token![:]) {
                input.parse::<Token![:]>()?;
                out.push(':');
            } else if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                out.push(',');
            } else if input.peek(Token![-]) || input.peek(syn::LitInt) {
                let (n, _) = parse_number(input)?;
                out.push_str(&n.to_string());
            } else if input.peek(LitStr) {
                let s: LitStr = input.parse()?;
                out.push('\'');
                out.push_str(&s.value().replace('\'', "\\'"));
                out.push('\'');
            } else {
                return Err(syn::Error::new(
                    input.span(),
                    "this path segment cannot be written as tokens; write the whole path as a string literal (`\"$.a[?(@.b > 1)]\"`)",
                ));
            }
        }
        Ok(out)
    };
    parser.parse2(g.stream())
}

/// Parses an intrinsic call written as tokens, `States.Name(arg, …)`, into its ASL text
/// (`States.Name('text', $.a, 1)`). String arguments are written with double quotes and become
/// single-quoted; a `'` inside is escaped as `\'`, other characters (including `\` escapes) are
/// copied as written.
pub fn parse_intrinsic(input: ParseStream) -> syn::Result<(String, Range)> {
    let states = input.call(Ident::parse_any)?;
    input.parse::<Token![.]>()?;
    let name = input.call(Ident::parse_any)?;
    let content;
    let parens = syn::parenthesized!(content in input);
    let mut args = Vec::new();
    while !content.is_empty() {
        args.push(parse_intrinsic_arg(&content)?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok((
        format!("{states}.{name}({})", args.join(", ")),
        Range {
            start: states.span(),
            end: parens.span.close(),
        },
    ))
}

fn parse_intrinsic_arg(input: ParseStream) -> syn::Result<String> {
    if input.peek(Token![$]) {
        return Ok(parse_path(input)?.0);
    }
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        return Ok(format!("'{}'", escape_single(&s.value())));
    }
    if input.peek(syn::LitInt) || input.peek(syn::LitFloat) || input.peek(Token![-]) {
        return Ok(parse_number(input)?.0.to_string());
    }
    if input.peek(Ident::peek_any) {
        let fork = input.fork();
        let id = fork.call(Ident::parse_any)?;
        if id == "States" {
            return Ok(parse_intrinsic(input)?.0);
        }
        if id == "null" || id == "true" || id == "false" {
            input.call(Ident::parse_any)?;
            return Ok(id.to_string());
        }
    }
    Err(syn::Error::new(
        input.span(),
        "expected an intrinsic argument: a string, a number, `true`, `false`, `null`, a path or an intrinsic call",
    ))
}

fn escape_single(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parses a path written either as tokens (`$.a`) or as a string literal (`"$.a b"`).
pub fn parse_path_or_str(input: ParseStream) -> syn::Result<(String, Range)> {
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        return Ok((s.value(), Range::one(s.span())));
    }
    if input.peek(Token![$]) {
        return parse_path(input);
    }
    Err(syn::Error::new(
        input.span(),
        "expected a path (`$.field`, or a string literal like `\"$.field\"`)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(ts: proc_macro2::TokenStream) -> String {
        parse_path.parse2(ts).expect("a path").0
    }

    fn intrinsic(ts: proc_macro2::TokenStream) -> String {
        parse_intrinsic.parse2(ts).expect("an intrinsic").0
    }

    #[test]
    fn paths() {
        let cases = [
            (quote::quote!($), "$"),
            (quote::quote!($.a.b), "$.a.b"),
            (quote::quote!($$.Execution.Id), "$$.Execution.Id"),
            (quote::quote!($.items[0].price), "$.items[0].price"),
            (quote::quote!($.a[*]), "$.a[*]"),
            (quote::quote!($.a["b c"]), "$.a['b c']"),
            (quote::quote!($..name), "$..name"),
            (quote::quote!($.a[1:3]), "$.a[1:3]"),
            (quote::quote!($.type), "$.type"),
        ];
        for (ts, want) in cases {
            assert_eq!(path(ts), want);
        }
    }

    #[test]
    fn intrinsics() {
        assert_eq!(
            intrinsic(quote::quote!(States.Format("Hi {} it's", $.name))),
            "States.Format('Hi {} it\\'s', $.name)"
        );
        assert_eq!(
            intrinsic(quote::quote!(States.MathAdd(States.ArrayLength($.a), -1))),
            "States.MathAdd(States.ArrayLength($.a), -1)"
        );
        assert_eq!(intrinsic(quote::quote!(States.UUID())), "States.UUID()");
    }

    #[test]
    fn values() {
        let j = (|i: ParseStream| parse_value(i, false))
            .parse2(quote::quote!({ "a": [1, 2.0, -3], b: { "c": null }, "d": $.x }))
            .expect("a value");
        let JKind::Obj(entries) = j.kind else {
            panic!("expected an object")
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.text.as_str()).collect();
        assert_eq!(keys, ["a", "b", "d"]);
        assert!(matches!(entries[2].1.kind, JKind::Path(ref p) if p == "$.x"));
        let bad = (|i: ParseStream| parse_value(i, false)).parse2(quote::quote!(hello));
        assert!(bad.is_err());
    }
}
