//! [`MemoryObjects`]: buckets and objects held in memory.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use super::{check_names, etag_of, ObjectError, ObjectInfo, ObjectStore};

#[derive(Debug, Clone)]
struct Stored {
    body: Arc<[u8]>,
    etag: String,
    modified: DateTime<Utc>,
}

/// An in-memory object store. Cloning shares the same objects.
///
/// ```
/// use std::io::Read;
/// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
///
/// let store = MemoryObjects::new().with_object("in", "data/items.json", "[1, 2]");
/// let mut body = String::new();
/// store.get_object("in", "data/items.json").unwrap().read_to_string(&mut body).unwrap();
/// assert_eq!(body, "[1, 2]");
/// store.put_object("in", "data/out.json", b"{}".to_vec()).unwrap();
/// let listed = store.list_objects_v2("in", "data/").unwrap();
/// assert_eq!(listed.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["data/items.json", "data/out.json"]);
/// assert_eq!(store.get_object("in", "missing").err().map(|e| e.to_string()),
///            Some("NoSuchKey: the key 'missing' does not exist in the bucket 'in'".to_string()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryObjects {
    buckets: Arc<RwLock<BTreeMap<String, BTreeMap<String, Stored>>>>,
}

impl MemoryObjects {
    /// An empty store with no buckets.
    ///
    /// ```
    /// assert!(workflow_runtime::objects::MemoryObjects::new().keys().is_empty());
    /// ```
    pub fn new() -> MemoryObjects {
        MemoryObjects::default()
    }

    /// Creates `bucket` (empty) if it does not exist.
    ///
    /// ```
    /// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
    ///
    /// let store = MemoryObjects::new().with_bucket("results");
    /// assert!(store.list_objects_v2("results", "").unwrap().is_empty());
    /// assert!(store.list_objects_v2("other", "").is_err()); // NoSuchBucket
    /// ```
    pub fn with_bucket(self, bucket: &str) -> MemoryObjects {
        self.write().entry(bucket.to_string()).or_default();
        self
    }

    /// Stores an object, creating its bucket.
    ///
    /// ```
    /// let store = workflow_runtime::objects::MemoryObjects::new().with_object("b", "k", "text");
    /// assert_eq!(store.object("b", "k"), Some(b"text".to_vec()));
    /// ```
    pub fn with_object(self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> MemoryObjects {
        self.insert(bucket, key, body.into());
        self
    }

    /// The bytes of an object, if it exists.
    ///
    /// ```
    /// let store = workflow_runtime::objects::MemoryObjects::new().with_object("b", "k", "x");
    /// assert_eq!(store.object("b", "k"), Some(b"x".to_vec()));
    /// assert_eq!(store.object("b", "nope"), None);
    /// ```
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let buckets = self.read();
        buckets
            .get(bucket)
            .and_then(|b| b.get(key))
            .map(|s| s.body.to_vec())
    }

    /// Every `(bucket, key)` stored, in order.
    ///
    /// ```
    /// let store = workflow_runtime::objects::MemoryObjects::new().with_object("b", "2", "").with_object("a", "1", "");
    /// assert_eq!(store.keys(), [("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
    /// ```
    pub fn keys(&self) -> Vec<(String, String)> {
        let buckets = self.read();
        buckets
            .iter()
            .flat_map(|(b, objs)| objs.keys().map(move |k| (b.clone(), k.clone())))
            .collect()
    }

    fn insert(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let stored = Stored {
            etag: etag_of(&body),
            body: body.into(),
            modified: Utc::now(),
        };
        self.write()
            .entry(bucket.to_string())
            .or_default()
            .insert(key.to_string(), stored);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, BTreeMap<String, Stored>>> {
        self.buckets.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, BTreeMap<String, Stored>>> {
        self.buckets.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl ObjectStore for MemoryObjects {
    fn get_object(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, ObjectError> {
        let buckets = self.read();
        let objects = buckets
            .get(bucket)
            .ok_or_else(|| ObjectError::NoSuchBucket {
                bucket: bucket.to_string(),
            })?;
        let stored = objects.get(key).ok_or_else(|| ObjectError::NoSuchKey {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })?;
        Ok(Box::new(Cursor::new(Arc::clone(&stored.body))))
    }

    fn list_objects_v2(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError> {
        let buckets = self.read();
        let objects = buckets
            .get(bucket)
            .ok_or_else(|| ObjectError::NoSuchBucket {
                bucket: bucket.to_string(),
            })?;
        Ok(objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, s)| ObjectInfo {
                key: k.clone(),
                size: s.body.len() as u64,
                etag: s.etag.clone(),
                last_modified: s.modified,
            })
            .collect())
    }

    fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), ObjectError> {
        check_names(bucket, Some(key))?;
        if !self.read().contains_key(bucket) {
            return Err(ObjectError::NoSuchBucket {
                bucket: bucket.to_string(),
            });
        }
        self.insert(bucket, key, body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_list_put() {
        let s = MemoryObjects::new()
            .with_object("b", "a/2", "xx")
            .with_object("b", "a/1", "x")
            .with_object("b", "c", "")
            .with_bucket("empty");
        let listed = s.list_objects_v2("b", "a/").unwrap();
        let keys: Vec<_> = listed.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a/1", "a/2"]);
        assert_eq!(listed[1].size, 2);
        assert!(s.list_objects_v2("empty", "").unwrap().is_empty());
        assert!(matches!(
            s.get_object("b", "nope"),
            Err(ObjectError::NoSuchKey { .. })
        ));
        assert!(matches!(
            s.get_object("nope", "c"),
            Err(ObjectError::NoSuchBucket { .. })
        ));
        s.put_object("empty", "k", b"v".to_vec()).unwrap();
        assert_eq!(s.object("empty", "k").unwrap(), b"v");
        assert!(s.put_object("missing", "k", vec![]).is_err());
    }
}
