//! [`Client`] and [`ClientBuilder`]: base URL, credentials, User-Agent, timeouts, and the one
//! request loop every call goes through (token, send, classify, retry).

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use reqwest::{Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::warn;
use url::Url;

use crate::{
    Error, UserAgent,
    api::{blueprints::Blueprints, entities::Entities, integration::Integration},
    auth::Token,
    retry::{Outcome, RetryAction, classify},
};

/// How much of an error body is kept in [`Error::Http`].
const MAX_ERROR_BODY: usize = 2000;

/// A Port API client; cheap to clone (shared connection pool and token cache).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    base: Url,
    pub(crate) client_id: SecretString,
    pub(crate) client_secret: SecretString,
    pub(crate) token: tokio::sync::Mutex<Option<Token>>,
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
    user_agent: Option<UserAgent>,
    timeout: Duration,
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
            user_agent: None,
            timeout: Duration::from_mins(1),
        }
    }

    /// The same Port organization and credentials, sending `header` as the User-Agent (the
    /// gitops writes' own); it fetches its own token.
    pub fn with_user_agent_header(&self, header: &str, timeout: Duration) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(header)
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: self.inner.base.clone(),
                client_id: self.inner.client_id.clone(),
                client_secret: self.inner.client_secret.clone(),
                token: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// Entity calls.
    #[must_use]
    pub fn entities(&self) -> Entities<'_> {
        Entities { client: self }
    }

    /// Blueprint calls.
    #[must_use]
    pub fn blueprints(&self) -> Blueprints<'_> {
        Blueprints { client: self }
    }

    /// Integration-record calls.
    #[must_use]
    pub fn integration(&self) -> Integration<'_> {
        Integration { client: self }
    }
}

impl ClientBuilder {
    /// Sets the User-Agent, which decides entity ownership (required).
    #[must_use]
    pub fn user_agent(mut self, user_agent: UserAgent) -> Self {
        self.user_agent = Some(user_agent);
        self
    }

    /// Sets the per-request timeout (default 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the client (proxies and CA bundles come from the environment).
    pub fn build(self) -> Result<Client, Error> {
        let user_agent = self.user_agent.ok_or_else(|| {
            Error::Build("a User-Agent is required: it decides entity ownership".into())
        })?;
        let http = reqwest::Client::builder()
            .user_agent(user_agent.to_string())
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
                base,
                client_id: self.client_id,
                client_secret: self.client_secret,
                token: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

/// One request: method, path segments under `/v1`, query, body, retry policy.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) body: Option<Bytes>,
    /// Whether a retry after a 5xx/transport error is safe.
    pub(crate) idempotent: bool,
    /// Non-2xx statuses handed back to the caller instead of failing.
    pub(crate) accept: &'a [u16],
}

impl Inner {
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        url
    }

    pub(crate) async fn pause(&self, route: &str, reason: &str, after: Duration) {
        warn!(
            route,
            reason,
            wait_ms = after.as_millis(),
            "Retrying a Port request."
        );
        tokio::time::sleep(after).await;
    }

    /// Sends `call` with retries; returns the final status and body.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<(u16, Bytes), Error> {
        let url = self.url(call.segments);
        let route = format!("{} {}", call.method, url.path());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let auth = self.authorization().await?;
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .header(header::AUTHORIZATION, auth.expose_secret())
                .query(&call.query);
            if let Some(body) = &call.body {
                request = request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let response = match send_recorded(call.segments, request).await {
                Ok(response) => response,
                Err(error) => {
                    match classify(Outcome::Transport, attempt, call.idempotent, call.accept) {
                        RetryAction::Retry { after, reason } => {
                            self.pause(&route, &reason, after).await;
                            continue;
                        }
                        _ => return Err(transport(&call.method, url.path(), &error)),
                    }
                }
            };
            let status = response.status().as_u16();
            if status == 401 {
                self.invalidate(&auth).await;
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
                        .map_err(|e| transport(&call.method, url.path(), &e))?;
                    return Ok((status, body));
                }
                RetryAction::Retry { after, reason } => self.pause(&route, &reason, after).await,
                RetryAction::DontRetry { .. } => {
                    return Err(http_error(&call.method, url.path(), response).await);
                }
            }
        }
    }
}

fn transport(method: &Method, route: &str, error: &reqwest::Error) -> Error {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    Error::Transport {
        method: method.to_string(),
        route: route.to_owned(),
        message: format!("{kind}: {}", error_chain(error)),
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn http_error(method: &Method, route: &str, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let trace_id = response
        .headers()
        .get("x-trace-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = response.text().await.unwrap_or_default();
    if body.len() > MAX_ERROR_BODY {
        let cut = (0..=MAX_ERROR_BODY)
            .rev()
            .find(|i| body.is_char_boundary(*i))
            .unwrap_or(0);
        body.truncate(cut);
        body.push('…');
    }
    Error::Http {
        method: method.to_string(),
        route: route.to_owned(),
        status,
        body,
        trace_id,
    }
}

/// Decodes a response body, naming the JSON path of a mismatch.
pub(crate) fn decode<T: DeserializeOwned>(route: &str, bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        route: route.to_owned(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// Sends `request`, recording `ocean_api_requests_total{api="port", endpoint, status}` and the
/// request duration. `endpoint` is the route with names replaced (`blueprints/{}/entities/bulk`),
/// so blueprint, entity and integration identifiers never become label values.
async fn send_recorded(
    segments: &[&str],
    request: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let started = std::time::Instant::now();
    let result = request.send().await;
    let endpoint = endpoint(segments);
    let status = result.as_ref().map_or_else(
        |_| "error".to_owned(),
        |response| response.status().as_u16().to_string(),
    );
    metrics::histogram!("ocean_api_request_duration_seconds", "api" => "port", "endpoint" => endpoint.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("ocean_api_requests_total", "api" => "port", "endpoint" => endpoint, "status" => status)
        .increment(1);
    result
}

/// Segments that name something (the one after `blueprints`, `integration`, ...) become `{}`.
fn endpoint(segments: &[&str]) -> String {
    const NAMED_AFTER: [&str; 5] = [
        "blueprints",
        "integration",
        "scorecards",
        "pages",
        "entities",
    ];
    const VERBS: [&str; 2] = ["bulk", "search"];
    let mut out = Vec::with_capacity(segments.len());
    let mut previous = "";
    for segment in segments {
        let named = NAMED_AFTER.contains(&previous) && !VERBS.contains(segment);
        out.push(if named { "{}" } else { segment });
        previous = segment;
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_labels_hide_names() {
        assert_eq!(
            super::endpoint(&["blueprints", "azureDevopsRepository", "entities", "bulk"]),
            "blueprints/{}/entities/bulk"
        );
        assert_eq!(
            super::endpoint(&["blueprints", "b", "entities", "e-1"]),
            "blueprints/{}/entities/{}"
        );
        assert_eq!(
            super::endpoint(&["integration", "my-ado"]),
            "integration/{}"
        );
        assert_eq!(
            super::endpoint(&["auth", "access_token"]),
            "auth/access_token"
        );
    }
}
