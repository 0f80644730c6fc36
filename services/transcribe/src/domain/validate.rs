//! AWS's constraints on Transcribe inputs (from the botocore model), checked before anything is
//! stored, with AWS's "1 validation error detected" wording and `BadRequestException`.

use crate::error::TranscribeError;

/// Language codes of English (served by the English model, or the multilingual one).
pub const LANGUAGES: &[&str] = &["en-US", "en-GB", "en-AU", "en-IN", "en-IE", "en-NZ", "en-ZA", "en-AB", "en-WL"];

/// Every AWS language code Hearth transcribes and Whisper's code for it. The first AWS code of
/// a Whisper language is the one language identification answers when the request gives no
/// `LanguageOptions`.
pub const WHISPER_LANGUAGES: &[(&str, &str)] = &[
    ("en-US", "en"), ("en-GB", "en"), ("en-AU", "en"), ("en-IN", "en"), ("en-IE", "en"), ("en-NZ", "en"), ("en-ZA", "en"), ("en-AB", "en"), ("en-WL", "en"),
    ("af-ZA", "af"), ("ar-SA", "ar"), ("ar-AE", "ar"), ("az-AZ", "az"), ("ba-RU", "ba"), ("be-BY", "be"), ("bg-BG", "bg"), ("bn-IN", "bn"),
    ("bs-BA", "bs"), ("ca-ES", "ca"), ("cs-CZ", "cs"), ("cy-WL", "cy"), ("da-DK", "da"), ("de-DE", "de"), ("de-CH", "de"), ("el-GR", "el"),
    ("es-US", "es"), ("es-ES", "es"), ("et-EE", "et"), ("eu-ES", "eu"), ("fa-IR", "fa"), ("fi-FI", "fi"), ("fr-FR", "fr"), ("fr-CA", "fr"),
    ("gl-ES", "gl"), ("gu-IN", "gu"), ("ha-NG", "ha"), ("he-IL", "he"), ("hi-IN", "hi"), ("hr-HR", "hr"), ("hu-HU", "hu"), ("hy-AM", "hy"),
    ("id-ID", "id"), ("is-IS", "is"), ("it-IT", "it"), ("ja-JP", "ja"), ("ka-GE", "ka"), ("kk-KZ", "kk"), ("kn-IN", "kn"), ("ko-KR", "ko"),
    ("lt-LT", "lt"), ("lv-LV", "lv"), ("mi-NZ", "mi"), ("mk-MK", "mk"), ("ml-IN", "ml"), ("mn-MN", "mn"), ("mr-IN", "mr"), ("ms-MY", "ms"),
    ("mt-MT", "mt"), ("nl-NL", "nl"), ("no-NO", "no"), ("pa-IN", "pa"), ("pl-PL", "pl"), ("ps-AF", "ps"), ("pt-BR", "pt"), ("pt-PT", "pt"),
    ("ro-RO", "ro"), ("ru-RU", "ru"), ("si-LK", "si"), ("sk-SK", "sk"), ("sl-SI", "sl"), ("so-SO", "so"), ("sr-RS", "sr"), ("su-ID", "su"),
    ("sv-SE", "sv"), ("sw-KE", "sw"), ("sw-TZ", "sw"), ("sw-UG", "sw"), ("sw-RW", "sw"), ("sw-BI", "sw"), ("ta-IN", "ta"), ("te-IN", "te"),
    ("th-TH", "th"), ("tl-PH", "tl"), ("tr-TR", "tr"), ("tt-RU", "tt"), ("uk-UA", "uk"), ("uz-UZ", "uz"), ("vi-VN", "vi"), ("zh-CN", "zh"),
    ("zh-TW", "zh"), ("zh-HK", "zh"),
];

/// The `LanguageCode` enum of the API (botocore model).
pub const AWS_LANGUAGE_CODES: &[&str] = &["af-ZA", "ar-AE", "ar-SA", "da-DK", "de-CH", "de-DE", "en-AB", "en-AU", "en-GB", "en-IE", "en-IN", "en-US", "en-WL", "es-ES", "es-US", "fa-IR", "fr-CA", "fr-FR", "he-IL", "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR", "ms-MY", "nl-NL", "pt-BR", "pt-PT", "ru-RU", "ta-IN", "te-IN", "tr-TR", "zh-CN", "zh-TW", "th-TH", "en-ZA", "en-NZ", "vi-VN", "sv-SE", "ab-GE", "ast-ES", "az-AZ", "ba-RU", "be-BY", "bg-BG", "bn-IN", "bs-BA", "ca-ES", "ckb-IQ", "ckb-IR", "cs-CZ", "cy-WL", "el-GR", "et-EE", "et-ET", "eu-ES", "fi-FI", "gl-ES", "gu-IN", "ha-NG", "hr-HR", "hu-HU", "hy-AM", "is-IS", "ka-GE", "kab-DZ", "kk-KZ", "kn-IN", "ky-KG", "lg-IN", "lt-LT", "lv-LV", "mhr-RU", "mi-NZ", "mk-MK", "ml-IN", "mn-MN", "mr-IN", "mt-MT", "no-NO", "or-IN", "pa-IN", "pl-PL", "ps-AF", "ro-RO", "rw-RW", "si-LK", "sk-SK", "sl-SI", "so-SO", "sr-RS", "su-ID", "sw-BI", "sw-KE", "sw-RW", "sw-TZ", "sw-UG", "tl-PH", "tt-RU", "ug-CN", "uk-UA", "uz-UZ", "wo-SN", "zh-HK", "zu-ZA"];

/// Whisper's code of an AWS language code Hearth transcribes.
pub fn whisper_code(aws: &str) -> Option<&'static str> {
    WHISPER_LANGUAGES.iter().find(|(a, _)| *a == aws).map(|(_, w)| *w)
}

/// The AWS code for a Whisper language: the first of `options` (when given) with that
/// language, else Hearth's default code for it.
pub fn aws_code(whisper: &str, options: &[String]) -> Option<String> {
    if !options.is_empty() {
        return options.iter().find(|o| whisper_code(o) == Some(whisper)).cloned();
    }
    WHISPER_LANGUAGES.iter().find(|(_, w)| *w == whisper).map(|(a, _)| a.to_string())
}

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

/// A language code Hearth can transcribe: one of AWS's codes that Whisper has.
pub fn language(value: &str, field: &str) -> Result<(), TranscribeError> {
    if whisper_code(value).is_some() {
        Ok(())
    } else if AWS_LANGUAGE_CODES.contains(&value) {
        Err(TranscribeError::BadRequest(format!("The language code {value} isn't supported by this server's speech models. Use another language code and try your request again.")))
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
        assert!(language("fr-FR", "languageCode").is_ok());
        assert!(language("zu-ZA", "languageCode").is_err());
        assert_eq!(whisper_code("de-CH"), Some("de"));
        assert_eq!(aws_code("es", &[]).as_deref(), Some("es-US"));
        assert_eq!(aws_code("es", &["en-US".into(), "es-ES".into()]).as_deref(), Some("es-ES"));
        assert_eq!(aws_code("fr", &["en-US".into()]), None);
        assert!(language("english", "languageCode").is_err());
        assert_eq!(s3_uri("s3://b/k.wav", "media.mediaFileUri").unwrap(), ("b".into(), "k.wav".into()));
        assert!(s3_uri("ftp://x", "media.mediaFileUri").is_err());
    }
}
