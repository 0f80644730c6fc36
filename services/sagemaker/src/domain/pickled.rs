//! Pickled XGBoost `Booster`s in model artifacts, and the version rule that decides whether an
//! image can load one.
//!
//! The built-in XGBoost container loads its model file with `pickle.load` first and
//! `Booster.load_model` second (`serve_utils.get_loaded_booster`). A pickled `Booster` is not a
//! model file: its state is a dict whose `handle` is XGBoost's *memory snapshot*
//! (`XGBoosterSerializeToBuffer`), which XGBoost reads back only with the version that wrote it
//! ("We guarantee backward compatibility for models but not for memory snapshots", XGBoost's
//! Model IO notes). Hearth emulates that rule: a pickled Booster loads only on an image whose
//! XGBoost version (from the image tag: `…:1.2-1` → 1.2, `…:0.90-1-cpu-py3` → 0.90) is the
//! version recorded in the snapshot — and since Hearth's engine is one libxgboost (3.2), only
//! snapshots of that version load at all; others fail the first invocation with the container's
//! `Unable to load model` error, as the seed's "incompatible" model does on AWS. Saved models
//! (JSON, UBJSON, binary from `save_model`) load on every image version.
//!
//! The pickle is read with `serde-pickle` (which never executes anything: unknown globals such
//! as `xgboost.core.Booster` become `None` and an object's state is kept). Where the snapshot
//! records its version: from XGBoost 1.0 its configuration carries `"version": [major, minor,
//! patch]` — in a UBJSON document `{"Config": {…, "version": […]}, "Model": {…}}` (1.6 and
//! later), a JSON one (1.0–1.5 with JSON serialisation), or the JSON configuration after the
//! binary model of the `CONFIG-offset:` layout (1.0–1.5). A snapshot without one (0.90 and
//! earlier: the raw binary model) is reported as written by "0.90 or earlier". The UBJSON reader
//! below is hand-written because only one key path is needed and no maintained crate reads
//! XGBoost's typed-array UBJSON without materialising the whole model.

use serde_pickle::{DeOptions, HashableValue, Value};
use std::fmt;

/// An XGBoost version, `major.minor[.patch]`; equality of images and snapshots is on
/// `major.minor` (pickles are not carried across releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XgbVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl XgbVersion {
    /// `major.minor` only.
    pub fn release(self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Parse `3.2.0`, `1.2`, `0.90`.
    pub fn parse(s: &str) -> Option<XgbVersion> {
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(XgbVersion { major, minor, patch })
    }
}

impl fmt::Display for XgbVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// The XGBoost version of a built-in XGBoost image from its tag (`…/sagemaker-xgboost:1.2-1`,
/// `…/xgboost:0.90-1-cpu-py3`); `None` for tags that name no version (`latest`, the legacy `1`).
pub fn image_version(uri: &str) -> Option<XgbVersion> {
    let last = uri.rsplit_once('/').map_or(uri, |(_, r)| r);
    let tag = last.split_once(':').map(|(_, t)| t)?;
    let v = tag.split('-').next()?;
    XgbVersion::parse(v).map(|v| XgbVersion { patch: None, ..v })
}

/// What a pickled model file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickledBooster {
    /// The memory snapshot (`handle`).
    pub snapshot: Vec<u8>,
    /// The version that wrote it; `None`: XGBoost 0.90 or earlier (no version recorded).
    pub written_by: Option<XgbVersion>,
}

/// Read `bytes` as a pickled `Booster`. `Err` is what Python's `pickle.load` (and then
/// `Booster.__setstate__`) would say, roughly: `invalid load key, '{'.` for a file that is not
/// a pickle.
pub fn read_pickle(bytes: &[u8]) -> Result<PickledBooster, String> {
    match bytes.first() {
        None => return Err("Ran out of input".into()),
        // PROTO (protocol 2 and later); protocols 0 and 1 start with an opcode such as `c`, `(`, `}`.
        Some(0x80) | Some(b'c') | Some(b'(') | Some(b'}') | Some(b']') => {}
        Some(&b) => return Err(format!("invalid load key, '{}'.", py_char(b))),
    }
    let value = serde_pickle::value_from_slice(bytes, DeOptions::new().replace_unresolved_globals().replace_recursive_structures())
        .map_err(|e| format!("could not unpickle the model file: {e}"))?;
    let Value::Dict(state) = value else {
        return Err("the pickled object is not an xgboost Booster (its state has no 'handle')".into());
    };
    let handle = state.get(&HashableValue::String("handle".into()));
    let snapshot = match handle {
        Some(Value::Bytes(b)) => b.clone(),
        Some(Value::None) => return Err("the pickled Booster has no model (its 'handle' is None)".into()),
        _ => return Err("the pickled object is not an xgboost Booster (its state has no 'handle')".into()),
    };
    let written_by = snapshot_version(&snapshot);
    Ok(PickledBooster { snapshot, written_by })
}

fn py_char(b: u8) -> String {
    match b {
        b'\'' => "\\'".into(),
        b'\\' => "\\\\".into(),
        0x20..=0x7e => (b as char).to_string(),
        b'\n' => "\\n".into(),
        b'\t' => "\\t".into(),
        b'\r' => "\\r".into(),
        _ => format!("\\x{b:02x}"),
    }
}

/// Why `image` cannot load a snapshot written by `written_by`, or `None` if it can. `engine` is
/// the libxgboost that serves (an image tag without a version is taken as the engine's).
pub fn incompatibility(written_by: Option<XgbVersion>, image: Option<XgbVersion>, engine: XgbVersion) -> Option<String> {
    let image = image.unwrap_or(engine);
    let writer = match written_by {
        Some(v) => v,
        None => return Some(format!("the pickled Booster was written by XGBoost 0.90 or earlier; this image runs XGBoost {image} and reads memory snapshots of its own version only")),
    };
    if writer.release() != image.release() {
        return Some(format!(
            "the pickled Booster was written by XGBoost {writer}; this image runs XGBoost {image} and reads memory snapshots of its own version only (save the model with Booster.save_model to use it with other versions)"
        ));
    }
    if writer.release() != engine.release() {
        return Some(format!("the pickled Booster was written by XGBoost {writer}; Hearth serves XGBoost {engine} only and cannot read memory snapshots of other versions"));
    }
    None
}

/// The XGBoost version recorded in a memory snapshot (see the module docs for the layouts).
pub fn snapshot_version(snapshot: &[u8]) -> Option<XgbVersion> {
    if snapshot.starts_with(b"{\"") {
        #[derive(serde::Deserialize)]
        struct Snap {
            #[serde(rename = "Config")]
            config: Versioned,
        }
        #[derive(serde::Deserialize)]
        struct Versioned {
            version: Vec<u32>,
        }
        let s: Snap = serde_json::from_slice(snapshot).ok()?;
        return from_parts(&s.config.version);
    }
    if snapshot.starts_with(b"{") {
        return ubjson_config_version(snapshot);
    }
    if snapshot.starts_with(b"CONFIG-offset:") {
        return json_version_text(snapshot);
    }
    None
}

fn from_parts(v: &[u32]) -> Option<XgbVersion> {
    match v {
        [major, minor, patch, ..] => Some(XgbVersion { major: *major, minor: *minor, patch: Some(*patch) }),
        [major, minor] => Some(XgbVersion { major: *major, minor: *minor, patch: None }),
        _ => None,
    }
}

/// The last `"version":[a,b,c]` of a text configuration (the `CONFIG-offset:` layout).
fn json_version_text(buf: &[u8]) -> Option<XgbVersion> {
    let key = b"\"version\"";
    let at = buf.windows(key.len()).rposition(|w| w == key)?;
    let rest = &buf[at + key.len()..];
    let text: String = rest.iter().take(64).map(|&b| b as char).collect();
    let text = text.trim_start().strip_prefix(':')?.trim_start().strip_prefix('[')?;
    let inner = text.split(']').next()?;
    let parts: Option<Vec<u32>> = inner.split(',').map(|p| p.trim().parse().ok()).collect();
    from_parts(&parts?)
}

/// `Config.version` of a UBJSON snapshot (falls back to `Model.version`).
fn ubjson_config_version(buf: &[u8]) -> Option<XgbVersion> {
    let mut r = Ubj { buf, pos: 0, depth: 0 };
    if r.byte()? != b'{' {
        return None;
    }
    let mut fallback = None;
    let mut keys = r.object_keys()?;
    while let Some(key) = keys.next() {
        let key = key?;
        let marker = keys.r.byte()?;
        if (key == b"Config" || key == b"Model") && marker == b'{' {
            let mut found = None;
            let mut inner = keys.r.object_keys()?;
            while let Some(k) = inner.next() {
                let k = k?;
                let m = inner.r.byte()?;
                if k == b"version" && m == b'[' {
                    found = from_parts(&inner.r.int_array()?);
                } else {
                    inner.r.skip(m)?;
                }
            }
            if key == b"Config" && found.is_some() {
                return found;
            }
            fallback = fallback.or(found);
        } else {
            keys.r.skip(marker)?;
        }
    }
    fallback
}

/// A forward-only UBJSON reader over XGBoost's documents (big-endian numbers, optimised
/// containers `$type#count`).
struct Ubj<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
}

const MAX_DEPTH: u32 = 64;

impl<'a> Ubj<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn size_of(marker: u8) -> Option<usize> {
        Some(match marker {
            b'Z' | b'N' | b'T' | b'F' => 0,
            b'i' | b'U' | b'C' => 1,
            b'I' => 2,
            b'l' | b'd' => 4,
            b'L' | b'D' => 8,
            _ => return None,
        })
    }

    fn int(&mut self, marker: u8) -> Option<i64> {
        let n = Self::size_of(marker)?;
        let b = self.take(n)?;
        Some(match marker {
            b'i' => i64::from(b[0] as i8),
            b'U' => i64::from(b[0]),
            b'I' => i64::from(i16::from_be_bytes([b[0], b[1]])),
            b'l' => i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            b'L' => i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            _ => return None,
        })
    }

    fn length(&mut self) -> Option<usize> {
        let m = self.byte()?;
        usize::try_from(self.int(m)?).ok()
    }

    /// After `{` or `[`: the optional `$type` and `#count`.
    fn container_header(&mut self) -> Option<(Option<u8>, Option<usize>)> {
        let mut ty = None;
        if self.peek()? == b'$' {
            self.pos += 1;
            ty = Some(self.byte()?);
        }
        let mut count = None;
        if self.peek()? == b'#' {
            self.pos += 1;
            count = Some(self.length()?);
        } else if ty.is_some() {
            return None;
        }
        Some((ty, count))
    }

    /// The keys of the object just opened, each followed (for the caller) by its value.
    fn object_keys(&mut self) -> Option<ObjectKeys<'_, 'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let (ty, count) = self.container_header()?;
        if ty.is_some() {
            // Typed objects do not occur in XGBoost's documents.
            return None;
        }
        Some(ObjectKeys { r: self, left: count, done: false })
    }

    fn int_array(&mut self) -> Option<Vec<u32>> {
        let (ty, count) = self.container_header()?;
        let mut out = Vec::new();
        loop {
            if let Some(c) = count {
                if out.len() == c {
                    break;
                }
            } else if self.peek()? == b']' {
                self.pos += 1;
                break;
            }
            if out.len() > 16 {
                return None;
            }
            let m = match ty {
                Some(t) => t,
                None => self.byte()?,
            };
            out.push(u32::try_from(self.int(m)?).ok()?);
        }
        Some(out)
    }

    fn skip(&mut self, marker: u8) -> Option<()> {
        match marker {
            b'S' | b'H' => {
                let n = self.length()?;
                self.take(n).map(|_| ())
            }
            b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                let (ty, count) = self.container_header()?;
                match (ty, count) {
                    (Some(t), Some(c)) => match Self::size_of(t) {
                        Some(sz) => self.take(sz.checked_mul(c)?).map(|_| ())?,
                        None => {
                            for _ in 0..c {
                                self.skip(t)?;
                            }
                        }
                    },
                    (None, Some(c)) => {
                        for _ in 0..c {
                            let m = self.byte()?;
                            self.skip(m)?;
                        }
                    }
                    _ => loop {
                        let m = self.byte()?;
                        if m == b']' {
                            break;
                        }
                        self.skip(m)?;
                    },
                }
                self.depth -= 1;
                Some(())
            }
            b'{' => {
                let mut keys = self.object_keys()?;
                while let Some(k) = keys.next() {
                    k?;
                    let m = keys.r.byte()?;
                    keys.r.skip(m)?;
                }
                Some(())
            }
            m => self.take(Self::size_of(m)?).map(|_| ()),
        }
    }
}

struct ObjectKeys<'r, 'a> {
    r: &'r mut Ubj<'a>,
    left: Option<usize>,
    done: bool,
}

impl<'a> Iterator for ObjectKeys<'_, 'a> {
    type Item = Option<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.left {
            Some(0) => {
                self.done = true;
                self.r.depth -= 1;
                return None;
            }
            Some(n) => self.left = Some(n - 1),
            None => match self.r.peek() {
                Some(b'}') => {
                    self.r.pos += 1;
                    self.done = true;
                    self.r.depth -= 1;
                    return None;
                }
                None => {
                    self.done = true;
                    return Some(None);
                }
                _ => {}
            },
        }
        let key = self.r.length().and_then(|n| self.r.take(n));
        if key.is_none() {
            self.done = true;
        }
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"Config": {"learner": {"a": [$d#2 …]}, "version": [#3 i3 i2 i0]}, "Model": {"version": [i1 i2 i0]}}`
    fn ubj_snapshot(config_version: &[u8]) -> Vec<u8> {
        fn key(out: &mut Vec<u8>, k: &str) {
            out.push(b'L');
            out.extend_from_slice(&(k.len() as i64).to_be_bytes());
            out.extend_from_slice(k.as_bytes());
        }
        let mut b = vec![b'{'];
        key(&mut b, "Config");
        b.push(b'{');
        key(&mut b, "learner");
        b.push(b'{');
        key(&mut b, "a");
        b.extend_from_slice(b"[$d#i\x02");
        b.extend_from_slice(&1.5f32.to_be_bytes());
        b.extend_from_slice(&2.5f32.to_be_bytes());
        key(&mut b, "s");
        b.extend_from_slice(b"SU\x03cpu");
        b.push(b'}');
        key(&mut b, "version");
        b.extend_from_slice(b"[#L");
        b.extend_from_slice(&3i64.to_be_bytes());
        for v in config_version {
            b.extend_from_slice(&[b'i', *v]);
        }
        b.push(b'}');
        key(&mut b, "Model");
        b.push(b'{');
        key(&mut b, "version");
        b.extend_from_slice(b"[i\x01i\x02i\x00]");
        b.push(b'}');
        b.push(b'}');
        b
    }

    /// A protocol-2 pickle of `Booster` with state `{"handle": bytearray(snapshot)}`, as
    /// Python writes it (`_codecs.encode(str, 'latin1')` for the bytes).
    fn pickle_p2(snapshot: &[u8]) -> Vec<u8> {
        let mut p = b"\x80\x02cxgboost.core\nBooster\nq\x00)\x81q\x01}q\x02X\x06\x00\x00\x00handleq\x03c__builtin__\nbytearray\nq\x04c_codecs\nencode\nq\x05".to_vec();
        let s: String = snapshot.iter().map(|&b| b as char).collect();
        let utf8 = s.as_bytes();
        p.push(b'X');
        p.extend_from_slice(&(utf8.len() as u32).to_le_bytes());
        p.extend_from_slice(utf8);
        p.extend_from_slice(b"X\x06\x00\x00\x00latin1\x86R\x85Rsb.");
        p
    }

    #[test]
    fn versions_of_images_and_snapshots() {
        let v = |s| XgbVersion::parse(s).unwrap();
        assert_eq!(image_version("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.2-1").unwrap().release(), (1, 2));
        assert_eq!(image_version("683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:0.90-1-cpu-py3").unwrap().release(), (0, 90));
        assert_eq!(image_version("localhost:5000/sagemaker-xgboost:3.2-1").unwrap().release(), (3, 2));
        assert_eq!(image_version("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"), None);
        assert_eq!(image_version("xgboost:latest"), None);
        assert_eq!(image_version("xgboost"), None);
        assert_eq!(snapshot_version(&ubj_snapshot(&[3, 2, 0])), Some(v("3.2.0")));
        assert_eq!(snapshot_version(&ubj_snapshot(&[1, 7, 6])), Some(v("1.7.6")));
        assert_eq!(snapshot_version(br#"{"Config": {"learner": {}, "version": [1, 5, 2]}, "Model": {}}"#), Some(v("1.5.2")));
        assert_eq!(snapshot_version(b"CONFIG-offset:\x10\x00\x00\x00\x00\x00\x00\x00binf....{\"learner\":{},\"version\":[1,2,0]}"), Some(v("1.2.0")));
        assert_eq!(snapshot_version(b"binf\x00\x00\x00\x3f"), None);
        // Truncated and hostile documents give no version, never a panic.
        let full = ubj_snapshot(&[3, 2, 0]);
        for n in 0..full.len() {
            let _ = snapshot_version(&full[..n]);
        }
        assert_eq!(snapshot_version(&[b'{'; 500]), None);
        assert_eq!(snapshot_version(b"{L\xff\xff\xff\xff\xff\xff\xff\xff"), None);
    }

    #[test]
    fn the_version_rule() {
        let v = |s| XgbVersion::parse(s).unwrap();
        let engine = v("3.2.0");
        assert_eq!(incompatibility(Some(v("3.2.0")), Some(v("3.2")), engine), None);
        assert_eq!(incompatibility(Some(v("3.2.1")), None, engine), None);
        let e = incompatibility(Some(v("3.2.0")), Some(v("1.2")), engine).unwrap();
        assert!(e.contains("written by XGBoost 3.2.0; this image runs XGBoost 1.2"), "{e}");
        let e = incompatibility(Some(v("1.2.0")), Some(v("1.2")), engine).unwrap();
        assert!(e.contains("Hearth serves XGBoost 3.2.0 only"), "{e}");
        assert!(incompatibility(None, Some(v("0.90")), engine).unwrap().contains("0.90 or earlier"));
    }

    #[test]
    fn pickles() {
        let snap = ubj_snapshot(&[3, 2, 0]);
        let p = read_pickle(&pickle_p2(&snap)).unwrap();
        assert_eq!(p.snapshot, snap);
        assert_eq!(p.written_by, XgbVersion::parse("3.2.0"));
        // Protocol 4: STACK_GLOBAL, NEWOBJ, bytearray(BINBYTES), BUILD (as pickle.dumps writes it).
        let mut p4 = b"\x80\x04\x8c\x0cxgboost.core\x94\x8c\x07Booster\x94\x93\x94)\x81\x94}\x94\x8c\x06handle\x94\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94B".to_vec();
        p4.extend_from_slice(&(snap.len() as u32).to_le_bytes());
        p4.extend_from_slice(&snap);
        p4.extend_from_slice(b"\x94\x85\x94R\x94sb.");
        assert_eq!(read_pickle(&p4).unwrap().snapshot, snap);
        assert_eq!(read_pickle(b"{\"learner\": {}}").unwrap_err(), "invalid load key, '{'.");
        assert_eq!(read_pickle(b"\x00binf").unwrap_err(), "invalid load key, '\\x00'.");
        assert_eq!(read_pickle(b"").unwrap_err(), "Ran out of input");
        assert!(read_pickle(b"\x80\x04K\x01.").unwrap_err().contains("not an xgboost Booster"));
        assert!(read_pickle(b"\x80\x04\x95").is_err());
        // A global that would run code is never called: `os.system('x')` is just an unresolved value.
        assert!(read_pickle(b"cos\nsystem\n(S'echo hi'\ntR.").is_err());
    }
}
