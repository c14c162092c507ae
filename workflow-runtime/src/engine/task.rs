//! The Task state: effective parameters, the `…Scheduled`/`…Started` events, the call (a mock, a
//! recorded result when replaying, a typed handler or the registered one) under its timeout,
//! heartbeat and cancellation, its recorded outcome, then the data path or Retry/Catch.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use workflow_asl::error::names;
use workflow_asl::eval::{java_json, Env};
use workflow_asl::limits::{drop_deep, nesting_cause, MAX_NESTING_DEPTH};

use super::context::{build_context, Extra};
use super::errors::{Recovery, Retrier};
use super::io::{as_long, data_limit, for_result_path, json_size, render};
use super::{Exec, Fault, StateCx, StateError, Step, TaskCall};
use crate::callbacks::{Callbacks, Ended, Signal};
use crate::cancel::Cancel;
use crate::handler::{call_guarded, Heartbeat, LazyContext, TaskContext, TaskError};
use crate::history::{ErrorDetails, EventKind, EventType, HistoryEvent};
use crate::mock::MockResponse;
use crate::program::{CState, NumberSource, ResourceKind, TaskK};
use crate::recorder::Cursor;

/// A task's input and limits, ready to invoke.
struct Prepared {
    params: Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
}

/// What running a task produced.
enum TaskOutcome {
    Succeeded(Value),
    SucceededText(Value, Arc<str>),
    Failed(StateError),
    TimedOut(StateError),
}

impl TaskOutcome {
    fn with_text(self, text: Arc<str>) -> TaskOutcome {
        match self {
            TaskOutcome::Succeeded(v) => TaskOutcome::SucceededText(v, text),
            other => other,
        }
    }
}

/// A task timeout (`States.Timeout`, `States.HeartbeatTimeout`). AWS gives it an empty cause: a
/// catcher's error output is `{"Error": "States.Timeout", "Cause": ""}` (recorded:
/// `test_task_service_lambda::test_invoke_timeout`), while `ExecutionFailed` shows no cause.
fn timed_out(error: &str) -> StateError {
    StateError {
        error: Some(error.into()),
        cause: Some(String::new()),
        terminal: false,
    }
}

impl Exec {
    /// Runs a Task state; `call` replaces the registry lookup of its handler.
    pub(super) async fn task(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        t: &TaskK,
        mut call: Option<&mut TaskCall<'_>>,
    ) -> Result<Step, Fault> {
        let st = cx.st;
        let mut input = input;
        let mut retrier = Retrier::new(&t.errors, None);
        let lambda = t.resource_kind == ResourceKind::LambdaFunction;
        loop {
            let retry_count = retrier.count();
            let token = if t.wait_for_token {
                Some(format!(
                    "{}-{}-{}",
                    self.info.name, cx.cur.scope, cx.cur.seq
                ))
            } else {
                None
            };
            let ctx = if st.needs_context {
                let extra = Extra {
                    retry_count,
                    item: None,
                    token: token.as_deref(),
                };
                self.context(cx, extra)
            } else {
                Value::Null
            };
            let prepared = match &st.jsonata {
                Some(j) => {
                    let r = self
                        .j_prepare_task(cx, &input, t, j, &ctx)
                        .map_err(Fault::from);
                    self.evaluation_failed(cx, r)?
                }
                None => self.prepare_task(cx, &input, t, &ctx)?,
            };
            if lambda {
                self.rec
                    .record(cx.cur, EventType::LambdaFunctionScheduled, || {
                        EventKind::LambdaFunctionScheduled {
                            resource: Arc::clone(&t.resource),
                            input: render(&prepared.params),
                            timeout_in_seconds: prepared.timeout,
                        }
                    });
                self.rec
                    .record(cx.cur, EventType::LambdaFunctionStarted, || {
                        EventKind::LambdaFunctionStarted
                    });
            } else {
                self.rec.record(cx.cur, EventType::TaskScheduled, || {
                    EventKind::TaskScheduled {
                        resource: Arc::clone(&t.task_resource),
                        parameters: render(&prepared.params),
                        timeout_in_seconds: prepared.timeout,
                        heartbeat_in_seconds: prepared.heartbeat,
                    }
                });
                self.rec
                    .record(cx.cur, EventType::TaskStarted, || EventKind::TaskStarted {
                        resource: Arc::clone(&t.task_resource),
                    });
            }
            let outcome = match self.replayed_task_result(cx.cur) {
                Some(r) => {
                    if let Some(mocks) = &self.mocks {
                        mocks.skip(&st.name);
                    }
                    r
                }
                None => {
                    self.flush().await?;
                    // A handler sees the whole context object, with the execution's input.
                    let context = if st.needs_context && st.context_input {
                        LazyContext::ready(ctx.clone())
                    } else {
                        let info = Arc::clone(cx.cur.exec.as_ref().unwrap_or(&self.info));
                        let name = Arc::clone(&st.name);
                        let entered_ms = self.rec.time_of(cx.entered.stamp);
                        let token = token.clone();
                        LazyContext::deferred(move || {
                            build_context(
                                &info,
                                &name,
                                entered_ms,
                                Some(retry_count),
                                None,
                                token.as_deref(),
                                true,
                            )
                        })
                    };
                    let task_cx = TaskContext {
                        resource: Arc::clone(&t.resource),
                        state_name: Arc::clone(&st.name),
                        context: Arc::new(context),
                        task_token: token.clone(),
                        retry_count,
                        heartbeat: Arc::new(Heartbeat::default()),
                    };
                    self.invoke(st, t, prepared, task_cx, cx.cancel, call.as_deref_mut())
                        .await?
                }
            };
            let outcome = match outcome {
                // A handler's value, before anything walks it recursively (rendering, the data
                // path, dropping): deeper than the nesting limit, it fails the task.
                TaskOutcome::Succeeded(v)
                    if super::io::nesting_depth(&v, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH =>
                {
                    drop_deep(v);
                    TaskOutcome::Failed(StateError::new(
                        names::RUNTIME,
                        nesting_cause(&format!("result of the task '{}'", st.name)),
                    ))
                }
                TaskOutcome::Succeeded(v) => {
                    // The result's text is only needed for the history.
                    let text = (self.rec.enabled() && !cx.cur.silent).then(|| render(&v));
                    let size = match &text {
                        Some(text) => text.len(),
                        None => json_size(&v, self.payload_limit),
                    };
                    if size > self.payload_limit {
                        // AWS names a Lambda function by its ARN, a service integration by
                        // its service (`'lambda'` for `arn:aws:states:::lambda:invoke`).
                        TaskOutcome::Failed(data_limit(match t.resource_kind {
                            ResourceKind::LambdaFunction => &t.resource,
                            ResourceKind::Service => &t.task_resource.resource_type,
                        }))
                    } else {
                        TaskOutcome::Succeeded(v).with_text(text.unwrap_or_else(|| Arc::from("")))
                    }
                }
                other => other,
            };
            let failure = match outcome {
                TaskOutcome::SucceededText(v, text) => {
                    if lambda {
                        self.rec
                            .record(cx.cur, EventType::LambdaFunctionSucceeded, || {
                                EventKind::LambdaFunctionSucceeded { output: text }
                            });
                    } else {
                        self.rec.record(cx.cur, EventType::TaskSucceeded, || {
                            EventKind::TaskSucceeded {
                                resource: Arc::clone(&t.task_resource),
                                output: text,
                            }
                        });
                    }
                    let finished = match &st.jsonata {
                        // JSONata: `Output` (default: the result) and `Assign` see
                        // `$states.result`.
                        Some(j) => {
                            let scope =
                                super::jsonata::scope(cx.vars, &input, &ctx, Some(&v), None);
                            let r = cx
                                .j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")
                                .map_err(Fault::from);
                            drop(scope);
                            let r = r.map(|out| out.unwrap_or(v));
                            match self.evaluation_failed(cx, r) {
                                Ok(o) => Ok(o),
                                Err(Fault::Error(e)) => Err(e),
                                Err(f) => return Err(f),
                            }
                        }
                        None => cx.finish(
                            for_result_path(&t.result_path, &input),
                            v,
                            t.result_selector.as_ref(),
                            &t.result_path,
                            &ctx,
                        ),
                    };
                    match finished {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                TaskOutcome::Succeeded(_) => {
                    return Err(Fault::Error(StateError::new(
                        names::RUNTIME,
                        "internal error: unrendered task result",
                    )))
                }
                TaskOutcome::Failed(e) => {
                    let ty = if lambda {
                        EventType::LambdaFunctionFailed
                    } else {
                        EventType::TaskFailed
                    };
                    self.record_task_failure(cx.cur, t, ty, &e);
                    e
                }
                TaskOutcome::TimedOut(e) => {
                    let ty = if lambda {
                        EventType::LambdaFunctionTimedOut
                    } else {
                        EventType::TaskTimedOut
                    };
                    self.record_task_failure(cx.cur, t, ty, &e);
                    e
                }
            };
            if cx.cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            let failed_at = self.failed_at(cx.cur.last_id);
            match retrier
                .recover(self, cx, failure, failed_at, &mut input)
                .await?
            {
                Recovery::Retry => continue,
                Recovery::Caught(step) => return Ok(step),
            }
        }
    }

    /// A JSONata task's `Arguments` (default: the input) and its timeouts, with one scope.
    fn j_prepare_task(
        &self,
        cx: &mut StateCx<'_>,
        input: &Value,
        t: &TaskK,
        j: &crate::jtemplate::JState,
        ctx: &Value,
    ) -> Result<Prepared, StateError> {
        let scope = super::jsonata::scope(cx.vars, input, ctx, None, None);
        let params = match &j.arguments {
            Some(a) => a
                .evaluate(&scope, "Arguments")
                .map_err(|f| cx.query_error(&f.cause))?,
            None => input.clone(),
        };
        let seconds = |jt: &Option<crate::jtemplate::JTemplate>,
                       lit: &Option<NumberSource>,
                       field: &str|
         -> Result<Option<u64>, StateError> {
            if let Some(e) = jt.as_ref().filter(|e| e.as_expr().is_some()) {
                let v = cx.j_value(e, &scope, field)?;
                return match as_long(&v) {
                    Some(n) if n > 0 => Ok(Some(n as u64)),
                    _ => Err(cx.query_error(&format!(
                        "The {field} field must be a positive integer, but was: {}",
                        java_json(&v)
                    ))),
                };
            }
            Ok(match lit {
                Some(NumberSource::Literal(v)) => as_long(v).and_then(|n| u64::try_from(n).ok()),
                _ => None,
            })
        };
        let timeout = seconds(&j.timeout, &t.timeout, "TimeoutSeconds")?;
        let heartbeat = seconds(&j.heartbeat, &t.heartbeat, "HeartbeatSeconds")?;
        Ok(Prepared {
            params,
            timeout,
            heartbeat,
        })
    }

    /// The task's effective parameters and its timeouts.
    fn prepare_task(
        &self,
        cx: &mut StateCx<'_>,
        input: &Value,
        t: &TaskK,
        ctx: &Value,
    ) -> Result<Prepared, StateError> {
        let eff = cx.input_path(input, ctx)?;
        let value = eff.get(input);
        let params = match &t.parameters {
            Some(tpl) => {
                let env = Env::new(value, ctx, cx.vars);
                tpl.evaluate(&env, cx.cur).map_err(|f| cx.wrap(f))?
            }
            None => value.clone(),
        };
        let seconds = |src: &Option<NumberSource>| -> Result<Option<u64>, StateError> {
            let Some(src) = src else { return Ok(None) };
            let v = cx.number(src, value, ctx)?;
            match as_long(&v) {
                Some(n) if n > 0 => Ok(Some(n as u64)),
                _ => Err(cx.runtime(&format!(
                    "The value of the field '{}' must be a positive integer, but was {}",
                    match src {
                        NumberSource::Path(_, f) => f,
                        NumberSource::Literal(_) => "TimeoutSeconds",
                    },
                    java_json(&v)
                ))),
            }
        };
        Ok(Prepared {
            params,
            timeout: seconds(&t.timeout)?,
            heartbeat: seconds(&t.heartbeat)?,
        })
    }

    fn record_task_failure(&self, cur: &mut Cursor, t: &TaskK, ty: EventType, e: &StateError) {
        // The error and cause are copied only when the event is recorded.
        self.rec.record(cur, ty, || {
            let error = ErrorDetails {
                error: e.error.clone(),
                cause: e.cause.clone(),
            };
            let resource = Arc::clone(&t.task_resource);
            match ty {
                EventType::LambdaFunctionFailed => EventKind::LambdaFunctionFailed(error),
                EventType::LambdaFunctionTimedOut => EventKind::LambdaFunctionTimedOut(error),
                EventType::TaskTimedOut => EventKind::TaskTimedOut { resource, error },
                _ => EventKind::TaskFailed { resource, error },
            }
        });
    }

    /// The recorded result of the task at the cursor, when replaying.
    fn replayed_task_result(&self, cur: &Cursor) -> Option<TaskOutcome> {
        let ev: &HistoryEvent = self.rec.prior_next(cur)?;
        let failed = |e: &ErrorDetails| StateError {
            error: e.error.clone(),
            cause: e.cause.clone(),
            terminal: false,
        };
        match &ev.kind {
            EventKind::TaskSucceeded { output, .. }
            | EventKind::LambdaFunctionSucceeded { output } => {
                let v = serde_json::from_str(output).unwrap_or(Value::Null);
                Some(TaskOutcome::SucceededText(v, Arc::clone(output)))
            }
            EventKind::TaskFailed { error, .. } | EventKind::LambdaFunctionFailed(error) => {
                Some(TaskOutcome::Failed(failed(error)))
            }
            EventKind::TaskTimedOut { error, .. } | EventKind::LambdaFunctionTimedOut(error) => {
                Some(TaskOutcome::TimedOut(failed(error)))
            }
            _ => None,
        }
    }

    /// For a `lambda:invoke` task whose `FunctionName` names a function with a registered
    /// handler (by its ARN, exactly or by pattern, or by the name as written): the function's ARN
    /// and handler. `None` otherwise: a handler registered for the resource
    /// `arn:aws:states:::lambda:invoke` itself then receives the whole `Parameters` and returns
    /// the whole response.
    fn lambda_function(
        &self,
        t: &TaskK,
        params: &Value,
    ) -> Option<(String, &crate::handler::HandlerFn)> {
        if t.resource.as_ref() != LAMBDA_INVOKE {
            return None;
        }
        let name = params.get("FunctionName")?.as_str()?;
        let arn = function_arn(name, &self.info.state_machine_arn);
        let handler = self
            .handlers
            .lookup(&arn)
            .or_else(|| self.handlers.lookup(name))?;
        Some((arn, handler))
    }

    /// The request id of one Lambda invocation (the same for the same execution, state, attempt
    /// and instant, so a replayed run names the same request).
    fn lambda_request_id(&self, st: &CState, task_cx: &TaskContext) -> String {
        request_id(&[
            &self.info.execution_arn,
            &st.name,
            &task_cx.retry_count.to_string(),
            &self.rec.clock.now_ms().to_string(),
        ])
    }

    /// Runs the task: a mocked response, or the handler (`typed`, else the registered one)
    /// under the task's timeout, heartbeat and cancellation.
    async fn invoke(
        &self,
        st: &CState,
        t: &TaskK,
        prepared: Prepared,
        task_cx: TaskContext,
        cancel: &Arc<Cancel>,
        typed: Option<&mut TaskCall<'_>>,
    ) -> Result<TaskOutcome, Fault> {
        let Prepared {
            params,
            timeout,
            heartbeat,
        } = prepared;
        if let Some(mocks) = &self.mocks {
            if let Some(r) = mocks.next(&st.name) {
                return Ok(match r {
                    Ok(MockResponse::Return(v)) => TaskOutcome::Succeeded(v),
                    Ok(MockResponse::Throw { error, cause }) => TaskOutcome::Failed(StateError {
                        error: Some(error),
                        cause,
                        terminal: false,
                    }),
                    Err(e) => TaskOutcome::Failed(StateError::new(names::TASK_FAILED, e.0)),
                });
            }
        }
        let hb = Arc::clone(&task_cx.heartbeat);
        // A `.waitForTaskToken` task waits on its token from before its handler (which delivers
        // the token) is called, so an answer that comes before the handler returns is kept.
        let callback = match (&task_cx.task_token, t.wait_for_token) {
            (Some(token), true) => Some(TokenWait {
                signals: self.callbacks.register(token, &self.info.name, &st.name),
                guard: TokenGuard {
                    callbacks: &self.callbacks,
                    token: token.clone(),
                    ended: Ended::Finished,
                },
            }),
            _ => None,
        };
        // A Task whose `Resource` is a function's ARN fails with Lambda's error document.
        let bare_lambda = (t.resource_kind == ResourceKind::LambdaFunction)
            .then(|| self.lambda_request_id(st, &task_cx));
        let call = match typed {
            Some(typed) => futures::future::Either::Left(typed(params, task_cx)),
            None => {
                // `lambda:invoke` calls the handler of the function it names, with `Payload`,
                // and returns Lambda's Invoke response, as on AWS.
                if let Some((arn, handler)) = self.lambda_function(t, &params) {
                    let ms = self.rec.clock.now_ms();
                    let rid = self.lambda_request_id(st, &task_cx);
                    let date = chrono::DateTime::from_timestamp_millis(ms)
                        .unwrap_or_default()
                        .format("%a, %d %b %Y %H:%M:%S GMT")
                        .to_string();
                    let event = lambda_event(&params);
                    let mut task_cx = task_cx;
                    task_cx.resource = Arc::from(arn.as_str());
                    let fut = async move {
                        match call_guarded(handler, event, task_cx).await {
                            Ok(v) => Ok(invoke_response(v, &rid, &date)),
                            Err(e) => Err(lambda_error(e, &rid)),
                        }
                    };
                    futures::future::Either::Right(futures::future::Either::Left(fut))
                } else {
                    let Some(handler) = self.handlers.lookup(&t.resource) else {
                        return Ok(TaskOutcome::Failed(StateError::new(
                        names::TASK_FAILED,
                        format!(
                            "No handler is registered for the resource '{}' (state '{}'). Register one with Runtime::builder().handler(...) or mock the state.",
                            t.resource, st.name
                        ),
                    )));
                    };
                    futures::future::Either::Right(futures::future::Either::Right(call_guarded(
                        handler, params, task_cx,
                    )))
                }
            }
        };
        let call = async move {
            let r = call.await;
            match bare_lambda {
                Some(rid) => r.map_err(|e| function_error(e, &rid)),
                None => r,
            }
        };
        tokio::pin!(call);
        if let Some(wait) = callback {
            return self
                .wait_for_callback(wait, call, timeout, heartbeat, hb, cancel)
                .await;
        }
        if timeout.is_none() && heartbeat.is_none() {
            // No timers to watch: only completion and cancellation.
            return tokio::select! {
                biased;
                r = &mut call => Ok(match r {
                    Ok(v) => TaskOutcome::Succeeded(v),
                    Err(e) => TaskOutcome::Failed(e.into()),
                }),
                _ = cancel.cancelled() => Err(Fault::Cancelled),
            };
        }
        let clock = self.rec.clock;
        let started = clock.now_ms();
        let timeout_at = timeout
            .map(|s| clock.instant_at(started.saturating_add(s.saturating_mul(1000) as i64)));
        let mut heartbeat_at = heartbeat
            .map(|s| clock.instant_at(started.saturating_add(s.saturating_mul(1000) as i64)));
        let far = || tokio::time::Instant::now() + Duration::from_secs(86_400 * 365 * 30);
        loop {
            let t_at = timeout_at.unwrap_or_else(far);
            let h_at = heartbeat_at.unwrap_or_else(far);
            // Completion and timeouts win over cancellation in the same instant, as on AWS (a
            // task that timed out while its Map was failing records `TaskTimedOut`, then aborts).
            tokio::select! {
                biased;
                r = &mut call => {
                    return Ok(match r {
                        Ok(v) => TaskOutcome::Succeeded(v),
                        Err(e) => TaskOutcome::Failed(e.into()),
                    });
                }
                _ = tokio::time::sleep_until(t_at), if timeout_at.is_some() => {
                    return Ok(TaskOutcome::TimedOut(timed_out(names::TIMEOUT)));
                }
                _ = tokio::time::sleep_until(h_at), if heartbeat_at.is_some() => {
                    return Ok(TaskOutcome::TimedOut(timed_out(names::HEARTBEAT_TIMEOUT)));
                }
                _ = hb.notify.notified() => {
                    if let Some(s) = heartbeat {
                        heartbeat_at = Some(tokio::time::Instant::now() + Duration::from_secs(s));
                    }
                }
                _ = cancel.cancelled() => return Err(Fault::Cancelled),
            }
        }
    }
}

/// A `.waitForTaskToken` task's registration: its signals, and the guard that marks its token
/// ended however the wait ends (an answer, a timeout, cancellation, or the future dropped).
struct TokenWait<'a> {
    signals: tokio::sync::mpsc::UnboundedReceiver<Signal>,
    guard: TokenGuard<'a>,
}

struct TokenGuard<'a> {
    callbacks: &'a Callbacks,
    token: String,
    ended: Ended,
}

impl Drop for TokenGuard<'_> {
    fn drop(&mut self) {
        self.callbacks.end(&self.token, self.ended);
    }
}

impl Exec {
    /// Waits for the callback of a `.waitForTaskToken` task: `SendTaskSuccess`/`Failure` end it,
    /// `SendTaskHeartbeat` (or the handler's own heartbeat) resets `HeartbeatSeconds`. The
    /// handler only delivers the token: its output is ignored, its failure fails the task. The
    /// timers run on tokio's clock, so virtual time applies.
    async fn wait_for_callback<F>(
        &self,
        mut wait: TokenWait<'_>,
        mut call: std::pin::Pin<&mut F>,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        hb: Arc<Heartbeat>,
        cancel: &Arc<Cancel>,
    ) -> Result<TaskOutcome, Fault>
    where
        F: std::future::Future<Output = Result<Value, crate::TaskError>>,
    {
        let clock = self.rec.clock;
        let started = clock.now_ms();
        let at = |s: u64| clock.instant_at(started.saturating_add(s.saturating_mul(1000) as i64));
        let timeout_at = timeout.map(at);
        let mut heartbeat_at = heartbeat.map(at);
        let far = || tokio::time::Instant::now() + Duration::from_secs(86_400 * 365 * 30);
        let mut delivered = false;
        loop {
            let t_at = timeout_at.unwrap_or_else(far);
            let h_at = heartbeat_at.unwrap_or_else(far);
            tokio::select! {
                biased;
                signal = wait.signals.recv() => match signal {
                    Some(Signal::Success(v)) => return Ok(TaskOutcome::Succeeded(v)),
                    Some(Signal::Failure { error, cause }) => {
                        return Ok(TaskOutcome::Failed(StateError { error, cause, terminal: false }));
                    }
                    Some(Signal::Heartbeat) => {
                        if let Some(s) = heartbeat {
                            heartbeat_at = Some(tokio::time::Instant::now() + Duration::from_secs(s));
                        }
                    }
                    None => {
                        return Ok(TaskOutcome::Failed(StateError::new(
                            names::RUNTIME,
                            "internal error: the task token was registered twice",
                        )));
                    }
                },
                r = &mut call, if !delivered => {
                    delivered = true;
                    if let Err(e) = r {
                        return Ok(TaskOutcome::Failed(e.into()));
                    }
                }
                _ = tokio::time::sleep_until(t_at), if timeout_at.is_some() => {
                    wait.guard.ended = Ended::TimedOut;
                    return Ok(TaskOutcome::TimedOut(timed_out(names::TIMEOUT)));
                }
                _ = tokio::time::sleep_until(h_at), if heartbeat_at.is_some() => {
                    wait.guard.ended = Ended::TimedOut;
                    return Ok(TaskOutcome::TimedOut(timed_out(names::HEARTBEAT_TIMEOUT)));
                }
                _ = hb.notify.notified() => {
                    if let Some(s) = heartbeat {
                        heartbeat_at = Some(tokio::time::Instant::now() + Duration::from_secs(s));
                    }
                }
                _ = cancel.cancelled() => return Err(Fault::Cancelled),
            }
        }
    }
}
// ===== `arn:aws:states:::lambda:invoke` =====

/// The Lambda integration's resource (the request-response pattern).
const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// The function a `lambda:invoke` task calls: its full ARN, from `FunctionName` (a name, a
/// partial ARN `region:account:function:name` or a full ARN, each with an optional qualifier),
/// completed with the execution's region and account, as Lambda's Invoke API reads it.
fn function_arn(function_name: &str, state_machine_arn: &str) -> String {
    if function_name.starts_with("arn:") {
        return function_name.to_string();
    }
    // arn:aws:states:REGION:ACCOUNT:stateMachine:NAME
    let mut parts = state_machine_arn.split(':');
    let partition = parts.nth(1).unwrap_or("aws");
    let region = parts.nth(1).unwrap_or("us-east-1");
    let account = parts.next().unwrap_or("123456789012");
    if function_name.contains(":function:") {
        return format!("arn:{partition}:lambda:{function_name}");
    }
    format!("arn:{partition}:lambda:{region}:{account}:function:{function_name}")
}

/// The event a function receives from `Payload`: a JSON string payload is sent as the JSON it
/// holds (Step Functions passes a string as the request body), no payload as `{}` (what the
/// Lambda runtimes hand a function invoked without a body).
fn lambda_event(params: &Value) -> Value {
    match params.get("Payload") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(v) => v.clone(),
    }
}

/// A deterministic request id (UUID-shaped) for one invocation: the same run gives the same ids.
fn request_id(parts: &[&str]) -> String {
    use std::hash::{Hash, Hasher};
    let mut a = std::collections::hash_map::DefaultHasher::new();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut a);
    }
    parts.len().hash(&mut b);
    for p in parts.iter().rev() {
        p.hash(&mut b);
    }
    let (x, y) = (a.finish(), b.finish());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        y >> 52,
        y & 0xffff_ffff_ffff
    )
}

/// Lambda's Invoke response as Step Functions returns it for `lambda:invoke`
/// (`ExecutedVersion`, `Payload`, `SdkHttpMetadata`, `SdkResponseMetadata`, `StatusCode`; shape
/// and header set recorded against AWS: localstack `test_lambda_task_service::test_invoke`).
fn invoke_response(payload: Value, rid: &str, date: &str) -> Value {
    let len = python_json_len(&payload).to_string();
    let trace = format!(
        "Root=1-{}-{}",
        &rid[..8],
        rid.replace('-', "").get(8..32).unwrap_or("")
    );
    serde_json::json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [rid],
                "Content-Length": [len],
                "Date": [date],
                "X-Amzn-Trace-Id": [trace],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": len,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": rid,
                "X-Amzn-Trace-Id": trace,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": rid},
        "StatusCode": 200,
    })
}

/// A function's error as `lambda:invoke` reports it: the error name is the function's
/// `errorType`, the cause its error document as compact JSON (`{"errorMessage", "errorType",
/// "requestId", "stackTrace"}`; recorded: `test_task_service_lambda::test_raise_exception`). A
/// handler whose cause already is such a document (a Lambda runtime's) keeps it, re-serialised;
/// `Lambda.*` and `States.*` errors pass unchanged.
fn lambda_error(e: TaskError, rid: &str) -> TaskError {
    if e.error.starts_with("Lambda.") || e.error.starts_with("States.") {
        return e;
    }
    if is_function_error_doc(&e) {
        let doc: Value =
            serde_json::from_str(e.cause.as_deref().unwrap_or_default()).unwrap_or(Value::Null);
        let ty = doc
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or(&e.error)
            .to_string();
        return TaskError::new(ty, doc.to_string());
    }
    function_error(e, rid)
}

/// Whether a handler's error already carries a Lambda runtime's error document as its cause.
fn is_function_error_doc(e: &TaskError) -> bool {
    e.cause
        .as_deref()
        .filter(|c| c.starts_with('{'))
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .is_some_and(|d| d.get("errorType").is_some())
}

/// A function's error as a Task whose `Resource` is the function's ARN reports it: the error
/// name is the function's `errorType` and the cause Lambda's error document, as text
/// (`{"errorMessage", "errorType", "requestId", "stackTrace"}`; recorded against AWS:
/// `test_task_lambda::test_raise_custom_exception`, whose cause is the Python runtime's document
/// `{"errorMessage": "", "errorType": "CustomException", "requestId": …, "stackTrace": […]}`).
/// A handler whose cause already is such a document (a stand-in for a Lambda runtime) keeps it
/// verbatim; `Lambda.*` and `States.*` errors (the integration's and the executor's own, such as
/// a panic's `States.TaskFailed`) pass unchanged.
fn function_error(e: TaskError, rid: &str) -> TaskError {
    if e.error.starts_with("Lambda.") || e.error.starts_with("States.") || is_function_error_doc(&e)
    {
        return e;
    }
    let doc = serde_json::json!({
        "errorMessage": e.cause.as_deref().unwrap_or(""),
        "errorType": e.error,
        "requestId": rid,
        "stackTrace": [],
    });
    TaskError::new(e.error.clone(), doc.to_string())
}

/// The length of `v` as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII
/// as `\uXXXX`): the `Content-Length` of a function's response is its bytes, and the functions
/// AWS's recordings were made with are Python (`json.dumps` in the Lambda runtime). A local
/// handler has no bytes, so the executor counts what that runtime would send.
fn python_json_len(v: &Value) -> usize {
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += match v {
            Value::Null => 4,
            Value::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
            Value::Number(n) => n.to_string().len(),
            Value::String(s) => python_str_len(s),
            Value::Array(a) => {
                stack.extend(a.iter());
                2 + 2 * a.len().saturating_sub(1)
            }
            Value::Object(o) => {
                stack.extend(o.values());
                2 + 2 * o.len().saturating_sub(1)
                    + o.keys().map(|k| python_str_len(k) + 2).sum::<usize>()
            }
        };
    }
    total
}

/// The length of a JSON string literal as Python's `json.dumps` (`ensure_ascii`) writes it.
fn python_str_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c if c.is_ascii() => 1,
            c if (c as u32) > 0xffff => 12,
            _ => 6,
        })
        .sum::<usize>()
}
