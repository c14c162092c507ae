//! `ItemBatcher`: items grouped into child inputs `{"Items": [...], "BatchInput": {...}}`.
//!
//! A batch closes when it holds `MaxItemsPerBatch` items, or when the next item would take the
//! child input's compact JSON text over `MaxInputBytesPerBatch` bytes (never over 256 KiB, AWS's
//! input limit). An item too big to fit even alone fails with `States.ItemReaderFailed`.

use serde_json::{Map, Value};

use super::{DistError, MAX_ITEM_BYTES};
use workflow_asl::eval::java_json_len;

/// The evaluated limits of an `ItemBatcher` (0 = no limit of that kind).
///
/// ```
/// use workflow_runtime::distributed::batcher::BatchLimits;
/// let unlimited = BatchLimits::default();
/// assert_eq!((unlimited.max_items, unlimited.max_bytes), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchLimits {
    /// `MaxItemsPerBatch`.
    pub max_items: u64,
    /// `MaxInputBytesPerBatch`.
    pub max_bytes: u64,
}

/// Groups items into batches, holding one batch at a time.
///
/// ```
/// use serde_json::json;
/// use workflow_runtime::distributed::batcher::{BatchLimits, Batcher};
///
/// let mut batcher = Batcher::new(BatchLimits { max_items: 2, max_bytes: 0 }, Some(json!({"run": 1})));
/// let mut batches = Vec::new();
/// for item in [1, 2, 3] {
///     batches.extend(batcher.push(json!(item)).unwrap());
/// }
/// batches.extend(batcher.finish());
/// assert_eq!(batches, [
///     json!({"Items": [1, 2], "BatchInput": {"run": 1}}),
///     json!({"Items": [3], "BatchInput": {"run": 1}}),
/// ]);
/// ```
#[derive(Debug)]
pub struct Batcher {
    max_items: usize,
    max_bytes: usize,
    batch_input: Option<Value>,
    /// Bytes of `{"Items":[]}` plus `,"BatchInput":…`.
    base: usize,
    items: Vec<Value>,
    bytes: usize,
    /// Items seen so far (for error messages).
    seen: u64,
}

impl Batcher {
    /// A batcher with `limits` and the evaluated `BatchInput`.
    ///
    /// ```
    /// use workflow_runtime::distributed::batcher::{BatchLimits, Batcher};
    /// let mut b = Batcher::new(BatchLimits { max_items: 10, max_bytes: 0 }, None);
    /// assert_eq!(b.finish(), None); // nothing pushed
    /// ```
    pub fn new(limits: BatchLimits, batch_input: Option<Value>) -> Batcher {
        let mut base = r#"{"Items":[]}"#.len();
        if let Some(bi) = &batch_input {
            base += r#","BatchInput":"#.len() + java_json_len(bi, usize::MAX);
        }
        let cap = MAX_ITEM_BYTES;
        let max_bytes = match limits.max_bytes {
            0 => cap,
            n => (n as usize).min(cap),
        };
        Batcher {
            max_items: if limits.max_items == 0 {
                usize::MAX
            } else {
                limits.max_items as usize
            },
            max_bytes,
            batch_input,
            base,
            items: Vec::new(),
            bytes: 0,
            seen: 0,
        }
    }

    /// Adds an item and returns every batch it closed (zero, one or two).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::distributed::batcher::{BatchLimits, Batcher};
    ///
    /// let mut b = Batcher::new(BatchLimits { max_items: 2, max_bytes: 0 }, None);
    /// assert!(b.push(json!("a")).unwrap().is_empty()); // the batch is still open
    /// // The second item fills it: it is closed at once.
    /// assert_eq!(b.push(json!("b")).unwrap(), [json!({"Items": ["a", "b"]})]);
    /// ```
    pub fn push(&mut self, item: Value) -> Result<Vec<Value>, DistError> {
        let size = java_json_len(&item, self.max_bytes + 1);
        let index = self.seen;
        self.seen += 1;
        if self.base + size > self.max_bytes {
            return Err(DistError::reader(format!(
                "Item {index} ({size} bytes) does not fit in a batch of at most {} bytes (MaxInputBytesPerBatch, 256 KiB at most).",
                self.max_bytes
            )));
        }
        let mut out = Vec::new();
        if !self.items.is_empty() && self.base + self.bytes + 1 + size > self.max_bytes {
            out.extend(self.take());
        }
        let comma = usize::from(!self.items.is_empty());
        self.bytes += comma + size;
        self.items.push(item);
        if self.items.len() >= self.max_items {
            out.extend(self.take());
        }
        Ok(out)
    }

    /// The last, partial batch, if any items are left.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::distributed::batcher::{BatchLimits, Batcher};
    ///
    /// let mut b = Batcher::new(BatchLimits { max_items: 5, max_bytes: 0 }, None);
    /// b.push(json!(1)).unwrap();
    /// assert_eq!(b.finish(), Some(json!({"Items": [1]})));
    /// ```
    pub fn finish(&mut self) -> Option<Value> {
        self.take()
    }

    fn take(&mut self) -> Option<Value> {
        if self.items.is_empty() {
            return None;
        }
        let items = std::mem::take(&mut self.items);
        self.bytes = 0;
        let mut o = Map::with_capacity(2);
        o.insert("Items".to_string(), Value::Array(items));
        if let Some(bi) = &self.batch_input {
            o.insert("BatchInput".to_string(), bi.clone());
        }
        Some(Value::Object(o))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(limits: BatchLimits, bi: Option<Value>, items: Vec<Value>) -> Vec<Value> {
        let mut b = Batcher::new(limits, bi);
        let mut out = Vec::new();
        for it in items {
            out.extend(b.push(it).unwrap());
        }
        out.extend(b.finish());
        out
    }

    #[test]
    fn max_items_per_batch() {
        let out = run(
            BatchLimits {
                max_items: 2,
                max_bytes: 0,
            },
            None,
            (0..5).map(|i| json!(i)).collect(),
        );
        assert_eq!(
            out,
            [
                json!({"Items": [0, 1]}),
                json!({"Items": [2, 3]}),
                json!({"Items": [4]})
            ]
        );
    }

    #[test]
    fn max_input_bytes_per_batch_counts_the_child_input_text() {
        // {"Items":[1,2]} is 15 bytes; a third item would make 17.
        let out = run(
            BatchLimits {
                max_items: 0,
                max_bytes: 15,
            },
            None,
            (1..=5).map(|i| json!(i)).collect(),
        );
        assert_eq!(out.len(), 3);
        for b in &out {
            assert!(serde_json::to_string(b).unwrap().len() <= 15);
        }
        assert_eq!(out[0], json!({"Items": [1, 2]}));
    }

    #[test]
    fn batch_input_is_in_every_batch_and_counted() {
        let out = run(
            BatchLimits {
                max_items: 2,
                max_bytes: 0,
            },
            Some(json!({"k": "v"})),
            vec![json!("a"), json!("b"), json!("c")],
        );
        assert_eq!(out[1], json!({"Items": ["c"], "BatchInput": {"k": "v"}}));
    }

    #[test]
    fn an_item_too_big_for_any_batch_is_an_item_reader_error() {
        let mut b = Batcher::new(
            BatchLimits {
                max_items: 0,
                max_bytes: 20,
            },
            None,
        );
        let e = b
            .push(json!("a string much longer than twenty bytes"))
            .unwrap_err();
        assert_eq!(e.error, "States.ItemReaderFailed");
        assert!(e.cause.contains("Item 0"), "{}", e.cause);
    }
}
