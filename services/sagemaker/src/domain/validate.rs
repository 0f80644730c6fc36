//! Input constraints with AWS's wording. SageMaker reports all violated model constraints of a
//! request at once: `1 validation error detected: Value '512' at
//! 'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed to satisfy constraint:
//! Member must have value greater than or equal to 1024` (paths in lowerCamel, list members
//! numbered from 1, several violations joined by `; `).
//!
//! Patterns are checked by hand (no regex engine): SageMaker names are letters, digits and
//! hyphens, starting and ending with a letter or digit, at most 63 characters.

use crate::error::SageMakerError;

/// The name pattern of models, endpoints, endpoint configurations, variants and training jobs.
pub const NAME_PATTERN: &str = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
/// `ModelName`'s spelling of the same pattern.
pub const MODEL_NAME_PATTERN: &str = "^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?";
/// The IAM role ARN pattern.
pub const ROLE_PATTERN: &str = "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
/// The S3 URI pattern of `ModelDataUrl`, `S3Uri`, `S3OutputPath`.
pub const S3_URI_PATTERN: &str = "^(https|s3)://([^/]+)/?(.*)";

/// Collected constraint violations of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Violations(Vec::new())
    }

    fn push(&mut self, value: &str, path: &str, constraint: &str) {
        self.0.push(format!("Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"));
    }

    /// A required member that is absent.
    pub fn not_null(&mut self, path: &str) {
        self.0.push(format!("Value null at '{path}' failed to satisfy constraint: Member must not be null"));
    }

    /// A SageMaker resource name (`pattern` as the model spells it).
    pub fn name(&mut self, path: &str, value: &str, pattern: &str) {
        if value.chars().count() > 63 {
            self.push(value, path, "Member must have length less than or equal to 63");
        }
        if !is_name(value) {
            self.push(value, path, &format!("Member must satisfy regular expression pattern: {pattern}"));
        }
    }

    /// An integer with an inclusive range.
    pub fn int_range(&mut self, path: &str, value: i64, min: Option<i64>, max: Option<i64>) {
        if let Some(m) = min.filter(|m| value < *m) {
            self.push(&value.to_string(), path, &format!("Member must have value greater than or equal to {m}"));
        }
        if let Some(m) = max.filter(|m| value > *m) {
            self.push(&value.to_string(), path, &format!("Member must have value less than or equal to {m}"));
        }
    }

    /// A float with a lower bound.
    pub fn float_min(&mut self, path: &str, value: f64, min: f64) {
        if value.is_nan() || value < min {
            self.push(&java_float(value), path, &format!("Member must have value greater than or equal to {}", java_float(min)));
        }
    }

    /// A string from an enumeration.
    pub fn one_of(&mut self, path: &str, value: &str, set: &[&str]) {
        if !set.contains(&value) {
            self.push(value, path, &format!("Member must satisfy enum value set: [{}]", set.join(", ")));
        }
    }

    /// A value that does not match the model's `pattern` (checked by the caller).
    pub fn pattern(&mut self, path: &str, value: &str, pattern: &str) {
        self.push(value, path, &format!("Member must satisfy regular expression pattern: {pattern}"));
    }

    /// A string of at most `max` characters.
    pub fn max_len(&mut self, path: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(value, path, &format!("Member must have length less than or equal to {max}"));
        }
    }

    /// A list of `min..=max` members.
    pub fn list_len(&mut self, path: &str, len: usize, min: usize, max: Option<usize>) {
        if len < min {
            self.0.push(format!("Value '[]' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}"));
        }
        if let Some(m) = max.filter(|m| len > *m) {
            self.0.push(format!("Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {m}"));
        }
    }

    /// An IAM role ARN.
    pub fn role(&mut self, path: &str, value: &str) {
        if value.len() < 20 {
            self.push(value, path, "Member must have length greater than or equal to 20");
        }
        if value.len() > 2048 {
            self.push(value, path, "Member must have length less than or equal to 2048");
        }
        if !is_role_arn(value) {
            self.push(value, path, &format!("Member must satisfy regular expression pattern: {ROLE_PATTERN}"));
        }
    }

    /// An `s3://` or `https://` URI.
    pub fn s3_uri(&mut self, path: &str, value: &str) {
        self.max_len(path, value, 1024);
        let ok = value.strip_prefix("s3://").or_else(|| value.strip_prefix("https://")).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !ok {
            self.push(value, path, &format!("Member must satisfy regular expression pattern: {S3_URI_PATTERN}"));
        }
    }

    /// Whether nothing was violated.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was violated, else the AWS validation error listing every violation.
    pub fn finish(self) -> Result<(), SageMakerError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(SageMakerError::Validation(format!("1 validation error detected: {}", self.0[0]))),
            n => Err(SageMakerError::Validation(format!("{n} validation errors detected: {}", self.0.join("; ")))),
        }
    }
}

/// Whether `s` matches `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` in full.
pub fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63 * 2
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b.iter().filter(|c| c.is_ascii_alphanumeric()).count() <= 63
}

fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else { return false };
    let Some((partition_tail, rest)) = rest.split_once(":iam::") else { return false };
    if !partition_tail.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return false;
    }
    let Some((account, role)) = rest.split_once(':') else { return false };
    if account.len() != 12 || !account.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let Some(name) = role.strip_prefix("role") else { return false };
    let name = name.strip_prefix('/').unwrap_or(name);
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
}

/// Java's `Float.toString` for the values AWS echoes (`1.0`, `-0.5`).
fn java_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serverless_memory_message() {
        let mut v = Violations::new();
        v.int_range("productionVariants.1.member.serverlessConfig.memorySizeInMB", 512, Some(1024), Some(6144));
        assert_eq!(
            v.finish().unwrap_err().to_string(),
            "1 validation error detected: Value '512' at 'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed to satisfy constraint: Member must have value greater than or equal to 1024"
        );
    }

    #[test]
    fn several_violations_are_joined() {
        let mut v = Violations::new();
        v.name("endpointName", "bad_name", NAME_PATTERN);
        v.int_range("x", 300, Some(1), Some(200));
        let m = v.finish().unwrap_err().to_string();
        assert!(m.starts_with("2 validation errors detected: Value 'bad_name' at 'endpointName'"), "{m}");
        assert!(m.contains("; Value '300' at 'x' failed to satisfy constraint: Member must have value less than or equal to 200"), "{m}");
    }

    #[test]
    fn names_and_roles() {
        assert!(is_name("xgboost-serverless-ep2021-12-01-10-00-00"));
        assert!(is_name("a--b"));
        assert!(!is_name("-a") && !is_name("a-") && !is_name("a_b") && !is_name(""));
        assert!(!is_name(&"a".repeat(64)));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/SageMakerRole"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-2021"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_role_arn("role"));
        let mut v = Violations::new();
        v.float_min("w", -1.0, 0.0);
        assert!(v.finish().unwrap_err().to_string().contains("Value '-1.0' at 'w' failed to satisfy constraint: Member must have value greater than or equal to 0.0"));
    }
}
