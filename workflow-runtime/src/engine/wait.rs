//! The Wait state: sleeps until an absolute deadline (`Seconds`, `Timestamp` or their `…Path`),
//! measured from the recorded `WaitStateEntered` time, so a resumed run does not wait again.

use serde_json::Value;
use workflow_asl::eval::{java_json, Env};
use workflow_asl::path::Path;
use workflow_asl::timestamp::Timestamp;

use super::io::path_not_found;
use super::{Exec, Fault, StateCx, StateError, Step};
use crate::program::WaitK;

/// The longest wait AWS accepts: the Wait state's "delay is too long" limit (2^31 - 1 seconds is
/// the boundary recorded against AWS, 24,855 days).
const MAX_WAIT_MS: i64 = 2_147_483_647_000;

impl Exec {
    /// Runs a Wait state.
    pub(super) async fn wait(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        w: &WaitK,
    ) -> Result<Step, Fault> {
        if let Some(j) = &cx.st.jsonata {
            let start = self.rec.time_of(cx.entered.stamp);
            let deadline = self
                .jsonata_deadline(cx, &input, j, start)
                .map_err(Fault::from);
            let deadline = self.evaluation_failed(cx, deadline)?;
            if deadline.saturating_sub(start) > MAX_WAIT_MS {
                return Err(cx.runtime("Wait state delay is too long.").into());
            }
            self.sleep_until(deadline, cx.cancel).await?;
            let r = self.jsonata_after_wait(cx, input, j);
            return self.evaluation_failed(cx, r);
        }
        let ctx = self.context_if_needed(cx, 0);
        let eff = cx.input_path(&input, &ctx)?;
        let start = self.rec.time_of(cx.entered.stamp);
        let deadline = deadline(cx, w, start, eff.get(&input), &ctx)?;
        if deadline.saturating_sub(start) > MAX_WAIT_MS {
            return Err(cx.runtime("Wait state delay is too long.").into());
        }
        self.sleep_until(deadline, cx.cancel).await?;
        cx.assign_state(eff.get(&input), &ctx)?;
        let output = cx.output_path(eff.into_value(input), &ctx)?;
        Ok(Step::to(output, cx.st.next))
    }
}

/// The Wait's deadline (ms since the epoch) for a state entered at `start`, reading `value` (the
/// effective input).
fn deadline(
    cx: &StateCx<'_>,
    w: &WaitK,
    start: i64,
    value: &Value,
    ctx: &Value,
) -> Result<i64, StateError> {
    let env = Env::new(value, ctx, cx.vars);
    let select = |p: &Path, field: &str| -> Result<Value, StateError> {
        p.evaluate(&env)
            .map(|s| s.into_value())
            .map_err(|_| cx.runtime(&path_not_found(p.as_str(), field, value)))
    };
    Ok(match w {
        WaitK::Seconds(v) => {
            let secs = v.as_f64().unwrap_or(0.0);
            start.saturating_add((secs * 1000.0) as i64)
        }
        WaitK::SecondsPath(p) => {
            let v = select(p, "SecondsPath")?;
            let text = java_json(&v);
            let n = match &v {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
                _ => None,
            };
            let Some(n) = n else {
                return Err(cx.runtime(&format!(
                    "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                    p.as_str(),
                    text
                )));
            };
            if n < 0 {
                return Err(cx.runtime(&format!(
                    "The SecondsPath parameter references a negative value: {} == {}",
                    p.as_str(),
                    text
                )));
            }
            start.saturating_add(n.saturating_mul(1000))
        }
        WaitK::Timestamp(t) => match Timestamp::parse(t) {
            Some(ts) => ts.to_utc().timestamp_millis(),
            None => {
                return Err(cx.runtime(&format!(
                    "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {t}"
                )))
            }
        },
        WaitK::TimestampPath(p) => {
            let v = select(p, "TimestampPath")?;
            match v.as_str().and_then(Timestamp::parse) {
                Some(ts) => ts.to_utc().timestamp_millis(),
                None => {
                    let shown = match &v {
                        Value::String(s) => s.clone(),
                        other => java_json(other),
                    };
                    return Err(cx.runtime(&format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.as_str(),
                        shown
                    )));
                }
            }
        }
    })
}
