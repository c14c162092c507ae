//! Runs every recorded AWS execution in `localstack/executions/` (no Task states: Pass, Choice,
//! Wait, Succeed, Fail, Parallel, Map, intrinsics, Retry/Catch on `States.*` errors) on the
//! runtime, on tokio's paused clock, and compares status, output, error, cause and the history's
//! event types with what AWS recorded. Cases marked "placeholder" are compared modulo LocalStack's
//! snapshot placeholders. A case may fail only if `tests/conformance/known_failures.txt` lists it
//! with a reason, and nothing listed there may pass. See `tests/it/common/conformance.rs`.

use crate::common::conformance;

use conformance::{run_group, KnownFailures};
use workflow::runtime::Runtime;

#[test]
fn executions_match_aws() {
    let known = KnownFailures::load().unwrap_or_else(|e| panic!("{e}"));
    let Some(run) = run_group("executions", &|_case| Runtime::builder()) else {
        return;
    };
    run.report_and_check(&known);
}
