//! The blob store on a folder: what `pantau run` and the tests use instead of S3.
//!
//! Layout under the root:
//! - `objects/<key>`: the body, byte for byte, so a developer can open raw fetches directly;
//! - `meta/<key>.json`: content type, user metadata, and the body's size and SHA-256;
//! - `tmp/`: files being written, renamed into place when complete (same file system, so the
//!   rename is atomic and a reader sees the old file or the new one, never half of one).
//!
//! Body and metadata are two files, and no file system swaps two files at once. A put
//! therefore renames the metadata first and the body second, and the metadata names the
//! body's hash: a reader that finds a body whose hash is not the one its metadata names has
//! caught a put in between, and reads again. Puts and reads of the same key also take the
//! same lock stripe within the process, so this only happens across processes, or after a
//! put that was killed between its two renames (then reads fail until the key is put again).
//!
//! Where a folder cannot do what S3 does, the put fails with a permanent error: a key that is
//! also the folder of other keys (`a` and `a/b`), or a key segment longer than the file
//! system allows (255 bytes, 250 for the metadata file's name).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::blob::{
    Blob, BlobError, BlobInfo, BlobMeta, BlobStore, DEFAULT_CONTENT_TYPE, ListPage, validate_key,
    validate_meta,
};

/// The name `bucket()` gives, which events built from this store carry.
const LOCAL_BUCKET: &str = "local";
/// S3's page size cap, kept here so paging code behaves the same on both adapters.
const MAX_PAGE: usize = 1000;
/// How often a read is tried again when it caught another process's put in between.
const TORN_READ_ATTEMPTS: usize = 5;

/// A blob store in a folder on the local disk.
#[derive(Debug, Clone)]
pub struct DiskBlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
    /// Lock stripes by key hash: a put holds its stripe for writing, a read for reading.
    stripes: Vec<RwLock<()>>,
}

/// What `meta/<key>.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct MetaFile {
    content_type: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    size: u64,
    sha256: String,
}

impl DiskBlobStore {
    /// Opens the store in `root`, creating the folder and its layout when missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<DiskBlobStore, BlobError> {
        let root = root.into();
        let inner = Inner {
            objects: root.join("objects"),
            meta: root.join("meta"),
            tmp: root.join("tmp"),
            stripes: (0..64).map(|_| RwLock::new(())).collect(),
        };
        for dir in [&inner.objects, &inner.meta, &inner.tmp] {
            fs::create_dir_all(dir).map_err(|e| backend("open", &root.display().to_string(), e))?;
        }
        Ok(DiskBlobStore {
            inner: Arc::new(inner),
        })
    }

    /// Runs blocking file work off the async threads.
    async fn blocking<T, F>(&self, op: &'static str, key: &str, work: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, BlobError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| BlobError::Backend {
                op,
                bucket: LOCAL_BUCKET.into(),
                key: key.into(),
                message: format!("file task failed: {e}"),
                retryable: false,
            })?
    }
}

#[async_trait]
impl BlobStore for DiskBlobStore {
    fn bucket(&self) -> &str {
        LOCAL_BUCKET
    }

    async fn put(&self, key: &str, body: Bytes, meta: &BlobMeta) -> Result<(), BlobError> {
        validate_key(key)?;
        validate_meta(key, meta)?;
        let owned_key = key.to_owned();
        let meta = meta.clone();
        self.blocking("put", key, move |inner| inner.put(&owned_key, &body, meta))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        let owned_key = key.to_owned();
        let read = self
            .blocking("get", key, move |inner| inner.read("get", &owned_key))
            .await?;
        Ok(read.map(|(body, meta)| Blob { body, meta }))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobInfo>, BlobError> {
        validate_key(key)?;
        let owned_key = key.to_owned();
        let read = self
            .blocking("head", key, move |inner| inner.read("head", &owned_key))
            .await?;
        Ok(read.map(|(body, meta)| BlobInfo {
            key: key.to_owned(),
            size: body.len() as u64,
            meta,
        }))
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, BlobError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let prefix = prefix.to_owned();
        let after = after.map(str::to_owned);
        let key_for_errors = prefix.clone();
        self.blocking("list", &key_for_errors, move |inner| {
            inner.list(&prefix, after.as_deref(), limit)
        })
        .await
    }
}

impl Inner {
    fn stripe(&self, key: &str) -> &RwLock<()> {
        let hash = Sha256::digest(key.as_bytes());
        &self.stripes[usize::from(hash[0]) % self.stripes.len()]
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.objects.join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.meta.join(format!("{key}.json"))
    }

    fn put(&self, key: &str, body: &[u8], meta: BlobMeta) -> Result<(), BlobError> {
        let err = |e: io::Error| put_error(key, e);
        let meta_file = MetaFile {
            content_type: Some(
                meta.content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            metadata: meta.metadata,
            size: body.len() as u64,
            sha256: hex::encode(Sha256::digest(body)),
        };
        let meta_json = serde_json::to_vec_pretty(&meta_file).map_err(|e| BlobError::Backend {
            op: "put",
            bucket: LOCAL_BUCKET.into(),
            key: key.into(),
            message: format!("encoding metadata: {e}"),
            retryable: false,
        })?;

        // Both files are complete on disk before either becomes visible.
        let body_tmp = self.write_tmp(body).map_err(err)?;
        let meta_tmp = match self.write_tmp(&meta_json) {
            Ok(path) => path,
            Err(e) => {
                let _ = fs::remove_file(&body_tmp);
                return Err(err(e));
            }
        };
        let object_path = self.object_path(key);
        let meta_path = self.meta_path(key);
        let result = (|| {
            create_parent(&object_path)?;
            create_parent(&meta_path)?;
            let _guard = self.stripe(key).write().unwrap_or_else(|p| p.into_inner());
            if object_path.is_dir() {
                // Checked before the metadata moves, so a refused put leaves nothing behind.
                return Err(io::Error::from(io::ErrorKind::IsADirectory));
            }
            fs::rename(&meta_tmp, &meta_path)?;
            fs::rename(&body_tmp, &object_path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&body_tmp);
            let _ = fs::remove_file(&meta_tmp);
        }
        result.map_err(err)
    }

    /// Writes `bytes` to a fresh file in `tmp/` and returns its path.
    ///
    /// Not fsynced: that would make every put several times slower, for a store that serves a
    /// laptop and tests. After a power cut a put in flight may have left an empty or partial
    /// file; the hash check turns that into an error until the key is put again, never into
    /// wrong data.
    fn write_tmp(&self, bytes: &[u8]) -> io::Result<PathBuf> {
        let path = self
            .tmp
            .join(format!("{}-{:016x}", std::process::id(), fastrand::u64(..)));
        let mut file = fs::File::create_new(&path)?;
        if let Err(e) = file.write_all(bytes) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        Ok(path)
    }

    /// Reads body and metadata of one object, consistent with each other, or None if absent.
    fn read(&self, op: &'static str, key: &str) -> Result<Option<(Bytes, BlobMeta)>, BlobError> {
        let err = |e: io::Error| backend_key(op, key, e);
        for attempt in 0..TORN_READ_ATTEMPTS {
            let (body, meta_file) = {
                let _guard = self.stripe(key).read().unwrap_or_else(|p| p.into_inner());
                let Some(body) = read_if_exists(&self.object_path(key)).map_err(err)? else {
                    return Ok(None);
                };
                let meta_bytes = read_if_exists(&self.meta_path(key)).map_err(err)?;
                (body, meta_bytes)
            };
            let Some(meta_bytes) = meta_file else {
                // A file dropped into objects/ by hand: readable, with no metadata.
                return Ok(Some((Bytes::from(body), BlobMeta::default())));
            };
            let meta: MetaFile =
                serde_json::from_slice(&meta_bytes).map_err(|e| BlobError::Backend {
                    op,
                    bucket: LOCAL_BUCKET.into(),
                    key: key.into(),
                    message: format!("unreadable metadata file: {e}"),
                    retryable: false,
                })?;
            if meta.size == body.len() as u64 && meta.sha256 == hex::encode(Sha256::digest(&body)) {
                let blob_meta = BlobMeta {
                    content_type: meta.content_type,
                    metadata: meta.metadata,
                };
                return Ok(Some((Bytes::from(body), blob_meta)));
            }
            // Another process's put is between its two renames: give it a moment.
            std::thread::sleep(std::time::Duration::from_millis(5 << attempt));
        }
        Err(BlobError::Backend {
            op,
            bucket: LOCAL_BUCKET.into(),
            key: key.into(),
            message: "body and metadata disagree (a put was interrupted); put the object again"
                .into(),
            retryable: false,
        })
    }

    /// Keys under `prefix`, strictly after `after`, in byte order: a depth-first walk that
    /// starts at the deepest folder the prefix names and visits entries in key order.
    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<ListPage, BlobError> {
        let (dir_part, name_prefix) = match prefix.rfind('/') {
            Some(i) => (&prefix[..=i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        // No valid key lies under a prefix with an empty, `.` or `..` folder or a control
        // character, and such a prefix must not walk outside the root.
        let folders_ok = dir_part.strip_suffix('/').is_none_or(|folders| {
            folders
                .split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        });
        if !folders_ok || prefix.chars().any(char::is_control) {
            return Ok(ListPage::default());
        }

        let mut walk = Walk {
            after,
            want: limit + 1,
            keys: Vec::new(),
        };
        walk.dir(&self.objects.join(dir_part), dir_part, Some(name_prefix))
            .map_err(|e| backend_key("list", prefix, e))?;
        let mut keys = walk.keys;
        let next = if keys.len() > limit {
            keys.truncate(limit);
            keys.last().cloned()
        } else {
            None
        };
        Ok(ListPage { keys, next })
    }
}

/// One listing's depth-first walk; stops once it has `want` keys.
struct Walk<'a> {
    after: Option<&'a str>,
    want: usize,
    keys: Vec<String>,
}

impl Walk<'_> {
    /// Visits folder `path`, whose keys start with `key_prefix` (empty or ending in `/`);
    /// `name_filter` keeps only entries whose names start with it (the prefix's last part).
    fn dir(&mut self, path: &Path, key_prefix: &str, name_filter: Option<&str>) -> io::Result<()> {
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            // A prefix naming no folder (or an object) lists nothing, as on S3.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.kind() == io::ErrorKind::NotADirectory =>
            {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // Sort by the key each entry stands for: a folder `a` holds keys `a/...`, which sort
        // after a file `a-b` ('-' < '/'), so folders sort by their name plus '/'.
        let mut children = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not a name any key could have
            };
            if name_filter.is_some_and(|f| !name.starts_with(f)) {
                continue;
            }
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                children.push((format!("{key_prefix}{name}/"), true));
            } else if file_type.is_file() {
                children.push((format!("{key_prefix}{name}"), false));
            } // symlinks and the like are not objects
        }
        children.sort_unstable();

        for (key, is_dir) in children {
            if self.keys.len() >= self.want {
                break;
            }
            if is_dir {
                // Every key in this folder starts with `key`; skip the folder when `after`
                // sorts after all of them.
                let skip = self
                    .after
                    .is_some_and(|a| a > key.as_str() && !a.starts_with(key.as_str()));
                if !skip {
                    let name = &key[key_prefix.len()..key.len() - 1];
                    self.dir(&path.join(name), &key, None)?;
                }
            } else if self.after.is_none_or(|a| key.as_str() > a) {
                self.keys.push(key);
            }
        }
        Ok(())
    }
}

fn read_if_exists(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::File::open(path) {
        Ok(mut file) => {
            if !file.metadata()?.is_file() {
                return Ok(None); // a folder of other keys, not an object
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            Ok(Some(bytes))
        }
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent),
        None => Ok(()),
    }
}

fn put_error(key: &str, e: io::Error) -> BlobError {
    let message = match e.kind() {
        io::ErrorKind::NotADirectory
        | io::ErrorKind::AlreadyExists
        | io::ErrorKind::IsADirectory => {
            format!("{e} (a folder cannot hold both an object and other keys under its name)")
        }
        io::ErrorKind::InvalidFilename => {
            format!("{e} (a key segment is too long for a file name)")
        }
        _ => e.to_string(),
    };
    BlobError::Backend {
        op: "put",
        bucket: LOCAL_BUCKET.into(),
        key: key.into(),
        message,
        retryable: is_transient(&e),
    }
}

fn backend_key(op: &'static str, key: &str, e: io::Error) -> BlobError {
    BlobError::Backend {
        op,
        bucket: LOCAL_BUCKET.into(),
        key: key.into(),
        message: e.to_string(),
        retryable: is_transient(&e),
    }
}

fn backend(op: &'static str, root: &str, e: io::Error) -> BlobError {
    BlobError::Backend {
        op,
        bucket: LOCAL_BUCKET.into(),
        key: root.into(),
        message: e.to_string(),
        retryable: false,
    }
}

/// Interruptions and timeouts may pass; a full disk, a permission or a name clash will not.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(ct: &str) -> BlobMeta {
        BlobMeta {
            content_type: Some(ct.into()),
            metadata: BTreeMap::from([("url".to_owned(), "https://x/".to_owned())]),
        }
    }

    #[tokio::test]
    async fn files_land_where_the_layout_says_and_tmp_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::new(dir.path().join("store")).unwrap();
        store
            .put(
                "raw/a/b.json",
                Bytes::from_static(b"{}"),
                &meta("application/json"),
            )
            .await
            .unwrap();
        let root = dir.path().join("store");
        assert_eq!(fs::read(root.join("objects/raw/a/b.json")).unwrap(), b"{}");
        let meta_json: serde_json::Value =
            serde_json::from_slice(&fs::read(root.join("meta/raw/a/b.json.json")).unwrap())
                .unwrap();
        assert_eq!(meta_json["content_type"], "application/json");
        assert_eq!(meta_json["metadata"]["url"], "https://x/");
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn folder_order_follows_key_bytes_not_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::new(dir.path()).unwrap();
        // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' after it.
        for key in ["a/b", "a-c", "a.d", "a0", "a/c/d", "b"] {
            store
                .put(key, Bytes::new(), &BlobMeta::default())
                .await
                .unwrap();
        }
        let page = store.list("", None, 100).await.unwrap();
        assert_eq!(page.keys, ["a-c", "a.d", "a/b", "a/c/d", "a0", "b"]);
        let page = store.list("a", Some("a/b"), 100).await.unwrap();
        assert_eq!(page.keys, ["a/c/d", "a0"]);
        let page = store.list("a/", Some("a/c/d"), 100).await.unwrap();
        assert!(page.keys.is_empty() && page.next.is_none());
    }

    #[tokio::test]
    async fn a_body_that_is_not_the_one_its_metadata_names_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::new(dir.path()).unwrap();
        store
            .put("k", Bytes::from_static(b"one"), &meta("text/plain"))
            .await
            .unwrap();
        // As if a put was killed between renaming the metadata and renaming the body.
        fs::write(dir.path().join("objects/k"), b"two").unwrap();
        let err = store.get("k").await.unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert!(store.head("k").await.is_err());
        store
            .put("k", Bytes::from_static(b"three"), &meta("text/plain"))
            .await
            .unwrap();
        assert_eq!(store.get("k").await.unwrap().unwrap().body, "three");
    }

    #[tokio::test]
    async fn a_key_that_is_also_a_folder_is_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::new(dir.path()).unwrap();
        store
            .put("a/b", Bytes::new(), &BlobMeta::default())
            .await
            .unwrap();
        let err = store
            .put("a", Bytes::new(), &BlobMeta::default())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        let err = store
            .put("a/b/c", Bytes::new(), &BlobMeta::default())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert!(store.get("a").await.unwrap().is_none());
        assert_eq!(store.list("", None, 10).await.unwrap().keys, ["a/b"]);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn concurrent_overwrites_never_mix_bodies_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::new(dir.path()).unwrap();
        let mut tasks = Vec::new();
        for writer in 0..4u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..25u8 {
                    let body = Bytes::from(vec![writer; 100 + usize::from(round)]);
                    let mut m = BlobMeta::default();
                    m.metadata.insert("writer".into(), writer.to_string());
                    store.put("k", body, &m).await.unwrap();
                    let blob = store.get("k").await.unwrap().unwrap();
                    assert_eq!(blob.meta.metadata["writer"], blob.body[0].to_string());
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
}
