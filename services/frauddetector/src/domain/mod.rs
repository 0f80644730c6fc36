//! The Fraud Detector's logic, free of HTTP and storage: the DETECTORPL rule language, typed
//! values and timestamps, event files, entity history, feature engineering, score
//! calibration, model training and synthetic transactions.

pub mod dataset;
pub mod external;
pub mod features;
pub mod forest;
pub mod history;
pub mod rules;
pub mod scores;
pub mod synthetic;
pub mod training;
pub mod values;
