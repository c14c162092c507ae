//! Phase 3: code generation. Expansion cannot fail: every user error was reported before.
//!
//! For `pub OrderFlow: Order -> Receipt { … }` it emits
//! - `pub struct OrderFlow;` (with the doc comments),
//! - `pub enum OrderFlowState { … }`, one variant per state,
//! - in a `const _: () = { … };` block: `impl Workflow for OrderFlow` (the ASL text, the model,
//!   handler registration) and the compile-time type checks of the handlers and of the typed
//!   edges (see [`machine`]), and the typed state machine that runs it (see [`driver`]).

pub mod asl;
pub mod driver;
pub mod machine;
pub mod paths;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use workflow_asl::StateMachine;

use crate::lower::Lowered;
use crate::parse::WorkflowSyn;

/// The path of the facade crate (`::workflow`, or `#[workflow(crate = "…")]`).
pub fn krate(l: &Lowered) -> TokenStream {
    match &l.crate_path {
        Some(p) => quote!(#p),
        None => quote!(::workflow),
    }
}

/// The generated state enum's name.
pub fn state_enum(w: &WorkflowSyn) -> Ident {
    format_ident!("{}State", w.name)
}

/// The variant for the `i`-th state: its identifier, or `State{i}` for a name that is not one.
pub fn variant(l: &Lowered, i: usize) -> Ident {
    let n = &l.states[i];
    match &n.ident {
        Some(id) => id.clone(),
        None => Ident::new(&format!("State{i}"), n.range.start),
    }
}

/// The items every expansion has, in the success and the error case alike: the struct, the state
/// enum and its impl, and the handler type checks.
pub fn items(w: &WorkflowSyn, l: &Lowered) -> (TokenStream, TokenStream) {
    let krate = krate(l);
    let name = &w.name;
    let vis = &w.vis;
    let docs = w.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let origin = w.inline.as_ref().map(|d| quote!(#[doc = #d]));
    let se = state_enum(w);
    let variants: Vec<Ident> = (0..l.states.len()).map(|i| variant(l, i)).collect();
    let names: Vec<&str> = l.states.iter().map(|n| n.text.as_str()).collect();
    let variant_docs = names.iter().map(|n| format!("The state `{n}`."));
    let enum_doc = format!("The states of [`{name}`], in the order they are declared.");
    let public = quote! {
        #(#docs)*
        #origin
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        #vis struct #name;

        #[doc = #enum_doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #vis enum #se {
            #(#[doc = #variant_docs] #variants,)*
        }
    };
    let start = l
        .value
        .get("StartAt")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| l.states.iter().position(|n| n.text == s))
        .map(|i| &variants[i]);
    let start = match start {
        Some(v) => quote!(::core::option::Option::Some(#se::#v)),
        None => quote!(::core::option::Option::None),
    };
    let successors = machine::successors(l).into_iter().map(|targets| {
        let targets = targets.into_iter().map(|i| &variants[i]);
        quote!(&[#(#se::#targets),*])
    });
    let state_impl = quote! {
        #[automatically_derived]
        impl #krate::WorkflowState for #se {
            const ALL: &'static [Self] = &[#(#se::#variants),*];
            fn name(self) -> &'static str {
                match self {
                    #(#se::#variants => #names,)*
                }
            }
            fn start() -> ::core::option::Option<Self> {
                #start
            }
            fn successors(self) -> &'static [Self] {
                match self {
                    #(#se::#variants => #successors,)*
                }
            }
        }
    };
    (public, state_impl)
}

/// The `Input`/`Output` types.
fn io(w: &WorkflowSyn, krate: &TokenStream) -> (TokenStream, TokenStream) {
    match &w.io {
        Some((i, o)) => (quote!(#i), quote!(#o)),
        None => (
            quote!(#krate::__private::Value),
            quote!(#krate::__private::Value),
        ),
    }
}

/// The full expansion of a checked workflow.
pub fn workflow(w: &WorkflowSyn, l: &Lowered, model: &StateMachine) -> TokenStream {
    let krate = krate(l);
    let name = &w.name;
    let name_str = name.to_string();
    let (public, shared) = items(w, l);
    let se = state_enum(w);
    let (input, output) = io(w, &krate);
    let value = workflow_asl::emit::machine_to_value(model);
    let text = asl::compact(&value);
    let asl_tokens = asl::tokens(&asl::parts(&text, &l.externals), &krate);
    let (head, tail) = match asl::branch_split(&value) {
        Ok((h, t)) => (
            asl::tokens(&asl::parts(&h, &l.externals), &krate),
            asl::tokens(&asl::parts(&t, &l.externals), &krate),
        ),
        Err(field) => {
            let msg = format!(
                "workflow `{name}` sets `{field}`, which a Parallel branch or Map item processor cannot have"
            );
            let p = quote!(::core::panic!(#msg));
            (p.clone(), p)
        }
    };
    let register = machine::register(w, l, &krate);
    let (drive, scope) = driver::driver(w, l, &krate);
    let typed_paths = paths::checks(w, l, &krate);
    // Rebuild when the file changes.
    let tracked = l.file.as_ref().map(|(_, full)| {
        quote!(
            const _: &str = ::core::include_str!(#full);
        )
    });
    quote! {
        #public
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::all, clippy::pedantic)]
        const _: () = {
            #tracked
            #shared
            #drive
            #typed_paths
            #[automatically_derived]
            impl #krate::Workflow for #name {
                type Input = #input;
                type Output = #output;
                type State = #se;
                const NAME: &'static str = #name_str;
                const ASL: &'static str = #asl_tokens;
                const __BRANCH_HEAD: &'static str = #head;
                const __BRANCH_TAIL: &'static str = #tail;
                fn model() -> &'static #krate::asl::StateMachine {
                    static __MODEL: #krate::__private::OnceLock<#krate::asl::StateMachine> =
                        #krate::__private::OnceLock::new();
                    __MODEL.get_or_init(|| #krate::__private::parse_model(<Self as #krate::Workflow>::ASL))
                }
                fn program() -> ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError> {
                    static __PROGRAM: #krate::__private::OnceLock<
                        ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError>,
                    > = #krate::__private::OnceLock::new();
                    __PROGRAM
                        .get_or_init(|| #krate::Program::compile(<Self as #krate::Workflow>::model()))
                        .clone()
                }
                fn driven_program() -> ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError> {
                    static __DRIVEN: #krate::__private::OnceLock<
                        ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError>,
                    > = #krate::__private::OnceLock::new();
                    __DRIVEN
                        .get_or_init(|| {
                            #krate::Program::compile_driven(
                                <Self as #krate::Workflow>::model(),
                                &<Self as #krate::Workflow>::__driver(),
                            )
                        })
                        .clone()
                }
                fn __driver() -> #krate::__private::ScopeDriver {
                    #scope
                }
                #register
            }
        };
    }
}

/// The expansion after errors: the same public items, so code that names the workflow still
/// compiles and no error cascades, with bodies that are never run (the build fails).
pub fn fallback(w: &WorkflowSyn, l: &Lowered) -> TokenStream {
    let krate = krate(l);
    let name = &w.name;
    let name_str = name.to_string();
    let (public, shared) = items(w, l);
    let se = state_enum(w);
    let (input, output) = io(w, &krate);
    let register = machine::register(w, l, &krate);
    let stub = quote_spanned!(Span::call_site()=> ::core::unreachable!("`workflow!` reported errors for this workflow"));
    quote! {
        #public
        #[doc(hidden)]
        #[allow(non_snake_case, unused, clippy::all, clippy::pedantic)]
        const _: () = {
            #shared
            #[automatically_derived]
            impl #krate::Workflow for #name {
                type Input = #input;
                type Output = #output;
                type State = #se;
                const NAME: &'static str = #name_str;
                const ASL: &'static str = "{}";
                const __BRANCH_HEAD: &'static str = "{";
                const __BRANCH_TAIL: &'static str = "}";
                fn model() -> &'static #krate::asl::StateMachine { #stub }
                fn program() -> ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError> { #stub }
                fn driven_program() -> ::core::result::Result<#krate::__private::Arc<#krate::Program>, #krate::CompileError> { #stub }
                fn __driver() -> #krate::__private::ScopeDriver { #stub }
                #register
            }
        };
    }
}
