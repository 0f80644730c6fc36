//! HTTP/S deliveries: one POST per attempt with SNS's headers, through `ureq` on the blocking
//! pool (its agent keeps connections alive between deliveries). As AWS documents, the endpoint
//! has 15 seconds to answer; a status from 200 to 499 is a delivery (redirects are not
//! followed), anything else or no answer is a failed attempt.

use std::time::Duration;

/// What SNS sends to HTTP/S endpoints.
pub const USER_AGENT: &str = "Amazon Simple Notification Service Agent";

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// One POST to make.
#[derive(Debug, Clone)]
pub struct Post {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// The HTTP client of deliveries; cheap to clone.
#[derive(Clone)]
pub struct HttpTransport {
    agent: ureq::Agent,
}

impl Default for HttpTransport {
    fn default() -> Self {
        HttpTransport { agent: ureq::AgentBuilder::new().timeout(TIMEOUT).redirects(0).user_agent(USER_AGENT).build() }
    }
}

impl HttpTransport {
    /// Send `post`; `Ok(status)` when the endpoint took it (200–499), `Err(reason)` otherwise.
    pub async fn send(&self, post: Post) -> Result<u16, String> {
        let agent = self.agent.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let mut req = agent.post(&post.url);
            for (k, v) in &post.headers {
                req = req.set(k, v);
            }
            match req.send_string(&post.body) {
                Ok(resp) => Ok(resp.status()),
                Err(ureq::Error::Status(code, _)) => Ok(code),
                Err(ureq::Error::Transport(t)) => Err(t.to_string()),
            }
        })
        .await
        .map_err(|e| format!("delivery task failed: {e}"))?;
        match outcome? {
            code @ 200..=499 => Ok(code),
            code => Err(format!("endpoint answered HTTP {code}")),
        }
    }
}
