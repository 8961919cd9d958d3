//! [`Client`] and [`ClientBuilder`]: base URL, credentials, User-Agent, timeouts, and the one
//! request loop every call goes through (token, send, classify, retry).
//!
//! It sits above [`crate::transport`] (request pieces) and [`crate::auth`] (token cache); the API
//! handlers in `api/` sit above it and hand themselves out through `impl Client` there.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use reqwest::header;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::{
    Error, Installation,
    auth::TokenCache,
    retry::{Outcome, RetryAction, classify},
    transport::{Call, http_error, pause, send_recorded, transport_error},
};

/// A Port API client; cheap to clone (shared connection pool and token cache).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// What every request of one [`Client`] shares: connection pool, base URL and token cache.
pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: TokenCache,
    tls: http_setup::Tls,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    base: Url,
    client_id: SecretString,
    client_secret: SecretString,
    installation: Option<Installation>,
    timeout: Duration,
    tls: http_setup::Tls,
}

impl Client {
    /// Starts building a client for `base_url` (e.g. `https://api.getport.io`; `/v1` is added).
    #[must_use]
    pub fn builder(
        base_url: Url,
        client_id: SecretString,
        client_secret: SecretString,
    ) -> ClientBuilder {
        ClientBuilder {
            base: base_url,
            client_id,
            client_secret,
            installation: None,
            timeout: Duration::from_mins(1),
            tls: http_setup::Tls::system("OCEAN__SSL__PORT__VERIFY"),
        }
    }

    /// The same Port organization and credentials, sending `header` as the User-Agent (the
    /// gitops writes' own); it fetches its own token.
    pub fn with_user_agent_header(&self, header: &str, timeout: Duration) -> Result<Self, Error> {
        let http = self
            .inner
            .tls
            .builder()
            .user_agent(header)
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: self.inner.base.clone(),
                auth: self.inner.auth.same_credentials(),
                tls: self.inner.tls.clone(),
            }),
        })
    }
}

impl ClientBuilder {
    /// Sets the installation, whose User-Agent decides entity ownership (required).
    #[must_use]
    pub fn installation(mut self, installation: Installation) -> Self {
        self.installation = Some(installation);
        self
    }

    /// Sets the per-request timeout (default 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the extra CA roots and verification (default: the system's roots, verified).
    #[must_use]
    pub fn tls(mut self, tls: http_setup::Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Builds the client (proxies come from the environment).
    pub fn build(self) -> Result<Client, Error> {
        let installation = self.installation.ok_or_else(|| {
            Error::Build(
                "an installation is required: its User-Agent decides entity ownership".into(),
            )
        })?;
        let http = self
            .tls
            .builder()
            .user_agent(installation.to_string())
            .timeout(self.timeout)
            .pool_max_idle_per_host(50)
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        let mut base = self.base;
        let shown = base.to_string();
        base.path_segments_mut()
            .map_err(|()| Error::Build(format!("{shown} cannot be a base URL")))?
            .pop_if_empty()
            .push("v1");
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                auth: TokenCache::new(
                    url_under(&base, &["auth", "access_token"]),
                    self.client_id,
                    self.client_secret,
                    self.tls.clone(),
                ),
                base,
                tls: self.tls,
            }),
        })
    }
}

/// `base` with `segments` appended to its path.
fn url_under(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.extend(segments);
    }
    url
}

impl Inner {
    /// Sends `call` with retries; returns the final status and body.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<(u16, Bytes), Error> {
        let url = call
            .target
            .cloned()
            .unwrap_or_else(|| url_under(&self.base, call.segments));
        let route = format!("{} {}", call.method, url.path());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let auth = self.auth.authorization(&self.http).await?;
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .header(header::AUTHORIZATION, auth.expose_secret())
                .query(&call.query);
            for (name, value) in call.headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = &call.body {
                request = request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let response = match send_recorded(call.segments, request).await {
                Ok(response) => response,
                Err(error) => {
                    let failed = transport_error(&self.tls, &call.method, url.path(), &error);
                    if matches!(failed, Error::Certificate { .. }) {
                        return Err(failed);
                    }
                    match classify(Outcome::Transport, attempt, call.idempotent, call.accept) {
                        RetryAction::Retry { after, reason } => {
                            pause(&route, &reason, after).await;
                            continue;
                        }
                        _ => return Err(failed),
                    }
                }
            };
            let status = response.status().as_u16();
            if status == 401 {
                self.auth.invalidate(&auth).await;
            }
            match classify(
                Outcome::Status(status, response.headers()),
                attempt,
                call.idempotent,
                call.accept,
            ) {
                RetryAction::Done => {
                    let body = response
                        .bytes()
                        .await
                        .map_err(|e| transport_error(&self.tls, &call.method, url.path(), &e))?;
                    return Ok((status, body));
                }
                RetryAction::Retry { after, reason } => pause(&route, &reason, after).await,
                RetryAction::DontRetry { .. } => {
                    return Err(http_error(&call.method, url.path(), response).await);
                }
            }
        }
    }
}
