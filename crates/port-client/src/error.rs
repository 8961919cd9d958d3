//! The client's error type: each variant names the failed operation and carries its context.
//! Messages never contain credentials or tokens.

/// A failed Port API call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Port refused the client credentials (check `OCEAN__PORT__CLIENT_ID`/`CLIENT_SECRET`).
    #[error(
        "Port refused the client credentials (HTTP {status}) at {url}; check OCEAN__PORT__CLIENT_ID and OCEAN__PORT__CLIENT_SECRET"
    )]
    Auth {
        /// HTTP status of the token request.
        status: u16,
        /// The token endpoint.
        url: String,
    },
    /// Port answered with an error status.
    #[error("{method} {route} failed with HTTP {status}: {body}{}", trace_suffix(.trace_id.as_deref()))]
    Http {
        /// HTTP method.
        method: String,
        /// Route (path without the host).
        route: String,
        /// HTTP status.
        status: u16,
        /// Response body (truncated).
        body: String,
        /// Port's `x-trace-id`, for support requests.
        trace_id: Option<String>,
    },
    /// A response did not have the expected shape.
    #[error("unexpected response from {route} at JSON path `{path}`: {message}")]
    Decode {
        /// Route.
        route: String,
        /// JSON path of the offending value.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The request could not be sent or the response not read.
    #[error("{method} {route}: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Route.
        route: String,
        /// Cause (connection refused, timeout, ...).
        message: String,
    },
    /// Port's TLS certificate was refused (not retried: it will not change by itself).
    #[error("{route}: {message}")]
    Certificate {
        /// Method and route.
        route: String,
        /// The certificate problem, the host and what to set.
        message: String,
    },
    /// The client could not be built.
    #[error("cannot build the Port client: {0}")]
    Build(String),
}

fn trace_suffix(trace: Option<&str>) -> String {
    trace
        .map(|t| format!(" (x-trace-id {t})"))
        .unwrap_or_default()
}

impl Error {
    /// The HTTP status behind this error, if Port answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. } | Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}
