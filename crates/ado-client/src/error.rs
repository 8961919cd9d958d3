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

/// A transport failure in a line a person can act on: what failed, towards which host, and the
/// innermost cause (`could not connect to dev.azure.com:443: Connection refused (os error
/// 111)`), instead of reqwest's chain that repeats the URL and its layers.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let host = error
        .url()
        .and_then(|url| {
            Some(format!(
                "{}:{}",
                url.host_str()?,
                url.port_or_known_default()?
            ))
        })
        .unwrap_or_else(|| "the organization".to_owned());
    let what = if error.is_timeout() {
        "timed out talking to"
    } else if error.is_connect() {
        "could not connect to"
    } else {
        "the connection failed with"
    };
    format!("{what} {host}: {cause}")
}
