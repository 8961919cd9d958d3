//! Errors of the Azure DevOps client. Messages name the organization and the route, never the
//! personal access token.

/// A failed Azure DevOps call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with a sign-in page (203/302/HTML) or 401: the PAT is wrong.
    #[error(
        "Azure DevOps refused the personal access token for {organization} (HTTP {status}): it is invalid, expired, revoked or lacks access to this organization; set a valid one in OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN"
    )]
    InvalidPat {
        /// The organization URL.
        organization: String,
        /// The status that revealed it.
        status: u16,
    },
    /// Azure DevOps refused a service principal's valid Entra ID token.
    #[error(
        "Azure DevOps refused the service principal's token for {organization} (HTTP {status}): add the application to the organization (Organization settings → Users) with access to its projects"
    )]
    ServicePrincipalRefused {
        /// The organization URL.
        organization: String,
        /// The status that revealed it.
        status: u16,
    },
    /// Entra ID gave no token to the service principal.
    #[error(
        "Entra ID refused a token to client {client_id} of tenant {tenant}: {message}; check OCEAN__INTEGRATION__CONFIG__CLIENT_ID, OCEAN__INTEGRATION__CONFIG__CLIENT_SECRET and OCEAN__INTEGRATION__CONFIG__TENANT_ID"
    )]
    TokenFailed {
        /// `tenantId`.
        tenant: String,
        /// `clientId`.
        client_id: String,
        /// Entra ID's reason (never the secret).
        message: String,
    },
    /// The resource does not exist (or the token may not see it).
    #[error("{route} was not found (HTTP 404)")]
    NotFound {
        /// The route.
        route: String,
        /// Azure DevOps's own message, when its answer had one (`Pipeline with id 7 not found.`).
        message: String,
    },
    /// Any other error status, after retries where allowed.
    #[error("{method} {route} failed with HTTP {status}: {message}")]
    Http {
        /// HTTP method.
        method: String,
        /// Route.
        route: String,
        /// Status.
        status: u16,
        /// The service's message (or body excerpt).
        message: String,
    },
    /// The organization could not be reached (after retries).
    #[error(
        "{method} {route}: {message}; check OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL and the network"
    )]
    Transport {
        /// HTTP method.
        method: String,
        /// Route.
        route: String,
        /// Cause.
        message: String,
    },
    /// The service's TLS certificate was refused (not retried: it will not change by itself).
    #[error("{method} {route}: {message}")]
    Certificate {
        /// HTTP method.
        method: String,
        /// Route.
        route: String,
        /// The certificate problem, the host and what to set.
        message: String,
    },
    /// The response did not have the expected shape.
    #[error("unexpected response from {route} at JSON path `{path}`: {message}")]
    Decode {
        /// Route.
        route: String,
        /// JSON path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A failure shared by several callers of one memoized request.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),
    /// The client could not be built (bad organization URL, TLS setup).
    #[error("cannot build the Azure DevOps client: {0}")]
    Build(String),
}

impl Error {
    /// The error itself, seen through the [`Error::Shared`] wrappers of memoized requests.
    #[must_use]
    pub fn root(&self) -> &Self {
        match self {
            Self::Shared(inner) => inner.root(),
            other => other,
        }
    }
}

/// A transport failure as an error a person can act on: the host, the innermost cause and the
/// setting to check; a refused certificate is [`Error::Certificate`] (never retried).
pub(crate) fn transport(
    tls: &http_setup::Tls,
    method: &reqwest::Method,
    route: String,
    error: &reqwest::Error,
) -> Error {
    match tls.failure(error) {
        http_setup::Failure::Certificate(message) => Error::Certificate {
            method: method.to_string(),
            route,
            message,
        },
        http_setup::Failure::Transient(message) => Error::Transport {
            method: method.to_string(),
            route,
            message,
        },
    }
}
