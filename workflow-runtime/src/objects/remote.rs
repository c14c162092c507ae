//! A backend on the [`object_store`] crate (cargo feature `object-store`), so that a Distributed
//! Map reads from and writes to real S3, MinIO, or anything else that crate reaches.
//!
//! Every use of the crate is in this module, so that it can be replaced. The crate's calls are
//! async; [`ObjectStore`](super::ObjectStore) is synchronous (the readers are plain iterators),
//! so the calls run on a small runtime of this backend's own (one worker thread) and the caller
//! waits for them. An object is streamed: its chunks come through a bounded channel as the
//! reader asks for them, so a large object is never held in memory.
//!
//! Which store serves a bucket is the caller's choice: [`RemoteObjects::new`] takes a function
//! from a bucket name to a store, called once per bucket. With the crate's `aws` feature enabled
//! in the application (cargo unifies the features of one crate), that function can build an
//! `AmazonS3` for the bucket (`AmazonS3Builder::from_env().with_bucket_name(bucket).build()`);
//! for MinIO, add `.with_endpoint(URL).with_allow_http(true)`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore as Remote, ObjectStoreExt, PutPayload};

use super::{ObjectError, ObjectInfo};

/// A function from a bucket name to the store that holds it.
///
/// ```
/// use std::io::Read;
/// use std::sync::Arc;
/// use object_store::memory::InMemory;
/// use workflow_runtime::objects::{BucketStores, ObjectStore, RemoteObjects};
///
/// // Every bucket an in-memory store of its own (asked for once per bucket, then kept).
/// let stores: Box<BucketStores> =
///     Box::new(|_bucket: &str| Ok(Arc::new(InMemory::new()) as Arc<dyn object_store::ObjectStore>));
/// let objects = RemoteObjects::new(stores)?;
/// objects.put_object("b", "k", b"body".to_vec())?;
/// let mut text = String::new();
/// objects.get_object("b", "k")?.read_to_string(&mut text)?;
/// assert_eq!(text, "body");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type BucketStores =
    dyn Fn(&str) -> Result<Arc<dyn Remote>, object_store::Error> + Send + Sync + 'static;

/// Objects in stores of the `object_store` crate, one store per bucket.
///
/// ```
/// use std::io::Read;
/// use std::sync::Arc;
/// use object_store::local::LocalFileSystem;
/// use workflow_runtime::objects::{ObjectError, ObjectStore, RemoteObjects};
///
/// // Buckets are folders of a temp dir, served by the crate's `LocalFileSystem`.
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir_all(dir.path().join("in"))?;
/// let root = dir.path().to_path_buf();
/// let objects = RemoteObjects::new(move |bucket| {
///     let store = LocalFileSystem::new_with_prefix(root.join(bucket))?;
///     Ok(Arc::new(store) as Arc<dyn object_store::ObjectStore>)
/// })?;
/// objects.put_object("in", "data/items.jsonl", b"{\"v\":1}\n".to_vec())?;
/// let mut text = String::new();
/// objects.get_object("in", "data/items.jsonl")?.read_to_string(&mut text)?;
/// assert_eq!(text, "{\"v\":1}\n");
/// // The object is a file of the bucket's folder.
/// assert!(dir.path().join("in/data/items.jsonl").is_file());
/// let listed = objects.list_objects_v2("in", "data/")?;
/// assert_eq!(listed.len(), 1);
/// assert_eq!((listed[0].key.as_str(), listed[0].size), ("data/items.jsonl", 8));
/// assert!(matches!(
///     objects.get_object("in", "missing"),
///     Err(ObjectError::NoSuchKey { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RemoteObjects {
    stores: Box<BucketStores>,
    buckets: Mutex<HashMap<String, Arc<dyn Remote>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for RemoteObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let buckets: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("RemoteObjects")
            .field("buckets", &buckets)
            .finish()
    }
}

impl Drop for RemoteObjects {
    fn drop(&mut self) {
        // A runtime may not be dropped where blocking is not allowed (inside another runtime).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn io_error(what: String, e: impl std::error::Error + Send + Sync + 'static) -> ObjectError {
    ObjectError::Io {
        what,
        source: std::io::Error::other(e),
    }
}

impl RemoteObjects {
    /// A backend whose bucket `b` is the store `stores(b)`.
    ///
    /// # Errors
    /// When the backend's runtime cannot be started (no threads left).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use object_store::local::LocalFileSystem;
    /// use workflow_runtime::objects::{ObjectError, ObjectStore, RemoteObjects};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir_all(dir.path().join("out"))?;
    /// let root = dir.path().to_path_buf();
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&calls);
    /// let objects = RemoteObjects::new(move |bucket| {
    ///     counted.fetch_add(1, Ordering::SeqCst);
    ///     let store = LocalFileSystem::new_with_prefix(root.join(bucket))?;
    ///     Ok(Arc::new(store) as Arc<dyn object_store::ObjectStore>)
    /// })?;
    /// // No bucket is opened until it is used.
    /// assert_eq!(calls.load(Ordering::SeqCst), 0);
    /// objects.put_object("out", "a", b"1".to_vec())?;
    /// objects.put_object("out", "b", b"2".to_vec())?;
    /// assert_eq!(objects.list_objects_v2("out", "")?.len(), 2);
    /// // The function is called once per bucket; its store is kept.
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// // A bucket name that is a path is refused before the function is asked.
    /// assert!(matches!(
    ///     objects.put_object("../out", "k", Vec::new()),
    ///     Err(ObjectError::Invalid(_))
    /// ));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        stores: impl Fn(&str) -> Result<Arc<dyn Remote>, object_store::Error> + Send + Sync + 'static,
    ) -> std::io::Result<RemoteObjects> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("workflow-objects")
            .enable_all()
            .build()?;
        Ok(RemoteObjects {
            stores: Box::new(stores),
            buckets: Mutex::new(HashMap::new()),
            runtime: Some(runtime),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn Remote>>> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, bucket: &str) -> Result<Arc<dyn Remote>, ObjectError> {
        super::check_names(bucket, None)?;
        if let Some(s) = self.lock().get(bucket) {
            return Ok(Arc::clone(s));
        }
        let store = (self.stores)(bucket).map_err(|e| match e {
            object_store::Error::NotFound { .. } => ObjectError::NoSuchBucket {
                bucket: bucket.to_string(),
            },
            other => io_error(format!("opening the bucket '{bucket}'"), other),
        })?;
        self.lock().insert(bucket.to_string(), Arc::clone(&store));
        Ok(store)
    }

    /// Runs `fut` on the backend's runtime and waits for it (from any thread, including a
    /// runtime's worker: the wait does not enter a tokio runtime).
    fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, ObjectError> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| ObjectError::Invalid("the object backend was shut down".into()))?;
        let handle = rt.spawn(fut);
        futures::executor::block_on(handle)
            .map_err(|e| io_error("waiting for the object store".to_string(), e))
    }
}

fn key_path(key: &str) -> Result<Path, ObjectError> {
    Path::parse(key).map_err(|e| ObjectError::Invalid(format!("the key '{key}': {e}")))
}

fn not_found(bucket: &str, key: &str, e: object_store::Error) -> ObjectError {
    match e {
        object_store::Error::NotFound { .. } => ObjectError::NoSuchKey {
            bucket: bucket.to_string(),
            key: key.to_string(),
        },
        other => io_error(format!("s3://{bucket}/{key}"), other),
    }
}

/// A [`Read`] over an object's chunks as they arrive.
struct ChunkReader {
    chunks: mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
    current: bytes::Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match futures::executor::block_on(self.chunks.next()) {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

impl super::ObjectStore for RemoteObjects {
    fn get_object(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, ObjectError> {
        let store = self.store(bucket)?;
        let path = key_path(key)?;
        let result = self
            .run(async move { store.get(&path).await })?
            .map_err(|e| not_found(bucket, key, e))?;
        // Four chunks ahead at most: the object streams, it is never held whole.
        let (mut tx, rx) = mpsc::channel(4);
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| ObjectError::Invalid("the object backend was shut down".into()))?;
        let where_ = format!("s3://{bucket}/{key}");
        rt.spawn(async move {
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| std::io::Error::other(format!("{where_}: {e}")));
                let stop = chunk.is_err();
                // The reader was dropped: stop reading.
                if tx.send(chunk).await.is_err() || stop {
                    break;
                }
            }
        });
        Ok(Box::new(ChunkReader {
            chunks: rx,
            current: bytes::Bytes::new(),
        }))
    }

    fn list_objects_v2(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError> {
        let store = self.store(bucket)?;
        // The crate lists by whole path segments; S3's prefix is any string. List from the
        // prefix's folder and keep the keys that start with the prefix.
        let folder = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let folder = if folder.is_empty() {
            None
        } else {
            Some(key_path(folder)?)
        };
        let metas = self
            .run(async move {
                let listed: Vec<_> = store.list(folder.as_ref()).collect().await;
                listed.into_iter().collect::<Result<Vec<_>, _>>()
            })?
            .map_err(|e| io_error(format!("listing s3://{bucket}/{prefix}"), e))?;
        let mut out: Vec<ObjectInfo> = metas
            .into_iter()
            .filter(|m| m.location.as_ref().starts_with(prefix))
            .map(|m| ObjectInfo {
                key: m.location.to_string(),
                size: m.size,
                etag: match m.e_tag {
                    Some(t) if t.starts_with('"') => t,
                    Some(t) => format!("\"{t}\""),
                    None => String::new(),
                },
                last_modified: m.last_modified,
            })
            .collect();
        out.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        Ok(out)
    }

    fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), ObjectError> {
        let store = self.store(bucket)?;
        super::check_names(bucket, Some(key))?;
        let path = key_path(key)?;
        self.run(async move { store.put(&path, PutPayload::from(body)).await })?
            .map_err(|e| io_error(format!("writing s3://{bucket}/{key}"), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;

    use object_store::local::LocalFileSystem;

    use super::RemoteObjects;
    use crate::objects::{ObjectError, ObjectStore};

    /// Buckets are folders of `root`, served by the crate's `LocalFileSystem`.
    fn local(root: &std::path::Path) -> RemoteObjects {
        let root = root.to_path_buf();
        RemoteObjects::new(move |bucket| {
            let dir = root.join(bucket);
            Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?)
                as Arc<dyn object_store::ObjectStore>)
        })
        .expect("a runtime")
    }

    #[test]
    fn put_get_and_list_through_local_file_system() {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir_all(dir.path().join("b")).expect("bucket");
        let store = local(dir.path());
        store
            .put_object("b", "data/items.jsonl", b"{\"a\":1}\n".to_vec())
            .expect("put");
        store
            .put_object("b", "data2/x", b"x".to_vec())
            .expect("put");
        store.put_object("b", "other", b"y".to_vec()).expect("put");
        let mut text = String::new();
        store
            .get_object("b", "data/items.jsonl")
            .expect("get")
            .read_to_string(&mut text)
            .expect("read");
        assert_eq!(text, "{\"a\":1}\n");
        let keys: Vec<String> = store
            .list_objects_v2("b", "data")
            .expect("list")
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys, ["data/items.jsonl", "data2/x"]);
        let listed = store.list_objects_v2("b", "data/").expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].size, 8);
        assert!(listed[0].etag.starts_with('"'));
        assert!(matches!(
            store.get_object("b", "missing"),
            Err(ObjectError::NoSuchKey { .. })
        ));
        assert!(matches!(
            store.put_object("b", "../escape", Vec::new()),
            Err(ObjectError::Invalid(_))
        ));
    }

    #[test]
    fn a_large_object_streams_in_chunks() {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir_all(dir.path().join("b")).expect("bucket");
        let store = local(dir.path());
        let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        store.put_object("b", "big", body.clone()).expect("put");
        let mut back = Vec::new();
        store
            .get_object("b", "big")
            .expect("get")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back, body);
    }

    /// A distributed Map reads its items and writes its results through the backend, called
    /// from the execution's tokio runtime (the waits do not enter it).
    #[test]
    fn a_distributed_map_runs_over_the_backend() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for b in ["in", "out"] {
            std::fs::create_dir_all(dir.path().join(b)).expect("bucket");
        }
        std::fs::write(dir.path().join("in/items.jsonl"), "{\"v\":1}\n{\"v\":2}\n").expect("items");
        let def = serde_json::json!({"StartAt": "M", "States": {"M": {
            "Type": "Map", "End": true,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket": "in", "Key": "items.jsonl"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "out", "Prefix": "runs"}}}}});
        let machine = workflow_asl::load(&def.to_string()).expect("valid");
        let runtime = crate::Runtime::builder()
            .objects(Arc::new(local(dir.path())))
            .build();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let out = rt
            .block_on(runtime.run_machine(&machine, serde_json::json!({})))
            .expect("starts");
        assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
        let key = out.output.expect("output")["ResultWriterDetails"]["Key"]
            .as_str()
            .expect("a manifest key")
            .to_string();
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("out").join(key)).expect("manifest"),
        )
        .expect("JSON");
        assert_eq!(manifest["DestinationBucket"], "out");
        let file = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
            .as_str()
            .expect("a result file");
        let results: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("out").join(file)).expect("file"),
        )
        .expect("JSON");
        assert_eq!(results.as_array().map(Vec::len), Some(2));
    }
}
