//! Compile-time diagnostics of `workflow!` (trybuild): `tests/ui/<error-class>/<case>.rs` must
//! fail to compile with the checked-in `.stderr`. With no case that must compile and run, trybuild
//! checks (`cargo check`) rather than builds its dependencies; the declarations that must compile
//! are tests of the `workflow` crate (`tests/it/macro_compiles/`).
//!
//! The `.stderr` files were recorded with rustc 1.95 (the toolchain this project is built with);
//! rustc words some messages differently from version to version, so on any other version this
//! test is ignored. Re-record with `TRYBUILD=overwrite cargo test -p workflow-ui-tests --test compiletest`.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files were recorded with rustc 1.95"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
