//! The archive bucket in the worker: R2 (wrangler.toml `[[r2_buckets]]`,
//! binding `ARCHIVE`) behind the core's [`ArchiveStore`]. No business rule here.

use std::rc::Rc;

use worker::{Bucket, Env, HttpMetadata};

use crate::archive::{ArchiveError, ArchiveFuture, ArchiveStore};

pub const ARCHIVE_BINDING: &str = "ARCHIVE";

pub struct R2Archive(Bucket);

impl std::fmt::Debug for R2Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("R2Archive")
    }
}

impl ArchiveStore for R2Archive {
    fn put(&self, key: &str, bytes: Vec<u8>, content_type: &'static str) -> ArchiveFuture<'_, ()> {
        let key = key.to_string();
        Box::pin(async move {
            let metadata = HttpMetadata {
                content_type: Some(content_type.to_string()),
                ..Default::default()
            };
            self.0
                .put(key, bytes)
                .http_metadata(metadata)
                .execute()
                .await
                .map(drop)
                .map_err(|e| ArchiveError(e.to_string()))
        })
    }

    fn get(&self, key: &str) -> ArchiveFuture<'_, Option<Vec<u8>>> {
        let key = key.to_string();
        Box::pin(async move {
            let Some(object) = self
                .0
                .get(key)
                .execute()
                .await
                .map_err(|e| ArchiveError(e.to_string()))?
            else {
                return Ok(None);
            };
            match object.body() {
                Some(body) => body.bytes().await.map(Some).map_err(|e| ArchiveError(e.to_string())),
                None => Ok(Some(Vec::new())),
            }
        })
    }

    fn list(&self, prefix: &str, start_after: Option<&str>, limit: usize) -> ArchiveFuture<'_, Vec<String>> {
        let (prefix, start_after) = (prefix.to_string(), start_after.map(str::to_string));
        Box::pin(async move {
            self.list_keys(prefix, start_after, limit)
                .await
                .map_err(|e| ArchiveError(e.to_string()))
        })
    }

    fn delete(&self, key: &str) -> ArchiveFuture<'_, ()> {
        let key = key.to_string();
        Box::pin(async move { self.0.delete(key).await.map_err(|e| ArchiveError(e.to_string())) })
    }
}

impl R2Archive {
    async fn list_keys(
        &self,
        prefix: String,
        start_after: Option<String>,
        limit: usize,
    ) -> worker::Result<Vec<String>> {
        let mut list = self.0.list().prefix(prefix).limit(limit.min(1000) as u32);
        if let Some(after) = start_after {
            list = list.start_after(after);
        }
        Ok(list.execute().await?.objects().iter().map(|o| o.key()).collect())
    }
}

/// The archive bucket, when the deployment binds one.
pub fn bucket(env: &Env) -> Option<Rc<dyn ArchiveStore>> {
    env.bucket(ARCHIVE_BINDING)
        .ok()
        .map(|b| Rc::new(R2Archive(b)) as Rc<dyn ArchiveStore>)
}
