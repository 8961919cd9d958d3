//! [`Error`]: what can fail in the integration: an Azure DevOps call, a selector option of the
//! mapping, or an event that cannot be processed; and [`EventShapeError`], a live event whose
//! payload lacks what its event type needs (refused at intake with 400).

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

/// A live event whose payload lacks a field its event type needs, or has it in another form:
/// its text is the reason of the webhook's 400 answer (`ocean::live::Classified::Invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type}: {field} {problem}")]
pub(crate) struct EventShapeError {
    /// The event's `eventType`.
    pub(crate) event_type: String,
    /// The field's path in the payload (`resource.run.id`), with its alternative when the
    /// event may carry either.
    pub(crate) field: &'static str,
    /// What is wrong with it.
    pub(crate) problem: FieldProblem,
}

/// What is wrong with a field of an event's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FieldProblem {
    /// The payload does not have it (or has it as `null`).
    #[error("is missing")]
    Missing,
    /// It is there, but not a string.
    #[error("is not a string")]
    NotText,
    /// It is there, but not a whole number.
    #[error("is not a whole number")]
    NotNumber,
    /// It is there, but not an array.
    #[error("is not an array")]
    NotArray,
}
