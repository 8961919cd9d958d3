//! Errors of the Azure DevOps client. Messages name the organization and the route, never the
//! personal access token.

/// A failed Azure DevOps call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with a sign-in page (203/302/HTML) or 401: the PAT is wrong.
    #[error(
        "Azure DevOps refused the personal access token for {organization} (HTTP {status}): the personalAccessToken is invalid, expired, revoked or lacks access to this organization"
    )]
    InvalidPat {
        /// The organization URL.
        organization: String,
        /// The status that revealed it.
        status: u16,
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
    /// The organization could not be reached.
    #[error("{method} {route}: {message}")]
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
    /// A selector option of the mapping has a value the kind cannot use.
    #[error(
        "selector option `{option}` of kind `{kind}` {message}; fix it in the port-app-config mapping"
    )]
    Selector {
        /// The kind.
        kind: String,
        /// The option.
        option: String,
        /// What is wrong with it.
        message: String,
    },
    /// The client could not be built (bad organization URL, TLS setup).
    #[error("cannot build the Azure DevOps client: {0}")]
    Build(String),
}
