//! Streaming in-process reads of one object: [`S3::open_object`] gives an [`ObjectReader`], a
//! blocking `std::io::Read + Seek` over the object's extents (the blobs holding its bytes, in
//! order) that reads straight from the blob files into the caller's buffer, so a 2 GB media
//! file is decoded without ever being held in memory.
//!
//! Retention: an overwrite or delete of the object removes its blobs right after the new
//! record commits (`handlers::objects::commit_object`). The reader therefore opens every
//! extent's blob file when it is created and keeps the handles until it is dropped: on POSIX
//! file systems a deleted file's data stays readable through a handle opened before the
//! delete, so a reader always sees the whole object as it was when it was opened, whatever
//! happens to the key meanwhile. If a blob disappears between reading the record and opening
//! it (a concurrent overwrite), the record is read again and the newer object is opened.
//! This costs one file descriptor per extent (1 for a PUT, one per part for a multipart
//! upload); clones share them.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use hearth_protocol::AwsError;
use hearth_runtime::Scope;

use crate::error::S3Error;
use crate::handlers::owned_bucket;
use crate::internal::ctx;
use crate::store::{object_key, Object};
use crate::S3;

/// Attempts at opening an object that keeps being replaced while its blobs are opened.
const OPEN_ATTEMPTS: usize = 5;

/// One extent's open blob file and where its bytes sit in the object.
#[derive(Debug)]
struct Piece {
    file: std::fs::File,
    /// Offset of the extent's first byte in the object.
    start: u64,
    len: u64,
}

/// A blocking reader over one object's bytes as they were when it was opened (see the
/// module docs for retention). Reads go straight to the blob files with positioned reads:
/// nothing is buffered here. Cloning is cheap and gives an independent position over the same
/// open files. Reads block on the disk: use it from a blocking thread, never from async code.
#[derive(Debug, Clone)]
pub struct ObjectReader {
    pieces: Arc<[Piece]>,
    size: u64,
    pos: u64,
    etag: String,
}

impl ObjectReader {
    /// Size of the object in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the object has no bytes.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The object's quoted ETag.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The extent holding byte `pos` (`pos < size`).
    fn piece_at(&self, pos: u64) -> Option<&Piece> {
        let i = self.pieces.partition_point(|p| p.start + p.len <= pos);
        self.pieces.get(i)
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        let pos = self.pos;
        let Some(piece) = self.piece_at(pos) else { return Ok(0) };
        let within = pos - piece.start;
        let want = (piece.len - within).min(buf.len() as u64) as usize;
        let n = loop {
            match read_at(&piece.file, &mut buf[..want], within) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            // The blob is shorter than its record says: the store is damaged.
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("object blob ends early at byte {within} of {}", piece.len)));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ObjectReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "seek to a negative or overflowing position")),
        }
    }
}

impl S3 {
    /// Open an object of `account`'s bucket for streaming reads (errors as GetObject answers
    /// them: `NoSuchBucket`, `AccessDenied`, `NoSuchKey`). Opening touches no object bytes;
    /// the reader then reads bounded chunks from the blob files as it is read.
    pub async fn open_object(&self, account: &str, bucket: &str, key: &str) -> Result<ObjectReader, AwsError> {
        self.open_reader(account, bucket, key).await.map_err(|e| e.to_aws())
    }

    async fn open_reader(&self, account: &str, bucket: &str, key: &str) -> Result<ObjectReader, S3Error> {
        owned_bucket(self, &ctx(account), bucket).await?;
        let record_key = object_key(bucket, key);
        let mut last_version = None;
        for _ in 0..OPEN_ATTEMPTS {
            let rec = self.meta.get::<Object>(&Scope::global(), &record_key).await?.ok_or_else(|| S3Error::NoSuchKey(key.to_string()))?;
            if last_version == Some(rec.version) {
                break; // the record did not change: a blob is really missing
            }
            last_version = Some(rec.version);
            let obj = rec.value;
            let mut pieces = Vec::with_capacity(obj.extents.len());
            let mut start = 0u64;
            let mut missing = false;
            for e in &obj.extents {
                match self.blobs.open_file(&e.blob).await {
                    Ok(file) => pieces.push(Piece { file, start, len: e.len }),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {
                        // Replaced or deleted since the record was read: read it again.
                        tracing::debug!(bucket, key, blob = %e.blob, "object blob went away while opening; retrying");
                        missing = true;
                        break;
                    }
                    Err(err) => return Err(err.into()),
                }
                start += e.len;
            }
            if missing {
                continue;
            }
            if start != obj.size {
                return Err(S3Error::Internal(format!("object {bucket}/{key} has extents of {start} bytes but a size of {}", obj.size)));
            }
            return Ok(ObjectReader { pieces: pieces.into(), size: obj.size, pos: 0, etag: obj.etag });
        }
        tracing::error!(bucket, key, "object blob missing");
        Err(S3Error::Internal(format!("a blob of object {bucket}/{key} is missing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::objects::commit_object;
    use crate::store::{Bucket, Extent, ObjectHeaders};
    use hearth_protocol::types::Timestamp;
    use hearth_runtime::blob::BlobStore;
    use hearth_runtime::{Expect, MetaStore, SystemClock};

    async fn service(dir: &std::path::Path) -> S3 {
        let meta = MetaStore::open("sqlite::memory:").await.unwrap();
        let blobs = BlobStore::open(dir.join("blobs")).await.unwrap();
        let s3 = S3::new(meta, blobs, Arc::new(SystemClock));
        let b = Bucket { name: "media".into(), account: "111122223333".into(), region: "us-east-1".into(), created: Timestamp(time::OffsetDateTime::now_utc()) };
        s3.meta.put(&Scope::global(), "media", &b, Expect::Absent).await.unwrap();
        s3
    }

    /// Store `parts` as one object of several extents (as a completed multipart upload is).
    async fn put_parts(s3: &S3, key: &str, parts: &[Vec<u8>]) {
        let mut extents = Vec::new();
        for p in parts {
            let mut w = s3.blobs.writer().await.unwrap();
            w.write(p).await.unwrap();
            extents.push(Extent { blob: w.finish().await.unwrap(), len: p.len() as u64 });
        }
        let obj = Object {
            key: key.into(),
            size: parts.iter().map(|p| p.len() as u64).sum(),
            etag: "\"x-2\"".into(),
            last_modified: Timestamp(time::OffsetDateTime::now_utc()),
            headers: ObjectHeaders::default(),
            extents,
            parts_count: Some(parts.len() as u32),
            checksums: Default::default(),
        };
        commit_object(s3, "media", &obj, vec![]).await.unwrap();
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[3] ^ seed).collect()
    }

    #[tokio::test]
    async fn reads_and_seeks_across_extents() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = service(dir.path()).await;
        let parts = vec![pattern(300_000, 1), pattern(7, 2), Vec::new(), pattern(200_001, 3)];
        put_parts(&s3, "long.wav", &parts).await;
        let whole = s3.read_object("111122223333", "media", "long.wav").await.unwrap();
        let reader = s3.open_object("111122223333", "media", "long.wav").await.unwrap();
        assert_eq!(reader.len(), whole.len() as u64);
        let (all, sought) = tokio::task::spawn_blocking(move || {
            // Read to the end in odd-sized chunks (never more than the buffer).
            let mut r = reader.clone();
            let mut all = Vec::new();
            let mut buf = vec![0u8; 65_537];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            // Seeks: across an extent boundary, from the end, backwards, past the end.
            let mut r = reader;
            let mut sought = Vec::new();
            let mut b = [0u8; 20];
            r.seek(SeekFrom::Start(299_995)).unwrap();
            r.read_exact(&mut b).unwrap();
            sought.push((299_995u64, b.to_vec()));
            assert_eq!(r.seek(SeekFrom::End(-10)).unwrap(), 500_008 - 10);
            let mut tail = Vec::new();
            r.read_to_end(&mut tail).unwrap();
            sought.push((500_008 - 10, tail));
            r.seek(SeekFrom::Current(-500_008)).unwrap();
            r.read_exact(&mut b[..4]).unwrap();
            sought.push((0, b[..4].to_vec()));
            assert!(r.seek(SeekFrom::Current(-5)).is_err());
            r.seek(SeekFrom::Start(1 << 40)).unwrap();
            assert_eq!(r.read(&mut b).unwrap(), 0);
            (all, sought)
        })
        .await
        .unwrap();
        assert_eq!(all, whole);
        for (at, bytes) in sought {
            assert_eq!(bytes, whole[at as usize..at as usize + bytes.len()], "at {at}");
        }
    }

    #[tokio::test]
    async fn stays_readable_when_overwritten_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = service(dir.path()).await;
        let old = vec![pattern(100_000, 4), pattern(50_000, 5)];
        put_parts(&s3, "a.wav", &old).await;
        let reader = s3.open_object("111122223333", "media", "a.wav").await.unwrap();
        // Overwrite (the old blobs are deleted), then delete the new version too.
        s3.write_object("111122223333", "media", "a.wav", b"new", "audio/wav").await.unwrap();
        let later = s3.open_object("111122223333", "media", "a.wav").await.unwrap();
        crate::handlers::objects::delete_extents(&s3, &s3.meta.get::<Object>(&Scope::global(), "media/a.wav").await.unwrap().unwrap().value.extents).await;
        let (a, b) = tokio::task::spawn_blocking(move || {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            reader.clone().read_to_end(&mut a).unwrap();
            later.clone().read_to_end(&mut b).unwrap();
            (a, b)
        })
        .await
        .unwrap();
        assert_eq!(a, old.concat());
        assert_eq!(b, b"new");
    }

    #[tokio::test]
    async fn missing_objects_answer_like_get_object() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = service(dir.path()).await;
        assert_eq!(s3.open_object("111122223333", "media", "nope").await.unwrap_err().code, "NoSuchKey");
        assert_eq!(s3.open_object("111122223333", "other", "k").await.unwrap_err().code, "NoSuchBucket");
        assert_eq!(s3.open_object("999999999999", "media", "k").await.unwrap_err().code, "AccessDenied");
        let empty = {
            s3.write_object("111122223333", "media", "empty", b"", "audio/wav").await.unwrap();
            s3.open_object("111122223333", "media", "empty").await.unwrap()
        };
        assert!(empty.is_empty());
        let mut buf = [0u8; 8];
        assert_eq!(empty.clone().read(&mut buf).unwrap(), 0);
    }
}
