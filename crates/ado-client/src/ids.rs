//! Newtype ids (octocrab's `id_type!` idea, STYLE rule 7): a project id cannot be passed where
//! a repository id is expected. Text ids ([`ProjectId`], [`RepositoryId`], [`TeamId`],
//! [`CommitId`]) wrap a `String`; the ids Azure DevOps numbers ([`PullRequestId`],
//! [`BuildId`], [`PipelineId`], [`ReleaseId`], [`ReleaseDefinitionId`]) wrap a `u64`.
//!
//! They are internal types: items stay `serde_json::Value`, so what jq maps is unchanged.
//! Serialized, an id is its bare value (`#[serde(transparent)]`), and `Debug` prints the bare
//! value too (`"p"`, `42`), so a structure's `Debug` text is the same as with plain values.
//!
//! ```
//! use ado_client::{BuildId, ProjectId};
//!
//! let project = ProjectId::of(&serde_json::json!({"id": "6ce954b1", "name": "Fabrikam"}));
//! assert_eq!(project.as_str(), "6ce954b1");
//! let build: BuildId = "104".parse().expect("a number");
//! assert_eq!(build, BuildId::from(104));
//! assert_eq!(format!("{project}/{build}"), "6ce954b1/104");
//! ```

use std::{convert::Infallible, fmt, num::ParseIntError, str::FromStr};

use serde_json::Value;

/// Declares a newtype id over a `String`.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The `id` field of an Azure DevOps object (a number as its digits; empty when
            /// the object has none, which the service then answers as not found).
            #[must_use]
            pub fn of(object: &Value) -> Self {
                Self(match object.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                })
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned `String`.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(id: &str) -> Result<Self, Infallible> {
                Ok(Self::from(id))
            }
        }
    };
}

/// Declares a newtype id over a `u64`.
macro_rules! number_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The `id` field of an Azure DevOps object, when it is a number.
            #[must_use]
            pub fn of(object: &Value) -> Option<Self> {
                object.get("id").and_then(Value::as_u64).map(Self)
            }

            /// The id as a number.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;

            fn from_str(id: &str) -> Result<Self, ParseIntError> {
                id.parse().map(Self)
            }
        }
    };
}

text_id! {
    /// A project's id (Azure DevOps also accepts the project's name wherever it takes the id).
    ProjectId
}

text_id! {
    /// A Git repository's id (or its name, within a project).
    RepositoryId
}

text_id! {
    /// A team's id (or its name, within a project).
    TeamId
}

text_id! {
    /// A Git commit's id (its SHA-1, 40 hex digits).
    CommitId
}

number_id! {
    /// A pull request's id (unique in the organization).
    PullRequestId
}

number_id! {
    /// A build's id, which is also the id of the pipeline run it is (Pipelines API).
    BuildId
}

number_id! {
    /// A YAML pipeline's id, which is also the id of its build definition (Build API).
    PipelineId
}

number_id! {
    /// A release's id (release host).
    ReleaseId
}

number_id! {
    /// A release definition's id (release host).
    ReleaseDefinitionId
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_serialize_and_debug_print_as_their_bare_value() {
        let (project, pr) = (ProjectId::from("p"), PullRequestId::from(7));
        assert_eq!(
            serde_json::to_value((&project, pr)).ok(),
            Some(json!(["p", 7]))
        );
        assert_eq!(format!("{project:?} {pr:?}"), r#""p" 7"#);
        assert_eq!(
            serde_json::from_value::<RepositoryId>(json!("r")).ok(),
            Some(RepositoryId::from("r"))
        );
    }

    #[test]
    fn an_objects_id_is_read_from_its_id_field() {
        assert_eq!(RepositoryId::of(&json!({"id": "r1"})).as_str(), "r1");
        assert_eq!(TeamId::of(&json!({"id": 12})).as_str(), "12");
        assert_eq!(ProjectId::of(&json!({})).as_str(), "");
        assert_eq!(BuildId::of(&json!({"id": 104})), Some(BuildId::from(104)));
        assert_eq!(BuildId::of(&json!({"id": "104"})), None);
        assert!("x".parse::<PipelineId>().is_err());
    }
}
