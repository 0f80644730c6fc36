//! The XGBoost library, loaded at run time from the model cache.
//!
//! Hearth does not link XGBoost: the PyPI wheel `xgboost-cpu` (registry entry [`LIBRARY_MODEL`])
//! ships `libxgboost.so` with XGBoost's stable C API, and this module opens it with `libloading`
//! and copies out the few functions the engine calls. Loading by path (not by linking) keeps the
//! build free of C++ and lets `hearth models fetch xgboost` install the exact library Python
//! users run, so models trained by either side are the same bytes and predict the same numbers.
//!
//! Why hand-written bindings: the crates that wrap XGBoost (`xgboost-rust`, `xgboost-sys`)
//! download or compile XGBoost in their build scripts, which fails offline and would add a C++
//! build to CI. Twenty `extern "C"` signatures copied from `include/xgboost/c_api.h` do not.
//!
//! Every call returns `0` on success or `-1` with a message in `XGBGetLastError()` (a
//! thread-local string); [`Xgb::check`] turns that into [`TabularError::Xgboost`].

use super::TabularError;
use std::collections::HashMap;
use std::ffi::{c_char, c_float, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Registry name of the model-cache entry that holds `libxgboost.so`.
pub const LIBRARY_MODEL: &str = "xgboost";
/// Path of the library inside the installed entry (the wheel's own layout, so the library's
/// `RPATH` `$ORIGIN/../../xgboost_cpu.libs` finds its bundled OpenMP runtime).
pub const LIBRARY_FILE: &str = "xgboost/lib/libxgboost.so";

pub(crate) type Handle = *mut c_void;
type Ulong = u64;

#[allow(non_snake_case)]
#[derive(Clone, Copy)]
pub(crate) struct Api {
    pub XGBoostVersion: unsafe extern "C" fn(*mut c_int, *mut c_int, *mut c_int),
    pub XGBGetLastError: unsafe extern "C" fn() -> *const c_char,
    pub XGBSetGlobalConfig: unsafe extern "C" fn(*const c_char) -> c_int,
    pub XGBRegisterLogCallback: unsafe extern "C" fn(Option<unsafe extern "C" fn(*const c_char)>) -> c_int,
    pub XGDMatrixCreateFromMat: unsafe extern "C" fn(*const c_float, Ulong, Ulong, c_float, *mut Handle) -> c_int,
    pub XGDMatrixSetFloatInfo: unsafe extern "C" fn(Handle, *const c_char, *const c_float, Ulong) -> c_int,
    pub XGDMatrixFree: unsafe extern "C" fn(Handle) -> c_int,
    pub XGBoosterCreate: unsafe extern "C" fn(*const Handle, Ulong, *mut Handle) -> c_int,
    pub XGBoosterFree: unsafe extern "C" fn(Handle) -> c_int,
    pub XGBoosterSetParam: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    pub XGBoosterUpdateOneIter: unsafe extern "C" fn(Handle, c_int, Handle) -> c_int,
    pub XGBoosterEvalOneIter: unsafe extern "C" fn(Handle, c_int, *const Handle, *const *const c_char, Ulong, *mut *const c_char) -> c_int,
    pub XGBoosterPredictFromDense:
        unsafe extern "C" fn(Handle, *const c_char, *const c_char, Handle, *mut *const Ulong, *mut Ulong, *mut *const c_float) -> c_int,
    pub XGBoosterLoadModelFromBuffer: unsafe extern "C" fn(Handle, *const c_void, Ulong) -> c_int,
    pub XGBoosterSaveModelToBuffer: unsafe extern "C" fn(Handle, *const c_char, *mut Ulong, *mut *const c_char) -> c_int,
    pub XGBoosterUnserializeFromBuffer: unsafe extern "C" fn(Handle, *const c_void, Ulong) -> c_int,
    pub XGBoosterGetNumFeature: unsafe extern "C" fn(Handle, *mut Ulong) -> c_int,
    pub XGBoosterBoostedRounds: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    pub XGBoosterSaveJsonConfig: unsafe extern "C" fn(Handle, *mut Ulong, *mut *const c_char) -> c_int,
    pub XGBoosterSetAttr: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    pub XGBoosterGetAttr: unsafe extern "C" fn(Handle, *const c_char, *mut *const c_char, *mut c_int) -> c_int,
}

/// An opened `libxgboost.so`: the C API functions Hearth uses. Cheap to share (`Arc`); the
/// library stays loaded for the life of the process.
pub struct Xgb {
    pub(crate) api: Api,
    path: PathBuf,
    version: (i32, i32, i32),
    _lib: libloading::Library,
}

impl std::fmt::Debug for Xgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xgb").field("path", &self.path).field("version", &self.version()).finish()
    }
}

static OPENED: OnceLock<Mutex<HashMap<PathBuf, Arc<Xgb>>>> = OnceLock::new();

impl Xgb {
    /// The library installed in the model cache `models_dir` by `hearth models fetch xgboost`.
    pub fn from_models_dir(models_dir: &Path) -> Result<Arc<Xgb>, TabularError> {
        let dir = crate::models::require(models_dir, LIBRARY_MODEL).map_err(|e| TabularError::LibraryMissing(e.to_string()))?;
        Xgb::open(&dir.join(LIBRARY_FILE))
    }

    /// Open `libxgboost.so` at `path` (once per path per process; later calls share it).
    pub fn open(path: &Path) -> Result<Arc<Xgb>, TabularError> {
        let opened = OPENED.get_or_init(|| Mutex::new(HashMap::new()));
        let mut opened = opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(x) = opened.get(path) {
            return Ok(x.clone());
        }
        let xgb = Arc::new(Xgb::load(path)?);
        opened.insert(path.to_path_buf(), xgb.clone());
        Ok(xgb)
    }

    fn load(path: &Path) -> Result<Xgb, TabularError> {
        let fail = |e: libloading::Error| TabularError::Library(format!("{}: {e}", path.display()));
        // SAFETY: loading runs the library's static constructors; libxgboost's only set up
        // its registries. Symbols are copied out as plain function pointers and stay valid
        // because the `Library` is stored next to them and never unloaded before `Xgb` drops.
        unsafe {
            let lib = libloading::Library::new(path).map_err(fail)?;
            macro_rules! sym {
                ($name:ident) => {
                    *lib.get(concat!(stringify!($name), "\0").as_bytes()).map_err(fail)?
                };
            }
            let api = Api {
                XGBoostVersion: sym!(XGBoostVersion),
                XGBGetLastError: sym!(XGBGetLastError),
                XGBSetGlobalConfig: sym!(XGBSetGlobalConfig),
                XGBRegisterLogCallback: sym!(XGBRegisterLogCallback),
                XGDMatrixCreateFromMat: sym!(XGDMatrixCreateFromMat),
                XGDMatrixSetFloatInfo: sym!(XGDMatrixSetFloatInfo),
                XGDMatrixFree: sym!(XGDMatrixFree),
                XGBoosterCreate: sym!(XGBoosterCreate),
                XGBoosterFree: sym!(XGBoosterFree),
                XGBoosterSetParam: sym!(XGBoosterSetParam),
                XGBoosterUpdateOneIter: sym!(XGBoosterUpdateOneIter),
                XGBoosterEvalOneIter: sym!(XGBoosterEvalOneIter),
                XGBoosterPredictFromDense: sym!(XGBoosterPredictFromDense),
                XGBoosterLoadModelFromBuffer: sym!(XGBoosterLoadModelFromBuffer),
                XGBoosterSaveModelToBuffer: sym!(XGBoosterSaveModelToBuffer),
                XGBoosterUnserializeFromBuffer: sym!(XGBoosterUnserializeFromBuffer),
                XGBoosterGetNumFeature: sym!(XGBoosterGetNumFeature),
                XGBoosterBoostedRounds: sym!(XGBoosterBoostedRounds),
                XGBoosterSaveJsonConfig: sym!(XGBoosterSaveJsonConfig),
                XGBoosterSetAttr: sym!(XGBoosterSetAttr),
                XGBoosterGetAttr: sym!(XGBoosterGetAttr),
            };
            let (mut major, mut minor, mut patch) = (0, 0, 0);
            (api.XGBoostVersion)(&mut major, &mut minor, &mut patch);
            let xgb = Xgb { api, path: path.to_path_buf(), version: (major, minor, patch), _lib: lib };
            // XGBoost logs through a callback into tracing (warnings and above by default).
            xgb.check((api.XGBRegisterLogCallback)(Some(log_callback)))?;
            let cfg = CString::new(r#"{"verbosity": 1}"#).map_err(|e| TabularError::Library(e.to_string()))?;
            xgb.check((api.XGBSetGlobalConfig)(cfg.as_ptr()))?;
            tracing::info!(path = %path.display(), version = %xgb.version(), "xgboost library loaded");
            Ok(xgb)
        }
    }

    /// The library's version, e.g. `3.2.0`.
    pub fn version(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }

    /// Where the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `Ok` for a `0` return code, else the thread's last XGBoost error.
    pub(crate) fn check(&self, rc: c_int) -> Result<(), TabularError> {
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: XGBGetLastError returns a NUL-terminated thread-local string (never NULL).
        let msg = unsafe {
            let p = (self.api.XGBGetLastError)();
            if p.is_null() {
                String::from("unknown XGBoost error")
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        Err(TabularError::Xgboost(clean_error(&msg)))
    }
}

/// XGBoost messages start with `[time] path/file.cc:123: `; keep the part a user can act on,
/// and drop the C++ stack trace that debug builds append.
fn clean_error(msg: &str) -> String {
    let first = msg.split("\nStack trace:").next().unwrap_or(msg).trim();
    match first.find(".cc:").and_then(|i| first[i..].find(": ").map(|j| i + j + 2)) {
        Some(start) if first.starts_with('[') => first[start..].trim().to_string(),
        _ => first.to_string(),
    }
}

unsafe extern "C" fn log_callback(msg: *const c_char) {
    if msg.is_null() {
        return;
    }
    // SAFETY: XGBoost passes a NUL-terminated message valid for the duration of the call.
    let text = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    let text = text.trim();
    if text.contains("WARNING") {
        tracing::warn!(target: "xgboost", "{text}");
    } else {
        tracing::debug!(target: "xgboost", "{text}");
    }
}

/// A C string from Rust text (XGBoost parameter names and values never contain NUL; one that
/// does is refused as an invalid parameter).
pub(crate) fn cstring(s: &str) -> Result<CString, TabularError> {
    CString::new(s).map_err(|_| TabularError::Param(format!("value {s:?} contains a NUL byte")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_their_source_location() {
        let m = "[13:17:05] /workspace/src/learner.cc:1234: Check failed: x == y: Feature shape mismatch\nStack trace:\n  [bt] (0) ...";
        assert_eq!(clean_error(m), "Check failed: x == y: Feature shape mismatch");
        assert_eq!(clean_error("plain"), "plain");
    }
}
