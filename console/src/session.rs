//! Console sessions: sign-in with an access key, a random bearer token in a cookie, and the
//! server-side record of it.
//!
//! The secret a user types is compared (in constant time) with the key's secret from the
//! server's [`KeyStore`] and then forgotten. The browser gets 32 random bytes (base64url) as the
//! token; the metadata store keeps only the token's SHA-256 as the record key, with the access
//! key id, its account and the expiry — so a copy of the database holds no usable token. Sessions
//! live in the metadata store (kind `console.session`, global scope) so they survive restarts
//! and every node of a cluster accepts them. A session ends at its expiry, at sign-out, or as
//! soon as its access key is no longer configured.
//!
//! Failed sign-ins are counted per access key id: after [`MAX_FAILURES`] in [`FAILURE_WINDOW`]
//! that key id is refused until the window ends, which makes guessing a secret impractical.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hearth_protocol::sigv4::KeyStore;
use hearth_runtime::{Clock, Expect, ListQuery, MetaError, MetaStore, Record, Scope};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// How long a session lasts (the AWS console's default session length).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins per access key id allowed in one [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// How often expired sessions are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// Entries of the failure table above which stale ones are dropped.
const FAILURE_TABLE_PRUNE: usize = 10_000;

/// The stored form of a session (keyed by the hex SHA-256 of its token).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    access_key_id: String,
    account: String,
    /// Unix seconds.
    created: i64,
    /// Unix seconds.
    expires: i64,
}

impl Record for SessionRecord {
    const KIND: &'static str = "console.session";
}

/// A live session: who is signed in, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The access key the user signed in with.
    pub access_key_id: String,
    /// The account that key belongs to; every console read is scoped to it.
    pub account: String,
    /// When the session was created.
    pub created: OffsetDateTime,
    /// When it ends.
    pub expires: OffsetDateTime,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown access key id or wrong secret (deliberately not told apart).
    #[error("The access key ID or secret access key is incorrect.")]
    BadCredentials,
    /// Too many failed attempts for this access key id; retry after the window.
    #[error("Too many failed sign-in attempts for this access key. Try again in {0} seconds.")]
    Throttled(u64),
    /// The session could not be stored.
    #[error("session store: {0}")]
    Store(#[from] MetaError),
}

/// The session store; cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    meta: MetaStore,
    keys: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    /// access key id → (window start, failures in it).
    failures: Mutex<HashMap<String, (OffsetDateTime, u32)>>,
}

impl Sessions {
    /// A session store on `meta`, checking sign-ins against `keys`.
    pub fn new(meta: MetaStore, keys: Arc<dyn KeyStore>, clock: Arc<dyn Clock>) -> Self {
        Self::with_ttl(meta, keys, clock, SESSION_TTL)
    }

    /// Same, with a session length other than [`SESSION_TTL`].
    pub fn with_ttl(
        meta: MetaStore,
        keys: Arc<dyn KeyStore>,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Sessions {
            inner: Arc::new(Inner {
                meta,
                keys,
                clock,
                ttl,
                failures: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How long a new session lasts.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Check the key and secret; on success store a new session and return its token (the only
    /// copy: only its hash is kept).
    pub async fn sign_in(
        &self,
        access_key_id: &str,
        secret: &str,
    ) -> Result<(String, SessionInfo), SignInError> {
        let now = self.inner.clock.now();
        if let Some(wait) = self.throttled(access_key_id, now) {
            tracing::warn!(access_key = %access_key_id, "console sign-in throttled");
            return Err(SignInError::Throttled(wait));
        }
        let key = self.inner.keys.lookup(access_key_id);
        // Compare against something even for unknown keys, so both take the same time.
        let expected = key.as_ref().map(|k| k.secret.as_str()).unwrap_or("");
        let secret_ok = constant_time_eq(expected.as_bytes(), secret.as_bytes());
        let Some(key) = key.filter(|_| secret_ok && !secret.is_empty()) else {
            self.count_failure(access_key_id, now);
            tracing::info!(access_key = %access_key_id, "console sign-in refused");
            return Err(SignInError::BadCredentials);
        };
        self.clear_failures(access_key_id);

        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let expires = now + self.inner.ttl;
        let record = SessionRecord {
            access_key_id: access_key_id.to_string(),
            account: key.account.clone(),
            created: now.unix_timestamp(),
            expires: expires.unix_timestamp(),
        };
        self.inner
            .meta
            .put(
                &Scope::global(),
                &token_key(&token),
                &record,
                Expect::Absent,
            )
            .await?;
        tracing::info!(access_key = %access_key_id, account = %key.account, "console session started");
        Ok((token, info(&record)))
    }

    /// The live session of `token`, or `None` if it is unknown, expired, or its key is gone.
    pub async fn lookup(&self, token: &str) -> Result<Option<SessionInfo>, MetaError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let key = token_key(token);
        let Some(stored) = self
            .inner
            .meta
            .get::<SessionRecord>(&Scope::global(), &key)
            .await?
        else {
            return Ok(None);
        };
        let record = stored.value;
        let now = self.inner.clock.now().unix_timestamp();
        let key_ok = self
            .inner
            .keys
            .lookup(&record.access_key_id)
            .is_some_and(|k| k.account == record.account);
        if record.expires <= now || !key_ok {
            self.inner
                .meta
                .delete::<SessionRecord>(&Scope::global(), &key, Expect::Any)
                .await?;
            tracing::info!(access_key = %record.access_key_id, expired = record.expires <= now, "console session ended");
            return Ok(None);
        }
        Ok(Some(info(&record)))
    }

    /// End the session of `token` (nothing happens if there is none).
    pub async fn sign_out(&self, token: &str) -> Result<(), MetaError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(());
        }
        self.inner
            .meta
            .delete::<SessionRecord>(&Scope::global(), &token_key(token), Expect::Any)
            .await?;
        Ok(())
    }

    /// Delete every expired session; returns how many.
    pub async fn purge_expired(&self) -> Result<usize, MetaError> {
        let now = self.inner.clock.now().unix_timestamp();
        let mut removed = 0;
        let mut start_after = None;
        loop {
            let q = ListQuery {
                prefix: String::new(),
                start_after: start_after.take(),
                limit: Some(1000),
            };
            let page = self
                .inner
                .meta
                .list::<SessionRecord>(&Scope::global(), &q)
                .await?;
            let Some((last, _)) = page.last() else { break };
            let last = last.clone();
            for (key, rec) in &page {
                if rec.value.expires <= now {
                    self.inner
                        .meta
                        .delete::<SessionRecord>(
                            &Scope::global(),
                            key,
                            Expect::Version(rec.version),
                        )
                        .await
                        .or_else(|e| match e {
                            MetaError::ConditionFailed { .. } => Ok(false),
                            e => Err(e),
                        })?;
                    removed += 1;
                }
            }
            if page.len() < 1000 {
                break;
            }
            start_after = Some(last);
        }
        Ok(removed)
    }

    /// Delete expired sessions every ten minutes (on the store's clock) for as long as the
    /// process runs.
    pub fn spawn_purge(&self) {
        let sessions = self.clone();
        tokio::spawn(async move {
            loop {
                sessions.inner.clock.sleep(PURGE_INTERVAL).await;
                match sessions.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(sessions = n, "expired console sessions deleted"),
                    Err(e) => tracing::warn!(error = %e, "could not purge console sessions"),
                }
            }
        });
    }

    /// Seconds to wait if `access_key_id` has used up its failures in the current window.
    fn throttled(&self, access_key_id: &str, now: OffsetDateTime) -> Option<u64> {
        let failures = self
            .inner
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (start, n) = failures.get(access_key_id)?;
        let end = *start + FAILURE_WINDOW;
        (*n >= MAX_FAILURES && now < end).then(|| (end - now).whole_seconds().max(1) as u64)
    }

    fn count_failure(&self, access_key_id: &str, now: OffsetDateTime) {
        let mut failures = self
            .inner
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if failures.len() >= FAILURE_TABLE_PRUNE {
            failures.retain(|_, (start, _)| now < *start + FAILURE_WINDOW);
        }
        let entry = failures
            .entry(access_key_id.to_string())
            .or_insert((now, 0));
        if now >= entry.0 + FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    fn clear_failures(&self, access_key_id: &str) {
        self.inner
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(access_key_id);
    }
}

fn info(r: &SessionRecord) -> SessionInfo {
    let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    SessionInfo {
        access_key_id: r.access_key_id.clone(),
        account: r.account.clone(),
        created: at(r.created),
        expires: at(r.expires),
    }
}

/// The record key of a token: its SHA-256 in hex.
fn token_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equality whose time depends on neither the contents nor the lengths (both are hashed first).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_protocol::sigv4::KeyInfo;
    use hearth_runtime::ManualClock;

    struct TestKeys(Mutex<HashMap<String, KeyInfo>>);
    impl KeyStore for TestKeys {
        fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
            self.0.lock().unwrap().get(access_key).cloned()
        }
    }

    async fn setup() -> (Sessions, Arc<ManualClock>, Arc<TestKeys>) {
        let meta = MetaStore::open("sqlite::memory:").await.unwrap();
        let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap());
        let keys = Arc::new(TestKeys(Mutex::new(HashMap::from([(
            "AKIDEXAMPLE".to_string(),
            KeyInfo {
                secret: "s3cret".into(),
                account: "111122223333".into(),
            },
        )]))));
        (
            Sessions::new(meta, keys.clone(), clock.clone()),
            clock,
            keys,
        )
    }

    #[tokio::test]
    async fn sign_in_lookup_sign_out() {
        let (s, _, _) = setup().await;
        let (token, info) = s.sign_in("AKIDEXAMPLE", "s3cret").await.unwrap();
        assert_eq!(info.account, "111122223333");
        assert!(token.len() >= 43);
        assert_eq!(s.lookup(&token).await.unwrap(), Some(info));
        assert_eq!(s.lookup("not-a-token").await.unwrap(), None);
        s.sign_out(&token).await.unwrap();
        assert_eq!(s.lookup(&token).await.unwrap(), None);
    }

    #[tokio::test]
    async fn wrong_secret_and_unknown_key_are_refused() {
        let (s, _, _) = setup().await;
        assert!(matches!(
            s.sign_in("AKIDEXAMPLE", "wrong").await,
            Err(SignInError::BadCredentials)
        ));
        assert!(matches!(
            s.sign_in("AKIDEXAMPLE", "").await,
            Err(SignInError::BadCredentials)
        ));
        assert!(matches!(
            s.sign_in("NOPE", "").await,
            Err(SignInError::BadCredentials)
        ));
        assert!(matches!(
            s.sign_in("NOPE", "s3cret").await,
            Err(SignInError::BadCredentials)
        ));
    }

    #[tokio::test]
    async fn sessions_expire_and_are_purged() {
        let (s, clock, _) = setup().await;
        let (token, _) = s.sign_in("AKIDEXAMPLE", "s3cret").await.unwrap();
        let (other, _) = s.sign_in("AKIDEXAMPLE", "s3cret").await.unwrap();
        clock.advance(SESSION_TTL - Duration::from_secs(1));
        assert!(s.lookup(&token).await.unwrap().is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(s.lookup(&token).await.unwrap(), None);
        assert_eq!(
            s.purge_expired().await.unwrap(),
            1,
            "the other expired session is purged"
        );
        assert_eq!(s.lookup(&other).await.unwrap(), None);
    }

    #[tokio::test]
    async fn removed_key_ends_its_sessions() {
        let (s, _, keys) = setup().await;
        let (token, _) = s.sign_in("AKIDEXAMPLE", "s3cret").await.unwrap();
        keys.0.lock().unwrap().clear();
        assert_eq!(s.lookup(&token).await.unwrap(), None);
    }

    #[tokio::test]
    async fn repeated_failures_throttle_the_key_id() {
        let (s, clock, _) = setup().await;
        for _ in 0..MAX_FAILURES {
            assert!(matches!(
                s.sign_in("AKIDEXAMPLE", "guess").await,
                Err(SignInError::BadCredentials)
            ));
        }
        assert!(matches!(
            s.sign_in("AKIDEXAMPLE", "s3cret").await,
            Err(SignInError::Throttled(_))
        ));
        clock.advance(FAILURE_WINDOW);
        assert!(s.sign_in("AKIDEXAMPLE", "s3cret").await.is_ok());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
