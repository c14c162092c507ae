//! An Activity worker running the `validate` handler of the order workflow
//! (`examples/sequence.rs`) on every task of a Step Functions activity, until SIGTERM.
//!
//! ```text
//! cargo run -p workflow-aws --features activity --example activity_worker -- \
//!     --activity-arn arn:aws:states:us-east-1:123456789012:activity:validate \
//!     --endpoint-url https://states.us-east-1.amazonaws.com \
//!     [--concurrency 4] [--heartbeat-seconds 10]
//! ```
//!
//! Credentials and the region come from the usual AWS environment (`AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a profile, or the instance's role); the region
//! defaults to `us-east-1`.
#[path = "../../examples/sequence.rs"]
#[allow(dead_code)]
mod sequence;

use std::process::ExitCode;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::BehaviorVersion;
use workflow_aws::activity::ActivityWorker;
use workflow_aws::TaskHandlers;

const USAGE: &str = "usage: activity_worker --activity-arn ARN --endpoint-url URL [--concurrency N] [--heartbeat-seconds S]";

struct Args {
    activity_arn: String,
    endpoint_url: String,
    concurrency: usize,
    heartbeat: Duration,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut arn, mut url, mut concurrency, mut heartbeat) = (None, None, 1usize, 10.0f64);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--activity-arn" => arn = Some(value()?),
            "--endpoint-url" => url = Some(value()?),
            "--concurrency" => {
                let v = value()?;
                concurrency = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--concurrency must be a positive integer, not `{v}`")
                })?;
            }
            "--heartbeat-seconds" => {
                let v = value()?;
                heartbeat = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--heartbeat-seconds must be a positive number, not `{v}`")
                    })?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        activity_arn: arn.ok_or("--activity-arn is required")?,
        endpoint_url: url.ok_or("--endpoint-url is required")?,
        concurrency,
        heartbeat: Duration::from_secs_f64(heartbeat),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("activity_worker: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(RegionProviderChain::default_provider().or_else("us-east-1"))
        .endpoint_url(&args.endpoint_url)
        .load()
        .await;
    let handlers = TaskHandlers::new().handler("validate", sequence::validate);
    let worker = match ActivityWorker::new(
        aws_sdk_sfn::Client::new(&config),
        &args.activity_arn,
        &handlers,
        "validate",
    ) {
        Ok(w) => w
            .concurrency(args.concurrency)
            .heartbeat_interval(args.heartbeat),
        Err(e) => {
            eprintln!("activity_worker: {e}");
            return ExitCode::FAILURE;
        }
    };
    match worker.run().await {
        Ok(stats) => {
            eprintln!(
                "activity_worker: stopped after {} succeeded, {} failed, {} abandoned tasks",
                stats.succeeded, stats.failed, stats.abandoned
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("activity_worker: {e}");
            ExitCode::FAILURE
        }
    }
}
