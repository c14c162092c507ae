//! Retry and Catch, written once for the states that have them (Task, Parallel, Map).
//!
//! A state runs attempts in a loop; after a failed attempt it hands the failure to its
//! [`Retrier`], which owns the rest: the retry decision (`Retry`: matching, `MaxAttempts`,
//! backoff, jitter from the scope's seeded generator), the wait before the next attempt (measured
//! from the recorded failure, so a resumed run does not start the interval over), the state's
//! `…Failed` event when it gives up, and the first matching catcher (`Catch`: its `Assign`,
//! `ResultPath` and `Next`).

use workflow_asl::retry::{decide, find_catcher, RetryDecision, RetryState};

use serde_json::Value;

use super::{Exec, Fault, StateCx, StateError, Step};
use crate::history::EventKind;
use crate::history::EventType;
use crate::program::{ErrorsK, ResultPathOpt};

/// The retriers and catchers of one state, and its retry count so far.
pub(super) struct Retrier<'k> {
    errors: &'k ErrorsK,
    state: RetryState,
    /// The event recorded when the state gives up (`ParallelStateFailed`, `MapStateFailed`).
    gave_up: Option<(EventType, EventKind)>,
}

/// What to do after a failed attempt.
pub(super) enum Recovery {
    /// Run the state again (the backoff has been waited).
    Retry,
    /// A catcher handled the failure: the state's step.
    Caught(Step),
}

impl<'k> Retrier<'k> {
    /// The retrier of a state with `errors`, recording `gave_up` when no retrier matches.
    pub(super) fn new(errors: &'k ErrorsK, gave_up: Option<(EventType, EventKind)>) -> Retrier<'k> {
        Retrier {
            errors,
            state: RetryState::new(),
            gave_up,
        }
    }

    /// The number of retries so far (`$$.State.RetryCount`).
    pub(super) fn count(&self) -> u32 {
        self.state.total()
    }

    /// After a failed attempt whose last event happened at `failed_at` (ms): waits and returns
    /// [`Recovery::Retry`] when a retrier matches, or applies the first matching catcher to the
    /// state's raw `input` (taken), or returns the failure.
    pub(super) async fn recover(
        &mut self,
        ex: &Exec,
        cx: &mut StateCx<'_>,
        failure: StateError,
        failed_at: i64,
        input: &mut Value,
    ) -> Result<Recovery, Fault> {
        if let Some(delay) = self.retry_delay(&failure, cx) {
            ex.sleep_until(failed_at.saturating_add(delay), cx.cancel)
                .await?;
            return Ok(Recovery::Retry);
        }
        if let Some((ty, kind)) = &self.gave_up {
            ex.rec.record(cx.cur, *ty, || kind.clone());
        }
        self.catch(ex, cx, failure, std::mem::take(input))
            .map(Recovery::Caught)
    }

    /// `Some(delay_ms)` to retry, `None` to give up.
    fn retry_delay(&mut self, e: &StateError, cx: &mut StateCx<'_>) -> Option<i64> {
        if e.terminal {
            return None;
        }
        match decide(&self.errors.retriers, &mut self.state, e.name(), || {
            cx.cur.next_unit()
        }) {
            RetryDecision::Retry { delay, .. } => {
                Some(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
            }
            RetryDecision::GiveUp => None,
        }
    }

    /// Applies the first matching catcher, or returns the error.
    fn catch(
        &self,
        ex: &Exec,
        cx: &mut StateCx<'_>,
        e: StateError,
        input: Value,
    ) -> Result<Step, Fault> {
        if e.terminal {
            return Err(e.into());
        }
        let errors = self.errors;
        let Some(i) = find_catcher(&errors.catchers, e.name()) else {
            return Err(e.into());
        };
        let error_output = e.output();
        if let Some(j) = &cx.st.jsonata {
            // JSONata: the catcher's `Output` (default: the error output) and `Assign` see
            // `$states.errorOutput` and the state's input.
            let ctx = ex.j_context(cx, 0);
            let scope = super::jsonata::scope(cx.vars, &input, &ctx, None, Some(&error_output));
            let jc = j.catch.get(i);
            let prefix = format!("Catch[{i}]/");
            let output = cx
                .j_output_assign(
                    &scope,
                    jc.and_then(|c| c.output.as_ref()),
                    jc.and_then(|c| c.assign.as_ref()),
                    &prefix,
                )?
                .unwrap_or(error_output);
            return Ok(Step::to(output, errors.catch_targets.get(i).copied()));
        }
        let ctx = ex.context_if_needed(cx, 0);
        let assign = errors.catch_assign.get(i).and_then(Option::as_ref);
        cx.assign(assign, &error_output, &ctx)?;
        let rp = errors
            .catch_result_paths
            .get(i)
            .unwrap_or(&ResultPathOpt::Replace);
        let output = cx.result_path(rp, input, error_output)?;
        Ok(Step::to(output, errors.catch_targets.get(i).copied()))
    }
}
