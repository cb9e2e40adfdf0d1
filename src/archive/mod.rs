//! The archive: where retention puts expired events before deleting them
//! (docs/api.md, "Archive"). One gzip NDJSON object per UTC hour
//! (`events/YYYY/MM/DD/HH.ndjson.gz`, [`hour`]) beside a manifest of its row
//! count, byte size and SHA-256; rows leave D1 only once the object read back
//! matches its manifest ([`hour::verify`]).
//!
//! The core sees the bucket as an [`ArchiveStore`]; the worker's is R2 (in the
//! shell, `edge`), [`MemoryArchive`] stands in natively with injected faults.

pub mod hour;

use std::future::Future;
use std::pin::Pin;

/// What a call returns (not `Send`: the worker is single-threaded).
pub type ArchiveFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ArchiveError>> + 'a>>;

/// A bucket of objects by key.
pub trait ArchiveStore: std::fmt::Debug {
    /// Stores `bytes` under `key`, replacing what was there.
    fn put(&self, key: &str, bytes: Vec<u8>, content_type: &'static str) -> ArchiveFuture<'_, ()>;
    /// The object's bytes, or `None` when there is none.
    fn get(&self, key: &str) -> ArchiveFuture<'_, Option<Vec<u8>>>;
    /// Up to `limit` keys starting with `prefix` and after `start_after`, in key order.
    fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> ArchiveFuture<'_, Vec<String>>;
    /// Removes the object (nothing when there is none).
    fn delete(&self, key: &str) -> ArchiveFuture<'_, ()>;
}

/// A shared bucket is a bucket (the native tests keep a handle to look inside).
impl<T: ArchiveStore + ?Sized> ArchiveStore for std::rc::Rc<T> {
    fn put(&self, key: &str, bytes: Vec<u8>, content_type: &'static str) -> ArchiveFuture<'_, ()> {
        (**self).put(key, bytes, content_type)
    }

    fn get(&self, key: &str) -> ArchiveFuture<'_, Option<Vec<u8>>> {
        (**self).get(key)
    }

    fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> ArchiveFuture<'_, Vec<String>> {
        (**self).list(prefix, start_after, limit)
    }

    fn delete(&self, key: &str) -> ArchiveFuture<'_, ()> {
        (**self).delete(key)
    }
}

/// The bucket refused, could not be reached, or held something else than
/// its manifest says; the cause is for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveError(pub String);

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "archive: {}", self.0)
    }
}

/// The object an archived hour's manifest lists, as stored (check it with
/// [`hour::verify`] against the manifest it is meant to match).
pub async fn read_object<A: ArchiveStore + ?Sized>(
    archive: &A,
    manifest: &hour::ArchivedHour,
) -> Result<Vec<u8>, ArchiveError> {
    archive
        .get(&manifest.object_key)
        .await?
        .ok_or_else(|| ArchiveError(format!("{}: missing, the manifest lists it", manifest.object_key)))
}

/// Writes an hour's object, reads it back and verifies it against `manifest`,
/// then writes the manifest beside it: an hour's manifest only ever names an
/// object already checked to match it.
pub async fn write_verified<A: ArchiveStore + ?Sized>(
    archive: &A,
    bytes: Vec<u8>,
    manifest: &hour::ArchivedHour,
) -> Result<(), ArchiveError> {
    archive
        .put(&manifest.object_key, bytes, hour::OBJECT_CONTENT_TYPE)
        .await?;
    let stored = archive
        .get(&manifest.object_key)
        .await?
        .ok_or_else(|| ArchiveError(format!("{}: not found right after its put", manifest.object_key)))?;
    hour::verify(&stored, manifest)?;
    write_manifest(archive, manifest).await
}

/// Writes `manifest` as its hour's manifest object.
pub async fn write_manifest<A: ArchiveStore + ?Sized>(
    archive: &A,
    manifest: &hour::ArchivedHour,
) -> Result<(), ArchiveError> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| ArchiveError(e.to_string()))?;
    archive
        .put(&hour::manifest_key(&manifest.hour), json, hour::MANIFEST_CONTENT_TYPE)
        .await
}

/// The native bucket: objects in memory. [`MemoryArchive::fail_next_puts`]
/// makes puts fail (storing nothing); [`MemoryArchive::corrupt_reads`] flips
/// a byte of every object read, as a damaged store would.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default)]
pub struct MemoryArchive {
    objects: std::cell::RefCell<std::collections::BTreeMap<String, Vec<u8>>>,
    failing_puts: std::cell::Cell<usize>,
    corrupt: std::cell::Cell<bool>,
}

#[cfg(not(target_arch = "wasm32"))]
impl MemoryArchive {
    pub fn new() -> MemoryArchive {
        MemoryArchive::default()
    }

    /// The next `n` puts fail and store nothing.
    pub fn fail_next_puts(&self, n: usize) {
        self.failing_puts.set(n);
    }

    /// While on, every read returns the object with its last byte flipped.
    pub fn corrupt_reads(&self, on: bool) {
        self.corrupt.set(on);
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects.borrow().keys().cloned().collect()
    }

    /// The object as stored (no fault applied).
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.borrow().get(key).cloned()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl ArchiveStore for MemoryArchive {
    fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &'static str) -> ArchiveFuture<'_, ()> {
        let result = if self.failing_puts.get() > 0 {
            self.failing_puts.set(self.failing_puts.get() - 1);
            Err(ArchiveError("injected fault: put refused".into()))
        } else {
            self.objects.borrow_mut().insert(key.to_string(), bytes);
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }

    fn get(&self, key: &str) -> ArchiveFuture<'_, Option<Vec<u8>>> {
        let mut object = self.objects.borrow().get(key).cloned();
        if self.corrupt.get() {
            if let Some(last) = object.as_mut().and_then(|o| o.last_mut()) {
                *last ^= 0xff;
            }
        }
        Box::pin(std::future::ready(Ok(object)))
    }

    fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> ArchiveFuture<'_, Vec<String>> {
        let keys = self
            .objects
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|a| k.as_str() > a))
            .take(limit)
            .cloned()
            .collect();
        Box::pin(std::future::ready(Ok(keys)))
    }

    fn delete(&self, key: &str) -> ArchiveFuture<'_, ()> {
        self.objects.borrow_mut().remove(key);
        Box::pin(std::future::ready(Ok(())))
    }
}
