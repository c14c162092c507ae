//! `#[derive(WorkflowData)]`: the JSON shape of a serde type, as the typed-path checks of
//! `workflow!` read it (see the `workflow` crate's `data` module).
//!
//! The field names are serde's: `#[serde(rename = "…")]` (or its `serialize` name),
//! `#[serde(alias = "…")]`, `#[serde(rename_all = "…")]` on the type, `#[serde(skip)]` fields are
//! left out, `#[serde(flatten)]` makes the object open (any other name is accepted) and
//! `#[serde(transparent)]` / a newtype struct has its field's shape. Enums, tuple structs and unit
//! structs have no checked shape.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

/// The expansion of `#[derive(WorkflowData)]`.
pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    match expand(&input) {
        Ok(t) => t,
        Err(e) => e.into_compile_error(),
    }
}

/// The serde attributes this derive reads.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    aliases: Vec<String>,
    skip: bool,
    flatten: bool,
    transparent: bool,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> syn::Result<Serde> {
    let mut out = Serde::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        a.parse_nested_meta(|m| {
            let name = m
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match name.as_str() {
                "rename" | "rename_all" => {
                    // `rename = "x"` or `rename(serialize = "x", deserialize = "y")`.
                    let value = if m.input.peek(syn::Token![=]) {
                        Some(m.value()?.parse::<LitStr>()?.value())
                    } else {
                        let mut v = None;
                        m.parse_nested_meta(|inner| {
                            let s = inner.value()?.parse::<LitStr>()?.value();
                            // The serialize name wins; the deserialize name when it is alone.
                            if inner.path.is_ident("serialize")
                                || (inner.path.is_ident("deserialize") && v.is_none())
                            {
                                v = Some(s);
                            }
                            Ok(())
                        })?;
                        v
                    };
                    if name == "rename" {
                        out.rename = value;
                    } else {
                        out.rename_all = value;
                    }
                }
                "alias" => out.aliases.push(m.value()?.parse::<LitStr>()?.value()),
                "skip" => out.skip = true,
                "flatten" => out.flatten = true,
                "transparent" => out.transparent = true,
                _ => {
                    // Every other serde attribute: skip its value, if any.
                    if m.input.peek(syn::Token![=]) {
                        let _: syn::Expr = m.value()?.parse()?;
                    } else if m.input.peek(syn::token::Paren) {
                        let _content;
                        syn::parenthesized!(_content in m.input);
                        let _: TokenStream = _content.parse()?;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// serde's `rename_all` rules, applied to a Rust field name (snake_case).
fn apply_rename_all(rule: &str, field: &str) -> Option<String> {
    let words: Vec<&str> = field.split('_').filter(|w| !w.is_empty()).collect();
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    Some(match rule {
        "lowercase" => field.to_lowercase(),
        "UPPERCASE" => field.to_uppercase(),
        "PascalCase" => words.iter().map(|w| cap(w)).collect(),
        "camelCase" => {
            let mut s = String::new();
            for (i, w) in words.iter().enumerate() {
                if i == 0 {
                    s.push_str(w);
                } else {
                    s.push_str(&cap(w));
                }
            }
            s
        }
        "snake_case" => field.to_string(),
        "SCREAMING_SNAKE_CASE" => field.to_uppercase(),
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.replace('_', "-").to_uppercase(),
        _ => return None,
    })
}

/// Whether `ty` mentions one of the type's generic parameters.
fn generic(ty: &syn::Type, params: &[String]) -> bool {
    let text = quote!(#ty).to_string();
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| params.iter().any(|p| p == w))
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = quote!(::workflow);
    let d = quote!(#krate::data);
    let name = &input.ident;
    let name_str = name.to_string();
    let container = serde_attrs(&input.attrs)?;
    let params: Vec<String> = input
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    // The shape of a field's type: through its `WorkflowData` impl when it mentions a generic
    // parameter (bounded below), else probed (a type without one is not checked).
    let shape_of = |ty: &syn::Type| {
        if generic(ty, &params) {
            quote_spanned!(ty.span()=> <#ty as #d::WorkflowData>::SHAPE)
        } else {
            quote_spanned!(ty.span()=> {
                #[allow(unused_imports)]
                use #krate::__private::{ViaAny as _, ViaData as _};
                match #krate::__private::shape_of(&|| {
                    (&&#krate::__private::Probe::<#ty>::new()).select()
                }) {
                    ::core::option::Option::Some(s) => s,
                    ::core::option::Option::None => #d::Shape::Any,
                }
            })
        }
    };
    let shape = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) if !container.transparent => {
                let mut fields = Vec::new();
                let mut open = false;
                for f in &named.named {
                    let a = serde_attrs(&f.attrs)?;
                    if a.skip {
                        continue;
                    }
                    if a.flatten {
                        open = true;
                        continue;
                    }
                    let ident = f
                        .ident
                        .as_ref()
                        .map(|i| {
                            let s = i.to_string();
                            s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
                        })
                        .unwrap_or_default();
                    let rust = ident.clone();
                    let json = match (&a.rename, &container.rename_all) {
                        (Some(r), _) => r.clone(),
                        (None, Some(rule)) => match apply_rename_all(rule, &ident) {
                            Some(n) => n,
                            None => {
                                return Err(syn::Error::new_spanned(
                                    name,
                                    format!("unknown `rename_all` rule \"{rule}\""),
                                ))
                            }
                        },
                        (None, None) => ident,
                    };
                    let aliases = &a.aliases;
                    let s = shape_of(&f.ty);
                    fields.push(quote! {
                        #d::Field { name: #json, rust: #rust, aliases: &[#(#aliases),*], shape: &#s }
                    });
                }
                quote!(#d::Shape::Struct { name: #name_str, fields: &[#(#fields),*], open: #open })
            }
            Fields::Named(named) if named.named.len() == 1 => shape_of(&named.named[0].ty),
            Fields::Unnamed(u) if u.unnamed.len() == 1 => shape_of(&u.unnamed[0].ty),
            _ => quote!(#d::Shape::Any),
        },
        Data::Enum(_) | Data::Union(_) => quote!(#d::Shape::Any),
    };
    let mut generics = input.generics.clone();
    for p in generics.type_params_mut() {
        p.bounds.push(syn::parse_quote!(#d::WorkflowData));
    }
    let (impl_g, ty_g, where_g) = generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_g #d::WorkflowData for #name #ty_g #where_g {
            const SHAPE: #d::Shape = #shape;
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn rename_all_rules() {
        for (rule, want) in [
            ("camelCase", "unitPrice"),
            ("PascalCase", "UnitPrice"),
            ("kebab-case", "unit-price"),
            ("SCREAMING_SNAKE_CASE", "UNIT_PRICE"),
            ("lowercase", "unit_price"),
        ] {
            assert_eq!(
                super::apply_rename_all(rule, "unit_price").as_deref(),
                Some(want)
            );
        }
        let out = super::derive(quote::quote! {
            #[serde(rename_all = "camelCase")]
            struct Order { unit_price: f64, #[serde(rename = "type")] kind: String, #[serde(skip)] cache: u8 }
        })
        .to_string();
        assert!(out.contains("\"unitPrice\""), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(!out.contains("\"cache\""), "{out}");
    }
}
