//! The syntax tree of a `workflow!` invocation, with spans on every name (phase 1 of 3).
//!
//! ```text
//! input     := workflow*
//! workflow  := attr* vis Name (':' Type '->' Type)? '{' stmt (';' stmt)* ';'? '}'
//!            | attr* vis Name (':' Type '->' Type)? '=' 'file' '(' "path" ')'
//!              ('{' ("resource" '=>' handler),* '}')? ';'?
//! attr      := '///' doc | '#[workflow(' (key '=' value),* ')]'
//! stmt      := 'start' Target
//!            | doc* Name '=' kind method* ('->' (Target | 'end'))?
//! kind      := 'task' '(' (handler ',')? args ')'
//!            | 'pass' ('(' args ')')?
//!            | 'choice' ('(' args ')')? '{' arm,* '}'
//!            | 'wait' '(' args ')'
//!            | 'succeed' ('(' args ')')?
//!            | 'fail' ('(' args ')')?
//!            | 'parallel' ('(' ('[' Path,* ']' (',' args)? | args) ')')? ('{' branch* '}')?
//!            | 'map' ('(' (Path (',' args)? | args) ')')? ((':' Type '->' Type)? '{' '//!'* stmt;* '}')?
//! branch    := doc* Label (':' Type '->' Type)? '{' stmt;* '}'     (an inline workflow)
//! method    := '.retry(' '[' error,* ']' (',' args)? ')'
//!            | '.catch(' '[' error,* ']' '=>' Target (',' args)? ')'
//! arm       := doc* rule '=>' Target ('(' args ')')?  |  '_' '=>' Target
//! args      := (snake_case_field '=' value),*     value: see json.rs
//! ```
//! The outer pass splits each workflow body at top-level `;` and parses every statement on its
//! own, so one bad statement is reported and the others are still parsed and checked.

pub mod choice;
pub mod json;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Attribute, Ident, LitStr, Token, Type, Visibility};

use crate::ctxt::{Ctxt, Range};
use crate::kw;
use choice::Rule;
use json::J;

/// Every workflow of one invocation.
pub struct Input {
    /// In the order written.
    pub workflows: Vec<WorkflowSyn>,
}

/// One workflow's header and its raw body.
pub struct WorkflowSyn {
    /// Outer attributes (doc comments and `#[workflow(…)]`).
    pub attrs: Vec<Attribute>,
    /// Visibility of the generated type.
    pub vis: Visibility,
    /// The type name.
    pub name: Ident,
    /// `: Input -> Output`.
    pub io: Option<(Type, Type)>,
    /// The body tokens, parsed statement by statement in [`parse_body`] (empty for a file).
    pub body: TokenStream,
    /// The span of the braces (of `file(…)` for a file).
    pub brace: Span,
    /// `= file("path.asl.json") { "resource" => handler, … }`: an existing definition.
    pub file: Option<FileSyn>,
    /// For a branch or item processor written inline: the doc line of its generated type.
    pub inline: Option<String>,
}

/// A workflow read from an ASL file at compile time.
pub struct FileSyn {
    /// The path, relative to the crate's `Cargo.toml`.
    pub path: LitStr,
    /// Rust handlers for the file's Task resources.
    pub bindings: Vec<(LitStr, syn::Path)>,
}

fn parse_binding(input: ParseStream) -> syn::Result<(LitStr, syn::Path)> {
    let resource: LitStr = input.parse()?;
    input.parse::<Token![=>]>()?;
    let handler: syn::Path = input.parse()?;
    Ok((resource, handler))
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut workflows = Vec::new();
        while !input.is_empty() {
            workflows.push(input.parse()?);
        }
        Ok(Input { workflows })
    }
}

impl Parse for WorkflowSyn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let name: Ident = input.parse()?;
        let io = if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            let i: Type = input.parse()?;
            input.parse::<Token![->]>()?;
            let o: Type = input.parse()?;
            Some((i, o))
        } else {
            None
        };
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            let kw: kw::file = input.parse()?;
            let content;
            syn::parenthesized!(content in input);
            let path: LitStr = content.parse()?;
            let bindings = if input.peek(syn::token::Brace) {
                let content;
                syn::braced!(content in input);
                content
                    .parse_terminated(parse_binding, Token![,])?
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            if input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            return Ok(WorkflowSyn {
                attrs,
                vis,
                name,
                io,
                body: TokenStream::new(),
                brace: kw.span,
                file: Some(FileSyn { path, bindings }),
                inline: None,
            });
        }
        let content;
        let brace = syn::braced!(content in input);
        let body: TokenStream = content.parse()?;
        Ok(WorkflowSyn {
            attrs,
            vis,
            name,
            io,
            body,
            brace: brace.span.join(),
            file: None,
            inline: None,
        })
    }
}

/// A state or transition target name: an identifier, or a string literal for names that are
/// not identifiers.
#[derive(Clone)]
pub struct Name {
    /// The ASL name.
    pub text: String,
    /// Where it was written.
    pub range: Range,
    /// The identifier, when written as one.
    pub ident: Option<Ident>,
}

impl Parse for Name {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let s: LitStr = input.parse()?;
            return Ok(Name {
                text: s.value(),
                range: Range::one(s.span()),
                ident: None,
            });
        }
        let id = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a state name (an identifier or a string)",
            )
        })?;
        Ok(Name {
            text: id.unraw().to_string(),
            range: Range::one(id.span()),
            ident: Some(id),
        })
    }
}

/// `key = value`.
pub struct Arg {
    /// The snake_case field name.
    pub key: Ident,
    /// The value.
    pub value: J,
}

/// The error names of a Retry or Catch: `States.ALL`, `MyError`, `"Lambda.Unknown"`.
pub struct ErrorList {
    /// Each name and where it was written.
    pub names: Vec<(String, Range)>,
    /// The brackets.
    pub range: Range,
}

/// `.retry(…)`.
pub struct RetrySyn {
    /// `ErrorEquals`.
    pub errors: ErrorList,
    /// The other fields.
    pub args: Vec<Arg>,
}

/// `.catch(…)`.
pub struct CatchSyn {
    /// `ErrorEquals`.
    pub errors: ErrorList,
    /// `Next`.
    pub target: Name,
    /// The other fields.
    pub args: Vec<Arg>,
}

/// One arm of a `choice { … }`.
pub struct ArmSyn {
    /// Doc comment (`Comment`).
    pub doc: Option<String>,
    /// The rule; `None` for `_` (the `Default`).
    pub rule: Option<Rule>,
    /// The range of the rule (or of `_`).
    pub rule_range: Range,
    /// `Next`.
    pub target: Name,
    /// Extra fields of the rule (`assign`, `output`, `raw`).
    pub args: Vec<Arg>,
}

/// What a state is.
pub enum KindSyn {
    /// `task(handler?, …)`.
    Task {
        /// The Rust handler.
        handler: Option<syn::Path>,
    },
    /// `pass`.
    Pass,
    /// `choice { … }`.
    Choice {
        /// The arms, in order.
        arms: Vec<ArmSyn>,
    },
    /// `wait(…)`.
    Wait,
    /// `succeed`.
    Succeed,
    /// `fail(…)`.
    Fail,
    /// `parallel([A, B], …)`.
    Parallel {
        /// The branch workflows.
        branches: Vec<syn::Path>,
    },
    /// `map(Item, …)`.
    Map {
        /// The item processor workflow.
        processor: syn::Path,
    },
}

/// `-> Target` or `-> end`.
pub enum NextSyn {
    /// `-> Target`.
    Next(Name),
    /// `-> end`.
    End(Range),
}

/// One state definition.
pub struct StateSyn {
    /// Doc comment (`Comment`).
    pub doc: Option<String>,
    /// The state name.
    pub name: Name,
    /// The kind keyword.
    pub kw: Ident,
    /// The kind and its positional parts.
    pub kind: KindSyn,
    /// `key = value` fields.
    pub args: Vec<Arg>,
    /// `.retry(…)`, in order.
    pub retries: Vec<RetrySyn>,
    /// `.catch(…)`, in order.
    pub catches: Vec<CatchSyn>,
    /// `-> …`.
    pub next: Option<NextSyn>,
    /// The `->` token, for errors about it.
    pub arrow: Option<Range>,
}

/// The statements of one workflow body that parsed.
#[derive(Default)]
pub struct Body {
    /// Parallel branches and Map item processors written inline, as workflows of their own
    /// (named `<Workflow><State><Label>`, or `<Workflow><State>Item` for a Map's).
    pub inline: Vec<WorkflowSyn>,
    /// `start X;` statements (more than one is an error reported in check).
    pub starts: Vec<Name>,
    /// State definitions, in order.
    pub states: Vec<StateSyn>,
    /// Names of states whose definition did not parse: transitions to them are not reported.
    pub broken: Vec<Name>,
}

/// Parses the body of every workflow, and of the branches and item processors written inline in
/// them (which join the list, after the workflows written in the invocation).
pub fn parse_all(cx: &Ctxt, mut workflows: Vec<WorkflowSyn>) -> (Vec<WorkflowSyn>, Vec<Body>) {
    let mut bodies = Vec::with_capacity(workflows.len());
    let mut i = 0;
    while i < workflows.len() {
        let mut body = parse_body(cx, &workflows[i]);
        workflows.append(&mut body.inline);
        bodies.push(body);
        i += 1;
    }
    (workflows, bodies)
}

/// Splits the body of `owner` at top-level `;` and parses each statement, recording errors in
/// `cx`. Inline branches and item processors are returned in [`Body::inline`].
pub fn parse_body(cx: &Ctxt, owner: &WorkflowSyn) -> Body {
    let body = &owner.body;
    let mut out = Body::default();
    let mut inline = Vec::new();
    let mut chunk = TokenStream::new();
    let mut chunks = Vec::new();
    for tt in body.clone() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ';' => {
                chunks.push(std::mem::take(&mut chunk));
            }
            _ => chunk.extend([tt]),
        }
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    for chunk in chunks {
        if chunk.is_empty() {
            continue;
        }
        let header = (|input: ParseStream| parse_header(input)).parse2(chunk.clone());
        match header {
            Ok(Header::Start(name)) => out.starts.push(name),
            Ok(Header::State(doc, name, rest)) => {
                let parsed = (|input: ParseStream| {
                    parse_state(cx, input, doc, name.clone(), owner, &mut inline)
                })
                .parse2(rest);
                match parsed {
                    Ok(state) => out.states.push(state),
                    Err(e) => {
                        cx.syn_error(e);
                        out.broken.push(name);
                    }
                }
            }
            Err(e) => cx.syn_error(e),
        }
    }
    out.inline = inline;
    out
}

/// The type name of an inline branch: `<Owner><State><Label>`, keeping only the characters of
/// the state name that may appear in an identifier.
fn inline_name(owner: &WorkflowSyn, state: &Name, label: &str, span: Span) -> Ident {
    let state: String = state
        .text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Ident::new(&format!("{}{state}{label}", owner.name.unraw()), span)
}

/// An inline branch or item processor as a workflow: it gets the owner's visibility and a doc
/// line saying where it was written (unless it has its own doc comments, which become its ASL
/// `Comment` as for a named branch).
fn inline_workflow(
    owner: &WorkflowSyn,
    state: &Name,
    mut w: WorkflowSyn,
    label: &str,
    span: Span,
) -> WorkflowSyn {
    let doc = format!(
        "The {} of the state `{}` of [`{}`] (written inline).",
        if label == "Item" {
            "item processor".to_string()
        } else {
            format!("branch `{label}`")
        },
        state.text,
        owner.name
    );
    w.inline = Some(doc);
    if matches!(w.vis, Visibility::Inherited) {
        w.vis = owner.vis.clone();
    }
    w.name = inline_name(owner, state, label, span);
    w
}

/// `Label (: I -> O)? { body }`, one inline Parallel branch.
fn parse_branch(input: ParseStream) -> syn::Result<WorkflowSyn> {
    let fork = input.fork();
    let w: WorkflowSyn = input.parse()?;
    if w.file.is_some() {
        return Err(syn::Error::new(
            fork.span(),
            "an inline branch is written `Label { start …; … }`; to use a definition file, declare it as a workflow and name it in `parallel([…])`",
        ));
    }
    Ok(w)
}

enum Header {
    Start(Name),
    State(Option<String>, Name, TokenStream),
}

fn parse_header(input: ParseStream) -> syn::Result<Header> {
    let attrs = input.call(Attribute::parse_outer)?;
    let doc = doc_of(&attrs)?;
    if input.peek(kw::start) && !input.peek2(Token![=]) {
        input.parse::<kw::start>()?;
        let name: Name = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("expected `;` after `start <State>`"));
        }
        return Ok(Header::Start(name));
    }
    let name: Name = input.parse()?;
    if !input.peek(Token![=]) || input.peek(Token![==]) {
        return Err(input.error(format!(
            "expected `=` after the state name `{}` (a state is written `Name = kind(…) -> Next;`)",
            name.text
        )));
    }
    input.parse::<Token![=]>()?;
    let rest: TokenStream = input.parse()?;
    Ok(Header::State(doc, name, rest))
}

/// The text of the doc comments among `attrs`, or an error for any other attribute.
pub fn doc_of(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut lines = Vec::new();
    for a in attrs {
        if a.path().is_ident("doc") {
            if let syn::Meta::NameValue(nv) = &a.meta {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    let v = s.value();
                    lines.push(v.strip_prefix(' ').map(str::to_string).unwrap_or(v));
                    continue;
                }
            }
        }
        return Err(syn::Error::new_spanned(
            a,
            "only doc comments (`/// …`) are allowed here",
        ));
    }
    Ok(if lines.is_empty() {
        None
    } else {
        Some(lines.join("\n").trim().to_string())
    })
}

fn parse_state(
    cx: &Ctxt,
    input: ParseStream,
    doc: Option<String>,
    name: Name,
    owner: &WorkflowSyn,
    inline: &mut Vec<WorkflowSyn>,
) -> syn::Result<StateSyn> {
    let la = input.lookahead1();
    let kw_ident;
    let mut args = Vec::new();
    let kind = if la.peek(kw::task) {
        kw_ident = input.call(Ident::parse_any)?;
        let content;
        syn::parenthesized!(content in input);
        let handler = if content.is_empty()
            || (content.peek(Ident::peek_any)
                && content.peek2(Token![=])
                && !content.peek2(Token![==]))
        {
            None
        } else {
            let p: syn::Path = content.parse()?;
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
            Some(p)
        };
        args = parse_args(&content)?;
        KindSyn::Task { handler }
    } else if la.peek(kw::pass) || la.peek(kw::wait) || la.peek(kw::succeed) || la.peek(kw::fail) {
        kw_ident = input.call(Ident::parse_any)?;
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            args = parse_args(&content)?;
        }
        match kw_ident.to_string().as_str() {
            "pass" => KindSyn::Pass,
            "wait" => KindSyn::Wait,
            "succeed" => KindSyn::Succeed,
            _ => KindSyn::Fail,
        }
    } else if la.peek(kw::choice) {
        kw_ident = input.call(Ident::parse_any)?;
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            args = parse_args(&content)?;
        }
        let content;
        syn::braced!(content in input);
        let arms = content.parse_terminated(parse_arm, Token![,])?;
        KindSyn::Choice {
            arms: arms.into_iter().collect(),
        }
    } else if la.peek(kw::parallel) {
        kw_ident = input.call(Ident::parse_any)?;
        let mut branches: Vec<syn::Path> = Vec::new();
        let mut named = false;
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            if content.peek(syn::token::Bracket) {
                let list;
                syn::bracketed!(list in content);
                branches.extend(list.parse_terminated(syn::Path::parse, Token![,])?);
                named = true;
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
            args = parse_args(&content)?;
        }
        if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            while !content.is_empty() {
                let w = parse_branch(&content)?;
                let label = w.name.unraw().to_string();
                let span = w.name.span();
                let w = inline_workflow(owner, &name, w, &label, span);
                branches.push(syn::Path::from(w.name.clone()));
                inline.push(w);
                if content.peek(Token![,]) {
                    content.parse::<Token![,]>()?;
                }
            }
            named = true;
        }
        if !named {
            return Err(syn::Error::new(
                kw_ident.span(),
                "`parallel` needs its branches: name workflow types, `parallel([BranchA, BranchB], …)`, or write them inline, `parallel(…) { Left { start …; … } Right { … } }`",
            ));
        }
        KindSyn::Parallel { branches }
    } else if la.peek(kw::map) {
        kw_ident = input.call(Ident::parse_any)?;
        let mut processor: Option<syn::Path> = None;
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let field_first = content.peek(Ident::peek_any)
                && content.peek2(Token![=])
                && !content.peek2(Token![==]);
            if !content.is_empty() && !field_first {
                processor = Some(content.parse()?);
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
            args = parse_args(&content)?;
        }
        let io = if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            let i: Type = input.parse()?;
            input.parse::<Token![->]>()?;
            let o: Type = input.parse()?;
            Some((i, o))
        } else {
            None
        };
        if input.peek(syn::token::Brace) {
            let content;
            let brace = syn::braced!(content in input);
            // `//! …` at the top documents the item processor (its ASL `Comment`).
            let mut attrs = content.call(Attribute::parse_inner)?;
            for a in &mut attrs {
                a.style = syn::AttrStyle::Outer;
            }
            let body: TokenStream = content.parse()?;
            if let Some(p) = &processor {
                return Err(syn::Error::new_spanned(
                    p,
                    "this `map` has two item processors: the workflow named here and the one written in `{ … }`; keep one",
                ));
            }
            let w = WorkflowSyn {
                attrs,
                vis: Visibility::Inherited,
                name: Ident::new("Item", kw_ident.span()),
                io,
                body,
                brace: brace.span.join(),
                file: None,
                inline: None,
            };
            let w = inline_workflow(owner, &name, w, "Item", kw_ident.span());
            processor = Some(syn::Path::from(w.name.clone()));
            inline.push(w);
        } else if let Some((i, _)) = io {
            return Err(syn::Error::new_spanned(
                i,
                "the types `: Input -> Output` belong to an inline item processor: `map(…): I -> O { start …; … }`",
            ));
        }
        let Some(processor) = processor else {
            return Err(syn::Error::new(
                kw_ident.span(),
                "`map(…)` needs its item processor: name a workflow type first, `map(ItemWorkflow, items_path = $.items)`, or write it inline, `map(items_path = $.items) { start …; … }`",
            ));
        };
        KindSyn::Map { processor }
    } else {
        if let Ok(id) = input.fork().call(Ident::parse_any) {
            let name = id.to_string();
            if let Some(s) = workflow_asl::diag::did_you_mean(&name, kw::KINDS.iter().copied()) {
                return Err(syn::Error::new(
                    id.span(),
                    format!(
                        "unknown state kind `{name}`; did you mean `{s}`? (expected one of: `{}`)",
                        kw::KINDS.join("`, `")
                    ),
                ));
            }
        }
        return Err(la.error());
    };
    let mut retries = Vec::new();
    let mut catches = Vec::new();
    while input.peek(Token![.]) {
        input.parse::<Token![.]>()?;
        let method = input.call(Ident::parse_any)?;
        let content;
        syn::parenthesized!(content in input);
        match method.to_string().as_str() {
            "retry" => {
                let errors = parse_errors(&content)?;
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
                let args = parse_args(&content)?;
                retries.push(RetrySyn { errors, args });
            }
            "catch" => {
                let errors = parse_errors(&content)?;
                content.parse::<Token![=>]>()?;
                let target: Name = content.parse()?;
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
                let args = parse_args(&content)?;
                catches.push(CatchSyn {
                    errors,
                    target,
                    args,
                });
            }
            other => {
                // Skip the arguments: the method name is the mistake.
                let _: TokenStream = content.parse()?;
                let hint = workflow_asl::diag::did_you_mean(other, ["retry", "catch"])
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                cx.error(
                    Range::one(method.span()),
                    format!(
                        "unknown method `.{other}`{hint} (expected `.retry(…)` or `.catch(…)`)"
                    ),
                );
            }
        }
    }
    let (next, arrow) = if input.peek(Token![->]) {
        let a: Token![->] = input.parse()?;
        let arrow = Range::of(&a);
        if input.peek(kw::end) {
            let e: kw::end = input.parse()?;
            (Some(NextSyn::End(Range::one(e.span))), Some(arrow))
        } else {
            (Some(NextSyn::Next(input.parse()?)), Some(arrow))
        }
    } else {
        (None, None)
    };
    if !input.is_empty() {
        return Err(input.error("expected `.retry(…)`, `.catch(…)`, `-> Next`, `-> end` or `;`"));
    }
    Ok(StateSyn {
        doc,
        name,
        kw: kw_ident,
        kind,
        args,
        retries,
        catches,
        next,
        arrow,
    })
}

/// Parses `key = value, …` to the end of `input`.
pub fn parse_args(input: ParseStream) -> syn::Result<Vec<Arg>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![=]>()?;
        let value = json::parse_value(input, true)?;
        out.push(Arg { key, value });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

fn parse_errors(input: ParseStream) -> syn::Result<ErrorList> {
    let content;
    let b = syn::bracketed!(content in input);
    let mut names = Vec::new();
    while !content.is_empty() {
        if content.peek(LitStr) {
            let s: LitStr = content.parse()?;
            names.push((s.value(), Range::one(s.span())));
        } else {
            let first = content.call(Ident::parse_any)?;
            let mut text = first.to_string();
            let mut range = Range::one(first.span());
            while content.peek(Token![.]) {
                content.parse::<Token![.]>()?;
                let id = content.call(Ident::parse_any)?;
                text.push('.');
                text.push_str(&id.to_string());
                range.end = id.span();
            }
            names.push((text, range));
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(ErrorList {
        names,
        range: Range::one(b.span.join()),
    })
}

/// The range of the tokens before the next top-level `=>`.
fn range_before_arrow(input: ParseStream) -> Range {
    let start = input.span();
    let mut end = start;
    let mut c = input.cursor();
    while let Some((tt, next)) = c.token_tree() {
        if let TokenTree::Punct(p) = &tt {
            if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Joint {
                if let Some((q, _)) = next.punct() {
                    if q.as_char() == '>' {
                        break;
                    }
                }
            }
        }
        end = tt.span();
        c = next;
    }
    Range { start, end }
}

fn parse_arm(input: ParseStream) -> syn::Result<ArmSyn> {
    let attrs = input.call(Attribute::parse_outer)?;
    let doc = doc_of(&attrs)?;
    let (rule, rule_range) = if input.peek(Token![_]) {
        let u: Token![_] = input.parse()?;
        (None, Range::one(u.span))
    } else {
        let range = range_before_arrow(input);
        (Some(choice::parse_rule(input)?), range)
    };
    input.parse::<Token![=>]>()?;
    let target: Name = input.parse()?;
    let args = if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        parse_args(&content)?
    } else {
        Vec::new()
    };
    Ok(ArmSyn {
        doc,
        rule,
        rule_range,
        target,
        args,
    })
}
