//! The Pass state: its `Result` or `Parameters` (or its input) placed by `ResultPath`.

use serde_json::Value;
use workflow_asl::eval::Env;

use super::context::NULL;
use super::io::{is_plain, json_size, Eff};
use super::{Exec, Fault, StateCx, Step};
use crate::program::{IoPath, ResultPathOpt};
use crate::sem::{SizeBound, Template};

impl Exec {
    /// Runs a Pass state.
    pub(super) fn pass(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        result: Option<&Value>,
        parameters: Option<&Template>,
        result_path: &ResultPathOpt,
    ) -> Result<Step, Fault> {
        let st = cx.st;
        let in_size = cx.in_size;
        let bound = SizeBound {
            input: in_size,
            limit: self.payload_limit,
        };
        if let (None, Some(tpl), true) = (result, parameters, is_plain(st)) {
            // The common shape (Parameters, no InputPath/OutputPath/Assign/`$$`): build the
            // result from the input and place it. The template bounds the result's size (for
            // the output's bound, see `result_size_hint`).
            let (output, size_hint) = match result_path {
                // The result replaces the input: it may be built in the input's place.
                ResultPathOpt::Replace => {
                    let (output, size) = tpl
                        .evaluate_replacing(input, &NULL, cx.vars, cx.cur, bound)
                        .map_err(|f| cx.wrap(f))?;
                    (output, Some(size))
                }
                // Built and placed at once (in place when the old value has its shape).
                ResultPathOpt::Path(p) => {
                    let (output, size) = tpl
                        .evaluate_at(input, p, &NULL, cx.vars, cx.cur, bound)
                        .map_err(|f| cx.wrap(f))?;
                    (output, in_size.map(|n| n + size + 4 * p.as_str().len() + 8))
                }
                ResultPathOpt::Discard => {
                    let env = Env::new(&input, &NULL, cx.vars);
                    tpl.evaluate(&env, cx.cur).map_err(|f| cx.wrap(f))?;
                    (input, in_size)
                }
            };
            return Ok(Step {
                output,
                next: st.next,
                size_hint,
            });
        }
        let ctx = self.context_if_needed(cx, 0);
        let eff = cx.input_path(&input, &ctx)?;
        let value: Value = if let Some(r) = result {
            r.clone()
        } else if let Some(tpl) = parameters {
            let env = Env::new(eff.get(&input), &ctx, cx.vars);
            tpl.evaluate(&env, cx.cur).map_err(|f| cx.wrap(f))?
        } else {
            match (&eff, result_path) {
                // The effective input is the result and replaces the input: no copy.
                (Eff::Same, ResultPathOpt::Replace) => {
                    cx.assign_state(&input, &ctx)?;
                    let output = cx.output_path(input, &ctx)?;
                    return Ok(Step::to(output, st.next));
                }
                _ => eff.get(&input).clone(),
            }
        };
        drop(eff);
        cx.assign_state(&value, &ctx)?;
        let hint = match (&st.output_path, in_size) {
            (IoPath::Identity, Some(size)) => self.result_size_hint(result_path, &value, size),
            _ => None,
        };
        let output = cx.result_path(result_path, input, value)?;
        let output = cx.output_path(output, &ctx)?;
        Ok(Step {
            output,
            next: st.next,
            size_hint: hint,
        })
    }

    /// An upper bound of the size of `ResultPath` applied to an input of `in_size` bytes, from
    /// the size of the result (without walking the input).
    fn result_size_hint(
        &self,
        rp: &ResultPathOpt,
        result: &Value,
        in_size: usize,
    ) -> Option<usize> {
        match rp {
            ResultPathOpt::Replace => None,
            ResultPathOpt::Discard => Some(in_size),
            ResultPathOpt::Path(p) => {
                // The input plus the result, plus a new field and the objects on its way (at
                // most a few bytes per path byte): an upper bound that ignores the value the
                // result replaces, so that the input is not walked. When the bound passes the
                // limit, the output's exact size is measured instead (and the bound restarts).
                let added = json_size(result, self.payload_limit);
                Some(in_size + added + 4 * p.as_str().len() + 8)
            }
        }
    }
}
