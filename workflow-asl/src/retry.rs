//! Retry and Catch decisions: which retrier or catcher handles an error, and how long to wait
//! before the next attempt.
//!
//! Everything here is pure: the executor keeps a [`RetryState`] per state execution, asks
//! [`decide`] what to do with each failure (passing its own source of randomness for
//! `JitterStrategy: FULL`), and falls back to [`find_catcher`] when the answer is
//! [`RetryDecision::GiveUp`].
//!
//! Error-name matching ([`error_matches`]), as AWS does it:
//!
//! * `States.Runtime` is never retried or caught, not even when named explicitly (AWS docs: "A
//!   States.Runtime error isn't retriable, and will always cause the execution to fail";
//!   AWS-recorded `test_catch_states_runtime`: a catcher on `["States.Runtime"]` does not catch an
//!   `OutputPath` failure).
//! * `States.ALL` matches every other error, including `States.DataLimitExceeded` raised by a Task
//!   (AWS-recorded `test_*_catch_state_all_data_limit_exceeded_*`: a lone `States.ALL` catcher
//!   catches it). A `States.DataLimitExceeded` raised for a state's own output is terminal
//!   because of where it happens, which is the executor's business, not a matter of names.
//! * `States.TaskFailed` matches every error except `States.Timeout` (AWS docs: "acts as a
//!   wildcard that matches any known error name except for States.Timeout").
//! * Any other name matches only itself, case-sensitively (`State.ALL` is an ordinary name).
//!
//! Retry policy (AWS docs and the ASL specification): the first retrier whose `ErrorEquals`
//! matches decides; later retriers are not consulted even when it is exhausted. Each retrier
//! counts its own retries across the whole state execution, whichever of its error names
//! occurred. The n-th retry by a retrier (n = 1, 2, …) waits
//! `IntervalSeconds × BackoffRate^(n−1)`, capped at `MaxDelaySeconds`; with `JitterStrategy:
//! FULL` the wait is a uniformly random fraction of that capped value (AWS CDK docs: "a random
//! number between 0 and the computed backoff for the given retry attempt count").
//! `MaxAttempts: 0` means the matching errors are never retried.

use std::time::Duration;

use crate::error::names;
use crate::model::{Catcher, Retrier};

/// Whether an error name is matched by an `ErrorEquals` list (see the module docs).
///
/// ```
/// use workflow_asl::retry::error_matches;
///
/// let all = ["States.ALL".to_string()];
/// assert!(error_matches(&all, "MyError"));
/// assert!(!error_matches(&all, "States.Runtime")); // never caught by States.ALL
/// assert!(error_matches(&["States.TaskFailed".to_string()], "MyError"));
/// ```
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    if error == names::RUNTIME {
        return false;
    }
    error_equals.iter().any(|name| match name.as_str() {
        names::ALL => true,
        names::TASK_FAILED => error != names::TIMEOUT,
        other => other == error,
    })
}

/// The index of the first retrier whose `ErrorEquals` matches the error.
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use workflow_asl::retry::find_retrier;
///
/// assert_eq!(find_retrier(retriers, "Throttled"), Some(0));
/// assert_eq!(find_retrier(retriers, "Other"), Some(1));
/// ```
pub fn find_retrier(retriers: &[Retrier], error: &str) -> Option<usize> {
    retriers
        .iter()
        .position(|r| error_matches(&r.error_equals, error))
}

/// The index of the first catcher whose `ErrorEquals` matches the error.
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use workflow_asl::retry::find_catcher;
///
/// assert_eq!(find_catcher(catchers, "Fatal"), Some(0));
/// assert_eq!(find_catcher(catchers, "States.Runtime"), None);
/// ```
pub fn find_catcher(catchers: &[Catcher], error: &str) -> Option<usize> {
    catchers
        .iter()
        .position(|c| error_matches(&c.error_equals, error))
}

/// The longest wait [`decide`] returns: 366 days. A Standard execution cannot run longer than a
/// year, so a longer wait (an uncapped backoff can overflow) behaves the same way.
pub const MAX_DELAY: Duration = Duration::from_secs(366 * 24 * 3600);

/// The retries already made in one state execution, per retrier.
///
/// `retries[i]` is how many times retrier `i` has retried (not counting the first attempt). The
/// executor starts a fresh state for every entry into the state and can rebuild it from history
/// by replaying each recorded retry through [`RetryState::record`] with the retrier index that
/// [`decide`] reported. An empty vector is a valid initial state: it grows on demand.
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use workflow_asl::retry::{decide, RetryDecision, RetryState};
///
/// let mut state = RetryState::new();
/// // `Throttled`: 2 s, then 2 × 3 = 6 s, then give up (MaxAttempts 2).
/// let delays: Vec<_> = (0..3)
///     .map(|_| match decide(retriers, &mut state, "Throttled", || 0.0) {
///         RetryDecision::Retry { delay, .. } => Some(delay.as_secs()),
///         RetryDecision::GiveUp => None,
///     })
///     .collect();
/// assert_eq!(delays, [Some(2), Some(6), None]);
/// assert_eq!((state.retries_by(0), state.total()), (2, 2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RetryState {
    /// Retries made so far, indexed by retrier.
    pub retries: Vec<u32>,
}

impl RetryState {
    /// A state with no retries yet.
    ///
    /// ```
    /// let state = workflow_asl::retry::RetryState::new();
    /// assert_eq!(state.total(), 0);
    /// ```
    pub fn new() -> Self {
        RetryState::default()
    }

    /// How many times retrier `index` has retried.
    ///
    /// ```
    /// let mut state = workflow_asl::retry::RetryState::new();
    /// state.record(1);
    /// assert_eq!((state.retries_by(0), state.retries_by(1)), (0, 1));
    /// ```
    pub fn retries_by(&self, index: usize) -> u32 {
        self.retries.get(index).copied().unwrap_or(0)
    }

    /// Records one retry by retrier `index`.
    ///
    /// ```
    /// // Rebuilding the state of a resumed execution from its recorded retries.
    /// let mut state = workflow_asl::retry::RetryState::new();
    /// for retrier in [0, 0, 2] {
    ///     state.record(retrier);
    /// }
    /// assert_eq!(state.total(), 3);
    /// ```
    pub fn record(&mut self, index: usize) {
        if self.retries.len() <= index {
            self.retries.resize(index + 1, 0);
        }
        if let Some(count) = self.retries.get_mut(index) {
            *count = count.saturating_add(1);
        }
    }

    /// Retries by all retriers together (`$$.State.RetryCount`).
    ///
    /// ```
    /// let mut state = workflow_asl::retry::RetryState::new();
    /// state.record(0);
    /// state.record(3);
    /// assert_eq!(state.total(), 2); // `$$.State.RetryCount`
    /// ```
    pub fn total(&self) -> u32 {
        self.retries
            .iter()
            .fold(0u32, |sum, &n| sum.saturating_add(n))
    }
}

/// What to do after a failed attempt.
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use std::time::Duration;
/// use workflow_asl::retry::{decide, RetryDecision, RetryState};
///
/// let mut state = RetryState::new();
/// assert_eq!(
///     decide(retriers, &mut state, "Boom", || 0.5),
///     RetryDecision::Retry { delay: Duration::from_secs(1), retrier: 1, attempt: 1 }
/// );
/// assert_eq!(decide(retriers, &mut state, "Boom", || 0.5), RetryDecision::GiveUp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `delay`, then run the state again.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The index of the retrier that matched.
        retrier: usize,
        /// Which retry of that retrier this is: 1 for its first retry.
        attempt: u32,
    },
    /// No retrier matched, or the matching one has no attempts left: the error goes to `Catch`.
    GiveUp,
}

/// The wait before the `attempt`-th retry (1-based) by `retrier`, before jitter:
/// `IntervalSeconds × BackoffRate^(attempt−1)`, capped at `MaxDelaySeconds`, in seconds.
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use workflow_asl::retry::backoff_seconds;
///
/// assert_eq!(backoff_seconds(&retriers[0], 1), 2.0);
/// assert_eq!(backoff_seconds(&retriers[0], 2), 6.0);
/// assert_eq!(backoff_seconds(&retriers[1], 1), 1.0); // the default IntervalSeconds
/// ```
pub fn backoff_seconds(retrier: &Retrier, attempt: u32) -> f64 {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let delay = retrier.interval() * retrier.backoff().powi(exponent);
    match retrier.max_delay() {
        Some(cap) if delay > cap => cap,
        _ => delay,
    }
}

/// Converts seconds to a [`Duration`], treating NaN and negatives as zero and saturating at
/// [`MAX_DELAY`].
fn to_duration(seconds: f64) -> Duration {
    if seconds.is_nan() || seconds <= 0.0 {
        return Duration::ZERO;
    }
    if seconds >= MAX_DELAY.as_secs_f64() {
        return MAX_DELAY;
    }
    Duration::try_from_secs_f64(seconds).map_or(MAX_DELAY, |d| d.min(MAX_DELAY))
}

/// Decides whether to retry after `error`, and records the retry in `state` when it does.
///
/// `rng_unit` must return a uniformly distributed number in `[0, 1)`; it is called only for a
/// retry by a retrier with `JitterStrategy: FULL` (values outside `[0, 1]` are clamped).
///
/// ```
/// # use workflow_asl::model::StateKind;
/// # let machine = workflow_asl::load(r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
/// #   "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 3}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
/// #   "Catch": [{"ErrorEquals": ["Fatal"], "Next": "F"}, {"ErrorEquals": ["States.ALL"], "Next": "F"}], "End": true},
/// #   "F": {"Type": "Fail"}}}"#).expect("valid");
/// # let StateKind::Task(task) = &machine.states["T"].kind else { unreachable!() };
/// # let (retriers, catchers) = (&task.errors.retry, &task.errors.catch);
/// use workflow_asl::retry::{decide, RetryDecision, RetryState};
///
/// let mut state = RetryState::new();
/// let first = decide(retriers, &mut state, "Throttled", || 0.0);
/// assert!(matches!(first, RetryDecision::Retry { retrier: 0, attempt: 1, .. }));
/// // States.Runtime is never retried.
/// assert_eq!(decide(retriers, &mut state, "States.Runtime", || 0.0), RetryDecision::GiveUp);
/// ```
pub fn decide(
    retriers: &[Retrier],
    state: &mut RetryState,
    error: &str,
    mut rng_unit: impl FnMut() -> f64,
) -> RetryDecision {
    let Some(index) = find_retrier(retriers, error) else {
        return RetryDecision::GiveUp;
    };
    let Some(retrier) = retriers.get(index) else {
        return RetryDecision::GiveUp;
    };
    let done = state.retries_by(index);
    if u64::from(done) >= retrier.attempts() {
        return RetryDecision::GiveUp;
    }
    let attempt = done.saturating_add(1);
    let mut seconds = backoff_seconds(retrier, attempt);
    if retrier.full_jitter() {
        let unit = rng_unit();
        let unit = if unit.is_nan() {
            0.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        seconds *= unit;
    }
    state.record(index);
    RetryDecision::Retry {
        delay: to_duration(seconds),
        retrier: index,
        attempt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Number;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn retrier(errors: &[&str]) -> Retrier {
        Retrier {
            error_equals: names(errors),
            ..Retrier::default()
        }
    }

    fn num(text: &str) -> Option<Number> {
        Some(serde_json::from_str(text).expect("a JSON number"))
    }

    #[test]
    fn error_matching_table() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&["States.ALL"], "MyError", true),
            (&["States.ALL"], "States.Timeout", true),
            (&["States.ALL"], "States.TaskFailed", true),
            (&["States.ALL"], "States.DataLimitExceeded", true),
            (&["States.ALL"], "States.HeartbeatTimeout", true),
            (&["States.ALL"], "States.Runtime", false),
            (&["States.Runtime"], "States.Runtime", false),
            (&["States.TaskFailed"], "MyError", true),
            (&["States.TaskFailed"], "Lambda.Unknown", true),
            (&["States.TaskFailed"], "States.TaskFailed", true),
            (&["States.TaskFailed"], "States.Permissions", true),
            (&["States.TaskFailed"], "States.HeartbeatTimeout", true),
            (&["States.TaskFailed"], "States.Timeout", false),
            (&["States.TaskFailed"], "States.Runtime", false),
            (
                &["States.TaskFailed", "States.Timeout"],
                "States.Timeout",
                true,
            ),
            (&["States.Timeout"], "States.Timeout", true),
            (&["States.Timeout"], "States.HeartbeatTimeout", false),
            (&["MyError"], "MyError", true),
            (&["MyError"], "myerror", false),
            (&["MyError"], "MyError2", false),
            (&["ErrorA", "ErrorB"], "ErrorB", true),
            (&["State.ALL"], "HandleItemFailError", false),
            (&["states.all"], "MyError", false),
            (&[], "MyError", false),
        ];
        for (list, error, expected) in cases {
            assert_eq!(
                error_matches(&names(list), error),
                *expected,
                "{list:?} vs {error}"
            );
        }
    }

    #[test]
    fn first_matching_catcher_wins() {
        let catchers = vec![
            Catcher {
                error_equals: names(&["ErrorA"]),
                ..Catcher::default()
            },
            Catcher {
                error_equals: names(&["States.TaskFailed"]),
                ..Catcher::default()
            },
            Catcher {
                error_equals: names(&["States.ALL"]),
                ..Catcher::default()
            },
        ];
        assert_eq!(find_catcher(&catchers, "ErrorA"), Some(0));
        assert_eq!(find_catcher(&catchers, "ErrorB"), Some(1));
        assert_eq!(find_catcher(&catchers, "States.Timeout"), Some(2));
        assert_eq!(find_catcher(&catchers, "States.Runtime"), None);
        assert_eq!(find_catcher(&[], "ErrorA"), None);
    }

    /// Runs `decide` for each error in turn (fixed rng) and collects the decisions.
    fn run(retriers: &[Retrier], errors: &[&str], rng: f64) -> Vec<RetryDecision> {
        let mut state = RetryState::new();
        errors
            .iter()
            .map(|e| decide(retriers, &mut state, e, || rng))
            .collect()
    }

    fn retry(secs: f64, retrier: usize, attempt: u32) -> RetryDecision {
        RetryDecision::Retry {
            delay: Duration::from_secs_f64(secs),
            retrier,
            attempt,
        }
    }

    #[test]
    fn defaults_are_interval_1_backoff_2_three_attempts() {
        let r = vec![retrier(&["States.ALL"])];
        let got = run(&r, &["E", "E", "E", "E"], 0.5);
        assert_eq!(
            got,
            vec![
                retry(1.0, 0, 1),
                retry(2.0, 0, 2),
                retry(4.0, 0, 3),
                RetryDecision::GiveUp
            ]
        );
    }

    #[test]
    fn aws_docs_complex_retry_scenario() {
        // AWS docs: errors ErrorA, ErrorB, ErrorC, ErrorB with the retriers below wait 1, 2, 5
        // seconds and then give up (the first retrier has used its two attempts).
        let mut first = retrier(&["ErrorA", "ErrorB"]);
        first.interval_seconds = num("1");
        first.backoff_rate = num("2.0");
        first.max_attempts = num("2");
        let mut second = retrier(&["ErrorC"]);
        second.interval_seconds = num("5");
        let got = run(
            &[first, second],
            &["ErrorA", "ErrorB", "ErrorC", "ErrorB"],
            0.0,
        );
        assert_eq!(
            got,
            vec![
                retry(1.0, 0, 1),
                retry(2.0, 0, 2),
                retry(5.0, 1, 1),
                RetryDecision::GiveUp
            ]
        );
    }

    #[test]
    fn backoff_rate_and_fractional_delays() {
        // AWS docs: IntervalSeconds 3, MaxAttempts 2, BackoffRate 1.5 waits 3 and 4.5 seconds.
        let mut r = retrier(&["States.Timeout"]);
        r.interval_seconds = num("3");
        r.max_attempts = num("2");
        r.backoff_rate = num("1.5");
        let got = run(&[r], &["States.Timeout"; 3], 0.0);
        assert_eq!(
            got,
            vec![retry(3.0, 0, 1), retry(4.5, 0, 2), RetryDecision::GiveUp]
        );
    }

    #[test]
    fn max_delay_caps_the_backoff() {
        let mut r = retrier(&["States.ALL"]);
        r.interval_seconds = num("3");
        r.max_attempts = num("4");
        r.backoff_rate = num("2");
        r.max_delay_seconds = num("5");
        let got = run(&[r.clone()], &["E"; 5], 0.0);
        assert_eq!(
            got,
            vec![
                retry(3.0, 0, 1),
                retry(5.0, 0, 2),
                retry(5.0, 0, 3),
                retry(5.0, 0, 4),
                RetryDecision::GiveUp
            ]
        );
        assert_eq!(backoff_seconds(&r, 1), 3.0);
        assert_eq!(backoff_seconds(&r, 2), 5.0);
    }

    #[test]
    fn full_jitter_scales_the_capped_delay() {
        let mut r = retrier(&["States.ALL"]);
        r.interval_seconds = num("2");
        r.max_attempts = num("3");
        r.max_delay_seconds = num("6");
        r.jitter_strategy = Some("FULL".into());
        // Fixed rng values: 0.5 of 2, 4 and min(8, 6).
        assert_eq!(
            run(&[r.clone()], &["E"; 3], 0.5),
            vec![retry(1.0, 0, 1), retry(2.0, 0, 2), retry(3.0, 0, 3)]
        );
        // Bounds: rng 0 gives no wait, rng just below 1 stays below the backoff, out-of-range
        // values are clamped.
        for (rng, upper) in [(0.0, 0.0), (0.999_999, 2.0), (7.0, 2.0), (-1.0, 0.0)] {
            let mut state = RetryState::new();
            match decide(&[r.clone()], &mut state, "E", || rng) {
                RetryDecision::Retry { delay, .. } => {
                    assert!(
                        delay <= Duration::from_secs_f64(upper),
                        "rng {rng}: {delay:?}"
                    );
                    if rng <= 0.0 {
                        assert_eq!(delay, Duration::ZERO);
                    }
                }
                RetryDecision::GiveUp => panic!("rng {rng}: expected a retry"),
            }
        }
        let mut state = RetryState::new();
        assert_eq!(decide(&[r], &mut state, "E", || f64::NAN), retry(0.0, 0, 1));
    }

    #[test]
    fn jitter_none_does_not_call_the_rng() {
        let mut r = retrier(&["States.ALL"]);
        r.jitter_strategy = Some("NONE".into());
        let mut state = RetryState::new();
        let got = decide(&[r], &mut state, "E", || panic!("rng must not be called"));
        assert_eq!(got, retry(1.0, 0, 1));
    }

    #[test]
    fn max_attempts_zero_never_retries_and_blocks_later_retriers() {
        let mut never = retrier(&["States.Timeout"]);
        never.max_attempts = num("0");
        let all = retrier(&["States.ALL"]);
        let retriers = [never, all];
        assert_eq!(
            run(&retriers, &["States.Timeout"], 0.0),
            vec![RetryDecision::GiveUp]
        );
        assert_eq!(run(&retriers, &["Other"], 0.0), vec![retry(1.0, 1, 1)]);
    }

    #[test]
    fn first_matching_retrier_decides_even_when_exhausted() {
        // LocalStack/AWS-recorded `test_map_state_retry_multiple_retriers`: NoSuchError (1),
        // State.ALL (2), HandleItemFailError (3) retry HandleItemFailError three times.
        let mut a = retrier(&["NoSuchError"]);
        a.max_attempts = num("1");
        let mut b = retrier(&["State.ALL"]);
        b.max_attempts = num("2");
        let mut c = retrier(&["HandleItemFailError"]);
        c.max_attempts = num("3");
        let got = run(&[a, b, c], &["HandleItemFailError"; 4], 0.0);
        assert_eq!(
            got,
            vec![
                retry(1.0, 2, 1),
                retry(2.0, 2, 2),
                retry(4.0, 2, 3),
                RetryDecision::GiveUp
            ]
        );
        // An exhausted first match does not fall through to a later retrier.
        let mut one = retrier(&["E"]);
        one.max_attempts = num("1");
        let got = run(&[one, retrier(&["States.ALL"])], &["E", "E"], 0.0);
        assert_eq!(got, vec![retry(1.0, 0, 1), RetryDecision::GiveUp]);
    }

    #[test]
    fn runtime_errors_are_never_retried() {
        let r = [retrier(&["States.Runtime"]), retrier(&["States.ALL"])];
        assert_eq!(
            run(&r, &["States.Runtime"], 0.0),
            vec![RetryDecision::GiveUp]
        );
        assert_eq!(run(&[], &["E"], 0.0), vec![RetryDecision::GiveUp]);
    }

    #[test]
    fn state_is_rebuildable_from_recorded_retries() {
        let retriers = [retrier(&["A"]), retrier(&["B"])];
        let mut live = RetryState::new();
        let mut log = Vec::new();
        for e in ["A", "B", "A", "B", "B"] {
            if let RetryDecision::Retry { retrier, .. } = decide(&retriers, &mut live, e, || 0.0) {
                log.push(retrier);
            }
        }
        let mut rebuilt = RetryState::new();
        for index in log {
            rebuilt.record(index);
        }
        assert_eq!(rebuilt, live);
        assert_eq!(live.retries, vec![2, 3]);
        assert_eq!(live.total(), 5);
        assert_eq!(live.retries_by(7), 0);
    }

    #[test]
    fn huge_backoff_saturates() {
        let mut r = retrier(&["E"]);
        r.interval_seconds = num("99999999");
        r.backoff_rate = num("1000");
        r.max_attempts = num("99999999");
        let mut state = RetryState { retries: vec![500] };
        match decide(&[r], &mut state, "E", || 0.0) {
            RetryDecision::Retry { delay, attempt, .. } => {
                assert_eq!(delay, MAX_DELAY);
                assert_eq!(attempt, 501);
            }
            RetryDecision::GiveUp => panic!("expected a retry"),
        }
    }
}
