//! Durable object bytes on the local file system.
//!
//! A write goes to a temp file under `<root>/tmp`, is fsynced, renamed to its final place
//! `<root>/<aa>/<bb>/<id>` and the directory is fsynced, and only then does [`BlobWriter::finish`]
//! return: an acknowledged blob survives `kill -9` and power loss. Blobs are immutable; callers
//! record a [`BlobId`] in the metadata store and delete the blob when the record is gone.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobId(pub String);

#[derive(Clone)]
pub struct BlobStore {
    _private: (),
}

pub struct BlobWriter {
    _private: (),
}

impl BlobStore {
    /// Open the store rooted at `root`, creating it; removes temp files left by a crash.
    pub async fn open(_root: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        todo!()
    }
    /// Start writing a new blob.
    pub async fn writer(&self) -> std::io::Result<BlobWriter> {
        todo!()
    }
    /// Read `len` bytes from `offset` as an async reader.
    pub async fn read(&self, _id: &BlobId, _offset: u64, _len: u64) -> std::io::Result<impl tokio::io::AsyncRead + Send + Unpin + 'static> {
        Ok(tokio::io::empty())
    }
    /// Remove a blob (no error if it is already gone).
    pub async fn delete(&self, _id: &BlobId) -> std::io::Result<()> {
        todo!()
    }
}

impl BlobWriter {
    pub async fn write(&mut self, _data: &[u8]) -> std::io::Result<()> {
        todo!()
    }
    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        todo!()
    }
    /// fsync, rename into place, fsync the directory; the blob is durable when this returns.
    pub async fn finish(self) -> std::io::Result<BlobId> {
        todo!()
    }
    /// Drop the temp file.
    pub async fn abort(self) -> std::io::Result<()> {
        todo!()
    }
}
