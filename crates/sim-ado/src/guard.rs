//! The guard every API route passes: it counts the request, waits the configured latency,
//! answers scripted faults, checks the PAT (or an Entra ID token) and the api-version, and
//! throttles with Azure DevOps' rate-limit headers. Beside the areas; `routes.rs` layers it.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine;

use crate::{
    entra,
    state::{AdoState, Inner},
    wire::{error, unix_seconds},
};

type Shared = State<Arc<AdoState>>;

/// Counts, delays, injects scripted faults, throttles and checks the PAT like the service does.
pub(crate) async fn guard(
    State(state): Shared,
    path: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let route = format!("{} {}", request.method(), path.as_str());
    let (latency, pause, scripted, usage, in_flight) = {
        let mut inner = state.lock();
        let in_flight = InFlight::enter(&state, &mut inner);
        *inner.requests.entry(route.clone()).or_default() += 1;
        let scripted = inner
            .scripted
            .iter_mut()
            .find(|s| s.remaining > 0 && route.contains(&s.route))
            .map(|s| {
                s.remaining -= 1;
                (s.status, s.retry_after, s.body.clone())
            });
        let usage = state.config.rate_limit.map(|limit| {
            let now = unix_seconds();
            if inner.window.0 != now {
                inner.window = (now, 0);
            }
            inner.window.1 += 1;
            if inner.window.1 > limit {
                inner.throttled += 1;
            }
            (limit, inner.window.1, now + 1)
        });
        (inner.latency, inner.body_pause, scripted, usage, in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some((status, retry_after, body)) = scripted {
        if let Some(body) = body {
            return Json(body).into_response();
        }
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = error(
            code,
            "InjectedFault",
            &format!("TF400733: injected status {status}"),
        );
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(after));
            response
                .headers_mut()
                .insert("x-ratelimit-remaining", HeaderValue::from(0));
        }
        return response;
    }
    if !pat_ok(&state, request.headers()) {
        return bad_pat(request.headers());
    }
    if let Some(refused) = version_out_of_range(&state, request.uri().query().unwrap_or_default()) {
        return refused;
    }
    if let Some((limit, used, reset)) = usage
        && used > limit
    {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "RequestBlockedException",
            "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Requests' in namespace 'Simulator'.",
        );
        rate_limit_headers(response.headers_mut(), limit, 0, reset);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return response;
    }
    let mut response = next.run(request).await;
    // Azure DevOps sends the X-RateLimit headers once a client nears its budget, before it
    // delays or blocks anything (ado-api.md §4).
    if let Some((limit, used, reset)) = usage
        && used * 2 > limit
    {
        rate_limit_headers(response.headers_mut(), limit, limit - used, reset);
    }
    paced(response, pause, in_flight).await
}

/// `response` with its body sent in two halves the body pause apart, if one is set, and
/// counted in flight until sent.
async fn paced(response: Response, pause: Duration, in_flight: InFlight) -> Response {
    use futures::StreamExt as _;
    if pause.is_zero() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let (first, rest) = (
        bytes.slice(..bytes.len() / 2),
        bytes.slice(bytes.len() / 2..),
    );
    let rest = async move {
        tokio::time::sleep(pause).await;
        rest
    };
    let halves = futures::stream::iter([first])
        .chain(futures::stream::once(rest))
        .map(move |half| {
            let _held_until_the_body_is_dropped = &in_flight;
            Ok::<_, std::convert::Infallible>(half)
        });
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from_stream(halves))
}

/// One request being answered: counted in [`crate::state::Inner::in_flight`] until dropped.
struct InFlight(Arc<AdoState>);

impl InFlight {
    /// Counts one more request in `inner`, the locked state of `state`.
    fn enter(state: &Arc<AdoState>, inner: &mut Inner) -> Self {
        inner.in_flight.0 += 1;
        inner.in_flight.1 = inner.in_flight.1.max(inner.in_flight.0);
        Self(Arc::clone(state))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().in_flight.0 -= 1;
    }
}

fn rate_limit_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    headers.insert("x-ratelimit-resource", HeaderValue::from_static("Requests"));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// A Basic PAT, or a bearer token of the simulator's service principal.
fn pat_ok(state: &AdoState, headers: &HeaderMap) -> bool {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return entra::accepts(state, token);
    }
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    text.split_once(':')
        .is_some_and(|(_, pat)| pat == state.config.pat)
}

/// A bad PAT is not a 401 on Azure DevOps: a 203 with an HTML sign-in page, unless the client
/// asked for `X-TFS-FedAuthRedirect: Suppress` (ado-api.md §1).
fn bad_pat(headers: &HeaderMap) -> Response {
    if headers
        .get("x-tfs-fedauthredirect")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"suppress"))
    {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            "TF400813: The user is not authorized to access this resource.",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"https://dev.azure.com/\""),
        );
        return response;
    }
    let page = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>";
    (
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// As an Azure DevOps Server does (`SimConfig::max_api_version`): an api-version newer than the
/// newest it takes is refused, naming that one.
fn version_out_of_range(state: &AdoState, query: &str) -> Option<Response> {
    let max = state.config.max_api_version.as_deref()?;
    let number = |v: &str| -> Vec<u32> {
        let release = v.split('-').next().unwrap_or_default();
        release.split('.').filter_map(|p| p.parse().ok()).collect()
    };
    let (_, asked) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "api-version")?;
    (number(&asked) > number(max)).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            "VssVersionOutOfRangeException",
            &format!("VS800003: The requested REST API version of {asked} is out of range for this server. The latest REST API version this server supports is {max}."),
        )
    })
}
