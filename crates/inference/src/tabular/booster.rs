//! A trained XGBoost model (`Booster`) and the data matrices training feeds it, as safe Rust
//! values over the C handles of [`Xgb`].
//!
//! Thread safety: XGBoost documents prediction on a tree booster as thread-safe (since 1.4),
//! so [`Booster::predict`] takes a shared lock and many engine threads may predict with one
//! model at once; calls that change the booster (parameters, attributes, a training round)
//! take the exclusive lock. Results that XGBoost returns in its own buffers are copied out
//! before the lock is released.

use super::library::{cstring, Handle, Xgb};
use super::{Matrix, TabularError};
use std::ffi::{c_char, c_int, CStr};
use std::sync::{Arc, RwLock};

/// The encodings XGBoost saves a model in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// JSON (`model.json`), readable by any XGBoost ≥ 1.0.
    Json,
    /// Universal Binary JSON: XGBoost's default since 2.1, what `save_model("xgboost-model")` writes.
    Ubjson,
}

impl ModelFormat {
    fn config(self) -> &'static str {
        match self {
            ModelFormat::Json => r#"{"format": "json"}"#,
            ModelFormat::Ubjson => r#"{"format": "ubj"}"#,
        }
    }
}

/// Model outputs: `rows` × `groups` values (one group for regression and binary
/// classification, one per class for `multi:softprob`).
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Number of input rows.
    pub rows: usize,
    /// Outputs per row.
    pub groups: usize,
    /// Row-major outputs.
    pub values: Vec<f32>,
}

impl Predictions {
    /// The outputs of row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.groups..(i + 1) * self.groups]
    }
}

/// A data matrix handed to XGBoost for training or evaluation.
pub struct DMatrix {
    xgb: Arc<Xgb>,
    pub(crate) handle: Handle,
    rows: usize,
}

// SAFETY: a DMatrix handle is an owned heap object without thread affinity; it is only used by
// one thread at a time (training owns it).
unsafe impl Send for DMatrix {}

impl DMatrix {
    /// Copy features, labels and weights into an XGBoost matrix (`NaN` = missing).
    pub fn new(xgb: &Arc<Xgb>, data: &super::Dataset) -> Result<DMatrix, TabularError> {
        let m = &data.features;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: values holds rows*cols f32 (checked by Matrix::new); XGBoost copies them.
        xgb.check(unsafe { (xgb.api.XGDMatrixCreateFromMat)(m.values().as_ptr(), m.rows() as u64, m.cols() as u64, f32::NAN, &mut handle) })?;
        let dm = DMatrix { xgb: xgb.clone(), handle, rows: m.rows() };
        dm.set_info("label", &data.labels)?;
        if let Some(w) = &data.weights {
            dm.set_info("weight", w)?;
        }
        Ok(dm)
    }

    fn set_info(&self, field: &str, v: &[f32]) -> Result<(), TabularError> {
        if v.len() != self.rows {
            return Err(TabularError::Data(format!("{} {field} values for {} rows", v.len(), self.rows)));
        }
        let f = cstring(field)?;
        // SAFETY: v has `rows` floats; XGBoost copies them.
        self.xgb.check(unsafe { (self.xgb.api.XGDMatrixSetFloatInfo)(self.handle, f.as_ptr(), v.as_ptr(), v.len() as u64) })
    }
}

impl Drop for DMatrix {
    fn drop(&mut self) {
        // SAFETY: the handle was created by XGDMatrixCreateFromMat and is freed once.
        unsafe { (self.xgb.api.XGDMatrixFree)(self.handle) };
    }
}

/// A trained XGBoost model.
pub struct Booster {
    xgb: Arc<Xgb>,
    handle: Handle,
    lock: RwLock<()>,
}

// SAFETY: the handle has no thread affinity; concurrent use is serialized by `lock` except for
// prediction, which XGBoost makes thread-safe for tree boosters.
unsafe impl Send for Booster {}
unsafe impl Sync for Booster {}

impl std::fmt::Debug for Booster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Booster").field("rounds", &self.boosted_rounds().ok()).field("features", &self.num_features().ok()).finish()
    }
}

impl Drop for Booster {
    fn drop(&mut self) {
        // SAFETY: the handle was created by XGBoosterCreate and is freed once.
        unsafe { (self.xgb.api.XGBoosterFree)(self.handle) };
    }
}

impl Booster {
    /// A new booster that caches the given matrices (training data first).
    pub(crate) fn with_cache(xgb: &Arc<Xgb>, cache: &[&DMatrix]) -> Result<Booster, TabularError> {
        let handles: Vec<Handle> = cache.iter().map(|d| d.handle).collect();
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: `handles` are live DMatrix handles borrowed for the call.
        xgb.check(unsafe { (xgb.api.XGBoosterCreate)(handles.as_ptr(), handles.len() as u64, &mut handle) })?;
        Ok(Booster { xgb: xgb.clone(), handle, lock: RwLock::new(()) })
    }

    /// Load a model saved by any XGBoost (JSON, UBJSON, or the legacy binary format if this
    /// XGBoost still reads it): the `xgboost-model` of a SageMaker artifact, a `model.json`
    /// from Python's `save_model`, or bytes from [`Booster::save`].
    pub fn load(xgb: &Arc<Xgb>, bytes: &[u8]) -> Result<Booster, TabularError> {
        if bytes.is_empty() {
            return Err(TabularError::Model("the model file is empty".into()));
        }
        let b = Booster::with_cache(xgb, &[])?;
        // SAFETY: the buffer is valid for the call; XGBoost parses (copies) it.
        xgb.check(unsafe { (xgb.api.XGBoosterLoadModelFromBuffer)(b.handle, bytes.as_ptr().cast(), bytes.len() as u64) })
            .map_err(|e| TabularError::Model(e.to_string()))?;
        // Configure now (the first prediction would otherwise do it under a shared lock).
        b.num_features()?;
        Ok(b)
    }

    /// Restore a booster from a memory snapshot (`XGBoosterSerializeToBuffer`: what Python's
    /// `pickle` keeps of a `Booster`, its state's `handle`). XGBoost reads only snapshots of
    /// its own version; callers check the version the snapshot records first.
    pub fn unserialize(xgb: &Arc<Xgb>, snapshot: &[u8]) -> Result<Booster, TabularError> {
        if snapshot.is_empty() {
            return Err(TabularError::Model("the snapshot is empty".into()));
        }
        let b = Booster::with_cache(xgb, &[])?;
        // SAFETY: the buffer is valid for the call; XGBoost parses (copies) it.
        xgb.check(unsafe { (xgb.api.XGBoosterUnserializeFromBuffer)(b.handle, snapshot.as_ptr().cast(), snapshot.len() as u64) })
            .map_err(|e| TabularError::Model(e.to_string()))?;
        b.num_features()?;
        Ok(b)
    }

    /// The model's bytes in `format` (loadable by [`Booster::load`] and Python's `Booster.load_model`).
    pub fn save(&self, format: ModelFormat) -> Result<Vec<u8>, TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let cfg = cstring(format.config())?;
        let (mut len, mut ptr): (u64, *const c_char) = (0, std::ptr::null());
        // SAFETY: XGBoost returns a buffer it owns, valid until the next call on this booster
        // from this thread; it is copied before the lock is released.
        unsafe {
            self.xgb.check((self.xgb.api.XGBoosterSaveModelToBuffer)(self.handle, cfg.as_ptr(), &mut len, &mut ptr))?;
            if ptr.is_null() {
                return Err(TabularError::Xgboost("XGBoost returned no model bytes".into()));
            }
            Ok(std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize).to_vec())
        }
    }

    /// Predict `x` (missing values `NaN`). The matrix must not have more columns than the
    /// model has features.
    pub fn predict(&self, x: &Matrix) -> Result<Predictions, TabularError> {
        if x.rows() == 0 {
            return Ok(Predictions { rows: 0, groups: 1, values: Vec::new() });
        }
        let array = format!(
            r#"{{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}}"#,
            x.values().as_ptr() as usize,
            x.rows(),
            x.cols()
        );
        let array = cstring(&array)?;
        let config = cstring(r#"{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": true, "missing": NaN}"#)?;
        let _g = self.lock.read().unwrap_or_else(|p| p.into_inner());
        let (mut shape, mut dim, mut out): (*const u64, u64, *const f32) = (std::ptr::null(), 0, std::ptr::null());
        // SAFETY: the array interface points at `x`'s values, alive for the call; the outputs
        // are thread-local XGBoost buffers copied before returning.
        unsafe {
            self.xgb.check((self.xgb.api.XGBoosterPredictFromDense)(self.handle, array.as_ptr(), config.as_ptr(), std::ptr::null_mut(), &mut shape, &mut dim, &mut out))?;
            if shape.is_null() || out.is_null() || dim == 0 {
                return Err(TabularError::Xgboost("XGBoost returned no predictions".into()));
            }
            let shape = std::slice::from_raw_parts(shape, dim as usize);
            let total: u64 = shape.iter().product();
            let rows = shape[0] as usize;
            let groups = (total as usize).checked_div(rows).unwrap_or(1);
            Ok(Predictions { rows, groups, values: std::slice::from_raw_parts(out, total as usize).to_vec() })
        }
    }

    /// Number of features the model was trained on.
    pub fn num_features(&self) -> Result<usize, TabularError> {
        let mut n = 0u64;
        // SAFETY: plain out-parameter.
        self.xgb.check(unsafe { (self.xgb.api.XGBoosterGetNumFeature)(self.handle, &mut n) })?;
        Ok(n as usize)
    }

    /// Number of boosting rounds in the model.
    pub fn boosted_rounds(&self) -> Result<usize, TabularError> {
        let mut n: c_int = 0;
        // SAFETY: plain out-parameter.
        self.xgb.check(unsafe { (self.xgb.api.XGBoosterBoostedRounds)(self.handle, &mut n) })?;
        Ok(n.max(0) as usize)
    }

    /// The booster's whole configuration (XGBoost's `save_config()`), as JSON.
    pub fn config(&self) -> Result<serde_json::Value, TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let (mut len, mut ptr): (u64, *const c_char) = (0, std::ptr::null());
        // SAFETY: as for `save`.
        let text = unsafe {
            self.xgb.check((self.xgb.api.XGBoosterSaveJsonConfig)(self.handle, &mut len, &mut ptr))?;
            if ptr.is_null() {
                return Err(TabularError::Xgboost("XGBoost returned no configuration".into()));
            }
            String::from_utf8_lossy(std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize)).into_owned()
        };
        serde_json::from_str(&text).map_err(|e| TabularError::Xgboost(format!("configuration is not JSON: {e}")))
    }

    /// The learning objective, e.g. `reg:squarederror`.
    pub fn objective(&self) -> Result<String, TabularError> {
        let c = self.config()?;
        Ok(c["learner"]["objective"]["name"].as_str().unwrap_or_default().to_string())
    }

    /// Set one XGBoost parameter (e.g. `nthread`).
    pub fn set_param(&self, name: &str, value: &str) -> Result<(), TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let (n, v) = (cstring(name)?, cstring(value)?);
        // SAFETY: C strings alive for the call.
        self.xgb.check(unsafe { (self.xgb.api.XGBoosterSetParam)(self.handle, n.as_ptr(), v.as_ptr()) }).map_err(|e| TabularError::Param(e.to_string()))
    }

    /// A string attribute stored in the model (e.g. `best_iteration`).
    pub fn attr(&self, key: &str) -> Result<Option<String>, TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let k = cstring(key)?;
        let (mut out, mut ok): (*const c_char, c_int) = (std::ptr::null(), 0);
        // SAFETY: the returned string is owned by XGBoost and copied at once.
        unsafe {
            self.xgb.check((self.xgb.api.XGBoosterGetAttr)(self.handle, k.as_ptr(), &mut out, &mut ok))?;
            Ok((ok != 0 && !out.is_null()).then(|| CStr::from_ptr(out).to_string_lossy().into_owned()))
        }
    }

    /// Store a string attribute in the model (saved with it).
    pub fn set_attr(&self, key: &str, value: &str) -> Result<(), TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let (k, v) = (cstring(key)?, cstring(value)?);
        // SAFETY: C strings alive for the call.
        self.xgb.check(unsafe { (self.xgb.api.XGBoosterSetAttr)(self.handle, k.as_ptr(), v.as_ptr()) })
    }

    /// One boosting round on `train` (round number `iter`, counted from 0).
    pub(crate) fn update(&self, iter: usize, train: &DMatrix) -> Result<(), TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        // SAFETY: live handles.
        self.xgb.check(unsafe { (self.xgb.api.XGBoosterUpdateOneIter)(self.handle, iter as c_int, train.handle) })
    }

    /// XGBoost's evaluation line for round `iter`: `[3]\ttrain-rmse:1.2\tvalidation-rmse:1.5`.
    pub(crate) fn eval(&self, iter: usize, sets: &[(&DMatrix, &str)]) -> Result<String, TabularError> {
        let _g = self.lock.write().unwrap_or_else(|p| p.into_inner());
        let handles: Vec<Handle> = sets.iter().map(|(d, _)| d.handle).collect();
        let names: Vec<std::ffi::CString> = sets.iter().map(|(_, n)| cstring(n)).collect::<Result<_, _>>()?;
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let mut out: *const c_char = std::ptr::null();
        // SAFETY: handles and names alive for the call; the result string is copied at once.
        unsafe {
            self.xgb.check((self.xgb.api.XGBoosterEvalOneIter)(self.handle, iter as c_int, handles.as_ptr(), name_ptrs.as_ptr(), handles.len() as u64, &mut out))?;
            Ok(if out.is_null() { String::new() } else { CStr::from_ptr(out).to_string_lossy().into_owned() })
        }
    }
}
