//! Choice rules written as expressions.
//!
//! ```text
//! rule    := and ('||' and)*
//! and     := unary ('&&' unary)*
//! unary   := '!' unary | '(' rule ')' | atom
//! atom    := path op operand                       comparison (the path is on the left)
//!          | is_present(path) | is_null(path) | is_numeric(path)
//!          | is_string(path) | is_boolean(path) | is_timestamp(path)
//!          | matches(path, "pattern*")             StringMatches
//!          | "{% jsonata %}" | true | false        a JSONata `Condition`
//! op      := '==' | '!=' | '<' | '<=' | '>' | '>='
//! operand := "string" | number | true | false | null
//!          | timestamp("2024-01-01T00:00:00Z") | timestamp(path)
//!          | string(path) | number(path) | boolean(path)   path-to-path comparisons
//! ```
//! `a != b` becomes `Not(a == b)`; `path == null` is `IsNull: true`.

use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Ident, LitStr, Token};

use super::json::{parse_number, parse_path_or_str, JKind, J};
use crate::ctxt::Range;
use crate::kw;

/// A comparison operator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// The right side of a comparison.
pub enum Operand {
    /// A string literal.
    Str(String),
    /// A number.
    Num(serde_json::Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `timestamp("…")`.
    Timestamp(String),
    /// `string(path)`, `number(path)`, `boolean(path)`, `timestamp(path)`: the type prefix
    /// (`String`, `Numeric`, `Boolean`, `Timestamp`) and the path.
    Path(&'static str, String),
    /// A bare path: an error (the type of a path-to-path comparison must be said).
    BarePath(String),
}

/// A parsed rule.
pub enum Rule {
    /// `a && b`.
    And(Vec<Rule>),
    /// `a || b`.
    Or(Vec<Rule>),
    /// `!a`.
    Not(Box<Rule>),
    /// `path op operand`.
    Compare {
        /// The tested path.
        variable: (String, Range),
        /// The operator and its range.
        op: (Op, Range),
        /// The operand and its range.
        operand: (Operand, Range),
    },
    /// `is_present(path)` and the other type tests: the ASL operator name and the path.
    Test {
        /// The ASL operator (`IsPresent`, …).
        operator: &'static str,
        /// The tested path.
        variable: (String, Range),
    },
    /// `matches(path, "pattern")`.
    Matches {
        /// The tested path.
        variable: (String, Range),
        /// The pattern.
        pattern: String,
    },
    /// A JSONata `Condition`.
    Condition(J),
}

/// Parses a rule.
pub fn parse_rule(input: ParseStream) -> syn::Result<Rule> {
    let mut items = vec![parse_and(input)?];
    while input.peek(Token![||]) {
        input.parse::<Token![||]>()?;
        items.push(parse_and(input)?);
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        Rule::Or(items)
    })
}

fn parse_and(input: ParseStream) -> syn::Result<Rule> {
    let mut items = vec![parse_unary(input)?];
    while input.peek(Token![&&]) {
        input.parse::<Token![&&]>()?;
        items.push(parse_unary(input)?);
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        Rule::And(items)
    })
}

fn parse_unary(input: ParseStream) -> syn::Result<Rule> {
    if input.peek(Token![!]) && !input.peek(Token![!=]) {
        input.parse::<Token![!]>()?;
        return Ok(Rule::Not(Box::new(parse_unary(input)?)));
    }
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let rule = parse_rule(&content)?;
        if !content.is_empty() {
            return Err(content.error("expected `)` after the rule"));
        }
        return Ok(rule);
    }
    parse_atom(input)
}

fn parse_atom(input: ParseStream) -> syn::Result<Rule> {
    if input.peek(LitStr) && is_jsonata(input) {
        let s: LitStr = input.parse()?;
        return Ok(Rule::Condition(J {
            kind: JKind::Str(s.value()),
            range: Range::one(s.span()),
        }));
    }
    if input.peek(syn::LitBool) {
        let b: syn::LitBool = input.parse()?;
        return Ok(Rule::Condition(J {
            kind: JKind::Bool(b.value),
            range: Range::one(b.span),
        }));
    }
    if input.peek(Ident::peek_any) && input.peek2(syn::token::Paren) {
        let f = input.call(Ident::parse_any)?;
        let name = f.to_string();
        let content;
        syn::parenthesized!(content in input);
        if let Some((_, op)) = kw::TESTS.iter().find(|(n, _)| *n == name) {
            let variable = parse_path_or_str(&content)?;
            expect_end(&content)?;
            return Ok(Rule::Test {
                operator: op,
                variable,
            });
        }
        if name == "matches" {
            let variable = parse_path_or_str(&content)?;
            content.parse::<Token![,]>()?;
            let pattern: LitStr = content.parse()?;
            expect_end(&content)?;
            return Ok(Rule::Matches {
                variable,
                pattern: pattern.value(),
            });
        }
        let mut names: Vec<&str> = kw::TESTS.iter().map(|(n, _)| *n).collect();
        names.push("matches");
        let hint = workflow_asl::diag::did_you_mean(&name, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(syn::Error::new(
            f.span(),
            format!(
                "unknown test `{name}`{hint} (expected one of: `{}`)",
                names.join("`, `")
            ),
        ));
    }
    let variable = parse_path_or_str(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected a Choice rule: `$.path == value`, `is_present($.path)`, `matches($.path, \"*.txt\")`, `!rule`, `(rule)`, or a JSONata condition `\"{% … %}\"`",
        )
    })?;
    let op = parse_op(input)?;
    let operand = parse_operand(input)?;
    Ok(Rule::Compare {
        variable,
        op,
        operand,
    })
}

fn is_jsonata(input: ParseStream) -> bool {
    input
        .fork()
        .parse::<LitStr>()
        .map(|s| s.value().trim_start().starts_with("{%"))
        .unwrap_or(false)
}

fn expect_end(input: ParseStream) -> syn::Result<()> {
    if input.is_empty() {
        Ok(())
    } else {
        Err(input.error("unexpected tokens"))
    }
}

fn parse_op(input: ParseStream) -> syn::Result<(Op, Range)> {
    macro_rules! try_op {
        ($($t:tt => $op:expr_2021),*) => {
            $(if input.peek(Token![$t]) {
                let t: Token![$t] = input.parse()?;
                return Ok(($op, Range::of(&t)));
            })*
        };
    }
    try_op!(== => Op::Eq, != => Op::Ne, <= => Op::Le, >= => Op::Ge, < => Op::Lt, > => Op::Gt);
    Err(input.error("expected a comparison: `==`, `!=`, `<`, `<=`, `>` or `>=`"))
}

fn parse_operand(input: ParseStream) -> syn::Result<(Operand, Range)> {
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        return Ok((Operand::Str(s.value()), Range::one(s.span())));
    }
    if input.peek(syn::LitInt) || input.peek(syn::LitFloat) || input.peek(Token![-]) {
        let (n, r) = parse_number(input)?;
        return Ok((Operand::Num(n), r));
    }
    if input.peek(Token![$]) {
        let (p, r) = parse_path_or_str(input)?;
        return Ok((Operand::BarePath(p), r));
    }
    if input.peek(Ident::peek_any) {
        let id = input.call(Ident::parse_any)?;
        let name = id.to_string();
        match name.as_str() {
            "true" => return Ok((Operand::Bool(true), Range::one(id.span()))),
            "false" => return Ok((Operand::Bool(false), Range::one(id.span()))),
            "null" => return Ok((Operand::Null, Range::one(id.span()))),
            _ => {}
        }
        let prefix = match name.as_str() {
            "timestamp" => "Timestamp",
            "string" => "String",
            "number" => "Numeric",
            "boolean" => "Boolean",
            _ => {
                return Err(syn::Error::new(
                    id.span(),
                    format!("expected a value to compare with, found `{name}`; write strings in double quotes"),
                ))
            }
        };
        let content;
        let parens = syn::parenthesized!(content in input);
        let range = Range {
            start: id.span(),
            end: parens.span.close(),
        };
        if prefix == "Timestamp" && content.peek(LitStr) {
            let s: LitStr = content.parse()?;
            expect_end(&content)?;
            return Ok((Operand::Timestamp(s.value()), range));
        }
        let (p, _) = parse_path_or_str(&content)?;
        expect_end(&content)?;
        return Ok((Operand::Path(prefix, p), range));
    }
    Err(input.error(
        "expected a value to compare with: a string, a number, `true`, `false`, `null`, `timestamp(…)`, `string($.path)`, `number($.path)`, `boolean($.path)`",
    ))
}
