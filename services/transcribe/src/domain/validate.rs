//! AWS's constraints on Transcribe inputs (from the botocore model), checked before anything is
//! stored, with AWS's "1 validation error detected" wording and `BadRequestException`.

use crate::error::TranscribeError;

/// Language codes Hearth's English model serves.
pub const LANGUAGES: &[&str] = &["en-US", "en-GB", "en-AU", "en-IN", "en-IE", "en-NZ", "en-ZA", "en-AB", "en-WL"];

/// Media formats of the API.
pub const MEDIA_FORMATS: &[&str] = &["mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a"];

const NAME_PATTERN: &str = "^[0-9a-zA-Z._-]+";

/// A resource name (jobs, vocabularies, filters, models): 1–200 of `[0-9a-zA-Z._-]`.
pub fn name(value: &str, field: &str) -> Result<(), TranscribeError> {
    if value.is_empty() || value.chars().count() > 200 {
        return Err(TranscribeError::validation(value, field, "Member must have length less than or equal to 200"));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(TranscribeError::validation(value, field, &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}")));
    }
    Ok(())
}

/// A language code Hearth can transcribe (English variants; the model is English-only).
pub fn language(value: &str, field: &str) -> Result<(), TranscribeError> {
    if LANGUAGES.contains(&value) {
        Ok(())
    } else if value.len() == 5 && value.as_bytes()[2] == b'-' {
        Err(TranscribeError::BadRequest(format!("The language code {value} isn't supported by this Hearth server's speech model (English only). Use en-US.")))
    } else {
        Err(TranscribeError::validation(value, field, "Member must satisfy enum value set"))
    }
}

/// An S3 URI: `s3://bucket/key`.
pub fn s3_uri(value: &str, field: &str) -> Result<(String, String), TranscribeError> {
    if value.is_empty() || value.len() > 2000 {
        return Err(TranscribeError::validation(value, field, "Member must have length less than or equal to 2000"));
    }
    match hearth_s3::internal::parse_s3_uri(value) {
        Some(bk) => Ok(bk),
        None if value.starts_with("http://") || value.starts_with("https://") => {
            Err(TranscribeError::BadRequest("The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again.".into()))
        }
        None => Err(TranscribeError::validation(value, field, "Member must satisfy regular expression pattern: (s3://|http(s*)://).+")),
    }
}

/// Tags: at most 200, keys 1–128 and values 0–256 characters.
pub fn tags(tags: &[crate::api::Tag]) -> Result<(), TranscribeError> {
    if tags.len() > 200 {
        return Err(TranscribeError::validation("tags", "tags", "Member must have length less than or equal to 200"));
    }
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 {
            return Err(TranscribeError::validation(&t.key, "tags.member.key", "Member must have length less than or equal to 128"));
        }
        if t.value.chars().count() > 256 {
            return Err(TranscribeError::validation(&t.value, "tags.member.value", "Member must have length less than or equal to 256"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_pattern() {
        assert!(name("call-2024_01.a", "transcriptionJobName").is_ok());
        let e = name("my job", "transcriptionJobName").unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad request: 1 validation error detected: Value 'my job' at 'transcriptionJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+"
        );
        assert!(name("", "x").is_err());
        assert!(name(&"a".repeat(201), "x").is_err());
    }

    #[test]
    fn languages_and_uris() {
        assert!(language("en-US", "languageCode").is_ok());
        assert!(language("fr-FR", "languageCode").is_err());
        assert!(language("english", "languageCode").is_err());
        assert_eq!(s3_uri("s3://b/k.wav", "media.mediaFileUri").unwrap(), ("b".into(), "k.wav".into()));
        assert!(s3_uri("ftp://x", "media.mediaFileUri").is_err());
    }
}
