//! workflow-asl's integration tests, as one test binary (`cargo test -p workflow-asl --test it`).
//! A new test file is a module here, not a file in `tests/`.

mod aws_rules;
mod roundtrip;
