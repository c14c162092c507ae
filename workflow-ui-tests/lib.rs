//! Compile-time diagnostics of the `workflow!` macro, tested with trybuild in `tests/`:
//! `tests/ui/<error-class>/<case>.rs` must fail to compile with the checked-in `.stderr`, and
//! `tests/pass/*.rs` must compile and run. This crate has no code of its own; it exists so that
//! trybuild's separate build compiles only what the cases use (see `Cargo.toml`).
#![forbid(unsafe_code)]
