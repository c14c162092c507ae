//! `ResultWriter`: the child executions' results, written as AWS writes them.
//!
//! Under `<Prefix>/<MapRunId>/` in the `Bucket` of `Parameters`/`Arguments`:
//! `SUCCEEDED_n.json`, `FAILED_n.json`, `PENDING_n.json` (`.jsonl` with `OutputType: JSONL`),
//! each written only if it has entries, and `manifest.json`:
//! `{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [{"Key", "Size"}…],
//! "PENDING": […], "SUCCEEDED": […]}}`. The state's output is then
//! `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}` (Key = the manifest).
//!
//! `WriterConfig.Transformation`: `NONE` (the default when exporting) writes each child
//! execution's description (`ExecutionArn`, `Input`, `Output` as JSON text, `Status`, dates…);
//! `COMPACT` (the default without `ResultWriter`) writes the outputs only; `FLATTEN` writes the
//! outputs with array outputs spliced in. A failed child is always written in the `NONE` form.
//! Without `Resource`/`Parameters`, only the state output is formatted.
//!
//! Entries are appended to the current file of their status as they arrive; a file is put to
//! the store once it passes [`FILE_ROLLOVER_BYTES`] (AWS splits at 5 GB; a smaller bound keeps
//! memory bounded here), and the next one is numbered on.

use std::sync::Arc;

use serde_json::{json, Value};

use super::DistError;
use crate::objects::ObjectStore;

/// The size after which a result file is written and the next one started.
pub const FILE_ROLLOVER_BYTES: usize = 32 * 1024 * 1024;

/// Room reserved in a result file's buffer past [`FILE_ROLLOVER_BYTES`] for the entry that
/// passes it (a bigger one makes the buffer grow).
const FILE_SLACK_BYTES: usize = 1024 * 1024;

/// `WriterConfig.Transformation`.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::writer::{Transformation, WriterPlan};
///
/// let plan = WriterPlan::new(&json!({"WriterConfig": {"Transformation": "NONE"}}), None).unwrap();
/// assert_eq!(plan.transformation, Transformation::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    /// Execution descriptions.
    None,
    /// Outputs.
    Compact,
    /// Outputs, arrays spliced in.
    Flatten,
}

/// `WriterConfig.OutputType`.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::writer::{OutputType, WriterPlan};
///
/// let plan = WriterPlan::new(&json!({"WriterConfig": {"OutputType": "JSON"}}), None).unwrap();
/// assert_eq!(plan.output_type, OutputType::Json);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    /// A JSON array per file.
    Json,
    /// JSON Lines.
    Jsonl,
}

/// An evaluated `ResultWriter`.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::writer::{OutputType, Transformation, WriterPlan};
///
/// let plan = WriterPlan::new(
///     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"}}),
///     Some(&json!({"Bucket": "out", "Prefix": "p"})),
/// ).unwrap();
/// assert_eq!((plan.bucket.as_deref(), plan.prefix.as_str()), (Some("out"), "p"));
/// assert_eq!((plan.transformation, plan.output_type), (Transformation::Flatten, OutputType::Jsonl));
/// ```
#[derive(Debug, Clone)]
pub struct WriterPlan {
    /// The destination bucket, when results are exported.
    pub bucket: Option<String>,
    /// The key prefix (may be empty).
    pub prefix: String,
    /// The transformation.
    pub transformation: Transformation,
    /// The file format.
    pub output_type: OutputType,
}

impl WriterPlan {
    /// The plan of a `ResultWriter` object and its evaluated `Parameters`/`Arguments` (`None`
    /// when it has neither). Errors are `States.ResultWriterFailed`.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::distributed::writer::{Transformation, WriterPlan};
    ///
    /// // Only a WriterConfig: nothing is exported, the results are transformed in place.
    /// let plan = WriterPlan::new(&json!({"WriterConfig": {"Transformation": "COMPACT"}}), None).unwrap();
    /// assert_eq!((plan.bucket, plan.transformation), (None, Transformation::Compact));
    /// ```
    pub fn new(result_writer: &Value, args: Option<&Value>) -> Result<WriterPlan, DistError> {
        let config = result_writer.get("WriterConfig");
        let exporting = result_writer.get("Resource").is_some();
        if let Some(r) = result_writer.get("Resource").and_then(Value::as_str) {
            if !r.ends_with(":::s3:putObject") {
                return Err(DistError::writer(format!(
                    "The ResultWriter resource '{r}' is not supported; use arn:aws:states:::s3:putObject."
                )));
            }
        }
        let transformation = match config
            .and_then(|c| c.get("Transformation"))
            .and_then(Value::as_str)
        {
            None if exporting => Transformation::None,
            None => Transformation::Compact,
            Some("NONE") => Transformation::None,
            Some("COMPACT") => Transformation::Compact,
            Some("FLATTEN") => Transformation::Flatten,
            Some(other) => {
                return Err(DistError::writer(format!(
                    "WriterConfig.Transformation '{other}' is not one of NONE, COMPACT, FLATTEN."
                )))
            }
        };
        let output_type = match config
            .and_then(|c| c.get("OutputType"))
            .and_then(Value::as_str)
        {
            None | Some("JSON") => OutputType::Json,
            Some("JSONL") => OutputType::Jsonl,
            Some(other) => {
                return Err(DistError::writer(format!(
                    "WriterConfig.OutputType '{other}' is not one of JSON, JSONL."
                )))
            }
        };
        let (bucket, prefix) =
            match (exporting, args) {
                (true, Some(a)) => {
                    let bucket = a.get("Bucket").and_then(Value::as_str).ok_or_else(|| {
                        DistError::writer(
                            "The ResultWriter parameters must have a string field 'Bucket'.",
                        )
                    })?;
                    let prefix = a.get("Prefix").and_then(Value::as_str).unwrap_or("");
                    (Some(bucket.to_string()), prefix.to_string())
                }
                (true, None) => return Err(DistError::writer(
                    "A ResultWriter with a Resource needs Parameters (or Arguments) with 'Bucket'.",
                )),
                (false, _) => (None, String::new()),
            };
        Ok(WriterPlan {
            bucket,
            prefix,
            transformation,
            output_type,
        })
    }
}

/// How a child execution ended.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// # let objects = MemoryObjects::new().with_bucket("out");
/// # let plan = WriterPlan::new(
/// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
/// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// # )?;
/// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// # let child = |i: u64, status| ChildRecord {
/// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
/// #     name: i.to_string(),
/// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
/// #     input: json!(i),
/// #     status,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// # };
/// assert_eq!(child(5, ChildStatus::Pending).describe()["Status"], "PENDING");
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Clone)]
pub enum ChildStatus {
    /// With this output.
    Succeeded(Value),
    /// With this error and cause.
    Failed {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
    /// Never run (the Map Run stopped before it).
    Pending,
}

/// One child execution, as the writer records it.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// # let objects = MemoryObjects::new().with_bucket("out");
/// # let plan = WriterPlan::new(
/// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
/// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// # )?;
/// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// # let child = |i: u64, status| ChildRecord {
/// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
/// #     name: i.to_string(),
/// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
/// #     input: json!(i),
/// #     status,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// # };
/// let rec = child(3, ChildStatus::Succeeded(json!("done")));
/// let d = rec.describe();
/// assert_eq!((d["Status"].clone(), d["Output"].clone()), (json!("SUCCEEDED"), json!("\"done\"")));
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChildRecord {
    /// Its execution ARN (its `$$.Execution.Id`).
    pub execution_arn: String,
    /// Its name (the ARN's last segment).
    pub name: String,
    /// The child state machine ARN (`…:stateMachine:<name>/<label>`).
    pub state_machine_arn: String,
    /// Its input.
    pub input: Value,
    /// How it ended.
    pub status: ChildStatus,
    /// Start time (ISO-8601).
    pub start_date: String,
    /// Stop time (ISO-8601).
    pub stop_date: String,
}

impl ChildRecord {
    /// The `NONE`-form description.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let d = child(4, ChildStatus::Failed { error: "E".into(), cause: "C".into() }).describe();
    /// assert_eq!((d["Status"].clone(), d["Error"].clone(), d["Cause"].clone()), (json!("FAILED"), json!("E"), json!("C")));
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn describe(&self) -> Value {
        let input = serde_json::to_string(&self.input).unwrap_or_default();
        let mut o = json!({
            "ExecutionArn": self.execution_arn,
            "Input": input,
            "InputDetails": {"Included": true},
            "Name": self.name,
            "StartDate": self.start_date,
            "StateMachineArn": self.state_machine_arn,
        });
        let m = o.as_object_mut().expect("an object literal");
        match &self.status {
            ChildStatus::Succeeded(out) => {
                m.insert(
                    "Output".into(),
                    Value::String(serde_json::to_string(out).unwrap_or_default()),
                );
                m.insert("OutputDetails".into(), json!({"Included": true}));
                m.insert("RedriveCount".into(), json!(0));
                m.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
                m.insert(
                    "RedriveStatusReason".into(),
                    json!("Execution is SUCCEEDED and cannot be redriven"),
                );
                m.insert("Status".into(), json!("SUCCEEDED"));
                m.insert("StopDate".into(), json!(self.stop_date));
            }
            ChildStatus::Failed { error, cause } => {
                m.insert("Error".into(), json!(error));
                m.insert("Cause".into(), json!(cause));
                m.insert("RedriveCount".into(), json!(0));
                m.insert("RedriveStatus".into(), json!("REDRIVABLE"));
                m.insert("Status".into(), json!("FAILED"));
                m.insert("StopDate".into(), json!(self.stop_date));
            }
            ChildStatus::Pending => {
                m.insert("Status".into(), json!("PENDING"));
            }
        }
        o
    }
}

/// Applies a transformation to a child's record, pushing the values it contributes.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// # let objects = MemoryObjects::new().with_bucket("out");
/// # let plan = WriterPlan::new(
/// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
/// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// # )?;
/// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// # let child = |i: u64, status| ChildRecord {
/// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
/// #     name: i.to_string(),
/// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
/// #     input: json!(i),
/// #     status,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// # };
/// use workflow_runtime::distributed::writer::{transform, Transformation};
///
/// let mut out = Vec::new();
/// transform(Transformation::Flatten, child(0, ChildStatus::Succeeded(json!([1, 2]))), &mut out);
/// transform(Transformation::Compact, child(1, ChildStatus::Succeeded(json!([3]))), &mut out);
/// assert_eq!(out, [json!(1), json!(2), json!([3])]);
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
pub fn transform(t: Transformation, rec: ChildRecord, out: &mut Vec<Value>) {
    match (t, rec.status) {
        (Transformation::Compact, ChildStatus::Succeeded(v)) => out.push(v),
        (Transformation::Flatten, ChildStatus::Succeeded(Value::Array(vs))) => out.extend(vs),
        (Transformation::Flatten, ChildStatus::Succeeded(v)) => out.push(v),
        (_, status) => out.push(ChildRecord { status, ..rec }.describe()),
    }
}

#[derive(Debug, Default)]
struct FileSet {
    buf: Vec<u8>,
    entries: usize,
    next_index: usize,
    written: Vec<(String, usize)>,
}

/// Renders a child's result as the entries of its result file: each JSON entry preceded by a
/// comma (`OutputType: JSON`) or followed by a newline (`JSONL`).
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// # let objects = MemoryObjects::new().with_bucket("out");
/// # let plan = WriterPlan::new(
/// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
/// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// # )?;
/// # let child = |i: u64, status| ChildRecord {
/// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
/// #     name: i.to_string(),
/// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
/// #     input: json!(i),
/// #     status,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// # };
/// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// // Render children on any thread, then append the batch in order.
/// let renderer = writer.renderer();
/// let mut batch = RenderedBatch::with_capacity(2, 64);
/// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
/// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
/// assert_eq!(batch.len(), 2);
/// writer.push_batch(&batch)?;
/// writer.finish()?;
/// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
/// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Renderer {
    transformation: Transformation,
    jsonl: bool,
}

/// The rendered entries of several children, one after the other in one buffer (no buffer per
/// child), and for each child the file (`SUCCEEDED`, `FAILED`, `PENDING`) they go to: what
/// [`ResultWriter::push_batch`] appends.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// # let objects = MemoryObjects::new().with_bucket("out");
/// # let plan = WriterPlan::new(
/// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
/// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// # )?;
/// # let child = |i: u64, status| ChildRecord {
/// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
/// #     name: i.to_string(),
/// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
/// #     input: json!(i),
/// #     status,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// # };
/// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// // Render children on any thread, then append the batch in order.
/// let renderer = writer.renderer();
/// let mut batch = RenderedBatch::with_capacity(2, 64);
/// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
/// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
/// assert_eq!(batch.len(), 2);
/// writer.push_batch(&batch)?;
/// writer.finish()?;
/// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
/// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Default)]
pub struct RenderedBatch {
    bytes: Vec<u8>,
    /// Per child: its file's slot, where its bytes end, how many entries they hold.
    ends: Vec<(usize, usize, usize)>,
}

impl RenderedBatch {
    /// An empty batch with room for `children` children of about `bytes_each` bytes.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// // Render children on any thread, then append the batch in order.
    /// let renderer = writer.renderer();
    /// let mut batch = RenderedBatch::with_capacity(2, 64);
    /// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
    /// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
    /// assert_eq!(batch.len(), 2);
    /// writer.push_batch(&batch)?;
    /// writer.finish()?;
    /// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
    /// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn with_capacity(children: usize, bytes_each: usize) -> RenderedBatch {
        RenderedBatch {
            bytes: Vec::with_capacity(children.saturating_mul(bytes_each)),
            ends: Vec::with_capacity(children),
        }
    }

    /// How many children it holds.
    ///
    /// ```
    /// use workflow_runtime::distributed::writer::RenderedBatch;
    /// assert_eq!(RenderedBatch::with_capacity(8, 100).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it holds no child.
    ///
    /// ```
    /// use workflow_runtime::distributed::writer::RenderedBatch;
    /// assert!(RenderedBatch::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

/// A succeeded child execution, borrowed from wherever its facts are kept: what
/// [`Renderer::render_succeeded`] writes (a [`ChildRecord`] without owning its fields).
///
/// ```
/// use std::sync::Arc;
/// use serde_json::json;
/// use workflow_runtime::distributed::writer::{RenderedBatch, ResultWriter, SucceededChild, WriterPlan};
/// use workflow_runtime::objects::MemoryObjects;
///
/// let plan = WriterPlan::new(&json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "FLATTEN"}}), Some(&json!({"Bucket": "out"})))?;
/// let writer = ResultWriter::new(Arc::new(MemoryObjects::new().with_bucket("out")), plan, "arn:mapRun", "r1")?;
/// let (input, output) = (json!(0), json!([1, 2]));
/// let child = SucceededChild {
///     execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M/Each:0",
///     name: "0",
///     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each",
///     input: &input,
///     output: &output,
///     start_date: "2024-01-01T00:00:00.000Z",
///     stop_date: "2024-01-01T00:00:01.000Z",
/// };
/// let mut batch = RenderedBatch::default();
/// writer.renderer().render_succeeded(child, &mut batch)?;
/// assert_eq!(batch.len(), 1);
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SucceededChild<'a> {
    /// Its execution ARN.
    pub execution_arn: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The child state machine ARN.
    pub state_machine_arn: &'a str,
    /// Its input.
    pub input: &'a Value,
    /// Its output.
    pub output: &'a Value,
    /// Start time (ISO-8601).
    pub start_date: &'a str,
    /// Stop time (ISO-8601).
    pub stop_date: &'a str,
}

impl Renderer {
    /// Renders `rec` (its transformation applied) at the end of `batch`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// // Render children on any thread, then append the batch in order.
    /// let renderer = writer.renderer();
    /// let mut batch = RenderedBatch::with_capacity(2, 64);
    /// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
    /// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
    /// assert_eq!(batch.len(), 2);
    /// writer.push_batch(&batch)?;
    /// writer.finish()?;
    /// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
    /// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn render_into(
        &self,
        rec: &ChildRecord,
        batch: &mut RenderedBatch,
    ) -> Result<(), DistError> {
        let slot = match rec.status {
            ChildStatus::Succeeded(_) => 0,
            ChildStatus::Failed { .. } => 1,
            ChildStatus::Pending => 2,
        };
        let start = batch.bytes.len();
        let written = match (self.transformation, &rec.status) {
            (_, ChildStatus::Succeeded(output)) => {
                let child = SucceededChild {
                    execution_arn: &rec.execution_arn,
                    name: &rec.name,
                    state_machine_arn: &rec.state_machine_arn,
                    input: &rec.input,
                    output,
                    start_date: &rec.start_date,
                    stop_date: &rec.stop_date,
                };
                return self.render_succeeded(child, batch);
            }
            // Any other status is written in the NONE form, whatever the transformation.
            _ => self.entry(&rec.describe(), &mut batch.bytes),
        };
        Self::close(batch, slot, start, written.map(|()| 1))
    }

    /// Renders a succeeded child (its transformation applied) at the end of `batch`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use serde_json::json;
    /// use workflow_runtime::distributed::writer::{RenderedBatch, ResultWriter, SucceededChild, WriterPlan};
    /// use workflow_runtime::objects::MemoryObjects;
    ///
    /// let objects = MemoryObjects::new().with_bucket("out");
    /// let plan = WriterPlan::new(&json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}), Some(&json!({"Bucket": "out"})))?;
    /// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:mapRun", "r1")?;
    /// let (input, output) = (json!(0), json!("done"));
    /// let child = SucceededChild {
    ///     execution_arn: "arn:x:0", name: "0", state_machine_arn: "arn:sm", input: &input, output: &output,
    ///     start_date: "2024-01-01T00:00:00.000Z", stop_date: "2024-01-01T00:00:01.000Z",
    /// };
    /// let mut batch = RenderedBatch::default();
    /// writer.renderer().render_succeeded(child, &mut batch)?;
    /// writer.push_batch(&batch)?;
    /// writer.finish()?;
    /// assert_eq!(objects.object("out", "r1/SUCCEEDED_0.json"), Some(b"[\"done\"]".to_vec()));
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn render_succeeded(
        &self,
        child: SucceededChild<'_>,
        batch: &mut RenderedBatch,
    ) -> Result<(), DistError> {
        let start = batch.bytes.len();
        let out = &mut batch.bytes;
        let entries = match (self.transformation, child.output) {
            (Transformation::None, _) => {
                // Written straight to bytes: the same text as serialising the record's
                // `describe()` (a test checks it), without building that value.
                if !self.jsonl {
                    out.push(b',');
                }
                describe_succeeded(&child, out).map(|()| {
                    if self.jsonl {
                        out.push(b'\n');
                    }
                    1
                })
            }
            (Transformation::Flatten, Value::Array(vs)) => vs
                .iter()
                .try_for_each(|v| self.entry(v, out))
                .map(|()| vs.len()),
            (_, v) => self.entry(v, out).map(|()| 1),
        };
        Self::close(batch, 0, start, entries)
    }

    /// One JSON entry, with its comma or newline.
    fn entry(&self, v: &Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
        if !self.jsonl {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, v)?;
        if self.jsonl {
            out.push(b'\n');
        }
        Ok(())
    }

    /// Ends the child rendered from `start`, or takes its bytes back if it failed.
    fn close(
        batch: &mut RenderedBatch,
        slot: usize,
        start: usize,
        entries: serde_json::Result<usize>,
    ) -> Result<(), DistError> {
        match entries {
            Ok(n) => {
                batch.ends.push((slot, batch.bytes.len(), n));
                Ok(())
            }
            Err(e) => {
                batch.bytes.truncate(start);
                Err(DistError::writer(e.to_string()))
            }
        }
    }
}

/// Writes the JSON text of a value as the contents of a JSON string (without its quotes), as
/// serialising that text as a string would: `serde_json::to_string(&text)` without the text.
struct Escaped<'a>(&'a mut Vec<u8>);

impl std::io::Write for Escaped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let out = &mut *self.0;
        let mut run = 0;
        for (i, &b) in buf.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&buf[run..i]);
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                    run = i + 1;
                    continue;
                }
                _ => continue,
            };
            out.extend_from_slice(&buf[run..i]);
            out.extend_from_slice(esc);
            run = i + 1;
        }
        out.extend_from_slice(&buf[run..]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `v`'s compact JSON text as a JSON string.
fn text_as_string(v: &Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.push(b'"');
    serde_json::to_writer(Escaped(&mut *out), v)?;
    out.push(b'"');
    Ok(())
}

/// Writes [`ChildRecord::describe`] of a succeeded child as JSON text, key by key in its order.
fn describe_succeeded(c: &SucceededChild<'_>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.extend_from_slice(br#"{"ExecutionArn":"#);
    serde_json::to_writer(&mut *out, c.execution_arn)?;
    out.extend_from_slice(br#","Input":"#);
    text_as_string(c.input, out)?;
    out.extend_from_slice(br#","InputDetails":{"Included":true},"Name":"#);
    serde_json::to_writer(&mut *out, c.name)?;
    out.extend_from_slice(br#","StartDate":"#);
    serde_json::to_writer(&mut *out, c.start_date)?;
    out.extend_from_slice(br#","StateMachineArn":"#);
    serde_json::to_writer(&mut *out, c.state_machine_arn)?;
    out.extend_from_slice(br#","Output":"#);
    text_as_string(c.output, out)?;
    out.extend_from_slice(
        br#","OutputDetails":{"Included":true},"RedriveCount":0,"RedriveStatus":"NOT_REDRIVABLE","RedriveStatusReason":"Execution is SUCCEEDED and cannot be redriven","Status":"SUCCEEDED","StopDate":"#,
    );
    serde_json::to_writer(&mut *out, c.stop_date)?;
    out.push(b'}');
    Ok(())
}

/// Streams child results into result files and writes the manifest.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
/// # use workflow_runtime::objects::MemoryObjects;
/// let objects = MemoryObjects::new().with_bucket("out");
/// let plan = WriterPlan::new(
///     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
///     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
/// )?;
/// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
/// let child = |i: u64, status| ChildRecord {
///     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
///     name: i.to_string(),
///     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
///     input: json!(i),
///     status,
///     start_date: "2024-01-01T00:00:00.000Z".into(),
///     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// };
/// writer.push(child(0, ChildStatus::Succeeded(json!("ok"))))?;
/// writer.push(child(1, ChildStatus::Failed { error: "Boom".into(), cause: "it broke".into() }))?;
/// let key = writer.manifest_key();
/// let output = writer.finish()?;
/// assert_eq!(output["ResultWriterDetails"], json!({"Bucket": "out", "Key": "runs/r1/manifest.json"}));
/// assert_eq!(key, "runs/r1/manifest.json");
/// let files: Vec<String> = objects.keys().into_iter().map(|(_, k)| k).collect();
/// assert!(files.contains(&"runs/r1/SUCCEEDED_0.json".to_string()), "{files:?}");
/// let succeeded: serde_json::Value = serde_json::from_slice(&objects.object("out", "runs/r1/SUCCEEDED_0.json").unwrap()).unwrap();
/// assert_eq!(succeeded, json!(["ok"])); // COMPACT: the outputs
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug)]
pub struct ResultWriter {
    store: Arc<dyn ObjectStore>,
    plan: WriterPlan,
    bucket: String,
    dir: String,
    map_run_arn: String,
    files: [FileSet; 3],
    /// The result file being put on a thread of its own while children go on (at most one, so
    /// at most one more file's bytes are held).
    in_flight: Option<std::thread::JoinHandle<Result<(), DistError>>>,
    /// [`ResultWriter::push`]'s rendering buffer, kept from one child to the next.
    scratch: RenderedBatch,
}

const STATUSES: [&str; 3] = ["SUCCEEDED", "FAILED", "PENDING"];

impl ResultWriter {
    /// A writer for an exporting `plan` (with a bucket), for the Map Run `map_run_id`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use serde_json::json;
    /// use workflow_runtime::distributed::writer::{ResultWriter, WriterPlan};
    /// use workflow_runtime::objects::MemoryObjects;
    ///
    /// let store = Arc::new(MemoryObjects::new().with_bucket("out"));
    /// let exporting = WriterPlan::new(&json!({"Resource": "arn:aws:states:::s3:putObject"}), Some(&json!({"Bucket": "out", "Prefix": "p/"})))?;
    /// let writer = ResultWriter::new(store.clone(), exporting, "arn:mapRun", "r9")?;
    /// assert_eq!(writer.manifest_key(), "p/r9/manifest.json");
    /// // A plan without a bucket exports nothing: no writer for it.
    /// let local = WriterPlan::new(&json!({"WriterConfig": {"Transformation": "COMPACT"}}), None)?;
    /// assert!(ResultWriter::new(store, local, "arn:mapRun", "r9").is_err());
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn new(
        store: Arc<dyn ObjectStore>,
        plan: WriterPlan,
        map_run_arn: &str,
        map_run_id: &str,
    ) -> Result<ResultWriter, DistError> {
        let bucket = plan
            .bucket
            .clone()
            .ok_or_else(|| DistError::writer("The ResultWriter exports nothing (no Bucket)."))?;
        let prefix = plan.prefix.trim_end_matches('/');
        let dir = if prefix.is_empty() {
            map_run_id.to_string()
        } else {
            format!("{prefix}/{map_run_id}")
        };
        Ok(ResultWriter {
            store,
            plan,
            bucket,
            dir,
            map_run_arn: map_run_arn.to_string(),
            files: Default::default(),
            in_flight: None,
            scratch: RenderedBatch::default(),
        })
    }

    /// The key of the manifest.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// assert_eq!(writer.manifest_key(), "runs/r1/manifest.json");
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn manifest_key(&self) -> String {
        format!("{}/manifest.json", self.dir)
    }

    /// Appends one child's result.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// writer.push(child(0, ChildStatus::Succeeded(json!({"n": 0}))))?;
    /// writer.finish()?;
    /// assert!(objects.object("out", "runs/r1/SUCCEEDED_0.json").is_some());
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn push(&mut self, rec: ChildRecord) -> Result<(), DistError> {
        let mut one = std::mem::take(&mut self.scratch);
        one.clear();
        let r = self
            .renderer()
            .render_into(&rec, &mut one)
            .and_then(|()| self.push_batch(&one));
        self.scratch = one;
        r
    }

    /// What renders a child's entries for this writer; it can run on any thread.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// // Render children on any thread, then append the batch in order.
    /// let renderer = writer.renderer();
    /// let mut batch = RenderedBatch::with_capacity(2, 64);
    /// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
    /// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
    /// assert_eq!(batch.len(), 2);
    /// writer.push_batch(&batch)?;
    /// writer.finish()?;
    /// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
    /// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn renderer(&self) -> Renderer {
        Renderer {
            transformation: self.plan.transformation,
            jsonl: self.plan.output_type == OutputType::Jsonl,
        }
    }

    /// Appends the entries of the children in `batch`, rendered by [`ResultWriter::renderer`],
    /// in their order.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, RenderedBatch, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// // Render children on any thread, then append the batch in order.
    /// let renderer = writer.renderer();
    /// let mut batch = RenderedBatch::with_capacity(2, 64);
    /// renderer.render_into(&child(0, ChildStatus::Succeeded(json!({"n": 0}))), &mut batch)?;
    /// renderer.render_into(&child(1, ChildStatus::Succeeded(json!({"n": 1}))), &mut batch)?;
    /// assert_eq!(batch.len(), 2);
    /// writer.push_batch(&batch)?;
    /// writer.finish()?;
    /// let file = objects.object("out", "runs/r1/SUCCEEDED_0.jsonl").expect("written");
    /// assert_eq!(String::from_utf8(file).unwrap(), "{\"n\":0}\n{\"n\":1}\n"); // JSONL, COMPACT
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn push_batch(&mut self, batch: &RenderedBatch) -> Result<(), DistError> {
        let jsonl = self.plan.output_type == OutputType::Jsonl;
        let mut start = 0;
        for &(slot, end, entries) in &batch.ends {
            let bytes = &batch.bytes[start..end];
            start = end;
            let f = &mut self.files[slot];
            if f.buf.capacity() == 0 {
                // A file's buffer is taken whole when it is put: the next one is sized for a
                // full file at once instead of growing (and copying) to it.
                f.buf.reserve(FILE_ROLLOVER_BYTES + FILE_SLACK_BYTES);
            }
            match bytes.split_first() {
                // The first entry of a JSON file opens the array instead of following a comma.
                Some((_, rest)) if !jsonl && f.entries == 0 => {
                    f.buf.push(b'[');
                    f.buf.extend_from_slice(rest);
                }
                _ => f.buf.extend_from_slice(bytes),
            }
            f.entries += entries;
            if f.buf.len() >= FILE_ROLLOVER_BYTES {
                self.flush(slot)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, slot: usize) -> Result<(), DistError> {
        let ext = match self.plan.output_type {
            OutputType::Json => "json",
            OutputType::Jsonl => "jsonl",
        };
        let f = &mut self.files[slot];
        if f.entries == 0 {
            return Ok(());
        }
        if self.plan.output_type == OutputType::Json {
            f.buf.push(b']');
        }
        let key = format!("{}/{}_{}.{ext}", self.dir, STATUSES[slot], f.next_index);
        let mut body = std::mem::take(&mut f.buf);
        if body.len() < body.capacity() / 2 {
            // A last, short file: the store may keep the buffer as it is.
            body.shrink_to_fit();
        }
        let size = body.len();
        f.entries = 0;
        f.next_index += 1;
        f.written.push((key.clone(), size));
        // The previous file first: its failure is this writer's failure.
        self.wait_in_flight()?;
        let store = Arc::clone(&self.store);
        let bucket = self.bucket.clone();
        let put = move || {
            store
                .put_object(&bucket, &key, body)
                .map_err(|e| DistError::writer(format!("Writing s3://{bucket}/{key} failed: {e}")))
        };
        // Putting a file (the directory backend syncs it to disk) overlaps with the children.
        let handle = std::thread::Builder::new()
            .name("workflow-result-writer".into())
            .spawn(put)
            .map_err(|e| DistError::writer(format!("Cannot start writing a result file: {e}")))?;
        self.in_flight = Some(handle);
        Ok(())
    }

    /// Waits for the file being put, if any, and returns its failure.
    fn wait_in_flight(&mut self) -> Result<(), DistError> {
        match self.in_flight.take() {
            None => Ok(()),
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(DistError::writer("Writing a result file panicked"))),
        }
    }

    /// Writes what is left and the manifest; returns the state output
    /// `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::distributed::writer::{ChildRecord, ChildStatus, ResultWriter, WriterPlan};
    /// # use workflow_runtime::objects::MemoryObjects;
    /// # let objects = MemoryObjects::new().with_bucket("out");
    /// # let plan = WriterPlan::new(
    /// #     &json!({"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {"Transformation": "COMPACT"}}),
    /// #     Some(&json!({"Bucket": "out", "Prefix": "runs"})),
    /// # )?;
    /// # let mut writer = ResultWriter::new(Arc::new(objects.clone()), plan, "arn:aws:states:us-east-1:123456789012:mapRun:M/Each:r1", "r1")?;
    /// # let child = |i: u64, status| ChildRecord {
    /// #     execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:M/Each:{i}"),
    /// #     name: i.to_string(),
    /// #     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M/Each".into(),
    /// #     input: json!(i),
    /// #     status,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// # };
    /// let output = writer.finish()?; // no child: a manifest all the same
    /// assert!(output["MapRunArn"].as_str().unwrap().ends_with(":r1"));
    /// assert!(objects.object("out", "runs/r1/manifest.json").is_some());
    /// # Ok::<(), workflow_runtime::distributed::DistError>(())
    /// ```
    pub fn finish(mut self) -> Result<Value, DistError> {
        for slot in 0..3 {
            self.flush(slot)?;
        }
        self.wait_in_flight()?;
        let list = |f: &FileSet| -> Value {
            Value::Array(
                f.written
                    .iter()
                    .map(|(k, s)| json!({"Key": k, "Size": s}))
                    .collect(),
            )
        };
        let manifest = json!({
            "DestinationBucket": self.bucket,
            "MapRunArn": self.map_run_arn,
            "ResultFiles": {
                "FAILED": list(&self.files[1]),
                "PENDING": list(&self.files[2]),
                "SUCCEEDED": list(&self.files[0]),
            }
        });
        let key = self.manifest_key();
        let body = serde_json::to_vec(&manifest).map_err(|e| DistError::writer(e.to_string()))?;
        self.store
            .put_object(&self.bucket, &key, body)
            .map_err(|e| {
                DistError::writer(format!("Writing s3://{}/{key} failed: {e}", self.bucket))
            })?;
        Ok(json!({
            "MapRunArn": self.map_run_arn,
            "ResultWriterDetails": {"Bucket": self.bucket, "Key": key},
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::MemoryObjects;

    fn rec(i: u64, status: ChildStatus) -> ChildRecord {
        ChildRecord {
            execution_arn: format!("arn:aws:states:us-east-1:1:execution:sm/Map:{i}"),
            name: i.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:sm/Map".into(),
            input: json!({"i": i}),
            status,
            start_date: "2024-01-01T00:00:00.000Z".into(),
            stop_date: "2024-01-01T00:00:01.000Z".into(),
        }
    }

    fn write(rw: Value, recs: Vec<ChildRecord>) -> (MemoryObjects, Value) {
        let store = MemoryObjects::new().with_bucket("out");
        let plan = WriterPlan::new(&rw, rw.get("Parameters")).unwrap();
        let mut w = ResultWriter::new(Arc::new(store.clone()), plan, "arn:run", "run-id").unwrap();
        for r in recs {
            w.push(r).unwrap();
        }
        (store, w.finish().unwrap())
    }

    fn read(store: &MemoryObjects, key: &str) -> Value {
        serde_json::from_slice(&store.object("out", key).expect(key)).unwrap()
    }

    #[test]
    fn none_is_the_default_when_exporting_and_the_manifest_lists_the_files() {
        let rw = json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "p"}});
        let failed = ChildStatus::Failed {
            error: "E".into(),
            cause: "C".into(),
        };
        let (store, out) = write(
            rw,
            vec![rec(0, ChildStatus::Succeeded(json!([1]))), rec(1, failed)],
        );
        assert_eq!(
            out,
            json!({"MapRunArn": "arn:run", "ResultWriterDetails": {"Bucket": "out", "Key": "p/run-id/manifest.json"}})
        );
        let manifest = read(&store, "p/run-id/manifest.json");
        assert_eq!(manifest["DestinationBucket"], "out");
        assert_eq!(
            manifest["ResultFiles"]["SUCCEEDED"][0]["Key"],
            "p/run-id/SUCCEEDED_0.json"
        );
        assert_eq!(
            manifest["ResultFiles"]["FAILED"][0]["Key"],
            "p/run-id/FAILED_0.json"
        );
        assert_eq!(manifest["ResultFiles"]["PENDING"], json!([]));
        let ok = read(&store, "p/run-id/SUCCEEDED_0.json");
        assert_eq!(ok[0]["Output"], "[1]");
        assert_eq!(ok[0]["Input"], "{\"i\":0}");
        assert_eq!(ok[0]["Status"], "SUCCEEDED");
        let bad = read(&store, "p/run-id/FAILED_0.json");
        assert_eq!(bad[0]["Error"], "E");
        assert_eq!(bad[0]["Cause"], "C");
        let size = manifest["ResultFiles"]["SUCCEEDED"][0]["Size"]
            .as_u64()
            .unwrap();
        assert_eq!(
            size as usize,
            store
                .object("out", "p/run-id/SUCCEEDED_0.json")
                .unwrap()
                .len()
        );
    }

    #[test]
    fn compact_and_flatten_and_jsonl() {
        let rw = json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"},
            "WriterConfig": {"Transformation": "COMPACT"}});
        let (store, _) = write(rw, vec![rec(0, ChildStatus::Succeeded(json!([1, 2])))]);
        assert_eq!(read(&store, "run-id/SUCCEEDED_0.json"), json!([[1, 2]]));

        let rw = json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"},
            "WriterConfig": {"Transformation": "FLATTEN"}});
        let recs = vec![
            rec(0, ChildStatus::Succeeded(json!([1, 2]))),
            rec(1, ChildStatus::Succeeded(json!(3))),
        ];
        let (store, _) = write(rw, recs);
        assert_eq!(read(&store, "run-id/SUCCEEDED_0.json"), json!([1, 2, 3]));

        let rw = json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"},
            "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"}});
        let recs = vec![
            rec(0, ChildStatus::Succeeded(json!({"a": 1}))),
            rec(1, ChildStatus::Succeeded(json!(2))),
        ];
        let (store, _) = write(rw, recs);
        let text =
            String::from_utf8(store.object("out", "run-id/SUCCEEDED_0.jsonl").unwrap()).unwrap();
        assert_eq!(text, "{\"a\":1}\n2\n");
    }

    #[test]
    fn writer_config_alone_formats_the_output_only() {
        let plan = WriterPlan::new(
            &json!({"WriterConfig": {"Transformation": "FLATTEN"}}),
            None,
        )
        .unwrap();
        assert!(plan.bucket.is_none());
        let mut out = Vec::new();
        transform(
            plan.transformation,
            rec(0, ChildStatus::Succeeded(json!([1, 2]))),
            &mut out,
        );
        assert_eq!(out, [json!(1), json!(2)]);
    }

    #[test]
    fn a_missing_bucket_is_a_result_writer_error() {
        let store = MemoryObjects::new();
        let rw =
            json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "nope"}});
        let plan = WriterPlan::new(&rw, rw.get("Parameters")).unwrap();
        let w = ResultWriter::new(Arc::new(store), plan, "arn:run", "id").unwrap();
        let e = w.finish().unwrap_err();
        assert_eq!(e.error, "States.ResultWriterFailed");
        assert!(e.cause.contains("NoSuchBucket"), "{}", e.cause);
    }

    #[test]
    fn a_succeeded_child_is_rendered_as_its_description_serialised() {
        let r = ChildRecord {
            execution_arn: "arn:aws:states:r:1:execution:sm/M:u\"q".into(),
            name: "u".into(),
            state_machine_arn: "arn:aws:states:r:1:stateMachine:sm/M".into(),
            input: serde_json::json!({"a": "x\ny", "n": [1, 2.5], "q": "\"\\\t\u{1}\u{7f}/"}),
            status: ChildStatus::Succeeded(serde_json::json!({"ok": true, "s": "é"})),
            start_date: "2026-01-01T00:00:00.000Z".into(),
            stop_date: "2026-01-01T00:00:01.000Z".into(),
        };
        let mut want = b",".to_vec();
        want.extend(serde_json::to_vec(&r.describe()).expect("JSON"));
        let renderer = Renderer {
            transformation: Transformation::None,
            jsonl: false,
        };
        let mut batch = RenderedBatch::default();
        renderer.render_into(&r, &mut batch).expect("rendered");
        assert_eq!(batch.ends, [(0, want.len(), 1)]);
        assert_eq!(
            String::from_utf8(batch.bytes).expect("UTF-8"),
            String::from_utf8(want).expect("UTF-8")
        );
    }
}
