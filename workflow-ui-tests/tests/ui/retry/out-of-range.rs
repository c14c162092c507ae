use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = task(resource = "arn:aws:states:::lambda:invoke")
            .retry(
                [States.TaskFailed],
                interval_seconds = 0,
                max_attempts = -1,
                backoff_rate = 0.5,
                max_delay_seconds = 0,
                jitter_strategy = SOME,
            )
            -> end;
    }
}

fn main() {}
