//! The checks AWS makes on a job's media once it is read, and the `FailureReason` texts it
//! gives (Transcribe API reference, `TranscriptionJob.FailureReason`).

use hearth_inference::asr::MediaError;

/// Largest media file accepted (AWS: 2 GB).
pub const MAX_MEDIA_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Why a job failed on its media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaFailure {
    UnsupportedFormat,
    FormatMismatch,
    InvalidSampleRate,
    SampleRateMismatch,
    FileTooLarge,
    TooManyChannels,
    Unreadable,
}

impl MediaFailure {
    /// AWS's `FailureReason`.
    pub fn reason(&self) -> &'static str {
        match self {
            MediaFailure::UnsupportedFormat => "Unsupported media format",
            MediaFailure::FormatMismatch => "The media format provided does not match the detected media format",
            MediaFailure::InvalidSampleRate => "Invalid sample rate for audio file",
            MediaFailure::SampleRateMismatch => "The sample rate provided does not match the detected sample rate",
            MediaFailure::FileTooLarge => "Invalid file size: file size too large",
            MediaFailure::TooManyChannels => "Invalid number of channels: number of channels too large",
            MediaFailure::Unreadable => "Failed to parse audio file.",
        }
    }
}

/// Compare the requested `MediaFormat` with what the bytes are (`detected`, from
/// [`hearth_inference::asr::audio::sniff_format`]).
pub fn check_format(requested: Option<&str>, detected: Option<&str>) -> Result<(), MediaFailure> {
    let same = |a: &str, b: &str| a == b || matches!((a, b), ("mp4", "m4a") | ("m4a", "mp4") | ("webm", "mkv"));
    match (requested, detected) {
        (_, None) if requested.is_some() => Err(MediaFailure::FormatMismatch),
        (_, None) => Err(MediaFailure::UnsupportedFormat),
        (Some(r), Some(d)) if !same(r, d) => Err(MediaFailure::FormatMismatch),
        (_, Some("amr")) => Err(MediaFailure::UnsupportedFormat),
        _ => Ok(()),
    }
}

/// Compare the requested sample rate with the file's; AWS accepts 8–48 kHz.
pub fn check_rate(requested: Option<i32>, detected: u32) -> Result<(), MediaFailure> {
    if !(8000..=48000).contains(&detected) {
        return Err(MediaFailure::InvalidSampleRate);
    }
    match requested {
        Some(r) if r as u32 != detected => Err(MediaFailure::SampleRateMismatch),
        _ => Ok(()),
    }
}

/// The failure reason of a decoding error.
pub fn from_media_error(e: &MediaError) -> MediaFailure {
    match e {
        MediaError::Unsupported(_) => MediaFailure::UnsupportedFormat,
        // Jobs retry storage errors before they get here; one that does is unreadable media.
        MediaError::Unreadable(_) | MediaError::Io(_) => MediaFailure::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_rate_checks() {
        assert_eq!(check_format(Some("wav"), Some("wav")), Ok(()));
        assert_eq!(check_format(None, Some("mp3")), Ok(()));
        assert_eq!(check_format(Some("mp3"), Some("wav")), Err(MediaFailure::FormatMismatch));
        assert_eq!(check_format(Some("wav"), None), Err(MediaFailure::FormatMismatch));
        assert_eq!(check_format(None, None), Err(MediaFailure::UnsupportedFormat));
        assert_eq!(check_format(Some("amr"), Some("amr")), Err(MediaFailure::UnsupportedFormat));
        assert_eq!(check_rate(Some(16000), 16000), Ok(()));
        assert_eq!(check_rate(Some(8000), 16000), Err(MediaFailure::SampleRateMismatch));
        assert_eq!(check_rate(None, 4000), Err(MediaFailure::InvalidSampleRate));
        assert_eq!(MediaFailure::SampleRateMismatch.reason(), "The sample rate provided does not match the detected sample rate");
    }
}
