//! SNS logic without HTTP: ARNs, topic and subscription rules, delivery policies, filter
//! policies, message checks and the documents endpoints receive.

pub mod arn;
pub mod delivery_policy;
pub mod envelope;
pub mod filter;
pub mod message;
pub mod subscription;
pub mod topic;

use time::OffsetDateTime;

/// How long a confirmation token stays valid (AWS: "Confirmation tokens are valid for two days").
pub const TOKEN_LIFETIME: time::Duration = time::Duration::days(2);

/// A fresh confirmation token: 144 random bytes as 288 hex digits, the shape of AWS's tokens.
pub fn new_token() -> String {
    let bytes: Vec<u8> = (0..144).map(|_| rand::random::<u8>()).collect();
    hex::encode(bytes)
}

/// Whether `s` has the shape of a token (hex digits). A token of another shape is
/// `Invalid token`; a well-formed unknown one is `Invalid parameter: Token`.
pub fn is_token_shaped(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A timestamp as SNS writes it in messages: ISO 8601 with milliseconds, `Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_timestamps() {
        let t = new_token();
        assert_eq!(t.len(), 288);
        assert!(is_token_shaped(&t));
        assert!(is_token_shaped("abc123"));
        assert!(!is_token_shaped("randomtoken"));
        assert_eq!(timestamp(time::macros::datetime!(2012-05-02 00:54:06.655 UTC)), "2012-05-02T00:54:06.655Z");
    }
}
