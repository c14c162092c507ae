//! The task handlers of the order workflow (`examples/sequence.rs`: `validate`, `price`,
//! `receipt`) as one Lambda `bootstrap`.
//!
//! Each function of the exported template runs it with `WORKFLOW_HANDLER` set to its handler;
//! without it, the function's name (`AWS_LAMBDA_FUNCTION_NAME`) picks the handler. The Runtime
//! API comes from `AWS_LAMBDA_RUNTIME_API`, as for any Lambda:
//!
//! ```text
//! cargo lambda build --release --example lambda_orders -p workflow-aws   # an Amazon Linux bootstrap
//! cargo lambda watch --example lambda_orders -p workflow-aws             # a local Lambda
//! ```
#[path = "../../examples/sequence.rs"]
#[allow(dead_code)]
mod sequence;

use std::process::ExitCode;

use workflow_aws::TaskHandlers;

/// The handlers of the order workflow, by the names `workflow export` gives its functions.
fn handlers() -> TaskHandlers {
    TaskHandlers::new()
        .handler("validate", sequence::validate)
        .handler("price", sequence::price)
        .handler("receipt", sequence::receipt)
}

#[tokio::main]
async fn main() -> ExitCode {
    match workflow_aws::lambda::serve(handlers()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambda_orders: {e}");
            ExitCode::FAILURE
        }
    }
}
