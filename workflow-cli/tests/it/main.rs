//! workflow-cli's integration tests, as one test binary (`cargo test -p workflow-cli --test it`):
//! one link instead of eleven, and the modules that mostly wait on `workflow` processes (crash,
//! jsonata_suite, console, durability) overlap instead of running one binary after another.
//! `cargo test -p workflow-cli --test it crash::` runs one module. They share `support` (the
//! `workflow` binary, temporary directories, a console process, an HTTP client). A new test file
//! is a module here, not a file in `tests/`.

mod support;

mod cli;
mod console;
mod console_browser;
mod crash;
mod durability;
mod export;
mod jsonata_suite;
mod lambda_endpoint;
mod realworld;
mod tasks;
mod test_state;
