//! The Choice state: the first matching rule's `Next` (and its `Assign`), or `Default`.

use serde_json::Value;
use workflow_asl::eval::Env;

use super::context::NULL;
use super::io::is_plain;
use super::{Exec, Fault, StateCx, Step};
use crate::sem::Choices;

impl Exec {
    /// Runs a Choice state.
    pub(super) fn choice(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        choices: &Choices,
        targets: &[usize],
        default: Option<usize>,
    ) -> Result<Step, Fault> {
        if is_plain(cx.st) {
            // No InputPath/OutputPath/state Assign/`$$`: choose, and pass the input on.
            let chosen = {
                let env = Env::new(&input, &NULL, cx.vars);
                choices.evaluate(&env).map_err(|f| cx.wrap(f))?
            };
            let next = match chosen {
                Some(i) => {
                    cx.assign(choices.assign(i), &input, &NULL)?;
                    targets.get(i).copied()
                }
                None => default,
            };
            let Some(next) = next else {
                return Err(cx.wrap(workflow_asl::choice::no_choice_matched()).into());
            };
            return Ok(Step::to(input, Some(next)));
        }
        let ctx = self.context_if_needed(cx, 0);
        let eff = cx.input_path(&input, &ctx)?;
        let chosen = {
            let env = Env::new(eff.get(&input), &ctx, cx.vars);
            choices.evaluate(&env).map_err(|f| cx.wrap(f))?
        };
        let next = match chosen {
            Some(i) => {
                cx.assign(choices.assign(i), eff.get(&input), &ctx)?;
                targets.get(i).copied()
            }
            None => default,
        };
        let Some(next) = next else {
            return Err(cx.wrap(workflow_asl::choice::no_choice_matched()).into());
        };
        cx.assign_state(eff.get(&input), &ctx)?;
        let output = cx.output_path(eff.into_value(input), &ctx)?;
        Ok(Step::to(output, Some(next)))
    }
}
