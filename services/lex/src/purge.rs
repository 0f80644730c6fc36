//! Purging what Lex keeps only for a while, on the runtime's injectable clock:
//!
//! - sessions idle longer than their bot's `idleSessionTTLInSeconds` (a turn after that starts
//!   a fresh session anyway; `load_session` already ignores them, this frees the rows);
//! - runtime utterance records older than the analytics retention
//!   ([`crate::LexOptions::utterance_retention`]).
//!
//! The metadata store has no listing across accounts, so the purger visits the bots that had
//! runtime traffic since the process started ([`Lex::note_traffic`]); a bot untouched since a
//! restart is purged on its next turn's round. Each visit lists the bot's sessions (deleting
//! with a version check, so a turn that just refreshed a session keeps it) and its utterance
//! records up to the retention cutoff (their keys sort by time).

use crate::error::Result;
use crate::store;
use crate::Lex;
use hearth_protocol::types::Timestamp;
use hearth_runtime::{Expect, ListQuery, Scope, WriteOp};
use std::time::Duration;

/// Rows deleted per write while purging.
const BATCH: usize = 200;

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Sessions idle past the bot's TTL.
    pub sessions: usize,
    /// Utterance records past the retention.
    pub utterances: usize,
}

impl Lex {
    /// Remember that `bot` had runtime traffic in `scope` (so the purger visits it).
    pub(crate) fn note_traffic(&self, scope: &Scope, bot: &str) {
        let mut seen = self.inner.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.iter().any(|(s, b)| s == scope && b == bot) {
            seen.push((scope.clone(), bot.to_string()));
        }
    }

    /// Start the periodic purge (every [`crate::LexOptions::purge_interval`] on the runtime
    /// clock) on the current tokio runtime; it ends when the last handle to this Lex is
    /// dropped. Does nothing outside a tokio runtime.
    pub fn start_purger(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = std::sync::Arc::downgrade(&self.inner);
        let clock = self.inner.rt.clock.clone();
        let every = self.inner.opts.purge_interval.max(Duration::from_secs(1));
        handle.spawn(async move {
            loop {
                clock.sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let lex = Lex { inner };
                let bots = lex
                    .inner
                    .seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                for (scope, bot) in bots {
                    match lex.purge(&scope, &bot).await {
                        Ok(p) if p != Purged::default() => {
                            tracing::info!(bot = %bot, sessions = p.sessions, utterances = p.utterances, "lex purged expired records")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(bot = %bot, error = %e, "lex purge failed"),
                    }
                }
            }
        });
    }

    /// Delete `bot`'s sessions idle past its TTL and its utterance records past the retention
    /// (now on the runtime clock). A deleted bot's rows are left to DeleteBot.
    pub async fn purge(&self, scope: &Scope, bot: &str) -> Result<Purged> {
        let meta = &self.inner.rt.meta;
        let now = self.inner.rt.clock.now();
        let mut out = Purged::default();
        let Some(b) = meta.get::<store::Bot>(scope, bot).await? else {
            return Ok(out);
        };
        let ttl = i64::from(b.value.def.idle_session_ttl_in_seconds);
        let sessions = meta
            .list::<store::Session>(
                scope,
                &ListQuery {
                    prefix: format!("{bot}/"),
                    ..Default::default()
                },
            )
            .await?;
        let expired: Vec<WriteOp> = sessions
            .into_iter()
            .filter(|(_, s)| now.unix_timestamp() - s.value.last_active > ttl)
            .map(|(k, s)| WriteOp::delete::<store::Session>(scope, k, Expect::Version(s.version)))
            .collect();
        for chunk in expired.chunks(BATCH) {
            // A session refreshed meanwhile fails its version check and stays; try one by one.
            if meta.apply(chunk.to_vec()).await.is_err() {
                for op in chunk {
                    if meta.apply(vec![op.clone()]).await.is_ok() {
                        out.sessions += 1;
                    }
                }
            } else {
                out.sessions += chunk.len();
            }
        }
        let retention = time::Duration::try_from(self.inner.opts.utterance_retention)
            .unwrap_or(time::Duration::MAX);
        let cutoff = store::utterance_key(bot, &Timestamp(now.saturating_sub(retention)), "");
        loop {
            let page = meta
                .list::<store::Utterance>(
                    scope,
                    &ListQuery {
                        prefix: format!("{bot}/"),
                        limit: Some(BATCH),
                        ..Default::default()
                    },
                )
                .await?;
            let old: Vec<WriteOp> = page
                .iter()
                .take_while(|(k, _)| k.as_str() < cutoff.as_str())
                .map(|(k, _)| WriteOp::delete::<store::Utterance>(scope, k.clone(), Expect::Any))
                .collect();
            let n = old.len();
            if n > 0 {
                meta.apply(old).await?;
                out.utterances += n;
            }
            if n < BATCH {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LexOptions;
    use hearth_runtime::blob::BlobStore;
    use hearth_runtime::{Clock, JobQueue, ManualClock, MetaStore, Metrics, Runtime};
    use std::sync::Arc;
    use time::macros::datetime;

    async fn lex(dir: &std::path::Path, clock: Arc<ManualClock>) -> Lex {
        let clock: Arc<dyn Clock> = clock;
        let meta = MetaStore::open("sqlite::memory:").await.unwrap();
        let blobs = BlobStore::open(dir.join("blobs")).await.unwrap();
        let rt = Runtime {
            metrics: Metrics::open(&meta, clock.clone()).await.unwrap(),
            jobs: JobQueue::open(&meta, clock.clone()).await.unwrap(),
            blobs: blobs.clone(),
            meta: meta.clone(),
            clock: clock.clone(),
            data_dir: dir.to_path_buf(),
            models_dir: dir.join("models"),
        };
        let s3 = hearth_s3::S3::new(meta, blobs, clock);
        let opts = LexOptions {
            utterance_retention: Duration::from_secs(2 * 86_400),
            purge_interval: Duration::from_secs(60),
            ..LexOptions::default()
        };
        Lex::with_options(&rt, &s3, opts)
    }

    fn session(last_active: i64) -> store::Session {
        store::Session {
            state: Default::default(),
            messages: Vec::new(),
            interpretations: Vec::new(),
            request_attributes: Default::default(),
            last_active,
            started: Timestamp(time::OffsetDateTime::from_unix_timestamp(last_active).unwrap()),
        }
    }

    fn utterance(at: time::OffsetDateTime) -> store::Utterance {
        store::Utterance {
            at: Timestamp(at),
            bot_id: "BOT0000001".into(),
            alias_id: "TSTALIASID".into(),
            version: "DRAFT".into(),
            locale_id: "en_US".into(),
            session_id: "s1".into(),
            request_id: "r".into(),
            text: "hello".into(),
            intent: None,
            missed: true,
            switched_from: None,
            intent_state: None,
            dialog_action: None,
            slot_to_elicit: None,
            mode: "Text".into(),
            conversation_start: Timestamp(at),
            responses: Vec::new(),
            slots_filled: Vec::new(),
        }
    }

    #[tokio::test]
    async fn idle_sessions_and_old_utterances_go_on_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = datetime!(2024-03-13 12:00 UTC);
        let clock = ManualClock::new(t0);
        let lex = lex(dir.path(), clock.clone()).await;
        let scope = Scope::new("123456789012", "us-east-1");
        let meta = &lex.inner.rt.meta;
        let bot = store::Bot {
            def: crate::api::UpdateBotRequest {
                idle_session_ttl_in_seconds: 300,
                ..Default::default()
            },
            status: "Available".into(),
            created: Timestamp(t0),
            updated: Timestamp(t0),
            tags: Default::default(),
            next_version: 1,
        };
        meta.put(&scope, "BOT0000001", &bot, Expect::Absent)
            .await
            .unwrap();
        let now = t0.unix_timestamp();
        for (id, last) in [("old", now - 301), ("fresh", now - 10)] {
            let key = store::session_key("BOT0000001", "TSTALIASID", "en_US", id);
            meta.put(&scope, &key, &session(last), Expect::Absent)
                .await
                .unwrap();
        }
        for (i, at) in [t0 - time::Duration::days(3), t0 - time::Duration::hours(1)]
            .into_iter()
            .enumerate()
        {
            let key = store::utterance_key("BOT0000001", &Timestamp(at), &format!("u{i}"));
            meta.put(&scope, &key, &utterance(at), Expect::Absent)
                .await
                .unwrap();
        }
        let p = lex.purge(&scope, "BOT0000001").await.unwrap();
        assert_eq!(
            p,
            Purged {
                sessions: 1,
                utterances: 1
            }
        );
        let left = meta
            .list::<store::Session>(&scope, &ListQuery::default())
            .await
            .unwrap();
        assert_eq!(left.len(), 1);
        assert!(left[0].0.ends_with("/fresh"));

        // The periodic purger: after a day on the clock the fresh session idles out and, a
        // second day later, the remaining utterance passes the retention.
        lex.note_traffic(&scope, "BOT0000001");
        clock.advance(std::time::Duration::from_secs(2 * 86_400));
        for _ in 0..50 {
            tokio::task::yield_now().await;
            let s = meta
                .list::<store::Session>(&scope, &ListQuery::default())
                .await
                .unwrap();
            let u = meta
                .list::<store::Utterance>(&scope, &ListQuery::default())
                .await
                .unwrap();
            if s.is_empty() && u.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the purger did not run on the manual clock");
    }
}
