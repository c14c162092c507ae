//! Object storage for Distributed Map: the three S3 calls a `Map` state makes
//! (`GetObject` for `ItemReader`, `ListObjectsV2` for `ItemReader` over a bucket, `PutObject`
//! for `ResultWriter`), behind one trait with two backends:
//!
//! - [`MemoryObjects`]: buckets and objects in memory, for tests and embedding; seeded with
//!   [`MemoryObjects::with_object`] / [`MemoryObjects::with_bucket`];
//! - [`DirObjects`]: a local directory laid out as S3 is addressed, `s3://BUCKET/KEY` being the
//!   file `DIR/BUCKET/KEY` (what `workflow run … --s3-root DIR` uses);
//! - `RemoteObjects` (cargo feature `object-store`): stores of the `object_store` crate, one per
//!   bucket, so that a Map reads from and writes to real S3 or MinIO.
//!
//! The calls are synchronous: both backends are local, and a reader streams from the returned
//! [`Read`] without holding the object in memory (the directory backend reads the file as it
//! goes).
//!
//! ```
//! use std::io::Read;
//! use workflow_runtime::objects::{MemoryObjects, ObjectStore};
//!
//! let store = MemoryObjects::new().with_object("bucket", "items.json", "[1, 2]");
//! let mut text = String::new();
//! store.get_object("bucket", "items.json")?.read_to_string(&mut text)?;
//! assert_eq!(text, "[1, 2]");
//! let listed = store.list_objects_v2("bucket", "")?;
//! assert_eq!(listed[0].key, "items.json");
//! assert_eq!(listed[0].size, 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dir;
mod memory;
#[cfg(feature = "object-store")]
mod remote;

use std::fmt;
use std::io::Read;

use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

pub use dir::DirObjects;
pub use memory::MemoryObjects;
#[cfg(feature = "object-store")]
pub use remote::{BucketStores, RemoteObjects};

/// What went wrong with an object call; the messages name the bucket and key as S3 does.
///
/// ```
/// use workflow_runtime::objects::{MemoryObjects, ObjectError, ObjectStore};
///
/// let err = MemoryObjects::new().get_object("nope", "k").err().unwrap();
/// assert!(matches!(err, ObjectError::NoSuchBucket { ref bucket } if bucket == "nope"));
/// assert_eq!(err.to_string(), "NoSuchBucket: the bucket 'nope' does not exist");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The bucket does not exist (S3's `NoSuchBucket`).
    #[error("NoSuchBucket: the bucket '{bucket}' does not exist")]
    NoSuchBucket {
        /// The bucket asked for.
        bucket: String,
    },
    /// The key does not exist in the bucket (S3's `NoSuchKey`).
    #[error("NoSuchKey: the key '{key}' does not exist in the bucket '{bucket}'")]
    NoSuchKey {
        /// The bucket asked for.
        bucket: String,
        /// The key asked for.
        key: String,
    },
    /// A bucket name or key that cannot name an object of this store (empty, `..`, …).
    #[error("InvalidArgument: {0}")]
    Invalid(String),
    /// An input/output error of the backend.
    #[error("InternalError: {what}: {source}")]
    Io {
        /// What the backend was doing (`reading DIR/b/k`, …).
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// One entry of a `ListObjectsV2` answer.
///
/// ```
/// use workflow_runtime::objects::{etag_of, MemoryObjects, ObjectStore};
///
/// let store = MemoryObjects::new().with_object("b", "k", "abc");
/// let info = &store.list_objects_v2("b", "k").unwrap()[0];
/// assert_eq!((info.size, info.etag.clone()), (3, etag_of(b"abc")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object's key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its entity tag, as S3 gives it: the hex MD5 of the content in double quotes.
    pub etag: String,
    /// When it was last written.
    pub last_modified: DateTime<Utc>,
}

/// The object calls of Distributed Map. Implementations must be safe to share between tasks.
///
/// ```
/// use std::sync::Arc;
/// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
///
/// // Any store (in memory, a directory, S3 through `RemoteObjects`) behind one trait object.
/// let store: Arc<dyn ObjectStore> = Arc::new(MemoryObjects::new().with_bucket("b"));
/// store.put_object("b", "k", b"body".to_vec()).unwrap();
/// let info = &store.list_objects_v2("b", "")?[0];
/// assert_eq!((info.key.as_str(), info.size), ("k", 4));
/// # Ok::<(), workflow_runtime::objects::ObjectError>(())
/// ```
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// `GetObject`: a reader over the object's bytes.
    ///
    /// ```
    /// use std::io::Read;
    /// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
    ///
    /// let store = MemoryObjects::new().with_object("b", "k", "body");
    /// let mut text = String::new();
    /// store.get_object("b", "k").unwrap().read_to_string(&mut text).unwrap();
    /// assert_eq!(text, "body");
    /// ```
    fn get_object(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, ObjectError>;

    /// `ListObjectsV2`: every object of `bucket` whose key starts with `prefix`, in the binary
    /// (UTF-8) order of keys as S3 lists them.
    ///
    /// ```
    /// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
    ///
    /// let store = MemoryObjects::new().with_object("b", "in/2", "").with_object("b", "in/10", "").with_object("b", "out/1", "");
    /// let keys: Vec<_> = store.list_objects_v2("b", "in/").unwrap().into_iter().map(|o| o.key).collect();
    /// assert_eq!(keys, ["in/10", "in/2"]); // byte order, as S3 lists
    /// ```
    fn list_objects_v2(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError>;

    /// `PutObject`: store `body` under `bucket`/`key`, replacing any object there. The bucket
    /// must exist, as in S3 (the directory backend creates it: a bucket is a directory).
    ///
    /// ```
    /// use workflow_runtime::objects::{MemoryObjects, ObjectStore};
    ///
    /// let store = MemoryObjects::new().with_bucket("b");
    /// store.put_object("b", "k", b"v1".to_vec()).unwrap();
    /// store.put_object("b", "k", b"v2".to_vec()).unwrap(); // replaces
    /// assert_eq!(store.object("b", "k"), Some(b"v2".to_vec()));
    /// assert!(store.put_object("missing", "k", Vec::new()).is_err()); // the bucket must exist
    /// ```
    fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), ObjectError>;
}

/// The entity tag S3 gives a single-part upload: `"` + hex MD5 + `"`.
///
/// ```
/// assert_eq!(workflow_runtime::objects::etag_of(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
/// ```
pub fn etag_of(body: &[u8]) -> String {
    let digest = Md5::digest(body);
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

/// Checks a bucket name and key can address an object: neither empty, no `..` or `.` path
/// segment, no NUL, the key not starting with `/`.
pub(crate) fn check_names(bucket: &str, key: Option<&str>) -> Result<(), ObjectError> {
    if bucket.is_empty()
        || bucket.contains('/')
        || bucket.contains('\\')
        || bucket == "."
        || bucket == ".."
        || bucket.contains('\0')
    {
        return Err(ObjectError::Invalid(format!(
            "the bucket name '{bucket}' is not valid"
        )));
    }
    if let Some(key) = key {
        let bad_segment = key.split('/').any(|s| s == ".." || s == ".");
        if key.is_empty() || key.starts_with('/') || bad_segment || key.contains('\0') {
            return Err(ObjectError::Invalid(format!(
                "the key '{key}' cannot be stored locally (empty, absolute, or with a '.'/'..' segment)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_the_quoted_md5() {
        assert_eq!(etag_of(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }

    #[test]
    fn names_that_escape_the_root_are_rejected() {
        assert!(check_names("b", Some("../x")).is_err());
        assert!(check_names("b", Some("/x")).is_err());
        assert!(check_names("b", Some("a/./x")).is_err());
        assert!(check_names("..", Some("x")).is_err());
        assert!(check_names("b", Some("a/b.c")).is_ok());
    }
}
