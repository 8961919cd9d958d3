//! [`Client`]: one per organization. Every request goes through [`Client::send`]: a shared
//! concurrency budget, a pause honoured by all requests after a `Retry-After`, PAT auth with
//! `X-TFS-FedAuthRedirect: Suppress`, no redirects, sign-in pages turned into
//! [`Error::InvalidPat`], and retries decided by [`crate::retry::classify`].

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use reqwest::{Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::{sync::Semaphore, time::Instant};
use tracing::{debug, warn};
use url::Url;

use crate::{
    Credentials, Error,
    body::{service_message, without_bom},
    retry::{RetryAction, classify, rate_limit_pause, retry_after},
    version::{supported_version, with_version_capped},
};

/// The api-version sent with every call (the 7.1 GA specs).
pub const API_VERSION: &str = "7.1";
/// The api-version of Advanced Security calls, which has no GA version.
pub const ADVSEC_API_VERSION: &str = "7.2-preview.1";

/// Which Azure DevOps host serves a call (ado-api.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `dev.azure.com/{org}`: core, git, work, wit.
    Core,
    /// `vsrm.dev.azure.com/{org}`: releases.
    Release,
    /// `advsec.dev.azure.com/{org}`: Advanced Security.
    AdvancedSecurity,
    /// `vssps.dev.azure.com/{org}`: the Graph (users, groups, memberships).
    Graph,
    /// `vsaex.dev.azure.com/{org}`: user entitlements.
    Entitlements,
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-request timeout (`OCEAN__CLIENT_TIMEOUT`).
    pub timeout: Duration,
    /// Requests in flight per organization.
    pub concurrency: usize,
    /// Extra CA roots and verification (`OCEAN__SSL__THIRD_PARTY__VERIFY`).
    pub tls: http_setup::Tls,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_mins(1),
            concurrency: 16,
            tls: http_setup::Tls::system("OCEAN__SSL__THIRD_PARTY__VERIFY"),
        }
    }
}

/// An Azure DevOps organization client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    core: Url,
    release: Url,
    advsec: Url,
    graph: Url,
    entitlements: Url,
    credentials: Credentials,
    budget: Semaphore,
    concurrency: usize,
    /// No request starts before this instant (set from `Retry-After`, shared by all requests).
    paused_until: std::sync::Mutex<Option<Instant>>,
    /// The newest api-version the server accepts, once it refused a newer one (Azure DevOps
    /// Server 2020 stops at 6.0, 2022 at 7.0; Services takes the 7.1 this client sends).
    max_version: std::sync::Mutex<Option<String>>,
    /// For describing transport failures.
    tls: http_setup::Tls,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("organization", &self.inner.core.as_str())
            .finish_non_exhaustive()
    }
}

/// A successful response.
pub(crate) struct Reply {
    pub(crate) headers: header::HeaderMap,
    pub(crate) body: Bytes,
}

impl Client {
    /// A client for `organization_url` (`https://dev.azure.com/acme`, `https://acme.visualstudio.com`
    /// or an Azure DevOps Server collection URL) with a personal access token.
    pub fn new(
        organization_url: &Url,
        pat: &SecretString,
        options: &ClientOptions,
    ) -> Result<Self, Error> {
        Self::with_credentials(organization_url, Credentials::Pat(pat.clone()), options)
    }

    /// A client for `organization_url` authenticating with `credentials`.
    pub fn with_credentials(
        organization_url: &Url,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Self, Error> {
        let http = options
            .tls
            .builder()
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // hyper opens a connection whenever none is idle at the instant a request starts,
            // and pools it even when another came back first: unbounded, the pool grew past
            // the budget (52 connections to sim-ado at medium for 16), each keeping a read
            // buffer sized for its largest body (medium heap peak −1.5 MB with the bound).
            .pool_max_idle_per_host(options.concurrency.max(1))
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        let core = with_trailing_slash(organization_url.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                release: service_host(&core, "vsrm"),
                advsec: service_host(&core, "advsec"),
                graph: service_host(&core, "vssps"),
                entitlements: service_host(&core, "vsaex"),
                core,
                credentials,
                budget: Semaphore::new(options.concurrency.max(1)),
                concurrency: options.concurrency.max(1),
                paused_until: std::sync::Mutex::new(None),
                max_version: std::sync::Mutex::new(None),
                tls: options.tls.clone(),
            }),
        })
    }

    /// The organization URL (for messages and enrichment).
    #[must_use]
    pub fn organization_url(&self) -> &str {
        self.inner.core.as_str().trim_end_matches('/')
    }

    pub(crate) fn url(&self, host: Host, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = match host {
            Host::Core => self.inner.core.clone(),
            Host::Release => self.inner.release.clone(),
            Host::AdvancedSecurity => self.inner.advsec.clone(),
            Host::Graph => self.inner.graph.clone(),
            Host::Entitlements => self.inner.entitlements.clone(),
        };
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            // Advanced Security exists only as 7.2-preview (spec `advancedSecurity`); a call
            // to an endpoint without a GA version names its own in `query`.
            let version = match host {
                Host::AdvancedSecurity => ADVSEC_API_VERSION,
                Host::Core | Host::Release | Host::Graph | Host::Entitlements => API_VERSION,
            };
            if !query.iter().any(|(k, _)| *k == "api-version") {
                pairs.append_pair("api-version", version);
            }
        }
        if let Some(max) = self.max_version() {
            url = with_version_capped(&url, &max);
        }
        url
    }

    /// GET returning the parsed JSON body and the response headers.
    pub(crate) async fn get(
        &self,
        host: Host,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<(Value, header::HeaderMap), Error> {
        let reply = self
            .send(Method::GET, self.url(host, segments, query), None, true)
            .await?;
        Ok((decode(segments, &reply.body)?, reply.headers))
    }

    /// PUT or DELETE (or another method) with an optional JSON body; an empty answer is `Null`.
    pub(crate) async fn call(
        &self,
        method: Method,
        host: Host,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let idempotent = matches!(method, Method::PUT | Method::DELETE | Method::GET);
        let reply = self
            .send(
                method,
                self.url(host, segments, &[]),
                body.map(|b| Bytes::from(b.to_string())),
                idempotent,
            )
            .await?;
        if reply.body.is_empty() {
            return Ok(Value::Null);
        }
        decode(segments, &reply.body)
    }

    /// POST of a JSON body; `idempotent` allows retries after server errors (reads such as WIQL).
    pub(crate) async fn post(
        &self,
        host: Host,
        segments: &[&str],
        query: &[(&str, String)],
        body: &Value,
        idempotent: bool,
    ) -> Result<Value, Error> {
        Ok(self
            .post_with_headers(host, segments, query, body, idempotent)
            .await?
            .0)
    }

    /// [`Client::post`] with the response headers (a continuation token), decoded into `T`.
    pub(crate) async fn post_with_headers<T: serde::de::DeserializeOwned>(
        &self,
        host: Host,
        segments: &[&str],
        query: &[(&str, String)],
        body: &Value,
        idempotent: bool,
    ) -> Result<(T, header::HeaderMap), Error> {
        let reply = self
            .send(
                Method::POST,
                self.url(host, segments, query),
                Some(Bytes::from(body.to_string())),
                idempotent,
            )
            .await?;
        Ok((decode(segments, &reply.body)?, reply.headers))
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        mut url: Url,
        body: Option<Bytes>,
        idempotent: bool,
    ) -> Result<Reply, Error> {
        let route = url.path().to_owned();
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            let permit = self
                .inner
                .budget
                .acquire()
                .await
                .map_err(|e| Error::Build(e.to_string()))?;
            // After the permit: a pause set while this request queued for it still holds it
            // back (every request of the organization waits anyway).
            self.wait_for_pause().await;
            let request = self.request(&method, &url, body.as_ref()).await?;
            // The permit is held until the body is read: the request holds a connection and
            // its buffers until then. Released at the headers, 12 requests queued for a budget
            // of 2 were all at the server at once (`a_request_holds_its_place_in_the_budget…`).
            let result = send_recorded(&url, request).await;
            let response = match result {
                Ok(response) => response,
                Err(error) => {
                    drop(permit);
                    let failed =
                        crate::error::transport(&self.inner.tls, &method, route.clone(), &error);
                    if matches!(failed, Error::Certificate { .. }) {
                        return Err(failed);
                    }
                    match classify(None, None, attempt, idempotent) {
                        RetryAction::Retry { after, reason } => {
                            self.backoff(&route, &reason, after).await;
                            continue;
                        }
                        _ => return Err(failed),
                    }
                }
            };
            let status = response.status().as_u16();
            self.observe_throttling(&route, response.headers());
            if is_sign_in(status, response.headers()) {
                drop(permit);
                // A bearer token may have been revoked or expired early: one fresh token.
                if !renewed && self.inner.credentials.renew_after_unauthorized().await {
                    renewed = true;
                    continue;
                }
                return Err(self.refused(status));
            }
            match classify(Some(status), Some(response.headers()), attempt, idempotent) {
                RetryAction::Done if status == 404 => {
                    let message = service_message(&response.text().await.unwrap_or_default());
                    return Err(Error::NotFound { route, message });
                }
                RetryAction::Done => {
                    let headers = response.headers().clone();
                    let body = response.bytes().await.map_err(|e| {
                        crate::error::transport(&self.inner.tls, &method, route.clone(), &e)
                    })?;
                    return Ok(Reply { headers, body });
                }
                RetryAction::Retry { after, reason } => {
                    drop(permit);
                    self.backoff(&route, &reason, after).await;
                }
                RetryAction::DontRetry { .. } => {
                    let text = response.text().await.unwrap_or_default();
                    // An older Server refuses a newer api-version and names the newest it
                    // takes: every later request uses that one (once, then it is an error).
                    if let Some(max) = supported_version(status, &text)
                        && self.set_max_version(&max)
                    {
                        url = with_version_capped(&url, &max);
                        continue;
                    }
                    let message = service_message(&text);
                    return Err(Error::Http {
                        method: method.to_string(),
                        route,
                        status,
                        message,
                    });
                }
            }
        }
    }

    /// One attempt's request, authenticated; `X-TFS-FedAuthRedirect: Suppress` turns a refused
    /// credential into a 401 instead of a sign-in page.
    async fn request(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Bytes>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let authorization = self.inner.credentials.header().await?;
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(header::AUTHORIZATION, authorization.expose_secret())
            .header(header::ACCEPT, "application/json")
            .header("X-TFS-FedAuthRedirect", "Suppress");
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        Ok(request)
    }

    fn max_version(&self) -> Option<String> {
        self.inner.max_version.lock().ok().and_then(|v| v.clone())
    }

    /// Records the server's newest api-version; false when it was known already (the refusal
    /// is then not about the version sent).
    fn set_max_version(&self, max: &str) -> bool {
        let Ok(mut known) = self.inner.max_version.lock() else {
            return false;
        };
        if known.as_deref() == Some(max) {
            return false;
        }
        tracing::info!(
            organization = self.organization_url(),
            api_version = max,
            "The server takes an older api-version; using it."
        );
        *known = Some(max.to_owned());
        true
    }

    /// The error for a refused credential, naming what to fix.
    fn refused(&self, status: u16) -> Error {
        let organization = self.organization_url().to_owned();
        match self.inner.credentials {
            Credentials::Pat(_) => Error::InvalidPat {
                organization,
                status,
            },
            Credentials::ServicePrincipal(_) => Error::ServicePrincipalRefused {
                organization,
                status,
            },
        }
    }

    /// Microsoft's guidance (ado-api.md §4): honour `Retry-After` even on a success, before the
    /// next request, and slow down when `X-RateLimit-Remaining` runs low.
    fn observe_throttling(&self, route: &str, headers: &header::HeaderMap) {
        if let Some(after) = retry_after(headers) {
            self.pause(after);
        }
        let now = std::time::SystemTime::now();
        if let Some(after) = rate_limit_pause(headers, self.inner.concurrency, now) {
            debug!(
                route,
                wait_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                "Azure DevOps rate limit nearly spent; holding requests until its reset."
            );
            self.pause(after);
        }
    }

    fn pause(&self, after: Duration) {
        let until = Instant::now() + after.min(crate::retry::MAX_BACKOFF);
        if let Ok(mut paused) = self.inner.paused_until.lock()
            && paused.is_none_or(|p| p < until)
        {
            *paused = Some(until);
        }
    }

    /// How long requests to this organization are held back (its rate limit nearly spent, or
    /// a `Retry-After`), if they are: Port action runs wait this out before they start, as
    /// Ocean's executors do (`is_close_to_rate_limit`).
    #[must_use]
    pub fn rate_limited_for(&self) -> Option<Duration> {
        let until = self.inner.paused_until.lock().ok().and_then(|p| *p)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    async fn wait_for_pause(&self) {
        let until = self.inner.paused_until.lock().ok().and_then(|p| *p);
        if let Some(until) = until.filter(|u| *u > Instant::now()) {
            tokio::time::sleep_until(until).await;
        }
    }

    async fn backoff(&self, route: &str, reason: &str, after: Duration) {
        warn!(
            route,
            reason,
            wait_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            "Retrying an Azure DevOps request."
        );
        self.pause(after);
        self.wait_for_pause().await;
    }
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `dev.azure.com/{org}` → `{service}.dev.azure.com/{org}` and `{org}.visualstudio.com` →
/// `{org}.{service}.visualstudio.com` (ado-api.md §2); any other host (Server, the simulator)
/// serves the service itself. (Upstream maps `visualstudio.com` for `vsrm`, `vssps` and
/// `vsaex` only; its Advanced Security URL is a string replace that misses it.)
fn service_host(core: &Url, service: &str) -> Url {
    let mut url = core.clone();
    let host = core.host_str().unwrap_or_default().to_owned();
    let mapped = if host == "dev.azure.com" {
        Some(format!("{service}.dev.azure.com"))
    } else {
        host.strip_suffix(".visualstudio.com")
            .filter(|org| !org.contains('.'))
            .map(|org| format!("{org}.{service}.visualstudio.com"))
    };
    if let Some(mapped) = mapped {
        let _ = url.set_host(Some(&mapped));
    }
    url
}

/// A 203, any 3xx, or an HTML body is a sign-in page: the PAT was refused (ado-api.md §1).
fn is_sign_in(status: u16, headers: &header::HeaderMap) -> bool {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    status == 203
        || status == 401
        || (300..400).contains(&status)
        || ((200..300).contains(&status) && html)
}

fn decode<T: serde::de::DeserializeOwned>(segments: &[&str], body: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(without_bom(body));
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        route: segments.join("/"),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// Sends `request`, recording `ocean_api_requests_total{api="azure-devops", endpoint, status}`
/// and the request duration. `endpoint` is the API area and resource (`wit/workitemsbatch`,
/// `git/repositories`): at most two word segments after `_apis`, so ids and names never become
/// label values.
async fn send_recorded(
    url: &Url,
    request: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let started = std::time::Instant::now();
    let result = request.send().await;
    let endpoint = endpoint(url.path());
    let status = result.as_ref().map_or_else(
        |_| "error".to_owned(),
        |response| response.status().as_u16().to_string(),
    );
    metrics::histogram!("ocean_api_request_duration_seconds", "api" => "azure-devops", "endpoint" => endpoint.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("ocean_api_requests_total", "api" => "azure-devops", "endpoint" => endpoint, "status" => status)
        .increment(1);
    result
}

fn endpoint(path: &str) -> String {
    let words: Vec<&str> = path
        .split('/')
        .skip_while(|segment| *segment != "_apis")
        .skip(1)
        .take(2)
        .take_while(|segment| {
            !segment.is_empty() && segment.chars().all(|c| c.is_ascii_alphabetic())
        })
        .collect();
    if words.is_empty() {
        "other".to_owned()
    } else {
        words.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_starts_with_a_byte_order_mark_is_json() {
        let body = b"\xEF\xBB\xBF{\"count\": 0, \"value\": []}";
        let value: Value = decode(&["_apis", "projects"], body).expect("JSON after the BOM");
        assert_eq!(value["count"], 0);
        let broken =
            decode::<Value>(&["_apis", "projects"], b"\xEF\xBB\xBF{").expect_err("not JSON");
        assert!(broken.to_string().contains("_apis/projects"), "{broken}");
    }

    #[test]
    fn release_calls_go_to_the_vsrm_host_on_services_only() {
        let host = |u: &str| {
            service_host(&u.parse().unwrap(), "vsrm")
                .host_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(host("https://dev.azure.com/acme/"), "vsrm.dev.azure.com");
        assert_eq!(
            host("https://acme.visualstudio.com/"),
            "acme.vsrm.visualstudio.com"
        );
        assert_eq!(
            host("https://tfs.contoso.com/DefaultCollection/"),
            "tfs.contoso.com"
        );
    }

    #[test]
    fn endpoint_labels_name_the_api_not_the_object() {
        assert_eq!(
            super::endpoint("/acme/p-1/_apis/wit/workitemsbatch"),
            "wit/workitemsbatch"
        );
        assert_eq!(
            super::endpoint("/acme/_apis/git/repositories/8f1e/pullrequests"),
            "git/repositories"
        );
        assert_eq!(
            super::endpoint("/acme/_apis/projects/0b4e-77/teams"),
            "projects"
        );
        assert_eq!(super::endpoint("/acme/somewhere"), "other");
    }
}
