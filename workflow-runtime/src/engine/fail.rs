//! The Fail state: fails its scope with its `Error` and `Cause` (literal, `…Path` or intrinsic).

use serde_json::Value;
use workflow_asl::eval::{java_json, Env};

use super::io::path_not_found;
use super::{Exec, Fault, StateCx, StateError, Step};
use crate::program::StrSource;

impl Exec {
    /// Runs a Fail state: always an error.
    pub(super) fn fail(
        &self,
        cx: &mut StateCx<'_>,
        input: &Value,
        error: Option<&StrSource>,
        cause: Option<&StrSource>,
    ) -> Result<Step, Fault> {
        let ctx = self.context_if_needed(cx, 0);
        let mut read = |src: Option<&StrSource>| -> Result<Option<String>, StateError> {
            match src {
                None => Ok(None),
                Some(StrSource::Literal(s)) => Ok(Some(s.clone())),
                Some(StrSource::Call(tpl)) => {
                    let env = Env::new(input, &ctx, cx.vars);
                    let v = tpl.evaluate(&env, cx.cur).map_err(|f| cx.wrap(f))?;
                    Ok(Some(match v.get("v") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => java_json(other),
                        None => String::new(),
                    }))
                }
                Some(StrSource::Path(p, field)) => {
                    let env = Env::new(input, &ctx, cx.vars);
                    match p.evaluate(&env) {
                        Ok(sel) => Ok(Some(match sel.into_value() {
                            Value::String(s) => s,
                            other => java_json(&other),
                        })),
                        Err(_) => Err(cx.runtime(&path_not_found(p.as_str(), field, input))),
                    }
                }
            }
        };
        let error = read(error)?;
        let cause = read(cause)?;
        Err(Fault::Error(StateError {
            error,
            cause,
            terminal: false,
        }))
    }
}
