//! The SageMaker built-in XGBoost container's HTTP contract (`POST /invocations`), as pure
//! functions: how it reads a payload by `Content-Type`, checks the feature count, and writes
//! predictions by `Accept`. Status codes and messages are the container's own
//! (`sagemaker-xgboost-container`, `algorithm_mode/serve.py`), so a client sees the
//! `ModelError` it would see on AWS:
//!
//! - unreadable payload or unsupported type → 415 `Loading csv data failed with Exception, …` /
//!   `Content-type application/x-foo is not supported.`;
//! - wrong feature count → 400 `Unable to evaluate payload provided: Feature size of csv
//!   inference data 9 is not consistent with feature size of trained model 8.`;
//! - unsupported `Accept` → 406 `Accept type … is not supported. Please use supported accept
//!   types: […]`.
//!
//! Replies: `text/csv` is one line per row in images from 1.5 on, and the predictions joined
//! by commas on one line in older images such as the seed's `1.0-1` (the container changed in
//! April 2022); `application/json` is `{"predictions": [{"score": …}, …]}`;
//! `application/jsonlines` one `{"score": …}` per line. Numbers print as Python prints them.
//! As an extension, JSON payloads (`{"instances": [[…], …]}`, `[[…], …]`, or
//! `{"instances": [{"features": […]}]}`) are accepted where the real container answers 415.

use hearth_inference::tabular::{parse_csv_matrix, parse_libsvm, pyfmt, Matrix, Predictions};

/// A failure the container answers with (status + plain-text body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerError {
    /// HTTP status the container returned (4xx: the caller's fault, 5xx: the model's).
    pub status: u16,
    /// The container's response body.
    pub message: String,
}

impl ContainerError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        ContainerError { status, message: message.into() }
    }
}

/// The payload formats the container reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    Csv,
    Libsvm,
    Json,
}

impl PayloadKind {
    fn label(self) -> &'static str {
        match self {
            PayloadKind::Csv => "csv",
            PayloadKind::Libsvm => "libsvm",
            PayloadKind::Json => "json",
        }
    }
}

/// The media type without parameters, lower-cased (`text/csv; charset=utf-8` → `text/csv`).
pub fn media_type(h: &str) -> String {
    h.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Read a payload into rows of features.
pub fn parse_payload(content_type: Option<&str>, body: &[u8]) -> Result<(Matrix, PayloadKind), ContainerError> {
    let ct = content_type.unwrap_or("");
    let kind = match media_type(ct).as_str() {
        "text/csv" | "csv" => PayloadKind::Csv,
        "text/libsvm" | "text/x-libsvm" | "libsvm" => PayloadKind::Libsvm,
        "application/json" => PayloadKind::Json,
        _ => return Err(ContainerError::new(415, format!("Content-type {ct} is not supported."))),
    };
    let text = std::str::from_utf8(body).map(str::trim);
    let m = match (kind, text) {
        (_, Err(e)) => Err(format!("<class 'UnicodeDecodeError'>\n {e}")),
        (PayloadKind::Csv, Ok(t)) => parse_csv_matrix(t.as_bytes()).map_err(|e| format!("<class 'ValueError'>\n {e}")),
        (PayloadKind::Libsvm, Ok(t)) => parse_libsvm(t.as_bytes(), false).map(|d| d.features).map_err(|e| format!("<class 'ValueError'>\n {e}")),
        (PayloadKind::Json, Ok(t)) => parse_json_rows(t).map_err(|e| format!("<class 'ValueError'>\n {e}")),
    };
    m.map(|m| (m, kind)).map_err(|detail| {
        ContainerError::new(415, format!("Loading {} data failed with Exception, please ensure data is in {} format:\n {detail}", kind.label(), kind.label()))
    })
}

fn parse_json_rows(text: &str) -> Result<Matrix, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let rows = match &v {
        serde_json::Value::Object(o) => o.get("instances").ok_or("expected a list or an object with \"instances\"")?,
        other => other,
    };
    let rows = rows.as_array().ok_or("instances must be a list")?;
    let mut out: Vec<Vec<f32>> = Vec::with_capacity(rows.len());
    for r in rows {
        let r = match r {
            serde_json::Value::Object(o) => o.get("features").ok_or("each instance needs \"features\"")?,
            other => other,
        };
        let vals = match r {
            serde_json::Value::Array(a) => a.iter().map(|x| if x.is_null() { Some(f32::NAN) } else { x.as_f64().map(|f| f as f32) }).collect::<Option<Vec<f32>>>(),
            serde_json::Value::Number(n) => n.as_f64().map(|f| vec![f as f32]),
            _ => None,
        }
        .ok_or("features must be numbers")?;
        out.push(vals);
    }
    Matrix::from_rows(&out).map_err(|e| e.to_string())
}

/// Match the payload's width to the model: the container accepts as many features as the
/// model, or one fewer (padded as missing); LIBSVM may be narrower.
pub fn fit_features(x: Matrix, kind: PayloadKind, model_features: usize) -> Result<Matrix, ContainerError> {
    let y = x.cols();
    if x.rows() == 0 {
        return Ok(x);
    }
    let ok = match kind {
        PayloadKind::Libsvm => y <= model_features + 1,
        _ => y == model_features || y + 1 == model_features,
    };
    if !ok {
        let msg = match kind {
            PayloadKind::Libsvm => format!("Feature size of libsvm inference data {y} is larger than feature size of trained model {model_features}."),
            _ => format!("Feature size of {} inference data {y} is not consistent with feature size of trained model {model_features}.", kind.label()),
        };
        return Err(ContainerError::new(400, format!("Unable to evaluate payload provided: {msg}")));
    }
    if y > model_features {
        // A libsvm payload one column wider than the model: XGBoost ignores the extra index.
        let cols = model_features;
        let mut values = Vec::with_capacity(x.rows() * cols);
        for i in 0..x.rows() {
            values.extend_from_slice(&x.row(i)[..cols]);
        }
        return Matrix::new(x.rows(), cols, values).map_err(|e| ContainerError::new(400, e.to_string()));
    }
    Ok(x.pad_columns(model_features - y))
}

/// The reply formats the container writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Csv,
    Json,
    JsonLines,
}

const SUPPORTED_ACCEPTS: &str = "['application/json', 'application/jsonlines', 'application/x-recordio-protobuf', 'text/csv']";

/// Pick the reply format: `Accept` if given (and not `*/*`), else `default`
/// (`SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`, `text/csv` by default).
pub fn parse_accept(accept: Option<&str>, default: &str) -> Result<Accept, ContainerError> {
    let a = accept.map(media_type).filter(|a| !a.is_empty() && a != "*/*").unwrap_or_else(|| media_type(default));
    match a.as_str() {
        "text/csv" => Ok(Accept::Csv),
        "application/json" => Ok(Accept::Json),
        "application/jsonlines" => Ok(Accept::JsonLines),
        _ => Err(ContainerError::new(406, format!("Accept type {a} is not supported. Please use supported accept types: {SUPPORTED_ACCEPTS}."))),
    }
}

/// How `text/csv` replies separate rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvStyle {
    /// `",".join(map(str, preds))` — images before 1.5 (e.g. `1.0-1`).
    Joined,
    /// One row per line with a trailing newline — images from 1.5 on.
    Lines,
}

impl CsvStyle {
    /// The style of the XGBoost image `uri` (by its version tag, `…:1.0-1-cpu-py3`).
    pub fn for_image(uri: &str) -> CsvStyle {
        let tag = uri.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        let version = tag.split('-').next().unwrap_or("");
        let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(major), Some(minor)) if (major, minor) < (1, 5) => CsvStyle::Joined,
            _ => CsvStyle::Lines,
        }
    }
}

fn py_list(vals: &[f32]) -> String {
    format!("[{}]", vals.iter().map(|v| pyfmt::f32_repr(*v)).collect::<Vec<_>>().join(", "))
}

/// Write predictions as the container does; returns the body and its `Content-Type`.
pub fn encode(p: &Predictions, accept: Accept, style: CsvStyle) -> (Vec<u8>, &'static str) {
    let item = |i: usize| -> String {
        let r = p.row(i);
        if p.groups == 1 {
            pyfmt::f32_repr(r[0])
        } else {
            py_list(r)
        }
    };
    match accept {
        Accept::Csv => {
            let body = match style {
                CsvStyle::Joined => (0..p.rows).map(item).collect::<Vec<_>>().join(","),
                CsvStyle::Lines => {
                    let mut s = String::new();
                    for i in 0..p.rows {
                        let r = p.row(i);
                        s.push_str(&r.iter().map(|v| pyfmt::f32_repr(*v)).collect::<Vec<_>>().join(","));
                        s.push('\n');
                    }
                    s
                }
            };
            (body.into_bytes(), "text/csv; charset=utf-8")
        }
        Accept::Json => {
            let items: Vec<String> = (0..p.rows).map(|i| format!("{{\"score\": {}}}", item(i))).collect();
            (format!("{{\"predictions\": [{}]}}", items.join(", ")).into_bytes(), "application/json")
        }
        Accept::JsonLines => {
            let items: Vec<String> = (0..p.rows).map(|i| format!("{{\"score\": {}}}", item(i))).collect();
            (items.join("\n").into_bytes(), "application/jsonlines")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds(values: Vec<f32>, groups: usize) -> Predictions {
        Predictions { rows: values.len() / groups, groups, values }
    }

    #[test]
    fn payloads() {
        let (m, k) = parse_payload(Some("text/csv"), b".345,0.224414,.131102,0.042329,.279923,-0.110329,-0.099358,0.0").unwrap();
        assert_eq!((m.rows(), m.cols(), k), (1, 8, PayloadKind::Csv));
        let (m, _) = parse_payload(Some("text/csv; charset=utf-8"), b"1,2\n3,4\n").unwrap();
        assert_eq!(m.rows(), 2);
        let (m, _) = parse_payload(Some("text/libsvm"), b"1:0.5 3:1\n").unwrap();
        assert_eq!(m.cols(), 3);
        let (m, _) = parse_payload(Some("application/json"), br#"{"instances": [[1, 2], [3, null]]}"#).unwrap();
        assert!(m.row(1)[1].is_nan());
        let (m, _) = parse_payload(Some("application/json"), br#"{"instances": [{"features": [1, 2]}]}"#).unwrap();
        assert_eq!(m.cols(), 2);
        let e = parse_payload(Some("image/png"), b"x").unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (415, "Content-type image/png is not supported."));
        let e = parse_payload(Some("text/csv"), b"1,abc").unwrap_err();
        assert_eq!(e.status, 415);
        assert!(e.message.starts_with("Loading csv data failed with Exception, please ensure data is in csv format:\n <class 'ValueError'>"), "{}", e.message);
        assert_eq!(parse_payload(None, b"1").unwrap_err().status, 415);
    }

    #[test]
    fn feature_counts() {
        let m = Matrix::from_rows(&[[1.0f32; 9]]).unwrap();
        let e = fit_features(m, PayloadKind::Csv, 8).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.message, "Unable to evaluate payload provided: Feature size of csv inference data 9 is not consistent with feature size of trained model 8.");
        let m = Matrix::from_rows(&[[1.0f32; 7]]).unwrap();
        assert_eq!(fit_features(m, PayloadKind::Csv, 8).unwrap().cols(), 8);
        let m = Matrix::from_rows(&[[1.0f32; 3]]).unwrap();
        assert_eq!(fit_features(m, PayloadKind::Libsvm, 8).unwrap().cols(), 8);
    }

    #[test]
    fn replies() {
        let p = preds(vec![4.566_554_5, 10.0], 1);
        assert_eq!(encode(&p, Accept::Csv, CsvStyle::Joined).0, b"4.566554546356201,10.0");
        assert_eq!(encode(&p, Accept::Csv, CsvStyle::Lines).0, b"4.566554546356201\n10.0\n");
        assert_eq!(encode(&p, Accept::Json, CsvStyle::Lines).0, br#"{"predictions": [{"score": 4.566554546356201}, {"score": 10.0}]}"#);
        assert_eq!(encode(&p, Accept::JsonLines, CsvStyle::Lines).0, b"{\"score\": 4.566554546356201}\n{\"score\": 10.0}");
        let m = preds(vec![0.25, 0.75], 2);
        assert_eq!(encode(&m, Accept::Csv, CsvStyle::Joined).0, b"[0.25, 0.75]");
        assert_eq!(encode(&m, Accept::Csv, CsvStyle::Lines).0, b"0.25,0.75\n");
        assert_eq!(parse_accept(None, "text/csv").unwrap(), Accept::Csv);
        assert_eq!(parse_accept(Some("*/*"), "application/json").unwrap(), Accept::Json);
        assert_eq!(parse_accept(Some("image/png"), "text/csv").unwrap_err().status, 406);
        assert_eq!(CsvStyle::for_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"), CsvStyle::Joined);
        assert_eq!(CsvStyle::for_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"), CsvStyle::Lines);
        assert_eq!(CsvStyle::for_image("xgboost:latest"), CsvStyle::Lines);
    }
}
