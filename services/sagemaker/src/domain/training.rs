//! The built-in XGBoost training algorithm's pieces that need no I/O: how a channel's files
//! become a data set, where the artifact goes, which metrics a job reports, and how failures
//! read (`ClientError: …` for the user's data or parameters, `AlgorithmError: …` otherwise,
//! as SageMaker prefixes them).

use hearth_inference::tabular::{parse_csv_dataset, parse_libsvm, Dataset, RoundEval, TabularError};
use std::io::Read;

/// Channel data formats the built-in XGBoost reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// `text/csv`: label first, no header.
    Csv,
    /// `text/libsvm` (the algorithm's default).
    Libsvm,
}

/// A training failure, phrased for `FailureReason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The user's input (data, parameters, channels) is at fault.
    Client(String),
    /// Something else failed.
    Algorithm(String),
}

impl Failure {
    /// The `FailureReason` text.
    pub fn reason(&self) -> String {
        match self {
            Failure::Client(m) => format!("ClientError: {m}"),
            Failure::Algorithm(m) => format!("AlgorithmError: {m}"),
        }
    }
}

impl From<TabularError> for Failure {
    fn from(e: TabularError) -> Self {
        match e {
            TabularError::Data(m) | TabularError::Param(m) => Failure::Client(m),
            TabularError::Xgboost(m) if m.contains("label") || m.contains("Check failed") => Failure::Client(m),
            other => Failure::Algorithm(other.to_string()),
        }
    }
}

/// The channel's format from its `ContentType` (libsvm when absent, as the algorithm's default).
pub fn channel_format(channel: &str, content_type: Option<&str>) -> Result<DataFormat, Failure> {
    let Some(ct) = content_type else { return Ok(DataFormat::Libsvm) };
    let base = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match base.as_str() {
        "text/csv" | "csv" => Ok(DataFormat::Csv),
        "text/libsvm" | "libsvm" | "text/x-libsvm" => Ok(DataFormat::Libsvm),
        _ => Err(Failure::Client(format!(
            "Channel {channel}: content type {ct} is not supported; use text/csv or text/libsvm (Hearth does not read Parquet or RecordIO-protobuf)"
        ))),
    }
}

/// One channel's files (already downloaded) as a data set. `gzip`: the channel's
/// `CompressionType` is `Gzip`.
pub fn read_channel(channel: &str, files: Vec<(String, Vec<u8>)>, format: DataFormat, gzip: bool, csv_weights: bool) -> Result<Dataset, Failure> {
    let mut all = Dataset::default();
    for (key, bytes) in files {
        let bytes = if gzip {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| Failure::Client(format!("Channel {channel}: {key} is not gzip data: {e}")))?;
            out
        } else {
            bytes
        };
        let part = match format {
            DataFormat::Csv => parse_csv_dataset(&bytes, csv_weights),
            DataFormat::Libsvm => parse_libsvm(&bytes, true),
        }
        .map_err(|e| Failure::Client(format!("Channel {channel}, file {key}: {e}")))?;
        all.extend(part).map_err(|e| Failure::Client(format!("Channel {channel}: {e}")))?;
    }
    if all.is_empty() {
        return Err(Failure::Client(format!("Channel {channel} has no data rows")));
    }
    Ok(all)
}

/// The artifact's bucket and key: `<S3OutputPath>/<job>/output/model.tar.gz`.
pub fn artifact_location(output_path: &str, job: &str) -> Option<(String, String, String)> {
    let (bucket, prefix) = hearth_s3::internal::parse_s3_uri(output_path)?;
    let prefix = prefix.trim_end_matches('/');
    let key = if prefix.is_empty() { format!("{job}/output/model.tar.gz") } else { format!("{prefix}/{job}/output/model.tar.gz") };
    let uri = format!("s3://{bucket}/{key}");
    Some((bucket, key, uri))
}

/// The metrics a job reports in `FinalMetricDataList`: every `<set>:<metric>` of the last
/// evaluated round, named as the algorithm's metric definitions name them (`train:rmse`,
/// `validation:rmse`).
pub fn final_metrics(last: Option<&RoundEval>) -> Vec<(String, f64)> {
    last.map(|e| e.metrics.iter().map(|(set, m, v)| (format!("{set}:{m}"), *v)).collect()).unwrap_or_default()
}

/// A round's log line as SageMaker shows it (`[3]#011train-rmse:1.2#011validation-rmse:1.5`).
pub fn log_line(e: &RoundEval) -> String {
    e.line.replace('\t', "#011")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_inference::tabular::parse_eval_line;

    #[test]
    fn channels() {
        assert_eq!(channel_format("train", None).unwrap(), DataFormat::Libsvm);
        assert_eq!(channel_format("train", Some("text/csv; label_size=1")).unwrap(), DataFormat::Csv);
        assert!(channel_format("train", Some("application/x-parquet")).unwrap_err().reason().starts_with("ClientError: Channel train"));
        let d = read_channel("train", vec![("a.csv".into(), b"1,2,3\n".to_vec()), ("b.csv".into(), b"4,5,6\n".to_vec())], DataFormat::Csv, false, false).unwrap();
        assert_eq!((d.len(), d.features.cols()), (2, 2));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"1 1:2\n").unwrap();
        let d = read_channel("train", vec![("a.gz".into(), gz.finish().unwrap())], DataFormat::Libsvm, true, false).unwrap();
        assert_eq!(d.len(), 1);
        assert!(read_channel("train", vec![], DataFormat::Csv, false, false).is_err());
        let e = read_channel("train", vec![("x.csv".into(), b"a,b\n".to_vec())], DataFormat::Csv, false, false).unwrap_err();
        assert!(e.reason().starts_with("ClientError: Channel train, file x.csv: could not convert"), "{}", e.reason());
    }

    #[test]
    fn artifacts_and_metrics() {
        let (b, k, u) = artifact_location("s3://bucket/xgboost-example/xgb_model", "job-1").unwrap();
        assert_eq!((b.as_str(), k.as_str()), ("bucket", "xgboost-example/xgb_model/job-1/output/model.tar.gz"));
        assert_eq!(u, "s3://bucket/xgboost-example/xgb_model/job-1/output/model.tar.gz");
        assert_eq!(artifact_location("s3://bucket/", "j").unwrap().1, "j/output/model.tar.gz");
        assert!(artifact_location("https://x/y", "j").is_none());
        let e = parse_eval_line(49, "[49]\ttrain-rmse:1.5\tvalidation-rmse:2.5");
        assert_eq!(final_metrics(Some(&e)), vec![("train:rmse".to_string(), 1.5), ("validation:rmse".to_string(), 2.5)]);
        assert_eq!(log_line(&e), "[49]#011train-rmse:1.5#011validation-rmse:2.5");
    }
}
