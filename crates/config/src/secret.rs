//! A string that must not leak into logs: `Debug` prints `"<redacted>"`, and the value is read
//! only through an explicit [`Secret::expose`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string (a secret access key, a password). Its `Debug` output is `"<redacted>"`.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Call only where the value is really needed (signing, connecting).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// `url` with the password of its user-info part (`scheme://user:PASSWORD@host`) replaced by
/// `<redacted>`; URLs without a password are returned unchanged.
pub(crate) fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:<redacted>{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{s:?}"), "\"<redacted>\"");
        assert_eq!(s.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn url_password_is_redacted() {
        assert_eq!(
            redact_url_password("postgres://hearth:s3cret@db:5432/hearth?sslmode=require"),
            "postgres://hearth:<redacted>@db:5432/hearth?sslmode=require"
        );
        assert_eq!(
            redact_url_password("postgres://hearth@db/hearth"),
            "postgres://hearth@db/hearth"
        );
        assert_eq!(
            redact_url_password("sqlite://./data/meta.db"),
            "sqlite://./data/meta.db"
        );
        assert_eq!(redact_url_password("not a url"), "not a url");
    }
}
