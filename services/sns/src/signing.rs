//! The key that signs HTTP/S and `email-json` messages, and its certificate.
//!
//! AWS signs every message with an RSA key whose X.509 certificate is published at
//! `SigningCertURL`, so receivers can check that a message came from SNS. Hearth does the same
//! with its own key: a 2048-bit RSA key generated on first start, with a self-signed
//! certificate (`CN=hearth-sns`, valid ten years), stored in the metadata database (record
//! `sns.signing_key`) so that every node signs with the same key and serves the same
//! certificate. The certificate is served unauthenticated at
//! `/sns/SimpleNotificationService-<id>.pem`; its id is the first 16 bytes of the SHA-256 of
//! the certificate, in hex. Receivers that pin AWS's certificate host (`sns.<region>.amazonaws.com`)
//! will reject it, as they should.

use crate::domain::envelope::{Links, Signer};
use crate::store::SigningKey;
use base64::Engine;
use hearth_runtime::{Expect, MetaStore, Scope};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::RsaPrivateKey;
use sha2::Digest;
use std::str::FromStr;
use time::OffsetDateTime;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::EncodePem;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

const RECORD_KEY: &str = "current";

/// Signs messages with the shared key.
pub struct MessageSigner {
    key: RsaPrivateKey,
    certificate_pem: String,
    certificate_id: String,
    links: Links,
}

impl MessageSigner {
    /// Load the key from the metadata store, creating it (and its certificate) on first use.
    /// When two nodes create one at once, the first write wins and both use it.
    pub async fn load_or_create(meta: &MetaStore, now: OffsetDateTime, links: Links) -> Result<Self, String> {
        let scope = Scope::global();
        let stored = match meta.get::<SigningKey>(&scope, RECORD_KEY).await.map_err(|e| e.to_string())? {
            Some(v) => v.value,
            None => {
                let fresh = tokio::task::spawn_blocking(move || generate(now)).await.map_err(|e| e.to_string())??;
                match meta.put(&scope, RECORD_KEY, &fresh, Expect::Absent).await {
                    Ok(_) => {
                        tracing::info!(certificate = %fresh.certificate_id, "created the sns message signing key");
                        fresh
                    }
                    Err(hearth_runtime::MetaError::ConditionFailed { .. }) => meta
                        .get::<SigningKey>(&scope, RECORD_KEY)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or("signing key vanished")?
                        .value,
                    Err(e) => return Err(e.to_string()),
                }
            }
        };
        let key = RsaPrivateKey::from_pkcs8_pem(&stored.private_key_pem).map_err(|e| format!("stored signing key: {e}"))?;
        Ok(MessageSigner { key, certificate_pem: stored.certificate_pem, certificate_id: stored.certificate_id, links })
    }

    /// The certificate's id (in its file name).
    pub fn certificate_id(&self) -> &str {
        &self.certificate_id
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }
}

impl Signer for MessageSigner {
    fn sign(&self, version: &str, data: &[u8]) -> String {
        let sig = if version == "2" {
            rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone()).sign(data).to_vec()
        } else {
            rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(self.key.clone()).sign(data).to_vec()
        };
        base64::engine::general_purpose::STANDARD.encode(sig)
    }

    fn cert_url(&self) -> String {
        self.links.cert_url(&self.certificate_id)
    }
}

/// A new key and self-signed certificate (CPU-bound: run off the async threads).
fn generate(now: OffsetDateTime) -> Result<SigningKey, String> {
    let err = |e: &dyn std::fmt::Display| format!("signing key generation: {e}");
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| err(&e))?;
    let private_key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(&e))?.to_string();
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| err(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let serial = SerialNumber::new(&rand::random::<[u8; 8]>().map(|b| b & 0x7f)).map_err(|e| err(&e))?;
    let start = std::time::SystemTime::from(now - time::Duration::days(1));
    let end = std::time::SystemTime::from(now + time::Duration::days(3650));
    let validity = Validity { not_before: Time::try_from(start).map_err(|e| err(&e))?, not_after: Time::try_from(end).map_err(|e| err(&e))? };
    let subject = Name::from_str("CN=hearth-sns,O=Hearth").map_err(|e| err(&e))?;
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer).map_err(|e| err(&e))?;
    let cert = builder.build::<rsa::pkcs1v15::Signature>().map_err(|e| err(&e))?;
    let certificate_pem = cert.to_pem(LineEnding::LF).map_err(|e| err(&e))?;
    let der = x509_cert::der::Encode::to_der(&cert).map_err(|e| err(&e))?;
    let certificate_id = hex::encode(&sha2::Sha256::digest(&der)[..16]);
    Ok(SigningKey { private_key_pem, certificate_pem, certificate_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    #[tokio::test]
    async fn key_is_created_once_and_signs_verifiably() {
        let meta = MetaStore::open("sqlite::memory:").await.unwrap();
        let now = OffsetDateTime::now_utc();
        let a = MessageSigner::load_or_create(&meta, now, Links::new("http://h")).await.unwrap();
        let b = MessageSigner::load_or_create(&meta, now, Links::new("http://h")).await.unwrap();
        assert_eq!(a.certificate_id(), b.certificate_id());
        assert!(a.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(a.cert_url(), format!("http://h/sns/SimpleNotificationService-{}.pem", a.certificate_id()));
        let data = b"Message\nhi\n";
        for (version, ok) in [("1", true), ("2", true)] {
            let sig = base64::engine::general_purpose::STANDARD.decode(a.sign(version, data)).unwrap();
            let sig = Signature::try_from(sig.as_slice()).unwrap();
            let public = a.key.to_public_key();
            let verified = if version == "1" {
                VerifyingKey::<sha1::Sha1>::new(public).verify(data, &sig).is_ok()
            } else {
                VerifyingKey::<sha2::Sha256>::new(public).verify(data, &sig).is_ok()
            };
            assert_eq!(verified, ok, "version {version}");
        }
    }
}
