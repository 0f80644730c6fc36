//! Model artifacts: the `model.tar.gz` a training job writes to
//! `S3OutputPath/<job>/output/` and an endpoint's `ModelDataUrl` points at. The built-in XGBoost
//! artifact holds one file, `xgboost-model`; the container loads that file, or else the first
//! file of the archive that is not hidden (as the container's `_get_full_model_paths` does).

use std::io::{Read, Write};

/// Name of the model file inside a built-in XGBoost artifact.
pub const XGBOOST_MODEL_FILE: &str = "xgboost-model";

/// Largest unpacked model Hearth reads from an artifact (guards against archive bombs).
pub const MAX_MODEL_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// A gzip-compressed tar archive of `files` (name, bytes), as SageMaker writes artifacts.
pub fn pack(files: &[(&str, &[u8])], mtime: u64) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, *data)?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// The model file of an artifact: `(file name, bytes)`.
pub fn unpack_model(archive: &[u8]) -> Result<(String, Vec<u8>), String> {
    let tar_bytes: Vec<u8> = if archive.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(archive)
            .take(MAX_MODEL_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the model artifact is not a valid gzip file: {e}"))?;
        out
    } else {
        archive.to_vec()
    };
    let mut ar = tar::Archive::new(tar_bytes.as_slice());
    let entries = ar.entries().map_err(|e| format!("the model artifact is not a tar archive: {e}"))?;
    let mut first: Option<(String, Vec<u8>)> = None;
    let mut seen = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("the model artifact is not a valid tar archive: {e}"))?;
        seen += 1;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(|e| format!("bad path in the model artifact: {e}"))?.into_owned();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.is_empty() || name.starts_with('.') || path.components().count() > 2 {
            continue;
        }
        if entry.size() > MAX_MODEL_BYTES {
            return Err(format!("{name} is larger than {MAX_MODEL_BYTES} bytes"));
        }
        let is_model = name == XGBOOST_MODEL_FILE;
        if !is_model && first.is_some() {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).map_err(|e| format!("could not read {name} from the model artifact: {e}"))?;
        if is_model {
            return Ok((name, data));
        }
        first = Some((name, data));
    }
    first.ok_or_else(|| if seen == 0 { "the model artifact is not a tar archive or is empty".to_string() } else { "the model artifact holds no model file".to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_choice() {
        let a = pack(&[(XGBOOST_MODEL_FILE, b"model-bytes")], 0).unwrap();
        assert_eq!(&a[..2], &[0x1f, 0x8b]);
        assert_eq!(unpack_model(&a).unwrap(), (XGBOOST_MODEL_FILE.to_string(), b"model-bytes".to_vec()));
        let b = pack(&[(".hidden", b"x"), ("model.json", b"{}"), ("other", b"y")], 0).unwrap();
        assert_eq!(unpack_model(&b).unwrap().0, "model.json");
        let c = pack(&[("other", b"y"), (XGBOOST_MODEL_FILE, b"m")], 0).unwrap();
        assert_eq!(unpack_model(&c).unwrap().1, b"m");
        assert!(unpack_model(b"plain text").is_err());
        assert!(unpack_model(&[0x1f, 0x8b, 0, 1, 2]).is_err());
        assert!(unpack_model(&pack(&[], 0).unwrap()).is_err());
    }
}
