//! `workflow`: the command line of the `workflow` project.
//!
//! Each subcommand lives in its own module under [`cmd`] with an `Args` struct (clap) and a
//! `run` function that writes to the given output streams and returns the process exit code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cmd;
mod console;
mod svg;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Validate, format and draw AWS Step Functions state machines (Amazon States Language).
#[derive(Debug, Parser)]
#[command(name = "workflow", version, about, propagate_version = true)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Check definitions against every rule AWS enforces when creating a state machine.
    ///
    /// Exit status: 0 when every file is valid, 1 when any is invalid, 2 when a file cannot be
    /// read or is not JSON.
    Validate(cmd::validate::Args),
    /// Print a definition in canonical form (field order, two-space indentation).
    Fmt(cmd::fmt::Args),
    /// Draw a definition as a Mermaid flowchart, a Graphviz DOT graph or an SVG picture.
    Graph(cmd::graph::Args),
    /// Run a definition locally and print its outcome (and, with `--history`, its events).
    ///
    /// Exit status: 0 SUCCEEDED, 1 FAILED, 2 unusable arguments or an invalid definition,
    /// 3 TIMED_OUT, 4 ABORTED; with `--store`: 5 the store failed (the execution stays RUNNING
    /// and `workflow resume` continues it), 6 another live process owns the execution.
    Run(cmd::run::Args),
    /// Continue the executions of a store that were interrupted (their process died), replaying
    /// their histories: recorded task results are not produced again.
    ///
    /// Exit status as `run --store` (0 SUCCEEDED, 1 FAILED, 2 bad usage, 3 TIMED_OUT, 4 ABORTED,
    /// 5 the store failed, 6 owned by another live process); with several executions, the
    /// highest.
    Resume(cmd::resume::Args),
    /// List the executions of a store.
    List(cmd::list::Args),
    /// Show one execution of a store: status, input, output, error and cause.
    Describe(cmd::describe::Args),
    /// Show an execution's event history (a table, or AWS's JSON with `--format json`).
    History(cmd::history::Args),
    /// Stop a running execution of a store (records `ExecutionAborted`).
    Stop(cmd::stop::Args),
    /// Evaluate one JSONata expression (JSONata 2.0.6 with Step Functions' functions).
    ///
    /// Exit status: 0 for a result (or undefined), 1 for an evaluation error, 2 for unusable
    /// arguments.
    Eval(cmd::eval::Args),
    /// Print a CloudFormation or SAM template that deploys a definition: the state machine, a
    /// Lambda function per Lambda placeholder, its Activities and a least-privilege role.
    ///
    /// Exit status: 0 when printed, 1 for an invalid definition, 2 for unusable arguments or an
    /// unreadable file.
    Export(cmd::export::Args),
    /// Check a store for damage (SQLite's integrity check and every event's checksum).
    ///
    /// Exit status: 0 when the store is intact, 1 when it is damaged, 2 when it cannot be read.
    Check(cmd::check::Args),
    /// Run one state as AWS's TestState API does and print its response (status, output, error,
    /// cause, nextState, inspectionData).
    ///
    /// Exit status: 0 when the response is printed (the state's status is in it), 2 for unusable
    /// arguments (unreadable file, text that is not JSON, an invalid state, an unknown --state).
    TestState(cmd::test_state::Args),
    /// Serve a local web console over a store: executions, coloured graphs, states, events.
    Console(console::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = match cli.command {
        Command::Validate(args) => cmd::validate::run(&args, &mut out, &mut err),
        Command::Fmt(args) => cmd::fmt::run(&args, &mut out, &mut err),
        Command::Graph(args) => cmd::graph::run(&args, &mut out, &mut err),
        Command::Run(args) => cmd::run::run(&args, &mut out, &mut err),
        Command::Resume(args) => cmd::resume::run(&args, &mut out, &mut err),
        Command::List(args) => cmd::list::run(&args, &mut out, &mut err),
        Command::Describe(args) => cmd::describe::run(&args, &mut out, &mut err),
        Command::History(args) => cmd::history::run(&args, &mut out, &mut err),
        Command::Stop(args) => cmd::stop::run(&args, &mut out, &mut err),
        Command::Eval(args) => cmd::eval::run(&args, &mut out, &mut err),
        Command::Export(args) => cmd::export::run(&args, &mut out, &mut err),
        Command::Check(args) => cmd::check::run(&args, &mut out, &mut err),
        Command::TestState(args) => cmd::test_state::run(&args, &mut out, &mut err),
        Command::Console(args) => console::run(&args, &mut out, &mut err),
    };
    // A closed pipe (`workflow validate … | head`) is not an error worth reporting.
    let _ = out.flush();
    ExitCode::from(code)
}
