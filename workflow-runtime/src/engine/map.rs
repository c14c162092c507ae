//! The inline Map state (and the distributed Map's in-memory iteration, silent in the parent's
//! history): ItemsPath, MaxConcurrency, ItemSelector, the item processor per item with at most
//! the concurrency limit in flight, tolerated failures, results in item order.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream::FuturesUnordered;
use futures::FutureExt;
use serde_json::Value;
use workflow_asl::error::names;
use workflow_asl::eval::{java_json, Env};
use workflow_asl::path::Selected;

use super::context::build_context;
use super::distributed_map::{hash_settings, input_hash, kept_outcome, Progress};
use super::errors::{Recovery, Retrier};
use super::io::{self, as_float, as_integer, display, number_path, Eff};
use super::{wrap_failure, Entered, Exec, Fault, StateCx, StateError, Step, Vars};
use crate::cancel::Cancel;
use crate::history::{ErrorDetails, EventKind, EventType, MapIteration};
use crate::program::{CState, MapK};
use crate::recorder::Cursor;

/// The key of a distributed Map's child whose `ItemSelector` failed on `item`, in its Map Run's
/// progress: 64-bit FNV-1a over `!` and the item's JSON text (no input's text starts so).
fn failed_selection_hash(item: &Value) -> u64 {
    let mut h = crate::fnv::Fnv::new();
    h.bytes(b"!");
    // Writing into a hash cannot fail, nor can serialising a `Value`.
    let _ = serde_json::to_writer(&mut h, item);
    h.finish()
}

/// The concurrency limit of an inline Map (AWS: "up to 40 concurrent iterations").
const INLINE_MAP_CONCURRENCY: usize = 40;

/// The concurrency limit of a distributed Map without `MaxConcurrency`.
pub(super) const DISTRIBUTED_MAP_CONCURRENCY: usize = 1000;

/// What every iteration of one Map attempt shares.
struct Iterations<'m> {
    ex: &'m Exec,
    st: &'m CState,
    entered: Entered,
    m: &'m MapK,
    /// The Map's effective input (what `ItemSelector` reads as `$`).
    map_input: &'m Value,
    vars: &'m Vars,
    cancel: &'m Arc<Cancel>,
}

impl Exec {
    /// Runs a Map state.
    pub(super) async fn map(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        m: &MapK,
    ) -> Result<Step, Fault> {
        if let Some(d) = &m.dist {
            return self.distributed_map(cx, input, m, d).await;
        }
        let st = cx.st;
        let mut input = input;
        let mut retrier = Retrier::new(
            &m.errors,
            Some((EventType::MapStateFailed, EventKind::MapStateFailed)),
        );
        loop {
            // JSONata: `Items`, `MaxConcurrency` and the tolerated failures are expressions. A
            // failed one is a `States.QueryEvaluationError` the Map's Retry and Catch handle.
            let mut j_pre = match &st.jsonata {
                None => None,
                Some(j) => match self.j_map_pre(cx, &input, j, retrier.count()) {
                    Ok(pre) => Some(pre),
                    Err(e) => {
                        let _ = self.evaluation_failed(cx, Err::<(), _>(Fault::Error(e.clone())));
                        let at = self.failed_at(cx.cur.last_id);
                        match retrier.recover(self, cx, e, at, &mut input).await? {
                            Recovery::Retry => continue,
                            Recovery::Caught(step) => return Ok(step),
                        }
                    }
                },
            };
            let j_items = j_pre.as_mut().map(|p| std::mem::take(&mut p.0));
            let ctx = self.context_if_needed(cx, retrier.count());
            let eff = cx.input_path(&input, &ctx)?;
            let value = eff.get(&input);
            let all_items: Cow<'_, Value> = match &m.items_path {
                _ if j_items.is_some() => Cow::Owned(j_items.unwrap_or_default()),
                None => Cow::Borrowed(value),
                Some(p) => {
                    let env = Env::new(value, &ctx, cx.vars);
                    match p.evaluate(&env) {
                        // Iterate over the selected array in place (no copy of the items).
                        Ok(Selected::One(items)) => items,
                        Ok(many) => Cow::Owned(many.into_value()),
                        Err(miss) => return Err(cx.runtime(&miss.invalid_path_cause(p)).into()),
                    }
                }
            };
            let Value::Array(items) = all_items.as_ref() else {
                return Err(cx
                    .runtime(&format!(
                        "Items of the Map state must be a JSON array, but the ItemsPath selected: {}",
                        java_json(&all_items)
                    ))
                    .into());
            };
            let limit = match &j_pre {
                Some(pre) => pre.1,
                None => concurrency(cx, m, value, &ctx)?,
            };
            let n = items.len();
            self.rec.record(cx.cur, EventType::MapStateStarted, || {
                EventKind::MapStateStarted { length: n }
            });
            let started_seq = cx.cur.seq.saturating_sub(1);
            // AWS checks the tolerated failures after `MapStateStarted` (recorded in the corpus).
            let tolerated = match j_pre.take() {
                Some((_, _, t)) => t?,
                None => tolerance(cx, m, value, &ctx)?,
            };
            // A distributed Map keeps its progress in a durable run, as one with a reader does
            // (`engine/distributed_map.rs`): its children are silent in the history, so the
            // store keeps the finished ones, and a resumed run does not run them again.
            let mut progress = None;
            let mut map_run_arn = String::new();
            if m.distributed {
                let id = cx.cur.seq;
                map_run_arn = format!(
                    "{}/{}:{id}",
                    self.info
                        .state_machine_arn
                        .replacen(":stateMachine:", ":mapRun:", 1),
                    st.name,
                );
                let arn = map_run_arn.clone();
                self.rec.record(cx.cur, EventType::MapRunStarted, || {
                    EventKind::MapRunStarted { map_run_arn: arn }
                });
                // In a child, whose states before the Map are not recorded, keyed by the
                // settings too.
                let nested = (cx.cur.silent && self.rec.progress_sink().is_some())
                    .then(|| hash_settings(limit, &tolerated, [Some(all_items.as_ref())]));
                progress =
                    Progress::open(self, cx.cur, started_seq, &id.to_string(), nested).await?;
            }
            let child_cancel = cx.cancel.child();
            // One slot per item, filled as iterations end (made after the threads decline: they
            // return all results at once).
            let mut results: Vec<Value> = Vec::new();
            let mut failed_items: Vec<usize> = Vec::new();
            // A resumed Map Run starts from where it stood: its recorded failures counted, and
            // ended if a child's outcome had ended it.
            let (mut failures, mut failure) = progress.as_ref().map_or((0, None), Progress::start);
            let tallied = progress.as_ref().is_some_and(Progress::tallied);
            // The newest iteration event up to the first failure.
            let mut ended_id = 0u64;
            {
                let its = Iterations {
                    ex: self,
                    st,
                    entered: cx.entered,
                    m,
                    map_input: value,
                    vars: &*cx.vars,
                    cancel: &child_cancel,
                };
                let its = &its;
                let mut running = FuturesUnordered::new();
                let mut next = 0usize;
                let parent: &Cursor = &*cx.cur;
                // The outcomes an earlier run recorded, met in index order (a resumed run).
                let mut recorded: VecDeque<(usize, Result<Value, Fault>)> = VecDeque::new();
                // Iterations that never await run on all cores when they all succeed; else
                // (or when that is not possible) they run here as futures.
                if let Some(done) = its.run_on_threads(parent, started_seq, items, limit) {
                    results = done;
                    ended_id = self.rec.last_id();
                    next = n;
                } else {
                    results.resize(n, Value::Null);
                }
                loop {
                    while failure.is_none()
                        && running.len() < limit
                        && recorded.len() < limit
                        && next < n
                    {
                        let index = next;
                        next += 1;
                        let item = &items[index];
                        let mut ic = parent.child(started_seq, index, self.seed);
                        ic.silent = parent.silent || m.distributed;
                        // With progress, the child's input is selected first: a child an earlier
                        // run finished with it is not run again, and this run's record names it.
                        let mut selected = None;
                        let mut kept = None;
                        if let Some(p) = progress.as_mut() {
                            let input = its.select(index, item, &mut ic);
                            // A child whose `ItemSelector` failed is kept too (its failure is
                            // counted), keyed by its item.
                            let hash = match &input {
                                Ok(input) => input_hash(input),
                                Err(_) => failed_selection_hash(item),
                            };
                            match p.recorded_outcome(index, || hash, &map_run_arn).await {
                                Ok(None) => {}
                                Ok(Some((r, _, _))) => {
                                    recorded.push_back((index, r));
                                    continue;
                                }
                                Err(e) => {
                                    failure = Some(self.progress_failed(e));
                                    child_cancel.cancel();
                                    progress = None;
                                    break;
                                }
                            }
                            let start = crate::clock::format_ms(self.rec.clock.now_ms());
                            kept = Some((hash, start));
                            selected = Some(input);
                        }
                        running.push(async move {
                            let r = its.run(index, item, selected, &mut ic).await;
                            (index, r, ic.last_id, kept)
                        });
                    }
                    let (index, r, last, kept, from_record) = match recorded.pop_front() {
                        Some((index, r)) => (index, r, 0, None, true),
                        None => {
                            let next = self
                                .next_finished(
                                    &mut running,
                                    &mut progress,
                                    &mut failure,
                                    &child_cancel,
                                )
                                .await;
                            let Some((index, r, last, kept)) = next else {
                                break;
                            };
                            (index, r, last, kept, false)
                        }
                    };
                    if failure.is_none() {
                        ended_id = ended_id.max(last);
                    }
                    // What the store keeps of a child this run finished.
                    let outcome = match (&progress, &kept) {
                        (Some(_), Some(_)) => kept_outcome(&r),
                        _ => None,
                    };
                    // Whether this child's outcome ends the Map Run (recorded with it).
                    let mut ends_run = false;
                    match r {
                        Ok(v) => {
                            if let Some(slot) = results.get_mut(index) {
                                *slot = v;
                            }
                        }
                        // A recorded failure was counted, and judged, when the child finished.
                        Err(Fault::Error(_)) if from_record && tallied => {
                            if tolerated.configured {
                                failed_items.push(index);
                            }
                        }
                        Err(Fault::Error(e)) => {
                            failures += 1;
                            let fatal = e.terminal || e.error.as_deref() == Some(names::RUNTIME);
                            if failure.is_none() && (fatal || !tolerated.allows(failures, n)) {
                                failure = Some(if tolerated.configured && !fatal {
                                    StateError::new(
                                        names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                        "The specified tolerated failure threshold was exceeded",
                                    )
                                } else {
                                    e
                                });
                                child_cancel.cancel();
                                ends_run = true;
                            } else if tolerated.configured {
                                failed_items.push(index);
                            }
                        }
                        Err(Fault::Cancelled) => {}
                    }
                    if let (Some(p), Some((hash, start)), Some(outcome)) =
                        (progress.as_mut(), kept, outcome)
                    {
                        let stop = crate::clock::format_ms(self.rec.clock.now_ms());
                        let ended = failure.as_ref().filter(|_| ends_run);
                        if let Err(e) = p
                            .child_done((index, hash), (start, stop), outcome, failures, ended)
                            .await
                        {
                            failure = Some(self.progress_failed(e));
                            child_cancel.cancel();
                            progress = None;
                        }
                    }
                }
            }
            cx.cur.last_id = self.rec.last_id();
            if cx.cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            // Every finished child is stored before the events that end the Map state.
            if let Some(p) = progress.as_mut() {
                if let Err(e) = p.settle().await {
                    failure = Some(self.progress_failed(e));
                }
            }
            // An inline iteration's failure ends with the iteration's events; any other ends
            // with an event of this state (`MapRunFailed`, `MapStateSucceeded`).
            let items_failed = failure.is_some() && !m.distributed;
            let failure = match failure {
                None => {
                    if m.distributed {
                        self.rec.record(cx.cur, EventType::MapRunSucceeded, || {
                            EventKind::MapRunSucceeded
                        });
                    }
                    self.rec.record(cx.cur, EventType::MapStateSucceeded, || {
                        EventKind::MapStateSucceeded
                    });
                    // A tolerated failure contributes no result.
                    if !failed_items.is_empty() {
                        failed_items.sort_unstable();
                        let mut k = 0usize;
                        let mut i = 0usize;
                        results.retain(|_| {
                            let keep = failed_items.get(k) != Some(&i);
                            if !keep {
                                k += 1;
                            }
                            i += 1;
                            keep
                        });
                    }
                    let jctx = st
                        .jsonata
                        .as_ref()
                        .map(|_| self.j_context(cx, retrier.count()));
                    let finished = cx.finish_result(
                        st.jsonata
                            .as_deref()
                            .zip(jctx.as_ref())
                            .map(|(j, c)| (j, value, c)),
                        &input,
                        Value::Array(results),
                        (m.result_selector.as_ref(), &m.result_path),
                        &ctx,
                    );
                    match finished {
                        Ok(output) => {
                            // The items (a million of them, maybe) are freed on another thread
                            // while the execution goes on.
                            if let Eff::Owned(v) = eff {
                                io::drop_soon(v);
                            }
                            io::drop_soon(input);
                            return Ok(Step::to(output, st.next));
                        }
                        Err(e) => e,
                    }
                }
                Some(e) => {
                    if m.distributed {
                        let (error, cause) = (e.error.clone(), e.cause.clone());
                        self.rec.record(cx.cur, EventType::MapRunFailed, || {
                            EventKind::MapRunFailed(ErrorDetails { error, cause })
                        });
                    }
                    e
                }
            };
            drop(eff);
            let failed_at = self.failed_at(if items_failed {
                ended_id
            } else {
                cx.cur.last_id
            });
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

/// What a JSONata Map evaluates before its iterations: the items, the concurrency limit and the
/// tolerated failures (whose error, if any, comes after `MapStateStarted`).
type JMapPre = (Value, usize, Result<Tolerance, StateError>);

impl Exec {
    /// Evaluates a JSONata Map's `Items`, `MaxConcurrency` and tolerated failures with one scope.
    fn j_map_pre(
        &self,
        cx: &StateCx<'_>,
        input: &Value,
        j: &crate::jtemplate::JState,
        retry_count: u32,
    ) -> Result<JMapPre, StateError> {
        let jctx = self.j_context(cx, retry_count);
        let scope = super::jsonata::scope(cx.vars, input, &jctx, None, None);
        let items = match &j.items {
            Some(t) => cx.j_value(t, &scope, "Items")?,
            None => input.clone(),
        };
        if !items.is_array() {
            return Err(super::jsonata::items_error(cx, j, &items));
        }
        let limit = match &j.max_concurrency {
            None => INLINE_MAP_CONCURRENCY,
            Some(t) => {
                let v = cx.j_number(t, &scope, "MaxConcurrency")?;
                match as_integer(&v) {
                    Some(0) => INLINE_MAP_CONCURRENCY,
                    Some(n) if n > 0 => (n as usize).min(INLINE_MAP_CONCURRENCY),
                    _ => {
                        return Err(cx.query_error(&format!(
                            "The MaxConcurrency field must be a non-negative integer, but was: {}",
                            java_json(&v)
                        )))
                    }
                }
            }
        };
        let tolerated = (|| {
            let mut t = Tolerance {
                configured: j.tolerated_count.is_some() || j.tolerated_percentage.is_some(),
                count: None,
                percentage: None,
            };
            if let Some(tc) = &j.tolerated_count {
                let v = cx.j_number(tc, &scope, "ToleratedFailureCount")?;
                match as_integer(&v) {
                    Some(n) if n >= 0 => t.count = Some(n as u64),
                    _ => {
                        return Err(cx.query_error(&format!(
                            "The ToleratedFailureCount field must be a non-negative integer, but was: {}",
                            java_json(&v)
                        )))
                    }
                }
            }
            if let Some(tp) = &j.tolerated_percentage {
                let v = cx.j_number(tp, &scope, "ToleratedFailurePercentage")?;
                match as_float(&v) {
                    Some(p) if (0.0..=100.0).contains(&p) => t.percentage = Some(p),
                    _ => {
                        return Err(cx.query_error(&format!(
                            "The ToleratedFailurePercentage field must be a number between 0 and 100, but was: {}",
                            java_json(&v)
                        )))
                    }
                }
            }
            Ok(t)
        })();
        Ok((items, limit, tolerated))
    }
}

/// The least work (items × states of the item processor) for which a Map's iterations are
/// spread over threads: about a millisecond, well above the cost of starting a thread.
const THREADED_MIN_WORK: usize = 1024;

/// Iterations a thread takes at a time (and stamps with one clock reading).
const THREADED_CHUNK: usize = 32;

impl Iterations<'_> {
    /// Runs every iteration on all cores when the item processor never awaits and there are
    /// enough items (see [`Exec::on_threads`]); `None` when that does not apply or an iteration
    /// failed (the caller then runs them as futures).
    fn run_on_threads(
        &self,
        parent: &Cursor,
        started_seq: u64,
        items: &[Value],
        limit: usize,
    ) -> Option<Vec<Value>> {
        let ex = self.ex;
        if items.len().saturating_mul(self.m.processor.states.len()) < THREADED_MIN_WORK
            || self.m.distributed
            || !super::never_awaits(&self.m.processor)
        {
            return None;
        }
        let cancel: &crate::cancel::Cancel = self.cancel;
        ex.on_threads_until(
            items.len(),
            (limit, THREADED_CHUNK),
            Some(cancel),
            &|index, local| {
                let mut ic = parent.child(started_seq, index, ex.seed);
                ic.silent = parent.silent;
                ic.local = Some(local);
                let item = items.get(index)?;
                match self.run(index, item, None, &mut ic).now_or_never() {
                    Some(Ok(v)) => Some((v, ic.local.take().unwrap_or_default())),
                    Some(Err(_)) | None => None,
                }
            },
        )
    }

    /// One Map iteration: ItemSelector (unless `selected` holds its result already), then the
    /// item processor, with its iteration events.
    async fn run(
        &self,
        index: usize,
        item: &Value,
        selected: Option<Result<Value, StateError>>,
        ic: &mut Cursor,
    ) -> Result<Value, Fault> {
        let ex = self.ex;
        let name = &self.st.name;
        let it = || MapIteration {
            name: Arc::clone(name),
            index,
        };
        ex.rec.record(ic, EventType::MapIterationStarted, || {
            EventKind::MapIterationStarted(it())
        });
        let item_input = match selected {
            Some(s) => s,
            None => self.select(index, item, ic),
        };
        let r = match item_input {
            Ok(v) => {
                let mut ivars = self.vars.clone();
                ex.run_block(&self.m.processor, ic, v, &mut ivars, self.cancel)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        match &r {
            Ok(_) => {
                ex.rec.record(ic, EventType::MapIterationSucceeded, || {
                    EventKind::MapIterationSucceeded(it())
                });
            }
            Err(Fault::Error(_)) => {
                ex.rec.record(ic, EventType::MapIterationFailed, || {
                    EventKind::MapIterationFailed(it())
                });
            }
            Err(Fault::Cancelled) => {
                ex.rec.record(ic, EventType::MapIterationAborted, || {
                    EventKind::MapIterationAborted(it())
                });
            }
        }
        r
    }

    /// The input of iteration `index`: its item through `ItemSelector`.
    fn select(&self, index: usize, item: &Value, ic: &mut Cursor) -> Result<Value, StateError> {
        let j_selector = self
            .st
            .jsonata
            .as_ref()
            .and_then(|j| j.item_selector.as_ref());
        match &self.m.item_selector {
            _ if j_selector.is_some() => {
                let ictx = self.item_context(index, item);
                let scope = super::jsonata::scope(self.vars, self.map_input, &ictx, None, None);
                j_selector
                    .map_or(Ok(Value::Null), |t| t.evaluate(&scope, "ItemSelector"))
                    .map_err(|f| {
                        StateError::new(
                            crate::jtemplate::QUERY_EVALUATION_ERROR,
                            format!(
                                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                                self.st.name, self.entered.id, f.cause
                            ),
                        )
                    })
            }
            None => Ok(item.clone()),
            Some(tpl) => {
                let ictx = self.item_context(index, item);
                let env = Env::new(self.map_input, &ictx, self.vars);
                tpl.evaluate(&env, ic)
                    .map_err(|f| wrap_failure(self.st, self.entered, f))
            }
        }
    }

    /// The context object of item `index` (`$$.Map.Item`), for `ItemSelector`.
    fn item_context(&self, index: usize, item: &Value) -> Value {
        if self.m.item_context_map_only && self.st.jsonata.is_none() {
            // `{"Map": {"Item": {"Index": …, "Value": …}}}`: all the selector reads.
            let mut it = serde_json::Map::with_capacity(2);
            it.insert("Index".into(), index.into());
            it.insert("Value".into(), item.clone());
            let mut map = serde_json::Map::with_capacity(1);
            map.insert("Item".into(), Value::Object(it));
            let mut ctx = serde_json::Map::with_capacity(1);
            ctx.insert("Map".into(), Value::Object(map));
            return Value::Object(ctx);
        }
        // A Map state's `$$.State` shows `RetryCount` 0 to its ItemSelector.
        build_context(
            &self.ex.info,
            &self.st.name,
            self.ex.rec.time_of(self.entered.stamp),
            Some(0),
            Some((index, item)),
            None,
            self.st.context_input,
        )
    }
}

/// The Map's concurrency limit: `MaxConcurrency` (or its path), 0 meaning the default, capped.
fn concurrency(
    cx: &StateCx<'_>,
    m: &MapK,
    value: &Value,
    ctx: &Value,
) -> Result<usize, StateError> {
    let limit = match &m.max_concurrency {
        None => 0,
        Some(src) => {
            let v = cx.number(src, value, ctx)?;
            match as_integer(&v) {
                Some(n) if n >= 0 => n as usize,
                _ => {
                    return Err(cx.runtime(&format!(
                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {}",
                        display(&v),
                        number_path(src)
                    )))
                }
            }
        }
    };
    Ok(if m.distributed {
        if limit == 0 {
            DISTRIBUTED_MAP_CONCURRENCY
        } else {
            limit.min(DISTRIBUTED_MAP_CONCURRENCY)
        }
    } else if limit == 0 {
        INLINE_MAP_CONCURRENCY
    } else {
        limit.min(INLINE_MAP_CONCURRENCY)
    })
}

/// The tolerated failures of a Map state.
pub(super) struct Tolerance {
    pub(super) configured: bool,
    pub(super) count: Option<u64>,
    pub(super) percentage: Option<f64>,
}

impl Tolerance {
    /// Whether `failures` failed iterations out of `total` are still tolerated.
    pub(super) fn allows(&self, failures: usize, total: usize) -> bool {
        if !self.configured {
            return false;
        }
        let by_count = self.count.is_some_and(|c| failures as u64 <= c);
        let by_pct = self
            .percentage
            .is_some_and(|p| total > 0 && (failures as f64) * 100.0 / (total as f64) <= p);
        by_count || by_pct
    }
}

/// `ToleratedFailureCount`/`…Percentage` (or their paths).
pub(super) fn tolerance(
    cx: &StateCx<'_>,
    m: &MapK,
    value: &Value,
    ctx: &Value,
) -> Result<Tolerance, StateError> {
    let mut t = Tolerance {
        configured: m.tolerated_count.is_some() || m.tolerated_percentage.is_some(),
        count: None,
        percentage: None,
    };
    if let Some(src) = &m.tolerated_count {
        let v = cx.number(src, value, ctx)?;
        let n = match as_integer(&v) {
            Some(k) => k,
            None => {
                return Err(cx.runtime(&format!(
                    "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: {}",
                    display(&v),
                    number_path(src)
                )))
            }
        };
        if n < 0 {
            return Err(cx.runtime("ToleratedFailureCount cannot be negative."));
        }
        t.count = Some(n as u64);
    }
    if let Some(src) = &m.tolerated_percentage {
        let v = cx.number(src, value, ctx)?;
        let Some(p) = as_float(&v) else {
            return Err(cx.runtime(&format!(
                "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {}",
                display(&v),
                number_path(src)
            )));
        };
        if !(0.0..=100.0).contains(&p) {
            return Err(cx.runtime("ToleratedFailurePercentage must be between 0 and 100."));
        }
        t.percentage = Some(p);
    }
    Ok(t)
}
