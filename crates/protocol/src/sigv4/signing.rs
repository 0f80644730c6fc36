//! SigV4 cryptography: the derived signing key, strings to sign, and constant-time comparison of
//! a client's hex signature with the one we compute (`hmac`'s `verify_slice`, built on `subtle`).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name SigV4 puts everywhere.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
#[derive(Clone)]
pub(crate) struct SigningKey([u8; 32]);

impl SigningKey {
    pub(crate) fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut seed = Vec::with_capacity(4 + secret.len());
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.as_bytes());
        let k_date = hmac(&seed, date.as_bytes());
        let k_region = hmac(&k_date, region.as_bytes());
        let k_service = hmac(&k_region, service.as_bytes());
        SigningKey(hmac(&k_service, b"aws4_request"))
    }

    /// The signature of `string_to_sign`.
    #[cfg(test)]
    pub(crate) fn sign(&self, string_to_sign: &[u8]) -> [u8; 32] {
        hmac(&self.0, string_to_sign)
    }

    /// Whether `provided` (raw bytes) is the signature of `string_to_sign`, in constant time.
    pub(crate) fn verify(&self, string_to_sign: &[u8], provided: &[u8; 32]) -> bool {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.0) else {
            return false;
        };
        mac.update(string_to_sign);
        mac.verify_slice(provided).is_ok()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A 64-digit hex signature as bytes; `None` for anything else.
pub(crate) fn decode_signature(hex_sig: &str) -> Option<[u8; 32]> {
    if hex_sig.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_sig, &mut out).ok()?;
    Some(out)
}

/// Whether `s` is a 64-digit hex SHA-256 digest.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `AWS4-HMAC-SHA256\n<datetime>\n<scope>\n<hex sha256(canonical request)>`.
pub(crate) fn string_to_sign(datetime: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{datetime}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_signing_key() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn verify_is_exact() {
        let key = SigningKey::derive("secret", "20240101", "us-east-1", "s3");
        let sig = key.sign(b"hello");
        assert!(key.verify(b"hello", &sig));
        let mut other = sig;
        other[31] ^= 1;
        assert!(!key.verify(b"hello", &other));
        assert!(!key.verify(b"hellp", &sig));
        assert_eq!(decode_signature(&hex::encode(sig)), Some(sig));
        assert_eq!(
            decode_signature(&hex::encode(sig).to_uppercase()),
            Some(sig)
        );
        assert_eq!(decode_signature("zz"), None);
        assert_eq!(decode_signature(&"g".repeat(64)), None);
    }
}
