//! The Parallel state: every branch on the same input, concurrently on the execution's task;
//! the first failure cancels the others; the results in branch order.

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use serde_json::Value;

use super::errors::{Recovery, Retrier};
use super::{Exec, Fault, StateCx, StateError, Step};
use crate::history::{EventKind, EventType};
use crate::program::ParallelK;

impl Exec {
    /// Runs a Parallel state.
    pub(super) async fn parallel(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        p: &ParallelK,
    ) -> Result<Step, Fault> {
        let st = cx.st;
        let mut input = input;
        let mut retrier = Retrier::new(
            &p.errors,
            Some((
                EventType::ParallelStateFailed,
                EventKind::ParallelStateFailed,
            )),
        );
        loop {
            let ctx = match &st.jsonata {
                Some(_) => self.j_context(cx, retrier.count()),
                None => self.context_if_needed(cx, retrier.count()),
            };
            let branch_input = match st.jsonata.as_ref().and_then(|j| j.arguments.as_ref()) {
                // JSONata: `Arguments` (default: the input) is every branch's input.
                Some(a) => {
                    let r = {
                        let scope = super::jsonata::scope(cx.vars, &input, &ctx, None, None);
                        a.evaluate(&scope, "Arguments")
                            .map_err(|f| Fault::from(cx.query_error(&f.cause)))
                    };
                    self.evaluation_failed(cx, r)?
                }
                None if st.jsonata.is_some() => input.clone(),
                None => cx.effective_input(&input, p.parameters.as_ref(), &ctx)?,
            };
            self.rec
                .record(cx.cur, EventType::ParallelStateStarted, || {
                    EventKind::ParallelStateStarted
                });
            let started_seq = cx.cur.seq.saturating_sub(1);
            let child_cancel = cx.cancel.child();
            let n = p.branches.len();
            let mut results: Vec<Value> = vec![Value::Null; n];
            // The newest branch event up to the first failure (or the last branch's end).
            let mut ended_id = 0u64;
            // Branches that never await run on all cores when they all succeed (see
            // `Exec::on_threads`); else (or when that does not apply) as futures here.
            let threaded = if threaded_branches(p) {
                let (parent, vars, cc) = (&*cx.cur, &*cx.vars, &child_cancel);
                let branch_input = &branch_input;
                self.on_threads_until(n, (n, 1), Some(cc), &|i, local| {
                    let block = p.branches.get(i)?;
                    let mut bc = parent.child(started_seq, i, self.seed);
                    bc.local = Some(local);
                    let mut bvars = vars.clone();
                    let r = self
                        .run_block(block, &mut bc, branch_input.clone(), &mut bvars, cc)
                        .now_or_never();
                    match r {
                        Some(Ok(v)) => Some((v, bc.local.take().unwrap_or_default())),
                        Some(Err(_)) | None => None,
                    }
                })
            } else {
                None
            };
            let mut running = FuturesUnordered::new();
            let branches = match threaded {
                Some(done) => {
                    results = done;
                    ended_id = self.rec.last_id();
                    &[][..]
                }
                None => &p.branches[..],
            };
            for (i, block) in branches.iter().enumerate() {
                let mut bc = cx.cur.child(started_seq, i, self.seed);
                let mut bvars = cx.vars.clone();
                let binput = branch_input.clone();
                let cc = &child_cancel;
                running.push(async move {
                    let r = self.run_block(block, &mut bc, binput, &mut bvars, cc).await;
                    (i, r, bc.last_id)
                });
            }
            let mut failure: Option<StateError> = None;
            while let Some((i, r, last)) = running.next().await {
                if failure.is_none() {
                    ended_id = ended_id.max(last);
                }
                match r {
                    Ok(v) => {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = v;
                        }
                    }
                    Err(Fault::Error(e)) => {
                        if failure.is_none() {
                            failure = Some(e);
                            child_cancel.cancel();
                        }
                    }
                    Err(Fault::Cancelled) => {}
                }
            }
            drop(running);
            cx.cur.last_id = self.rec.last_id();
            if cx.cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            let failure = match failure {
                None => {
                    let finished = cx.finish_result(
                        st.jsonata.as_deref().map(|j| (j, &input, &ctx)),
                        &input,
                        Value::Array(results),
                        (p.result_selector.as_ref(), &p.result_path),
                        &ctx,
                    );
                    match finished {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                Some(e) => e,
            };
            let failed_at = self.failed_at(ended_id);
            match retrier
                .recover(self, cx, failure, failed_at, &mut input)
                .await?
            {
                Recovery::Retry => continue,
                Recovery::Caught(step) => return Ok(step),
            }
        }
    }
}

/// The fewest states in all of a Parallel's branches for which they are spread over threads
/// (about a millisecond of work: below it, starting a thread costs more than it saves).
const THREADED_MIN_STATES: usize = 1024;

/// Whether a Parallel's branches may run on threads: at least two, none awaits, enough states.
fn threaded_branches(p: &ParallelK) -> bool {
    p.branches.len() >= 2
        && p.branches.iter().all(super::never_awaits)
        && p.branches.iter().map(|b| b.states.len()).sum::<usize>() >= THREADED_MIN_STATES
}
