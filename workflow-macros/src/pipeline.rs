//! The whole `workflow!` pipeline (parse → lower → check → expand) on `proc_macro2` tokens, so it
//! runs outside a compiler too (the unit tests and `benches/expand.rs` call it).

/// The whole pipeline on `proc_macro2` tokens (testable outside a compiler).
pub fn expand_workflow(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let input: crate::parse::Input = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.into_compile_error(),
    };
    let cx = crate::ctxt::Ctxt::new();
    let (workflows, bodies) = crate::parse::parse_all(&cx, input.workflows);
    let lowered = crate::lower::lower_all(&cx, &workflows, &bodies);
    let mut out = proc_macro2::TokenStream::new();
    let mut models = Vec::new();
    for l in &lowered {
        models.push(crate::check::check(&cx, l));
    }
    let failed = cx.count() > 0;
    for ((w, l), m) in workflows.iter().zip(&lowered).zip(&models) {
        match m {
            Some(m) if !failed => out.extend(crate::expand::workflow(w, l, m)),
            _ => out.extend(crate::expand::fallback(w, l)),
        }
    }
    if let Err(e) = cx.check() {
        out.extend(e.into_compile_error());
    }
    out
}
