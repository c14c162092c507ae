//! Compile-time diagnostics of the `workflow!` macro, tested with trybuild in `tests/`:
//! `tests/ui/<error-class>/<case>.rs` must fail to compile with the checked-in `.stderr`. This
//! crate has no code of its own; it exists so that trybuild's separate build compiles only what the
//! cases use (see `Cargo.toml`). Declarations that must compile and run are tests of the
//! `workflow` crate (`tests/it/macro_compiles/`): a trybuild `pass` case would make trybuild build
//! every dependency instead of checking it.
#![forbid(unsafe_code)]
