//! The Succeed state: ends its scope with its input (through `InputPath` and `OutputPath`).

use serde_json::Value;

use super::{Exec, Fault, StateCx, Step};

impl Exec {
    /// Runs a Succeed state.
    pub(super) fn succeed(&self, cx: &mut StateCx<'_>, input: Value) -> Result<Step, Fault> {
        let ctx = self.context_if_needed(cx, 0);
        let eff = cx.input_path(&input, &ctx)?;
        let output = cx.output_path(eff.into_value(input), &ctx)?;
        Ok(Step::to(output, None))
    }
}
