//! workflow-runtime's integration tests, as one test binary (`cargo test -p workflow-runtime
//! --test it`): one link instead of ten, and the slow modules (fuzz, durable_store) run beside the
//! rest. `cargo test -p workflow-runtime --test it durable_resume::` runs one module. A new test
//! file is a module here, not a file in `tests/`.

mod aws_details;
mod bad_input;
mod callbacks;
mod distributed_map;
mod durable_resume;
mod durable_store;
mod executor;
mod fuzz;
mod lambda_invoke;
mod limits;
mod map_run_resume;
