//! The local blob store: layout, ranges, cleanup, errors; and (ignored by default) a 256 MB
//! write throughput measurement:
//! `cargo test -p hearth-runtime --release --test blob -- --ignored --nocapture`.

use std::io::ErrorKind;
use std::path::Path;

use hearth_runtime::blob::{BlobId, BlobStore};
use tokio::io::AsyncReadExt;

async fn read_all(store: &BlobStore, id: &BlobId, offset: u64, len: u64) -> Vec<u8> {
    let mut r = store.read(id, offset, len).await.expect("read");
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.expect("read_to_end");
    out
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn tmp_entries(root: &Path) -> usize {
    std::fs::read_dir(root.join("tmp")).unwrap().count()
}

#[tokio::test]
async fn write_finish_read_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("blobs")).await.unwrap();
    // Over 8 MiB in uneven pieces so the buffer fills and flushes mid-piece.
    let data = pattern(9 * 1024 * 1024 + 12345);
    let mut w = store.writer().await.unwrap();
    assert!(w.is_empty());
    for chunk in data.chunks(100_003) {
        w.write(chunk).await.unwrap();
    }
    assert_eq!(w.len(), data.len() as u64);
    assert_eq!(tmp_entries(store.root()), 1);
    let id = w.finish().await.unwrap();

    assert!(id.is_valid(), "{id}");
    let s = id.as_str();
    let on_disk = store.root().join(&s[0..2]).join(&s[2..4]).join(s);
    assert_eq!(std::fs::metadata(&on_disk).unwrap().len(), data.len() as u64);
    assert_eq!(tmp_entries(store.root()), 0);
    assert_eq!(store.size(&id).await.unwrap(), data.len() as u64);

    let n = data.len() as u64;
    assert_eq!(read_all(&store, &id, 0, n).await, data);
    assert_eq!(read_all(&store, &id, 1, 10).await, &data[1..11]);
    assert_eq!(read_all(&store, &id, n - 7, 7).await, &data[data.len() - 7..]);
    assert_eq!(read_all(&store, &id, 8 * 1024 * 1024 - 3, 9).await, &data[8 * 1024 * 1024 - 3..8 * 1024 * 1024 + 6]);
    assert!(read_all(&store, &id, n, 0).await.is_empty());
    assert!(read_all(&store, &id, 5, 0).await.is_empty());

    for (offset, len) in [(n, 1), (0, n + 1), (n + 1, 0), (u64::MAX, 2)] {
        let err = store.read(&id, offset, len).await.err().expect("range past the end");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{offset}+{len}");
    }

    // Blobs are independent; an empty blob is a blob.
    let empty = store.writer().await.unwrap().finish().await.unwrap();
    assert_ne!(empty, id);
    assert!(read_all(&store, &empty, 0, 0).await.is_empty());

    store.delete(&id).await.unwrap();
    assert!(!on_disk.exists());
    let err = store.read(&id, 0, 1).await.err().expect("deleted");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(store.size(&id).await.unwrap_err().kind(), ErrorKind::NotFound);
    store.delete(&id).await.unwrap(); // already gone: fine
}

#[tokio::test]
async fn ids_never_become_paths() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).await.unwrap();
    for bad in
        ["../../etc/passwd", "", "tmp", "ABCDEF0123456789ABCDEF0123456789", "0123456789abcdef0123456789abcdeg", "00/00"]
    {
        let id = BlobId(bad.into());
        assert!(!id.is_valid());
        assert_eq!(store.read(&id, 0, 0).await.err().unwrap().kind(), ErrorKind::InvalidInput, "{bad}");
        assert_eq!(store.delete(&id).await.unwrap_err().kind(), ErrorKind::InvalidInput, "{bad}");
    }
    let missing = BlobId("0123456789abcdef0123456789abcdef".into());
    assert_eq!(store.read(&missing, 0, 0).await.err().unwrap().kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn abort_and_drop_remove_the_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).await.unwrap();

    let mut w = store.writer().await.unwrap();
    w.write(b"half a blob").await.unwrap();
    assert_eq!(tmp_entries(dir.path()), 1);
    w.abort().await.unwrap();
    assert_eq!(tmp_entries(dir.path()), 0);

    let mut w = store.writer().await.unwrap();
    w.write(&pattern(10 * 1024 * 1024)).await.unwrap();
    drop(w);
    // Drop hands the removal to a blocking thread.
    for _ in 0..200 {
        if tmp_entries(dir.path()) == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(tmp_entries(dir.path()), 0);
    // Nothing was published.
    let published = std::fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name() != "tmp").count();
    assert_eq!(published, 0);
}

#[tokio::test]
async fn open_removes_stale_temp_files_and_keeps_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = BlobStore::open(dir.path()).await.unwrap();
        let mut w = store.writer().await.unwrap();
        w.write(b"kept").await.unwrap();
        let id = w.finish().await.unwrap();
        // A writer that was never finished, as if the process had been killed.
        let mut w = store.writer().await.unwrap();
        w.write(b"lost").await.unwrap();
        std::mem::forget(w);
        id
    };
    std::fs::write(dir.path().join("tmp").join("leftover"), b"x").unwrap();
    assert_eq!(tmp_entries(dir.path()), 2);

    let store = BlobStore::open(dir.path()).await.unwrap();
    assert_eq!(tmp_entries(dir.path()), 0);
    assert_eq!(read_all(&store, &id, 0, 4).await, b"kept");
}

#[tokio::test]
async fn concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).await.unwrap();
    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut w = store.writer().await.unwrap();
                let body = vec![i; 1000 + i as usize];
                w.write(&body).await.unwrap();
                (w.finish().await.unwrap(), body)
            })
        })
        .collect();
    for t in tasks {
        let (id, body) = t.await.unwrap();
        assert_eq!(read_all(&store, &id, 0, body.len() as u64).await, body);
    }
}

/// 256 MB written in 64 KiB pieces (an HTTP body's frame size), then `finish` (fsync + rename).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes 256 MB; run with --ignored --nocapture to measure"]
async fn write_throughput_256mb() {
    let dir = tempfile::tempdir_in(
        std::env::var_os("HEARTH_BLOB_BENCH_DIR").unwrap_or_else(|| env!("CARGO_TARGET_TMPDIR").into()),
    )
    .unwrap();
    let store = BlobStore::open(dir.path()).await.unwrap();
    let piece = pattern(64 * 1024);
    let total: u64 = 256 * 1024 * 1024;
    let start = std::time::Instant::now();
    let mut w = store.writer().await.unwrap();
    while w.len() < total {
        w.write(&piece).await.unwrap();
    }
    let written = start.elapsed();
    let id = w.finish().await.unwrap();
    let elapsed = start.elapsed();
    let mb = total as f64 / 1e6;
    println!(
        "blob write 256 MiB: {:.2}s total ({:.0} MB/s), of which finish (fsync, rename) {:.2}s",
        elapsed.as_secs_f64(),
        mb / elapsed.as_secs_f64(),
        (elapsed - written).as_secs_f64()
    );
    assert_eq!(store.size(&id).await.unwrap(), total);
}
