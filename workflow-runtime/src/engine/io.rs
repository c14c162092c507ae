//! A state's data path, as AWS applies it:
//!
//! ```text
//! input --InputPath--> effective input --Parameters--> task/branch/item input
//! result --ResultSelector--> selected --Assign--> variables
//!        --ResultPath (into the raw input)--> --OutputPath--> output
//! ```
//!
//! Every state uses these steps through [`StateCx`]: [`StateCx::input_path`],
//! [`StateCx::finish`] (ResultSelector → Assign → ResultPath → OutputPath),
//! [`StateCx::result_path`], [`StateCx::output_path`], [`StateCx::assign`]. They are the seams
//! where the JSONata query language plugs in: for a JSONata state, `Arguments` replaces
//! InputPath + Parameters and `Output` replaces ResultSelector + ResultPath + OutputPath; both
//! evaluate against the same `(input, context, variables)` triple these steps read.
//!
//! Also here: the payload size limit (`json_size`, `data_limit`) and AWS's compact JSON text of
//! a payload (`render`).

use std::sync::Arc;

use serde_json::{Map, Value};
use workflow_asl::error::names;
use workflow_asl::eval::{java_json, json_string_len, number_len, Env};

use super::{StateCx, StateError};
pub(crate) use crate::json_text::{on_chunks, PARALLEL_MIN};
use crate::jtemplate::JState;
use crate::program::{CState, IoPath, NumberSource, ResultPathOpt};
use crate::sem::Template;

/// The effective input: the raw input itself, or a value selected from it.
pub(super) enum Eff {
    Same,
    Owned(Value),
}

impl Eff {
    /// The effective input, given the raw input.
    pub(super) fn get<'a>(&'a self, input: &'a Value) -> &'a Value {
        match self {
            Eff::Same => input,
            Eff::Owned(v) => v,
        }
    }

    /// The effective input, owned, given the raw input.
    pub(super) fn into_value(self, input: Value) -> Value {
        match self {
            Eff::Same => input,
            Eff::Owned(v) => v,
        }
    }
}

/// `v` as AWS's compact JSON text, for the history. The text is written into a reused buffer
/// and copied once into its `Arc` (instead of growing a fresh `String` and copying that).
pub(super) fn render(v: &Value) -> Arc<str> {
    thread_local! {
        static BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUF.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            workflow_asl::eval::write_java_json(v, &mut buf);
            let text = Arc::from(buf.as_str());
            // Do not keep a huge buffer alive after a huge payload.
            if buf.capacity() > 1 << 20 {
                *buf = String::new();
            }
            text
        }
        Err(_) => Arc::from(java_json(v)),
    })
}

/// How deep [`json_size`] and [`nesting_depth`] look through small arrays and objects for a
/// large one (`{"items": [a million items]}`), to walk that on all cores.
const DESCEND: usize = 3;

/// The size of `v` as compact JSON text, counting only up to about `limit`. An array or object
/// of at least [`PARALLEL_MIN`] members is sized on all cores.
pub(crate) fn json_size(v: &Value, limit: usize) -> usize {
    size_at(v, limit, 0)
}

/// [`json_size`] of `v`, `depth` levels into the value measured.
fn size_at(v: &Value, limit: usize, depth: usize) -> usize {
    // The members' sizes, counting stopped past `limit`.
    fn sum(sizes: impl Iterator<Item = usize>, limit: usize) -> usize {
        let mut total = 0usize;
        for n in sizes {
            total += n;
            if total > limit {
                break;
            }
        }
        total
    }
    let descend = |n: usize| n > 0 && (n >= PARALLEL_MIN || depth < DESCEND);
    match v {
        Value::Array(a) if descend(a.len()) => {
            let members =
                |chunk: &[Value]| sum(chunk.iter().map(|x| size_at(x, limit, depth + 1)), limit);
            let total = match a.len() >= PARALLEL_MIN {
                true => on_chunks(a, members).into_iter().sum::<usize>(),
                false => members(a),
            };
            2 + a.len() - 1 + total
        }
        Value::Object(o) if descend(o.len()) => {
            let members = |chunk: &[(&String, &Value)]| {
                let sizes = chunk
                    .iter()
                    .map(|(k, x)| json_string_len(k) + size_at(x, limit, depth + 1));
                sum(sizes, limit)
            };
            let entries: Vec<(&String, &Value)> = o.iter().collect();
            let total = match o.len() >= PARALLEL_MIN {
                true => on_chunks(&entries, members).into_iter().sum::<usize>(),
                false => members(&entries),
            };
            2 + 2 * o.len() - 1 + total
        }
        _ => {
            let mut total = 0;
            size_into(v, limit, 0, &mut total);
            total
        }
    }
}

/// Drops `v`; when it holds an array or object of at least [`PARALLEL_MIN`] members (found up to
/// [`DESCEND`] levels down, as [`json_size`] finds them), on a thread of its own, so that freeing
/// a million items does not hold up the execution (or the process's exit).
pub(crate) fn drop_soon(v: Value) {
    fn large(v: &Value, depth: usize) -> bool {
        let members: &mut dyn Iterator<Item = &Value> = match v {
            Value::Array(a) if a.len() >= PARALLEL_MIN => return true,
            Value::Object(o) if o.len() >= PARALLEL_MIN => return true,
            Value::Array(a) if depth < DESCEND => &mut a.iter(),
            Value::Object(o) if depth < DESCEND => &mut o.values(),
            _ => return false,
        };
        for x in members {
            if large(x, depth + 1) {
                return true;
            }
        }
        false
    }
    if large(&v, 0) {
        // Freed last, a block of this size from this thread's heap makes the allocator tidy the
        // many small blocks just freed (glibc consolidates its fast bins when a block of 64 KiB
        // or more is freed) on the dropping thread, not at this thread's next large allocation.
        let tidy: Vec<u8> = Vec::with_capacity(96 << 10);
        // Were no thread to be had, the value is dropped here, by the failed `spawn`.
        let _ = std::thread::Builder::new()
            .name("workflow-drop".into())
            .spawn(move || {
                workflow_asl::limits::drop_deep(v);
                drop(tidy);
            });
    }
}

/// [`workflow_asl::limits::nesting_depth`], on all cores for an array or object of at least
/// [`PARALLEL_MIN`] members (a Map's million results), found up to [`DESCEND`] levels down.
pub(crate) fn nesting_depth(v: &Value, limit: usize) -> usize {
    depth_at(v, limit, 0)
}

/// [`nesting_depth`] of `v`, `depth` levels into the value measured.
fn depth_at(v: &Value, limit: usize, depth: usize) -> usize {
    use workflow_asl::limits::nesting_depth as serial;
    // A container is one level over its deepest member; counting stops past `limit`.
    let deepest = |members: &[&Value]| {
        members
            .iter()
            .map(|x| depth_at(x, limit - 1, depth + 1))
            .max()
            .unwrap_or(0)
    };
    let members: Vec<&Value> = match v {
        Value::Array(a) if limit > 0 && (a.len() >= PARALLEL_MIN || depth < DESCEND) => {
            a.iter().collect()
        }
        Value::Object(o) if limit > 0 && (o.len() >= PARALLEL_MIN || depth < DESCEND) => {
            o.values().collect()
        }
        _ => return serial(v, limit),
    };
    1 + match members.len() >= PARALLEL_MIN {
        true => on_chunks(&members, deepest).into_iter().max().unwrap_or(0),
        false => deepest(&members),
    }
}

/// Adds the size of `v` to `total`; recursion is bounded (deep values continue on a heap stack).
fn size_into(v: &Value, limit: usize, depth: usize, total: &mut usize) {
    if depth > 64 {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            *total += scalar_or_frame_size(v);
            match v {
                Value::Array(a) => stack.extend(a.iter()),
                Value::Object(o) => stack.extend(o.values()),
                _ => {}
            }
            if *total > limit {
                return;
            }
        }
        return;
    }
    // One pass over containers (keys and values together); scalars are sized inline.
    match v {
        Value::Array(a) => {
            *total += 2 + a.len().saturating_sub(1);
            for x in a {
                size_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        Value::Object(o) => {
            // Braces, commas and a colon per entry.
            *total += 2 + o.len().saturating_sub(1) + o.len();
            for (k, x) in o {
                *total += json_string_len(k);
                size_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        scalar => *total += scalar_or_frame_size(scalar),
    }
}

/// The size of a scalar, or of an array's or object's own punctuation and keys.
fn scalar_or_frame_size(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => json_string_len(s),
        Value::Array(a) => 2 + a.len().saturating_sub(1),
        Value::Object(o) => {
            let keys: usize = o.keys().map(|k| json_string_len(k) + 1).sum();
            2 + keys + o.len().saturating_sub(1)
        }
    }
}

/// The error of a state or task whose output is over the payload limit.
pub(super) fn data_limit(what: &str) -> StateError {
    StateError::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// Whether a state has identity `InputPath`/`OutputPath`, no `Assign` and does not read `$$`.
pub(super) fn is_plain(st: &CState) -> bool {
    st.assign.is_none()
        && !st.needs_context
        && matches!(st.input_path, IoPath::Identity)
        && matches!(st.output_path, IoPath::Identity)
}

/// The input `ResultPath` needs: none when the result replaces it (so that a state's input is
/// not copied just to be dropped).
pub(super) fn for_result_path(rp: &ResultPathOpt, input: &Value) -> Value {
    match rp {
        ResultPathOpt::Replace => Value::Null,
        ResultPathOpt::Discard | ResultPathOpt::Path(_) => input.clone(),
    }
}

/// Reads an integer AWS accepts from a value selected by a `…Path` field: an integer, or a
/// string holding one.
pub(super) fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Reads a number AWS accepts as a float: a number, or a string holding one.
pub(super) fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Reads an integer AWS accepts as a `long` from a value selected by a `…Path` field.
pub(super) fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

/// The value as AWS shows it in the `…Path field refers to value "…"` causes.
pub(super) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => java_json(other),
    }
}

/// The path (or literal) a number field was read from, for causes.
pub(super) fn number_path(src: &NumberSource) -> String {
    match src {
        NumberSource::Path(p, _) => p.as_str().to_string(),
        NumberSource::Literal(v) => java_json(v),
    }
}

/// The cause AWS gives when a `…Path` field selects nothing.
pub(super) fn path_not_found(path: &str, field: &str, input: &Value) -> String {
    format!(
        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
        java_json(input)
    )
}

/// The JSONata side of [`StateCx::finish_result`]: the state's fields, `$states.input` and
/// `$states.context`.
pub(super) type JFinish<'a> = (&'a JState, &'a Value, &'a Value);

impl StateCx<'_> {
    /// Ends a Parallel or Map state with its `result`: in JSONata, `Output` (by default the
    /// result) and `Assign`, each seeing `$states.result`; in JSONPath, `ResultSelector` →
    /// `ResultPath` (into the state's `input`) → `OutputPath`.
    pub(super) fn finish_result(
        &mut self,
        jsonata: Option<JFinish<'_>>,
        input: &Value,
        result: Value,
        (selector, rp): (Option<&Template>, &ResultPathOpt),
        ctx: &Value,
    ) -> Result<Value, StateError> {
        match jsonata {
            Some((j, state_input, jctx)) => {
                let scope =
                    super::jsonata::scope(self.vars, state_input, jctx, Some(&result), None);
                self.j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")
                    .map(|out| out.unwrap_or(result))
            }
            None => self.finish(for_result_path(rp, input), result, selector, rp, ctx),
        }
    }

    /// `InputPath`: the effective input.
    #[inline]
    pub(super) fn input_path(&self, input: &Value, ctx: &Value) -> Result<Eff, StateError> {
        match &self.st.input_path {
            IoPath::Identity => Ok(Eff::Same),
            IoPath::Null => Ok(Eff::Owned(Value::Object(Map::new()))),
            IoPath::Path(p) => {
                let env = Env::new(input, ctx, self.vars);
                p.evaluate(&env)
                    .map(|s| Eff::Owned(s.into_value()))
                    .map_err(|m| self.runtime(&m.invalid_path_cause(p)))
            }
        }
    }

    /// `InputPath` then `Parameters` (or `ItemSelector`): the input of a task, the branches, …
    pub(super) fn effective_input(
        &mut self,
        input: &Value,
        parameters: Option<&Template>,
        ctx: &Value,
    ) -> Result<Value, StateError> {
        let eff = self.input_path(input, ctx)?;
        match parameters {
            Some(tpl) => {
                let env = Env::new(eff.get(input), ctx, self.vars);
                tpl.evaluate(&env, self.cur).map_err(|f| self.wrap(f))
            }
            None => Ok(eff.into_value(input.clone())),
        }
    }

    /// `OutputPath`: the state's output from the value `ResultPath` produced.
    #[inline]
    pub(super) fn output_path(&self, output: Value, ctx: &Value) -> Result<Value, StateError> {
        match &self.st.output_path {
            IoPath::Identity => Ok(output),
            IoPath::Null => Ok(Value::Object(Map::new())),
            IoPath::Path(p) => {
                let env = Env::new(&output, ctx, self.vars);
                p.evaluate(&env)
                    .map(|s| s.into_value())
                    .map_err(|m| self.runtime(&m.invalid_path_cause(p)))
            }
        }
    }

    /// `ResultPath`: places `result` into the raw `input`.
    #[inline]
    pub(super) fn result_path(
        &self,
        rp: &ResultPathOpt,
        input: Value,
        result: Value,
    ) -> Result<Value, StateError> {
        match rp {
            ResultPathOpt::Replace => Ok(result),
            ResultPathOpt::Discard => Ok(input),
            ResultPathOpt::Path(p) => p.apply_result(input, result).map_err(|f| self.wrap(f)),
        }
    }

    /// Evaluates `Assign` (all values first, against the variables before the assignment).
    #[inline]
    pub(super) fn assign(
        &mut self,
        tpl: Option<&Template>,
        value: &Value,
        ctx: &Value,
    ) -> Result<(), StateError> {
        let Some(tpl) = tpl else { return Ok(()) };
        let assigned = {
            let env = Env::new(value, ctx, self.vars);
            tpl.evaluate(&env, self.cur)
        }
        .map_err(|f| self.wrap(f))?;
        if let Value::Object(o) = assigned {
            for (k, v) in o {
                self.vars.insert(k, v);
            }
        }
        Ok(())
    }

    /// The state's own `Assign`, against `value`.
    #[inline]
    pub(super) fn assign_state(&mut self, value: &Value, ctx: &Value) -> Result<(), StateError> {
        let st = self.st;
        self.assign(st.assign.as_ref(), value, ctx)
    }

    /// A number field given literally or through a `…Path`.
    pub(super) fn number(
        &self,
        src: &NumberSource,
        input: &Value,
        ctx: &Value,
    ) -> Result<Value, StateError> {
        match src {
            NumberSource::Literal(v) => Ok(v.clone()),
            NumberSource::Path(p, field) => {
                let env = Env::new(input, ctx, self.vars);
                p.evaluate(&env)
                    .map(|s| s.into_value())
                    .map_err(|_| self.runtime(&path_not_found(p.as_str(), field, input)))
            }
        }
    }

    /// Shapes a successful result: ResultSelector, Assign, ResultPath, OutputPath.
    pub(super) fn finish(
        &mut self,
        input: Value,
        result: Value,
        selector: Option<&Template>,
        rp: &ResultPathOpt,
        ctx: &Value,
    ) -> Result<Value, StateError> {
        let result = match selector {
            Some(tpl) => {
                let env = Env::new(&result, ctx, self.vars);
                tpl.evaluate(&env, self.cur).map_err(|f| self.wrap(f))?
            }
            None => result,
        };
        self.assign_state(&result, ctx)?;
        let output = self.result_path(rp, input, result)?;
        self.output_path(output, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::json_size;
    use serde_json::json;
    use workflow_asl::eval::java_json;

    #[test]
    fn json_size_is_the_length_of_the_compact_text() {
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(9),
            json!(10),
            json!(99),
            json!(100),
            json!(999),
            json!(1000),
            json!(9999),
            json!(10000),
            json!(99999),
            json!(100000),
            json!(-1234567),
            json!(u64::MAX),
            json!(1.5),
            json!(1e20),
            json!("plain"),
            json!("q\"b\\n\n\u{1}\t"),
            json!([]),
            json!({}),
            json!({"a": [1, 2, {"b\"": "é"}], "c": {"d": null}}),
        ] {
            assert_eq!(json_size(&v, usize::MAX), java_json(&v).len(), "{v}");
        }
        let mut deep = json!(1);
        for _ in 0..500 {
            deep = json!([deep]);
        }
        assert_eq!(json_size(&deep, usize::MAX), java_json(&deep).len());
    }

    /// Arrays and objects of `PARALLEL_MIN` members or more are walked on all cores, with the
    /// serial walk's results, at the top or under a few small containers.
    #[test]
    fn large_containers_are_sized_and_measured_as_serially() {
        use super::{nesting_depth, PARALLEL_MIN};
        use workflow_asl::limits::nesting_depth as serial;
        let mut deep = json!("x\"é");
        for _ in 0..5 {
            deep = json!({"k": [deep]});
        }
        let mut items: Vec<serde_json::Value> = (0..PARALLEL_MIN + 7)
            .map(|i| json!({"i": i, "s": "q\"\n", "a": [i, null, true]}))
            .collect();
        items[PARALLEL_MIN / 2] = deep.clone();
        let array = serde_json::Value::Array(items.clone());
        let object = serde_json::Value::Object(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("key\t{i}"), v))
                .collect(),
        );
        // Also found under small containers, as a Map's items or results are.
        let nested = json!({"meta": {"n": 1}, "items": array.clone(), "none": []});
        let deeper = json!([[object.clone()], [], {}]);
        for v in [&array, &object, &nested, &deeper] {
            assert_eq!(json_size(v, usize::MAX), java_json(v).len());
            let size = java_json(v).len();
            for limit in [0, 10, size / 2, size - 1] {
                assert!(json_size(v, limit) > limit, "limit {limit}");
            }
            assert_eq!(json_size(v, size), size);
            for limit in [0, 1, 2, 10, 11, 127] {
                assert_eq!(nesting_depth(v, limit), serial(v, limit), "limit {limit}");
            }
        }
        assert_eq!(nesting_depth(&array, 127), 11);
    }
}
