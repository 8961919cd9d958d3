//! [`Error`]: what can fail in the integration: an Azure DevOps call, a selector option of the
//! mapping, or an event that cannot be processed.

use crate::AdoKind;

/// A failure of a kind's fetch, of a selector check, or of a live event.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An Azure DevOps call failed (its message names the organization and the route).
    #[error(transparent)]
    Ado(#[from] ado_client::Error),
    /// A resource names a kind this integration does not have.
    #[error(transparent)]
    UnknownKind(#[from] crate::UnknownKind),
    /// A selector option of the mapping has a value the kind cannot use.
    #[error(
        "selector option `{option}` of kind `{kind}` {message}; fix it in the port-app-config mapping"
    )]
    Selector {
        /// The kind.
        kind: AdoKind,
        /// The option (a path such as `criteria.states`).
        option: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    /// A selector error of `kind`'s `option`.
    pub(crate) fn selector(kind: AdoKind, option: &str, message: impl Into<String>) -> Self {
        Self::Selector {
            kind,
            option: option.to_owned(),
            message: message.into(),
        }
    }

    /// Whether Azure DevOps answered 404 (the object is gone, or was never visible).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Ado(ado_client::Error::NotFound { .. }))
    }
}
