//! Dense feature matrices and labelled data sets, and the two text formats SageMaker's
//! built-in XGBoost reads: CSV (label in the first column, no header) and LIBSVM
//! (`label index:value …`).
//!
//! Missing values are `NaN` (an empty CSV field, a feature absent from a LIBSVM line), as in
//! XGBoost. Parsing never panics: a malformed line is a [`TabularError::Data`] naming the line.

use super::TabularError;

/// A dense row-major `f32` matrix; `NaN` marks a missing value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

impl Matrix {
    /// A matrix from row-major values (`values.len()` must be `rows * cols`).
    pub fn new(rows: usize, cols: usize, values: Vec<f32>) -> Result<Matrix, TabularError> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(TabularError::Data(format!("{} values do not make a {rows}x{cols} matrix", values.len())));
        }
        Ok(Matrix { rows, cols, values })
    }

    /// A matrix from rows of equal length.
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Matrix, TabularError> {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut values = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != cols {
                return Err(TabularError::Data(format!("row {} has {} values, row 1 has {cols}", i + 1, r.len())));
            }
            values.extend_from_slice(r);
        }
        Ok(Matrix { rows: rows.len(), cols, values })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns (features).
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The row-major values.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
    /// Row `i` (panics if out of range, like slice indexing).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// The same rows with `n` more columns of missing values (a model trained on more
    /// features than a payload carries sees the absent ones as missing).
    pub fn pad_columns(&self, n: usize) -> Matrix {
        if n == 0 {
            return self.clone();
        }
        let cols = self.cols + n;
        let mut values = Vec::with_capacity(self.rows * cols);
        for i in 0..self.rows {
            values.extend_from_slice(self.row(i));
            values.extend(std::iter::repeat_n(f32::NAN, n));
        }
        Matrix { rows: self.rows, cols, values }
    }
}

/// Features with their labels (and optional instance weights): what training reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// One row per instance.
    pub features: Matrix,
    /// One label per row.
    pub labels: Vec<f32>,
    /// One weight per row, if the data carries weights.
    pub weights: Option<Vec<f32>>,
}

impl Dataset {
    /// A data set; labels (and weights) must have one entry per row.
    pub fn new(features: Matrix, labels: Vec<f32>, weights: Option<Vec<f32>>) -> Result<Dataset, TabularError> {
        if labels.len() != features.rows() {
            return Err(TabularError::Data(format!("{} labels for {} rows", labels.len(), features.rows())));
        }
        if let Some(w) = &weights {
            if w.len() != features.rows() {
                return Err(TabularError::Data(format!("{} weights for {} rows", w.len(), features.rows())));
            }
        }
        Ok(Dataset { features, labels, weights })
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are no instances.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Append the rows of `other` (same number of columns; a data set split over several files).
    pub fn extend(&mut self, other: Dataset) -> Result<(), TabularError> {
        if self.is_empty() && self.features.cols() == 0 {
            *self = other;
            return Ok(());
        }
        if other.is_empty() {
            return Ok(());
        }
        // Files of one LIBSVM channel may reach different highest feature indices.
        let cols = self.features.cols().max(other.features.cols());
        let (a, b) = (self.features.pad_columns(cols - self.features.cols()), other.features.pad_columns(cols - other.features.cols()));
        if self.weights.is_some() != other.weights.is_some() {
            return Err(TabularError::Data("some files carry weights and others do not".into()));
        }
        let mut values = a.values;
        values.extend_from_slice(&b.values);
        self.features = Matrix { rows: a.rows + b.rows, cols, values };
        self.labels.extend_from_slice(&other.labels);
        if let (Some(w), Some(o)) = (&mut self.weights, other.weights) {
            w.extend_from_slice(&o);
        }
        Ok(())
    }
}

/// Parse one number as Python's `float()` would (surrounding blanks allowed, `nan`, `inf`).
pub fn parse_number(s: &str) -> Option<f32> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f32>().ok()
}

/// Text lines of a payload: split on `\n`, `\r` dropped, blank lines skipped.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r'))).filter(|(_, l)| !l.trim().is_empty())
}

fn text(bytes: &[u8]) -> Result<&str, TabularError> {
    std::str::from_utf8(bytes).map_err(|e| TabularError::Data(format!("data is not UTF-8 text: {e}")))
}

/// CSV rows of numbers (no header); an empty field is missing (`NaN`). Every row must have
/// the same number of fields.
pub fn parse_csv_matrix(bytes: &[u8]) -> Result<Matrix, TabularError> {
    let mut values = Vec::new();
    let (mut rows, mut cols) = (0usize, None::<usize>);
    for (n, line) in lines(text(bytes)?) {
        let before = values.len();
        for field in line.split(',') {
            if field.trim().is_empty() {
                values.push(f32::NAN);
            } else {
                values.push(parse_number(field).ok_or_else(|| TabularError::Data(format!("could not convert string to float: '{}' (line {n})", field.trim())))?);
            }
        }
        let width = values.len() - before;
        match cols {
            None => cols = Some(width),
            Some(c) if c != width => {
                return Err(TabularError::Data(format!("line {n} has {width} fields, line 1 has {c}")));
            }
            _ => {}
        }
        rows += 1;
    }
    Matrix::new(rows, cols.unwrap_or(0), values)
}

/// CSV training data: the label in the first column, then (with `weighted`) the instance
/// weight, then the features (SageMaker's `csv_weights=1`).
pub fn parse_csv_dataset(bytes: &[u8], weighted: bool) -> Result<Dataset, TabularError> {
    let m = parse_csv_matrix(bytes)?;
    let skip = if weighted { 2 } else { 1 };
    if m.rows() > 0 && m.cols() < skip {
        return Err(TabularError::Data(format!("rows have {} columns; the label{} must come first", m.cols(), if weighted { " and weight" } else { "" })));
    }
    let cols = m.cols().saturating_sub(skip);
    let mut labels = Vec::with_capacity(m.rows());
    let mut weights = weighted.then(|| Vec::with_capacity(m.rows()));
    let mut values = Vec::with_capacity(m.rows() * cols);
    for i in 0..m.rows() {
        let r = m.row(i);
        if r[0].is_nan() {
            return Err(TabularError::Data(format!("row {} has no label", i + 1)));
        }
        labels.push(r[0]);
        if let Some(w) = &mut weights {
            w.push(r[1]);
        }
        values.extend_from_slice(&r[skip..]);
    }
    Dataset::new(Matrix::new(m.rows(), cols, values)?, labels, weights)
}

/// LIBSVM lines `label index:value …` (a payload for prediction may omit the label). Indices
/// are taken as 1-based when none is 0 (the common convention, as XGBoost's and SageMaker's
/// readers do), else 0-based; features absent from a line are missing (`NaN`).
pub fn parse_libsvm(bytes: &[u8], with_label: bool) -> Result<Dataset, TabularError> {
    let mut rows: Vec<(f32, Vec<(usize, f32)>)> = Vec::new();
    let mut min_index = usize::MAX;
    let mut max_index = 0usize;
    for (n, line) in lines(text(bytes)?) {
        let mut tokens = line.split_whitespace().peekable();
        let label = match tokens.peek() {
            Some(t) if !t.contains(':') => {
                let t = tokens.next().unwrap_or_default();
                // `label:weight` is not supported; a bare number is the label.
                parse_number(t).ok_or_else(|| TabularError::Data(format!("line {n}: bad label '{t}'")))?
            }
            _ if with_label => return Err(TabularError::Data(format!("line {n}: missing label"))),
            _ => f32::NAN,
        };
        let mut feats = Vec::new();
        for tok in tokens {
            let (i, v) = tok.split_once(':').ok_or_else(|| TabularError::Data(format!("line {n}: '{tok}' is not index:value")))?;
            let i: usize = i.trim().parse().map_err(|_| TabularError::Data(format!("line {n}: bad feature index '{i}'")))?;
            if i > 1_000_000 {
                return Err(TabularError::Data(format!("line {n}: feature index {i} is too large")));
            }
            let v = parse_number(v).ok_or_else(|| TabularError::Data(format!("line {n}: bad value '{v}'")))?;
            min_index = min_index.min(i);
            max_index = max_index.max(i);
            feats.push((i, v));
        }
        rows.push((label, feats));
    }
    let offset = usize::from(min_index != usize::MAX && min_index >= 1);
    let cols = if min_index == usize::MAX { 0 } else { max_index + 1 - offset };
    let mut values = vec![f32::NAN; rows.len() * cols];
    let mut labels = Vec::with_capacity(rows.len());
    for (r, (label, feats)) in rows.iter().enumerate() {
        labels.push(*label);
        for (i, v) in feats {
            values[r * cols + (i - offset)] = *v;
        }
    }
    Dataset::new(Matrix::new(rows.len(), cols, values)?, labels, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_with_missing_values() {
        let m = parse_csv_matrix(b"1,2,3\n4,,6\r\n\n").unwrap();
        assert_eq!((m.rows(), m.cols()), (2, 3));
        assert!(m.row(1)[1].is_nan());
        assert_eq!(m.row(1)[2], 6.0);
        assert!(parse_csv_matrix(b"1,2\n3").is_err());
        let e = parse_csv_matrix(b"1,abc").unwrap_err().to_string();
        assert!(e.contains("could not convert string to float: 'abc'"), "{e}");
        // The seed's abalone row.
        let m = parse_csv_matrix(b".345,0.224414,.131102,0.042329,.279923,-0.110329,-0.099358,0.0").unwrap();
        assert_eq!((m.rows(), m.cols()), (1, 8));
        assert_eq!(m.row(0)[0], 0.345);
    }

    #[test]
    fn csv_label_first_and_weights() {
        let d = parse_csv_dataset(b"10,1,2\n20,3,4\n", false).unwrap();
        assert_eq!(d.labels, vec![10.0, 20.0]);
        assert_eq!(d.features.row(1), &[3.0, 4.0]);
        let w = parse_csv_dataset(b"10,0.5,1,2\n", true).unwrap();
        assert_eq!(w.weights, Some(vec![0.5]));
        assert_eq!(w.features.row(0), &[1.0, 2.0]);
        assert!(parse_csv_dataset(b",1,2\n", false).is_err());
    }

    #[test]
    fn libsvm_one_based_and_zero_based() {
        let d = parse_libsvm(b"1 1:0.5 3:2\n0 2:1\n", true).unwrap();
        assert_eq!(d.features.cols(), 3);
        assert_eq!(d.features.row(0)[0], 0.5);
        assert!(d.features.row(0)[1].is_nan());
        assert_eq!(d.features.row(1)[1], 1.0);
        let z = parse_libsvm(b"1 0:1 2:3\n", true).unwrap();
        assert_eq!(z.features.cols(), 3);
        assert_eq!(z.features.row(0)[0], 1.0);
        let p = parse_libsvm(b"1:1 2:2\n", false).unwrap();
        assert!(p.labels[0].is_nan());
        assert!(parse_libsvm(b"1:1\n", true).is_err());
        assert!(parse_libsvm(b"1 x:1\n", true).is_err());
    }

    #[test]
    fn datasets_concatenate() {
        let mut a = parse_libsvm(b"1 1:1\n", true).unwrap();
        a.extend(parse_libsvm(b"0 1:2 2:3\n", true).unwrap()).unwrap();
        assert_eq!((a.features.rows(), a.features.cols()), (2, 2));
        assert!(a.features.row(0)[1].is_nan());
    }
}
