//! The `workflow` crate's integration tests, as one test binary (`cargo test --test it`): one
//! link instead of eight, and the slow conformance groups run beside the rest instead of one
//! binary after another. Each module was a test target of its own; `cargo test --test it
//! macro_equivalence::` runs one of them. A new test file is a module here, not a file in `tests/`.

mod common {
    //! What several modules share.
    pub mod conformance;
}

mod conformance_distributed_map;
mod conformance_executions;
mod conformance_lambda;
mod conformance_test_state;
mod conformance_validator;
mod macro_asl;
mod macro_compiles;
mod macro_equivalence;
mod test_state_route;
