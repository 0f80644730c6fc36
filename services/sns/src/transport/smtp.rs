//! Email deliveries: one plain-text UTF-8 message per attempt to the configured SMTP relay
//! (`[sns] smtp_relay`, `host:port`), with `lettre`. The relay is expected to be local or on a
//! trusted network: the connection is plain SMTP without TLS or authentication. Without a relay
//! every attempt fails with a reason that says so, and the delivery retries on AWS's email
//! schedule, so mail published before a relay is configured still goes out once it is.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Display name of the sender (the topic's `DisplayName`, or "AWS Notifications").
    pub from_name: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The SMTP client of deliveries.
#[derive(Clone)]
pub struct SmtpTransport {
    relay: Option<(String, u16)>,
    from: String,
}

impl SmtpTransport {
    /// A client of `relay` (`host:port`, `None`: no relay) sending as `from`.
    pub fn new(relay: Option<(String, u16)>, from: String) -> Self {
        SmtpTransport { relay, from }
    }

    /// Send `mail`; `Err(reason)` when the relay is missing, unreachable or refuses it.
    pub async fn send(&self, mail: &Mail) -> Result<(), String> {
        let Some((host, port)) = &self.relay else {
            return Err("no SMTP relay configured ([sns] smtp_relay)".into());
        };
        let from_addr = self.from.parse().map_err(|e| format!("smtp_from {:?}: {e}", self.from))?;
        let to = mail.to.parse::<Mailbox>().map_err(|e| format!("address {:?}: {e}", mail.to))?;
        let message = Message::builder()
            .from(Mailbox::new(Some(mail.from_name.clone()), from_addr))
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| format!("building the mail: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone()).port(*port).timeout(Some(TIMEOUT)).build();
        transport.send(message).await.map(|_| ()).map_err(|e| format!("smtp relay {host}:{port}: {e}"))
    }
}

/// Parse `host:port` (IPv6 as `[::1]:25`).
pub fn parse_relay(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("{s:?} is not host:port"))?;
    let port: u16 = port.parse().map_err(|_| format!("{s:?} has no valid port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{s:?} has no host"));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays() {
        assert_eq!(parse_relay("127.0.0.1:2525").unwrap(), ("127.0.0.1".to_string(), 2525));
        assert_eq!(parse_relay("[::1]:25").unwrap(), ("::1".to_string(), 25));
        assert!(parse_relay("mail").is_err());
        assert!(parse_relay(":25").is_err());
    }

    #[tokio::test]
    async fn no_relay_is_a_failed_attempt() {
        let t = SmtpTransport::new(None, "no-reply@hearth.local".into());
        let mail = Mail { from_name: "x".into(), to: "a@b.c".into(), subject: "s".into(), body: "b".into() };
        assert!(t.send(&mail).await.unwrap_err().contains("smtp_relay"));
    }
}
