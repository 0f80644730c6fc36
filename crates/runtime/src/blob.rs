//! Durable object bytes on the local file system.
//!
//! A write goes to a temp file under `<root>/tmp`, is fsynced, renamed to its final place
//! `<root>/<aa>/<bb>/<id>` and the directory is fsynced, and only then does [`BlobWriter::finish`]
//! return: an acknowledged blob survives `kill -9` and power loss. Blobs are immutable; callers
//! record a [`BlobId`] in the metadata store and delete the blob when the record is gone.
//!
//! Ids are random UUIDs (v4, 32 lowercase hex digits); `aa` and `bb` are their first two byte
//! pairs, which spreads blobs over 65 536 directories. Writes collect bytes in an 8 MiB buffer
//! and hand each full buffer to a blocking thread (one `spawn_blocking` per buffer rather than one
//! per small write), so the async runtime never waits on the disk. The first time a process puts
//! a blob into a given `<aa>/<bb>` directory it also fsyncs the parents, so a directory created
//! just before a crash cannot take its blobs with it. Hand-written rather than `object_store`'s
//! local backend because that one does not fsync before acknowledging.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Size of the write buffer handed to the disk at once.
const WRITE_BUFFER: usize = 8 << 20;

/// The name of a stored blob (32 lowercase hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobId(pub String);

impl BlobId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this has the shape of an id this store hands out. Anything else (in particular
    /// anything with `/` or `..`) is refused before it can become a path.
    pub fn is_valid(&self) -> bool {
        self.0.len() == 32 && self.0.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The blob store rooted at one directory; cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    tmp: PathBuf,
    /// `<aa>/<bb>` directories whose entries in their parents this process has fsynced.
    durable_dirs: Mutex<HashSet<PathBuf>>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore").field("root", &self.inner.root).finish()
    }
}

/// A blob being written; nothing is visible until [`BlobWriter::finish`]. Dropping it without
/// `finish` removes the temp file.
pub struct BlobWriter {
    inner: Arc<Inner>,
    id: String,
    tmp_path: PathBuf,
    /// `None` after a failed or interrupted disk write: the writer can only be dropped.
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    len: u64,
    /// Set once the temp file is gone (renamed into place or removed).
    settled: bool,
}

impl BlobStore {
    /// Open the store rooted at `root`, creating it; removes temp files left by a crash.
    pub async fn open(root: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        let root = root.as_ref().to_path_buf();
        let tmp = root.join("tmp");
        let tmp2 = tmp.clone();
        let removed = tokio::task::spawn_blocking(move || -> io::Result<usize> {
            std::fs::create_dir_all(&tmp2)?;
            let mut removed = 0;
            for entry in std::fs::read_dir(&tmp2)? {
                let path = entry?.path();
                match std::fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(removed)
        })
        .await
        .map_err(join_error)??;
        if removed > 0 {
            tracing::info!(root = %root.display(), removed, "removed unfinished blob temp files");
        }
        Ok(BlobStore { inner: Arc::new(Inner { root, tmp, durable_dirs: Mutex::new(HashSet::new()) }) })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Start writing a new blob.
    pub async fn writer(&self) -> std::io::Result<BlobWriter> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tmp_path = self.inner.tmp.join(&id);
        let path = tmp_path.clone();
        let file =
            tokio::task::spawn_blocking(move || std::fs::File::create_new(&path)).await.map_err(join_error)??;
        Ok(BlobWriter {
            inner: self.inner.clone(),
            id,
            tmp_path,
            file: Some(file),
            buf: Vec::with_capacity(WRITE_BUFFER),
            len: 0,
            settled: false,
        })
    }

    /// Read `len` bytes from `offset` as an async reader. Fails with `NotFound` if the blob does
    /// not exist and `InvalidInput` if the range goes past its end or the id is malformed.
    pub async fn read(
        &self,
        id: &BlobId,
        offset: u64,
        len: u64,
    ) -> std::io::Result<impl tokio::io::AsyncRead + Send + Unpin + 'static> {
        let path = self.path_of(id)?;
        let mut file = tokio::fs::File::open(&path).await?;
        let size = file.metadata().await?.len();
        match offset.checked_add(len) {
            Some(end) if end <= size => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("range {offset}+{len} is past the end of blob {id} ({size} bytes)"),
                ))
            }
        }
        if offset > 0 {
            file.seek(io::SeekFrom::Start(offset)).await?;
        }
        Ok(file.take(len))
    }

    /// Open a blob for blocking, positioned reads (for readers that run on blocking threads).
    /// The open file keeps the bytes readable even if the blob is deleted afterwards (the
    /// directory entry goes, the data stays until the handle is dropped). Fails with `NotFound`
    /// if the blob does not exist and `InvalidInput` if the id is malformed.
    pub async fn open_file(&self, id: &BlobId) -> std::io::Result<std::fs::File> {
        let path = self.path_of(id)?;
        Ok(tokio::fs::File::open(&path).await?.into_std().await)
    }

    /// Size of a stored blob in bytes.
    pub async fn size(&self, id: &BlobId) -> std::io::Result<u64> {
        Ok(tokio::fs::metadata(self.path_of(id)?).await?.len())
    }

    /// Remove a blob (no error if it is already gone).
    pub async fn delete(&self, id: &BlobId) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path_of(id)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn path_of(&self, id: &BlobId) -> io::Result<PathBuf> {
        if !id.is_valid() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("malformed blob id {:?}", id.0)));
        }
        Ok(self.inner.final_path(&id.0))
    }
}

impl Inner {
    fn dir_of(&self, id: &str) -> PathBuf {
        self.root.join(&id[0..2]).join(&id[2..4])
    }

    fn final_path(&self, id: &str) -> PathBuf {
        self.dir_of(id).join(id)
    }

    /// Create `<aa>/<bb>` if needed and make sure its entries in `<root>` and `<aa>` are on disk.
    fn ensure_durable_dir(&self, dir: &Path) -> io::Result<()> {
        if self.durable_dirs.lock().unwrap_or_else(|p| p.into_inner()).contains(dir) {
            return Ok(());
        }
        std::fs::create_dir_all(dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        sync_dir(&self.root)?;
        self.durable_dirs.lock().unwrap_or_else(|p| p.into_inner()).insert(dir.to_path_buf());
        Ok(())
    }
}

impl BlobWriter {
    /// Append `data` to the blob.
    pub async fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let take = (WRITE_BUFFER - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            self.len += take as u64;
            data = &data[take..];
            if self.buf.len() == WRITE_BUFFER {
                self.flush_buffer().await?;
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// fsync, rename into place, fsync the directory; the blob is durable when this returns.
    pub async fn finish(mut self) -> std::io::Result<BlobId> {
        self.flush_buffer().await?;
        let file = self.file.take().ok_or_else(poisoned)?;
        let inner = self.inner.clone();
        let (id, tmp) = (self.id.clone(), self.tmp_path.clone());
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            file.sync_all()?;
            drop(file);
            let dir = inner.dir_of(&id);
            inner.ensure_durable_dir(&dir)?;
            let dest = dir.join(&id);
            std::fs::rename(&tmp, &dest)?;
            if let Err(e) = sync_dir(&dir) {
                // Not durable, so not acknowledged: take it back out.
                let _ = std::fs::remove_file(&dest);
                return Err(e);
            }
            Ok(())
        })
        .await
        .map_err(join_error)??;
        self.settled = true;
        tracing::debug!(blob = %self.id, bytes = self.len, "blob stored");
        Ok(BlobId(std::mem::take(&mut self.id)))
    }

    /// Drop the temp file.
    pub async fn abort(mut self) -> std::io::Result<()> {
        self.file = None;
        self.settled = true;
        match tokio::fs::remove_file(&self.tmp_path).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Hand the buffer to a blocking thread and wait for it to be written.
    async fn flush_buffer(&mut self) -> io::Result<()> {
        let mut file = self.file.take().ok_or_else(poisoned)?;
        if self.buf.is_empty() {
            self.file = Some(file);
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        // If this future is dropped mid-write, `file` stays with the blocking task and the
        // writer is left poisoned (`file == None`).
        let (file, mut buf, result) = tokio::task::spawn_blocking(move || {
            let result = file.write_all(&buf);
            (file, buf, result)
        })
        .await
        .map_err(join_error)?;
        result?;
        buf.clear();
        self.buf = buf;
        self.file = Some(file);
        Ok(())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let path = std::mem::take(&mut self.tmp_path);
        let remove = move || {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove blob temp file");
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(remove);
            }
            Err(_) => remove(),
        }
    }
}

impl fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriter").field("id", &self.id).field("len", &self.len).finish()
    }
}

/// fsync a directory, making the entries created or renamed in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn poisoned() -> io::Error {
    io::Error::other("blob writer failed earlier; start a new one")
}

fn join_error(e: tokio::task::JoinError) -> io::Error {
    io::Error::other(format!("blob i/o task failed: {e}"))
}
