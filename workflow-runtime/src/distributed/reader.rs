//! `ItemReader`: the items of a Distributed Map read from an object store.
//!
//! Formats (AWS, "ItemReader (Map)" and "How Step Functions parses input CSV files"):
//! - `s3:getObject` with `ReaderConfig.InputType`
//!   - `JSON`: the object is a JSON array (or holds one at `ItemsPointer`, a JSON Pointer);
//!   - `JSONL`: one JSON value per non-blank line, streamed;
//!   - `CSV`: streamed records; headers from the first row (`CSVHeaderLocation: FIRST_ROW`,
//!     the default) or given (`GIVEN` + `CSVHeaders`); `CSVDelimiter` one of `COMMA` (default),
//!     `PIPE`, `SEMICOLON`, `SPACE`, `TAB`; every value a string; a row shorter than the
//!     headers gets `""` for the missing fields, a longer one loses the extra fields; quotes
//!     enclose delimiters and newlines, `""` is a quote, a backslash escapes a backslash, a quote
//!     or the delimiter and is dropped before any other character;
//!   - `MANIFEST`: an S3 Inventory `manifest.json`; items are the rows of its (gzip) CSV data
//!     files, as objects keyed by the manifest's `fileSchema`;
//!   - `PARQUET`: not supported (a clear `States.ItemReaderFailed`);
//! - `s3:listObjectsV2`: one item per object under `Prefix`: `{"Etag", "Key", "LastModified",
//!   "Size", "StorageClass"}`.
//!
//! `MaxItems` caps the count (0 = no cap); the reader stops reading once it is reached.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value};

use super::{DistError, MAX_ITEM_BYTES};
use crate::objects::{ObjectError, ObjectStore};

/// `s3:getObject` or `s3:listObjectsV2`.
///
/// ```
/// use workflow_runtime::distributed::reader::ReaderResource;
/// assert_eq!(ReaderResource::from_arn("arn:aws:states:::s3:listObjectsV2"), Some(ReaderResource::ListObjectsV2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderResource {
    /// `arn:aws:states:::s3:getObject`
    GetObject,
    /// `arn:aws:states:::s3:listObjectsV2`
    ListObjectsV2,
}

impl ReaderResource {
    /// The resource of an `ItemReader.Resource` ARN, if it is one of the two S3 readers.
    ///
    /// ```
    /// use workflow_runtime::distributed::reader::ReaderResource;
    /// assert_eq!(ReaderResource::from_arn("arn:aws:states:::s3:getObject"), Some(ReaderResource::GetObject));
    /// assert_eq!(ReaderResource::from_arn("arn:aws:states:::s3:putObject"), None);
    /// ```
    pub fn from_arn(arn: &str) -> Option<ReaderResource> {
        let tail = arn.rsplit(":::").next().unwrap_or(arn);
        match tail {
            "s3:getObject" => Some(ReaderResource::GetObject),
            "s3:listObjectsV2" => Some(ReaderResource::ListObjectsV2),
            _ => None,
        }
    }
}

/// `ReaderConfig.InputType`.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::reader::{InputType, ReaderPlan};
///
/// let reader = json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"}});
/// let plan = ReaderPlan::new(&reader, &json!({"Bucket": "b", "Key": "k"}), 0).unwrap();
/// assert_eq!(plan.input_type, InputType::Jsonl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// A JSON array.
    Json,
    /// JSON Lines.
    Jsonl,
    /// Delimited text.
    Csv,
    /// An S3 Inventory manifest.
    Manifest,
    /// Parquet (not supported).
    Parquet,
}

/// Where CSV headers come from.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::reader::{CsvHeaders, ReaderPlan};
///
/// let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
///   "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"]}});
/// let plan = ReaderPlan::new(&reader, &json!({"Bucket": "b", "Key": "k"}), 0).unwrap();
/// assert_eq!(plan.headers, CsvHeaders::Given(vec!["a".into(), "b".into()]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvHeaders {
    /// The first record.
    FirstRow,
    /// `CSVHeaders`.
    Given(Vec<String>),
}

/// A fully evaluated item reader: what to read and how.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::reader::{open, ReaderPlan};
/// # use workflow_runtime::objects::{MemoryObjects, ObjectStore};
/// # let store: Arc<dyn ObjectStore> = Arc::new(MemoryObjects::new().with_object("in", "rows.csv", "id,name\n1,ada\n2,bob\n"));
/// # let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
/// #                     "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}});
/// # let plan = ReaderPlan::new(&reader, &json!({"Bucket": "in", "Key": "rows.csv"}), 0)?;
/// use workflow_runtime::distributed::reader::{CsvHeaders, InputType, ReaderResource};
///
/// assert_eq!((plan.resource, plan.input_type), (ReaderResource::GetObject, InputType::Csv));
/// assert_eq!((plan.bucket.as_str(), plan.key.as_str(), plan.headers.clone()), ("in", "rows.csv", CsvHeaders::FirstRow));
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReaderPlan {
    /// The S3 call.
    pub resource: ReaderResource,
    /// The bucket.
    pub bucket: String,
    /// The key (`getObject`).
    pub key: String,
    /// The prefix (`listObjectsV2`).
    pub prefix: String,
    /// The input type (`getObject`).
    pub input_type: InputType,
    /// CSV headers.
    pub headers: CsvHeaders,
    /// CSV delimiter byte.
    pub delimiter: u8,
    /// `ItemsPointer` (JSON).
    pub items_pointer: Option<String>,
    /// `MaxItems` (0 = all).
    pub max_items: u64,
}

impl ReaderPlan {
    /// Builds a plan from the `ItemReader` object, its evaluated `Parameters`/`Arguments`, and
    /// the evaluated `MaxItems` (0 when absent). Errors are `States.ItemReaderFailed`.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::distributed::reader::ReaderPlan;
    ///
    /// let reader = json!({"Resource": "arn:aws:states:::s3:listObjectsV2"});
    /// let plan = ReaderPlan::new(&reader, &json!({"Bucket": "logs", "Prefix": "2024/"}), 100).unwrap();
    /// assert_eq!((plan.prefix.as_str(), plan.max_items), ("2024/", 100));
    /// // A reader that is not S3's is refused with the Map's error.
    /// let err = ReaderPlan::new(&json!({"Resource": "arn:aws:states:::dynamodb:scan"}), &json!({}), 0).unwrap_err();
    /// assert_eq!(err.error, "States.ItemReaderFailed");
    /// ```
    pub fn new(item_reader: &Value, args: &Value, max_items: u64) -> Result<ReaderPlan, DistError> {
        let resource_arn = item_reader
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or("");
        let resource = ReaderResource::from_arn(resource_arn).ok_or_else(|| {
            DistError::reader(format!(
                "The ItemReader resource '{resource_arn}' is not supported; use arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2."
            ))
        })?;
        let field = |name: &str| args.get(name).and_then(Value::as_str).map(str::to_string);
        let bucket = field("Bucket").ok_or_else(|| {
            DistError::reader("The ItemReader parameters must have a string field 'Bucket'.")
        })?;
        let config = item_reader.get("ReaderConfig");
        let cfg = |name: &str| config.and_then(|c| c.get(name));
        let mut plan = ReaderPlan {
            resource,
            bucket,
            key: String::new(),
            prefix: field("Prefix").unwrap_or_default(),
            input_type: InputType::Json,
            headers: CsvHeaders::FirstRow,
            delimiter: b',',
            items_pointer: cfg("ItemsPointer")
                .and_then(Value::as_str)
                .map(str::to_string),
            max_items,
        };
        if resource == ReaderResource::ListObjectsV2 {
            return Ok(plan);
        }
        plan.key = field("Key").ok_or_else(|| {
            DistError::reader("The ItemReader parameters must have a string field 'Key'.")
        })?;
        plan.input_type = match cfg("InputType").and_then(Value::as_str) {
            Some("JSON") => InputType::Json,
            Some("JSONL") => InputType::Jsonl,
            Some("CSV") => InputType::Csv,
            Some("MANIFEST") => InputType::Manifest,
            Some("PARQUET") => InputType::Parquet,
            Some(other) => {
                return Err(DistError::reader(format!(
                    "ReaderConfig.InputType '{other}' is not one of JSON, JSONL, CSV, MANIFEST, PARQUET."
                )))
            }
            None => {
                return Err(DistError::reader(
                    "ReaderConfig.InputType is required with arn:aws:states:::s3:getObject.",
                ))
            }
        };
        plan.delimiter = match cfg("CSVDelimiter").and_then(Value::as_str) {
            None | Some("COMMA") => b',',
            Some("PIPE") => b'|',
            Some("SEMICOLON") => b';',
            Some("SPACE") => b' ',
            Some("TAB") => b'\t',
            Some(other) => {
                return Err(DistError::reader(format!(
                    "ReaderConfig.CSVDelimiter '{other}' is not one of COMMA, PIPE, SEMICOLON, SPACE, TAB."
                )))
            }
        };
        plan.headers = match cfg("CSVHeaderLocation").and_then(Value::as_str) {
            None | Some("FIRST_ROW") => CsvHeaders::FirstRow,
            Some("GIVEN") => {
                let given = cfg("CSVHeaders").and_then(Value::as_array).ok_or_else(|| {
                    DistError::reader(
                        "CSVHeaderLocation GIVEN needs CSVHeaders, an array of strings.",
                    )
                })?;
                let headers = given
                    .iter()
                    .map(|h| h.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| DistError::reader("CSVHeaders must be an array of strings."))?;
                check_headers(&headers)?;
                CsvHeaders::Given(headers)
            }
            Some(other) => {
                return Err(DistError::reader(format!(
                    "ReaderConfig.CSVHeaderLocation '{other}' is not one of FIRST_ROW, GIVEN."
                )))
            }
        };
        Ok(plan)
    }
}

fn check_headers(headers: &[String]) -> Result<(), DistError> {
    let mut seen = std::collections::HashSet::new();
    if headers.iter().any(|h| !seen.insert(h.as_str())) {
        // AWS's cause, as recorded (test_map_item_reader_csv_headers_decl_duplicate_headers).
        return Err(DistError::reader("CSV headers cannot contain duplicates."));
    }
    Ok(())
}

fn object_error(e: ObjectError) -> DistError {
    DistError::reader(e.to_string())
}

/// The items of a reader, in order, one at a time.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::reader::{open, ReaderPlan};
/// # use workflow_runtime::objects::{MemoryObjects, ObjectStore};
/// let store: Arc<dyn ObjectStore> = Arc::new(MemoryObjects::new().with_object("in", "rows.csv", "id,name\n1,ada\n2,bob\n"));
/// let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
///                     "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}});
/// let plan = ReaderPlan::new(&reader, &json!({"Bucket": "in", "Key": "rows.csv"}), 0)?;
/// let items: Vec<_> = open(&store, &plan)?.collect::<Result<_, _>>()?;
/// assert_eq!(items, [json!({"id": "1", "name": "ada"}), json!({"id": "2", "name": "bob"})]);
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
pub struct Items {
    inner: Box<dyn Iterator<Item = Result<Value, DistError>> + Send>,
    remaining: u64,
    produced: u64,
    failed: bool,
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("produced", &self.produced)
            .finish()
    }
}

impl Iterator for Items {
    type Item = Result<Value, DistError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.remaining == 0 {
            return None;
        }
        let next = self.inner.next()?;
        match &next {
            Ok(v) => {
                let size = workflow_asl::eval::java_json_len(v, MAX_ITEM_BYTES);
                if size > MAX_ITEM_BYTES {
                    self.failed = true;
                    return Some(Err(DistError::reader(format!(
                        "Item {} is {size} bytes, over the {MAX_ITEM_BYTES}-byte (256 KiB) limit of a child execution's input.",
                        self.produced
                    ))));
                }
                self.produced += 1;
                self.remaining -= 1;
            }
            Err(_) => self.failed = true,
        }
        Some(next)
    }
}

/// Opens the items of `plan` on `store`. Errors found before the first item (missing object,
/// not an array, bad manifest) come here; later ones (a malformed line) come from the iterator.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::distributed::reader::{open, ReaderPlan};
/// # use workflow_runtime::objects::{MemoryObjects, ObjectStore};
/// # let store: Arc<dyn ObjectStore> = Arc::new(MemoryObjects::new().with_object("in", "rows.csv", "id,name\n1,ada\n2,bob\n"));
/// # let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
/// #                     "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}});
/// # let plan = ReaderPlan::new(&reader, &json!({"Bucket": "in", "Key": "rows.csv"}), 0)?;
/// assert_eq!(open(&store, &plan)?.count(), 2);
/// // A missing object fails before the first item.
/// let missing = ReaderPlan::new(&reader, &json!({"Bucket": "in", "Key": "nope.csv"}), 0)?;
/// assert_eq!(open(&store, &missing).unwrap_err().error, "States.ItemReaderFailed");
/// # Ok::<(), workflow_runtime::distributed::DistError>(())
/// ```
pub fn open(store: &Arc<dyn ObjectStore>, plan: &ReaderPlan) -> Result<Items, DistError> {
    let inner: Box<dyn Iterator<Item = Result<Value, DistError>> + Send> = match plan.resource {
        ReaderResource::ListObjectsV2 => {
            let listed = store
                .list_objects_v2(&plan.bucket, &plan.prefix)
                .map_err(object_error)?;
            Box::new(listed.into_iter().map(|o| {
                Ok(serde_json::json!({
                    "Etag": o.etag,
                    "Key": o.key,
                    "LastModified": o.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "Size": o.size,
                    "StorageClass": "STANDARD",
                }))
            }))
        }
        ReaderResource::GetObject => {
            let where_ = format!("s3://{}/{}", plan.bucket, plan.key);
            match plan.input_type {
                InputType::Parquet => {
                    return Err(DistError::reader(
                        "ReaderConfig.InputType PARQUET is not supported by this runtime; convert the data to JSON, JSONL or CSV.",
                    ))
                }
                InputType::Json => {
                    let body = store
                        .get_object(&plan.bucket, &plan.key)
                        .map_err(object_error)?;
                    json_items(body, plan.items_pointer.as_deref(), &where_)?
                }
                InputType::Jsonl => {
                    let body = store
                        .get_object(&plan.bucket, &plan.key)
                        .map_err(object_error)?;
                    Box::new(JsonLines {
                        lines: BufReader::new(body),
                        line: 0,
                        buf: Vec::new(),
                        where_,
                    })
                }
                InputType::Csv => {
                    let body = store
                        .get_object(&plan.bucket, &plan.key)
                        .map_err(object_error)?;
                    Box::new(CsvItems::new(
                        Box::new(BufReader::new(body)),
                        plan.delimiter,
                        plan.headers.clone(),
                        where_,
                    )?)
                }
                InputType::Manifest => manifest_items(Arc::clone(store), plan, &where_)?,
            }
        }
    };
    Ok(Items {
        inner,
        remaining: if plan.max_items == 0 {
            u64::MAX
        } else {
            plan.max_items
        },
        produced: 0,
        failed: false,
    })
}

type ItemIter = Box<dyn Iterator<Item = Result<Value, DistError>> + Send>;

fn json_items(
    body: Box<dyn Read + Send>,
    pointer: Option<&str>,
    where_: &str,
) -> Result<ItemIter, DistError> {
    let value: Value = serde_json::from_reader(BufReader::new(body))
        .map_err(|e| DistError::reader(format!("The object {where_} is not valid JSON: {e}")))?;
    let value = match pointer {
        None => value,
        Some(p) => {
            let mut value = value;
            match value.pointer_mut(p) {
                Some(v) => v.take(),
                None => {
                    return Err(DistError::reader(format!(
                        "ItemsPointer '{p}' selects nothing in the object {where_}."
                    )))
                }
            }
        }
    };
    match value {
        Value::Array(items) => Ok(Box::new(items.into_iter().map(Ok))),
        // AWS's cause, as recorded (test_map_item_reader_json_no_json_list_object).
        _ => Err(DistError::reader(
            "Attempting to map over non-iterable node.",
        )),
    }
}

/// JSON Lines, one value per non-blank line.
struct JsonLines<R> {
    lines: R,
    line: u64,
    buf: Vec<u8>,
    where_: String,
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Result<Value, DistError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.lines.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(DistError::reader(format!(
                        "Reading {} failed: {e}",
                        self.where_
                    ))))
                }
            }
            self.line += 1;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(serde_json::from_slice(&self.buf).map_err(|e| {
                DistError::reader(format!(
                    "Line {} of {} is not valid JSON: {e}",
                    self.line, self.where_
                ))
            }));
        }
    }
}

/// A streaming reader of delimited records with AWS's quoting and backslash rules.
///
/// ```
/// use workflow_runtime::distributed::reader::CsvRecords;
///
/// let text = "a,\"b,c\"\n\nd,e\n";
/// let mut records = CsvRecords::new(Box::new(text.as_bytes()), b',', "s3://in/rows.csv".into());
/// assert_eq!(records.next_record().unwrap(), Some(vec!["a".to_string(), "b,c".to_string()]));
/// assert_eq!(records.next_record().unwrap(), Some(vec!["d".to_string(), "e".to_string()])); // blank line skipped
/// assert_eq!(records.next_record().unwrap(), None);
/// ```
pub struct CsvRecords {
    input: Box<dyn BufRead + Send>,
    delimiter: u8,
    /// The 1-based line where the next record starts.
    line: u64,
    field: Vec<u8>,
    where_: String,
}

impl CsvRecords {
    /// Records of `input` split on `delimiter`; `where_` names the object in errors.
    ///
    /// ```
    /// use workflow_runtime::distributed::reader::CsvRecords;
    ///
    /// let mut tabs = CsvRecords::new(Box::new("x\ty\n".as_bytes()), b'\t', "tabs".into());
    /// assert_eq!(tabs.next_record().unwrap(), Some(vec!["x".to_string(), "y".to_string()]));
    /// ```
    pub fn new(input: Box<dyn BufRead + Send>, delimiter: u8, where_: String) -> CsvRecords {
        CsvRecords {
            input,
            delimiter,
            line: 1,
            field: Vec::new(),
            where_,
        }
    }

    fn byte(&mut self) -> Result<Option<u8>, DistError> {
        let buf = self
            .input
            .fill_buf()
            .map_err(|e| DistError::reader(format!("Reading {} failed: {e}", self.where_)))?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.input.consume(1);
        Ok(Some(b))
    }

    fn finish_field(&mut self, record: &mut Vec<String>) -> Result<(), DistError> {
        let text = String::from_utf8(std::mem::take(&mut self.field)).map_err(|_| {
            DistError::reader(format!(
                "Line {} of {} is not valid UTF-8.",
                self.line, self.where_
            ))
        })?;
        record.push(text);
        Ok(())
    }

    /// The next record (blank lines are skipped), or `None` at the end.
    ///
    /// ```
    /// use workflow_runtime::distributed::reader::CsvRecords;
    ///
    /// let mut r = CsvRecords::new(Box::new("only\n".as_bytes()), b',', "one".into());
    /// assert!(r.next_record().unwrap().is_some());
    /// assert!(r.next_record().unwrap().is_none());
    /// ```
    pub fn next_record(&mut self) -> Result<Option<Vec<String>>, DistError> {
        let mut record: Vec<String> = Vec::new();
        let mut in_quotes = false;
        let mut any = false;
        let start_line = self.line;
        loop {
            let Some(b) = self.byte()? else {
                if in_quotes {
                    return Err(DistError::reader(format!(
                        "Malformed CSV in {}: the quoted field opened on line {start_line} is never closed.",
                        self.where_
                    )));
                }
                if !any {
                    return Ok(None);
                }
                self.finish_field(&mut record)?;
                return Ok(Some(record));
            };
            if self.field.len() > MAX_ITEM_BYTES {
                return Err(DistError::reader(format!(
                    "Line {start_line} of {} has a field over {MAX_ITEM_BYTES} bytes (256 KiB).",
                    self.where_
                )));
            }
            match b {
                b'\\' => {
                    any = true;
                    // A backslash escapes a backslash, a quote or the delimiter; before any
                    // other character the backslash alone is dropped.
                    match self.byte()? {
                        Some(b'\n') => {
                            self.line += 1;
                            self.field.push(b'\n');
                        }
                        Some(c) => self.field.push(c),
                        None => {}
                    }
                }
                b'"' if in_quotes => {
                    // `""` inside quotes is a quote.
                    let buf = self.input.fill_buf().map_err(|e| {
                        DistError::reader(format!("Reading {} failed: {e}", self.where_))
                    })?;
                    if buf.first() == Some(&b'"') {
                        self.input.consume(1);
                        self.field.push(b'"');
                    } else {
                        in_quotes = false;
                    }
                }
                b'"' => {
                    any = true;
                    in_quotes = true;
                }
                b'\n' if in_quotes => {
                    self.line += 1;
                    self.field.push(b);
                }
                b'\n' => {
                    self.line += 1;
                    if self.field.last() == Some(&b'\r') {
                        self.field.pop();
                    }
                    if !any && self.field.is_empty() && record.is_empty() {
                        // A blank line.
                        continue;
                    }
                    self.finish_field(&mut record)?;
                    return Ok(Some(record));
                }
                c if c == self.delimiter && !in_quotes => {
                    any = true;
                    self.finish_field(&mut record)?;
                }
                c => {
                    any = true;
                    self.field.push(c);
                }
            }
        }
    }
}

/// CSV items: objects from headers to values.
struct CsvItems {
    records: CsvRecords,
    headers: Vec<String>,
}

impl CsvItems {
    fn new(
        input: Box<dyn BufRead + Send>,
        delimiter: u8,
        headers: CsvHeaders,
        where_: String,
    ) -> Result<CsvItems, DistError> {
        let mut records = CsvRecords::new(input, delimiter, where_);
        let headers = match headers {
            CsvHeaders::Given(h) => h,
            CsvHeaders::FirstRow => {
                let h = records.next_record()?.unwrap_or_default();
                check_headers(&h)?;
                h
            }
        };
        Ok(CsvItems { records, headers })
    }
}

impl Iterator for CsvItems {
    type Item = Result<Value, DistError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.records.next_record() {
            Err(e) => Some(Err(e)),
            Ok(None) => None,
            Ok(Some(fields)) => {
                let mut fields = fields.into_iter();
                let mut o = Map::with_capacity(self.headers.len());
                for h in &self.headers {
                    o.insert(h.clone(), Value::String(fields.next().unwrap_or_default()));
                }
                Some(Ok(Value::Object(o)))
            }
        }
    }
}

/// `MANIFEST`: the rows of an S3 Inventory report's CSV data files.
fn manifest_items(
    store: Arc<dyn ObjectStore>,
    plan: &ReaderPlan,
    where_: &str,
) -> Result<ItemIter, DistError> {
    let body = store
        .get_object(&plan.bucket, &plan.key)
        .map_err(object_error)?;
    let manifest: Value = serde_json::from_reader(BufReader::new(body))
        .map_err(|e| DistError::reader(format!("The manifest {where_} is not valid JSON: {e}")))?;
    let format = manifest
        .get("fileFormat")
        .and_then(Value::as_str)
        .unwrap_or("CSV");
    if format != "CSV" {
        return Err(DistError::reader(format!(
            "The manifest {where_} has fileFormat '{format}'; only CSV inventory reports are supported."
        )));
    }
    let schema: Vec<String> = manifest
        .get("fileSchema")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            DistError::reader(format!(
                "The manifest {where_} has no string field 'fileSchema'."
            ))
        })?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    // `destinationBucket` is an ARN (`arn:aws:s3:::name`); the data files live there.
    let bucket = manifest
        .get("destinationBucket")
        .and_then(Value::as_str)
        .map(|arn| arn.rsplit(":::").next().unwrap_or(arn).to_string())
        .unwrap_or_else(|| plan.bucket.clone());
    let files: Vec<String> = manifest
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            DistError::reader(format!("The manifest {where_} has no array field 'files'."))
        })?
        .iter()
        .map(|f| f.get("key").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            DistError::reader(format!(
                "Every entry of 'files' in {where_} needs a string 'key'."
            ))
        })?;
    Ok(Box::new(ManifestIter {
        store,
        files: files.into_iter(),
        bucket,
        schema,
        current: None,
    }))
}

/// The rows of the manifest's data files, one file open at a time.
struct ManifestIter {
    store: Arc<dyn ObjectStore>,
    files: std::vec::IntoIter<String>,
    bucket: String,
    schema: Vec<String>,
    current: Option<CsvRecords>,
}

impl Iterator for ManifestIter {
    type Item = Result<Value, DistError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(records) = &mut self.current {
                match records.next_record() {
                    Err(e) => return Some(Err(e)),
                    Ok(Some(fields)) => {
                        let mut fields = fields.into_iter();
                        let mut o = Map::new();
                        for h in &self.schema {
                            o.insert(h.clone(), Value::String(fields.next().unwrap_or_default()));
                        }
                        return Some(Ok(Value::Object(o)));
                    }
                    Ok(None) => self.current = None,
                }
            }
            let key = self.files.next()?;
            let where_ = format!("s3://{}/{key}", self.bucket);
            let body = match self.store.get_object(&self.bucket, &key) {
                Ok(b) => b,
                Err(e) => {
                    return Some(Err(DistError::reader(format!(
                        "The manifest's data file {where_} could not be read: {e}"
                    ))))
                }
            };
            let body = match maybe_gunzip(body) {
                Ok(b) => b,
                Err(e) => {
                    return Some(Err(DistError::reader(format!(
                        "Reading {where_} failed: {e}"
                    ))))
                }
            };
            self.current = Some(CsvRecords::new(
                Box::new(BufReader::new(body)),
                b',',
                where_,
            ));
        }
    }
}

/// A reader that inflates gzip data (by its magic bytes) and passes anything else through.
///
/// ```
/// use std::io::Read;
/// use workflow_runtime::distributed::reader::maybe_gunzip;
///
/// // Plain data passes through (gzip data, by its magic bytes, is inflated).
/// let mut out = String::new();
/// maybe_gunzip(Box::new("plain text".as_bytes())).unwrap().read_to_string(&mut out).unwrap();
/// assert_eq!(out, "plain text");
/// ```
pub fn maybe_gunzip(mut body: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        let k = body.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    let chained = std::io::Cursor::new(head[..n].to_vec()).chain(body);
    if n == 2 && head == [0x1f, 0x8b] {
        Ok(Box::new(MultiGzDecoder::new(chained)))
    } else {
        Ok(Box::new(chained))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;
    use crate::objects::MemoryObjects;

    fn store(key: &str, body: impl Into<Vec<u8>>) -> Arc<dyn ObjectStore> {
        Arc::new(MemoryObjects::new().with_object("b", key, body))
    }

    fn read(
        store: &Arc<dyn ObjectStore>,
        reader: Value,
        max: u64,
    ) -> Result<Vec<Value>, DistError> {
        let args = json!({"Bucket": "b", "Key": "k", "Prefix": "p"});
        let plan = ReaderPlan::new(&reader, &args, max)?;
        open(store, &plan)?.collect()
    }

    fn get(config: Value) -> Value {
        json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config})
    }

    #[test]
    fn json_array_items_pointer_and_max_items() {
        let s = store("k", r#"{"data": {"rows": [1, 2, 3]}}"#);
        let items = read(
            &s,
            get(json!({"InputType": "JSON", "ItemsPointer": "/data/rows"})),
            2,
        )
        .unwrap();
        assert_eq!(items, [json!(1), json!(2)]);
        let e = read(&s, get(json!({"InputType": "JSON"})), 0).unwrap_err();
        assert_eq!(e.cause, "Attempting to map over non-iterable node.");
        let s = store("k", "[1, 2");
        let e = read(&s, get(json!({"InputType": "JSON"})), 0).unwrap_err();
        assert_eq!(e.error, "States.ItemReaderFailed");
        assert!(
            e.cause.contains("s3://b/k is not valid JSON"),
            "{}",
            e.cause
        );
    }

    #[test]
    fn jsonl_lines_and_a_malformed_line() {
        let s = store("k", "{\"a\":1}\n\n[2]\n3");
        let items = read(&s, get(json!({"InputType": "JSONL"})), 0).unwrap();
        assert_eq!(items, [json!({"a": 1}), json!([2]), json!(3)]);
        let s = store("k", "1\n{oops\n3\n");
        let args = json!({"Bucket": "b", "Key": "k"});
        let plan = ReaderPlan::new(&get(json!({"InputType": "JSONL"})), &args, 0).unwrap();
        let mut it = open(&s, &plan).unwrap();
        assert_eq!(it.next().unwrap().unwrap(), json!(1));
        let e = it.next().unwrap().unwrap_err();
        assert!(
            e.cause.starts_with("Line 2 of s3://b/k is not valid JSON"),
            "{}",
            e.cause
        );
        assert!(it.next().is_none(), "the reader stops at the first error");
    }

    #[test]
    fn csv_first_row_and_given_headers_as_aws_reads_them() {
        // From AWS's recordings (test_map_item_reader_base_csv_headers_*).
        let body = "Col1,Col2,Col3\nValue1,Value2,Value3\n,,,\nNull,None,\n   \n";
        let items = read(
            &store("k", body),
            get(json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})),
            0,
        )
        .unwrap();
        assert_eq!(
            items,
            [
                json!({"Col1": "Value1", "Col2": "Value2", "Col3": "Value3"}),
                json!({"Col1": "", "Col2": "", "Col3": ""}),
                json!({"Col1": "Null", "Col2": "None", "Col3": ""}),
                json!({"Col1": "   ", "Col2": "", "Col3": ""}),
            ]
        );
        let given =
            get(json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["A"]}));
        let items = read(&store("k", "x,y\nz\n"), given, 0).unwrap();
        assert_eq!(items, [json!({"A": "x"}), json!({"A": "z"})]);
        let dup = get(
            json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["A", "A"]}),
        );
        assert_eq!(
            read(&store("k", "x"), dup, 0).unwrap_err().cause,
            "CSV headers cannot contain duplicates."
        );
        let dup_first = get(json!({"InputType": "CSV"}));
        assert_eq!(
            read(&store("k", "A,A\n1,2"), dup_first, 0)
                .unwrap_err()
                .cause,
            "CSV headers cannot contain duplicates."
        );
    }

    #[test]
    fn csv_header_count_mismatch_follows_aws() {
        // AWS: missing fields are "", extra fields are skipped (not an error).
        let items = read(
            &store("k", "A,B\n1\n1,2,3\n"),
            get(json!({"InputType": "CSV"})),
            0,
        )
        .unwrap();
        assert_eq!(
            items,
            [json!({"A": "1", "B": ""}), json!({"A": "1", "B": "2"})]
        );
    }

    #[test]
    fn csv_every_delimiter() {
        for (name, d) in [
            ("COMMA", ','),
            ("PIPE", '|'),
            ("SEMICOLON", ';'),
            ("SPACE", ' '),
            ("TAB", '\t'),
        ] {
            let body = format!("a{d}b\n1{d}\"x{d}y\"\n");
            let cfg = get(json!({"InputType": "CSV", "CSVDelimiter": name}));
            let items = read(&store("k", body), cfg, 0).unwrap();
            assert_eq!(items, [json!({"a": "1", "b": format!("x{d}y")})], "{name}");
        }
        let bad = get(json!({"InputType": "CSV", "CSVDelimiter": "COLON"}));
        assert!(read(&store("k", ""), bad, 0)
            .unwrap_err()
            .cause
            .contains("CSVDelimiter"));
    }

    #[test]
    fn csv_quotes_and_backslashes() {
        let body = "p,q\n\"say \"\"hi\"\", ok\",\"two\nlines\"\nC:\\\\dir\\,x,a\\bc\n";
        let items = read(&store("k", body), get(json!({"InputType": "CSV"})), 0).unwrap();
        assert_eq!(items[0], json!({"p": "say \"hi\", ok", "q": "two\nlines"}));
        assert_eq!(items[1], json!({"p": "C:\\dir,x", "q": "abc"}));
        let e = read(
            &store("k", "p\n\"open\n"),
            get(json!({"InputType": "CSV"})),
            0,
        )
        .unwrap_err();
        assert!(e.cause.contains("never closed"), "{}", e.cause);
        assert!(e.cause.contains("line 2"), "{}", e.cause);
    }

    #[test]
    fn manifest_reads_gzip_and_plain_csv_data_files() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"src,a.txt,1\nsrc,b.txt,2\n").unwrap();
        let gz = gz.finish().unwrap();
        let manifest = json!({"sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inv",
            "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
            "files": [{"key": "data/1.csv.gz"}, {"key": "data/2.csv"}]});
        let s: Arc<dyn ObjectStore> = Arc::new(
            MemoryObjects::new()
                .with_object("b", "k", manifest.to_string())
                .with_object("inv", "data/1.csv.gz", gz)
                .with_object("inv", "data/2.csv", "src,c.txt,3\n"),
        );
        let items = read(&s, get(json!({"InputType": "MANIFEST"})), 0).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[2],
            json!({"Bucket": "src", "Key": "c.txt", "Size": "3"})
        );
    }

    #[test]
    fn list_objects_v2_items() {
        let s: Arc<dyn ObjectStore> = Arc::new(
            MemoryObjects::new()
                .with_object("b", "p/1", "hello")
                .with_object("b", "q/2", "x"),
        );
        let items = read(
            &s,
            json!({"Resource": "arn:aws:states:::s3:listObjectsV2"}),
            0,
        )
        .unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["Key"], "p/1");
        assert_eq!(items[0]["Size"], 5);
        assert_eq!(items[0]["StorageClass"], "STANDARD");
        assert!(items[0]["Etag"].as_str().unwrap().starts_with('"'));
    }

    #[test]
    fn missing_object_parquet_and_big_items_are_reader_errors() {
        let s = store("other", "[]");
        let e = read(&s, get(json!({"InputType": "JSON"})), 0).unwrap_err();
        assert_eq!(e.error, "States.ItemReaderFailed");
        assert!(
            e.cause.contains("NoSuchKey") && e.cause.contains("'k'"),
            "{}",
            e.cause
        );
        let e = read(&s, get(json!({"InputType": "PARQUET"})), 0).unwrap_err();
        assert!(e.cause.contains("PARQUET is not supported"), "{}", e.cause);
        let big = format!("[1, \"{}\"]", "x".repeat(MAX_ITEM_BYTES));
        let e = read(&store("k", big), get(json!({"InputType": "JSON"})), 0).unwrap_err();
        assert!(e.cause.starts_with("Item 1 is"), "{}", e.cause);
    }
}
