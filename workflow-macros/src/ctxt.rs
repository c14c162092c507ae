//! The error collector shared by every phase (serde_derive's `Ctxt`): errors are recorded, never
//! returned early, and dropping a `Ctxt` without calling [`Ctxt::check`] panics, so no error can be
//! lost.

use std::cell::RefCell;

use proc_macro2::{Ident, Span, TokenStream};
use quote::ToTokens;

/// A source range: the first and last token of a DSL construct. Stable proc macros cannot join
/// spans, but `syn::Error::new_spanned` over two tokens with these spans covers the whole range.
#[derive(Clone, Copy)]
pub struct Range {
    /// The first token.
    pub start: Span,
    /// The last token.
    pub end: Span,
}

impl Range {
    /// A range of one token.
    pub fn one(span: Span) -> Self {
        Range {
            start: span,
            end: span,
        }
    }

    /// The range from the first to the last token of `tokens` (call site when empty).
    pub fn of(tokens: &impl ToTokens) -> Self {
        let mut iter = tokens.to_token_stream().into_iter();
        let start = iter.next().map_or_else(Span::call_site, |t| t.span());
        let end = iter.last().map_or(start, |t| t.span());
        Range { start, end }
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: Range) -> Self {
        Range {
            start: self.start,
            end: other.end,
        }
    }

    /// An error covering this range.
    pub fn error(self, msg: impl std::fmt::Display) -> syn::Error {
        let mut ts = TokenStream::new();
        Ident::new("a", self.start).to_tokens(&mut ts);
        Ident::new("b", self.end).to_tokens(&mut ts);
        syn::Error::new_spanned(ts, msg)
    }
}

/// Collects the errors of one macro invocation.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// A collector with no errors.
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error over a range.
    pub fn error(&self, at: Range, msg: impl std::fmt::Display) {
        self.syn_error(at.error(msg));
    }

    /// Records an error over the tokens of `obj`.
    pub fn error_spanned_by(&self, obj: &impl ToTokens, msg: impl std::fmt::Display) {
        self.syn_error(syn::Error::new_spanned(obj.to_token_stream(), msg));
    }

    /// Records a parse error.
    pub fn syn_error(&self, err: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt::check is called once, after every error was recorded")
            .push(err);
    }

    /// How many errors were recorded so far.
    pub fn count(&self) -> usize {
        self.errors.borrow().as_ref().map_or(0, Vec::len)
    }

    /// Consumes the collector: `Ok` when no error was recorded, else every error combined.
    pub fn check(self) -> syn::Result<()> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("Ctxt::check is called once");
        let mut iter = errors.into_iter();
        let Some(mut first) = iter.next() else {
            return Ok(());
        };
        for e in iter {
            first.combine(e);
        }
        Err(first)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
