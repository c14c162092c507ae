//! The context object (`$$`): the execution, the state machine, the state, the task token and
//! the Map item, as AWS shows them to paths and handlers.

use serde_json::{Map, Value};

use super::{Exec, ExecInfo, StateCx};
use crate::clock::format_ms;
use crate::program::Kind;

/// The context object of states that do not read it.
pub(super) static NULL: Value = Value::Null;

/// The context object (`$$`) of a state: the execution (its input only `with_input`), the
/// machine, the state (entered at `entered_ms`, with `RetryCount` when it can retry), the task
/// token and the Map item.
pub(crate) fn build_context(
    info: &ExecInfo,
    state_name: &str,
    entered_ms: i64,
    retry: Option<u32>,
    item: Option<(usize, &Value)>,
    token: Option<&str>,
    with_input: bool,
) -> Value {
    let mut execution = Map::new();
    execution.insert("Id".into(), info.execution_arn.clone().into());
    if with_input {
        // A deep copy of the execution's input: only for states whose paths can read it
        // (`CState::context_input`) and for task handlers.
        execution.insert("Input".into(), info.input.clone());
    }
    if info.express {
        // AWS's order for EXPRESS executions, which cannot be redriven.
        execution.insert("Name".into(), info.name.clone().into());
        execution.insert("RoleArn".into(), info.role_arn.to_string().into());
        execution.insert("StartTime".into(), info.start_time.clone().into());
    } else {
        execution.insert("StartTime".into(), info.start_time.clone().into());
        execution.insert("Name".into(), info.name.clone().into());
        execution.insert("RoleArn".into(), info.role_arn.to_string().into());
        execution.insert("RedriveCount".into(), 0.into());
    }
    let mut machine = Map::new();
    machine.insert("Id".into(), info.state_machine_arn.to_string().into());
    machine.insert("Name".into(), info.state_machine_name.to_string().into());
    let mut state = Map::new();
    state.insert("Name".into(), state_name.into());
    state.insert("EnteredTime".into(), format_ms(entered_ms).into());
    if let Some(retry_count) = retry {
        state.insert("RetryCount".into(), retry_count.into());
    }
    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(execution));
    ctx.insert("StateMachine".into(), Value::Object(machine));
    ctx.insert("State".into(), Value::Object(state));
    if let Some(token) = token {
        let mut task = Map::new();
        task.insert("Token".into(), token.into());
        ctx.insert("Task".into(), Value::Object(task));
    }
    if let Some((index, value)) = item {
        let mut it = Map::new();
        it.insert("Index".into(), index.into());
        it.insert("Value".into(), value.clone());
        let mut map = Map::new();
        map.insert("Item".into(), Value::Object(it));
        ctx.insert("Map".into(), Value::Object(map));
    }
    Value::Object(ctx)
}

/// What a state's context object shows besides the execution and the state: its retry count,
/// the Map item of an iteration and the task token.
#[derive(Default, Clone, Copy)]
pub(super) struct Extra<'v> {
    pub(super) retry_count: u32,
    pub(super) item: Option<(usize, &'v Value)>,
    pub(super) token: Option<&'v str>,
}

impl Exec {
    /// The context object of the state being run.
    pub(super) fn context(&self, cx: &StateCx<'_>, extra: Extra<'_>) -> Value {
        // Only the states that can retry show `RetryCount`.
        let retry = matches!(cx.st.kind, Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_))
            .then_some(extra.retry_count);
        build_context(
            self.info_of(cx.cur),
            &cx.st.name,
            self.rec.time_of(cx.entered.stamp),
            retry,
            extra.item,
            extra.token,
            cx.st.context_input,
        )
    }

    /// The execution a cursor's states run in: a distributed Map's child execution, else this one.
    #[inline]
    pub(super) fn info_of<'a>(&'a self, cur: &'a crate::recorder::Cursor) -> &'a ExecInfo {
        cur.exec.as_deref().unwrap_or(&self.info)
    }

    /// The context object when the state reads it (`null` otherwise).
    #[inline]
    pub(super) fn context_if_needed(&self, cx: &StateCx<'_>, retry_count: u32) -> Value {
        if cx.st.needs_context {
            self.context(
                cx,
                Extra {
                    retry_count,
                    ..Extra::default()
                },
            )
        } else {
            Value::Null
        }
    }
}
