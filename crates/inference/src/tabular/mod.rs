//! Tabular models: gradient-boosted trees with the real XGBoost library.
//!
//! What it serves: SageMaker's built-in XGBoost algorithm (training jobs and endpoints) and
//! the Fraud Detector's models. The library is `libxgboost.so` from the pinned PyPI wheel
//! `xgboost-cpu` (`hearth models fetch xgboost`), opened at run time ([`Xgb`]); models are
//! XGBoost's own files, so a model trained here loads in Python's `xgboost` and a model
//! saved by Python loads here and predicts the same numbers.
//!
//! The API, smallest first:
//! - data: [`Matrix`] (dense `f32`, `NaN` = missing), [`Dataset`] (features + labels +
//!   optional weights), parsers for SageMaker's formats ([`parse_csv_dataset`] with the label
//!   first, [`parse_libsvm`], [`parse_csv_matrix`] for prediction payloads);
//! - parameters: [`TrainParams`] — typed (`TrainParams::new("binary:logistic", 100).max_depth(6)`)
//!   or parsed from SageMaker's hyper-parameter strings with its validation messages
//!   ([`TrainParams::from_hyperparameters`]);
//! - training: [`train()`] (blocking; the loop of Python's `xgboost.train`, with evaluation sets,
//!   early stopping and a cancel flag) returning a [`Booster`];
//! - models: [`Booster::load`] / [`Booster::save`] (JSON or UBJSON), [`Booster::predict`];
//! - evaluation: [`Metric`] (rmse, mae, r2, logloss, auc, …);
//! - [`Engine`]: the same calls from async code, on engine threads.
//!
//! ```no_run
//! use hearth_inference::tabular::{parse_csv_dataset, train, Booster, Metric, ModelFormat, TrainControl, TrainParams, Xgb};
//! # fn demo(models_dir: &std::path::Path, csv: &[u8]) -> Result<(), hearth_inference::tabular::TabularError> {
//! let xgb = Xgb::from_models_dir(models_dir)?;
//! let data = parse_csv_dataset(csv, false)?;
//! let params = TrainParams::new("reg:squarederror", 50).max_depth(5).eta(0.2).gamma(4.0).min_child_weight(6.0).subsample(0.7);
//! let out = train(&xgb, &params, &data, &[], TrainControl::default())?;
//! let preds = out.booster.predict(&data.features)?;
//! let rmse = Metric::Rmse.evaluate(&preds.values, &data.labels);
//! let bytes = out.booster.save(ModelFormat::Ubjson)?; // what Python's save_model("xgboost-model") writes
//! let again = Booster::load(&xgb, &bytes)?;
//! # let _ = (rmse, again); Ok(()) }
//! ```

mod booster;
mod data;
mod engine;
mod library;
mod metrics;
mod params;
pub mod pyfmt;
mod train;

pub use booster::{Booster, DMatrix, ModelFormat, Predictions};
pub use data::{parse_csv_dataset, parse_csv_matrix, parse_libsvm, parse_number, Dataset, Matrix};
pub use engine::{Engine, TrainRequest};
pub use library::{Xgb, LIBRARY_FILE, LIBRARY_MODEL};
pub use metrics::Metric;
pub use params::TrainParams;
pub use train::{parse_eval_line, train, RoundEval, TrainControl, TrainOutput};

/// What can go wrong in the tabular engine. Messages are written for the user whose data,
/// parameters or model caused them (they become training failure reasons and model errors).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TabularError {
    /// `libxgboost.so` is not installed (run `hearth models fetch xgboost`).
    #[error("{0}")]
    LibraryMissing(String),
    /// The library could not be opened or lacks a function.
    #[error("could not load the XGBoost library: {0}")]
    Library(String),
    /// XGBoost refused a call (its own message).
    #[error("{0}")]
    Xgboost(String),
    /// A model file XGBoost cannot read.
    #[error("{0}")]
    Model(String),
    /// Data that cannot be parsed or does not fit.
    #[error("{0}")]
    Data(String),
    /// A parameter that is missing, unknown or out of range.
    #[error("{0}")]
    Param(String),
    /// The engine's threads are gone (shutting down).
    #[error("the tabular engine has stopped")]
    EngineStopped,
}

#[cfg(test)]
mod tests;
