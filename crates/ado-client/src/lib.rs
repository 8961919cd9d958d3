//! A thin Azure DevOps REST client: PAT or service-principal auth ([`Credentials`]), one request
//! budget per organization, throttling
//! (`Retry-After`), bounded retries, and paging as streams. Items stay `serde_json::Value` so
//! jq mappings see the service's JSON untouched (rust-stack.md §3).
//!
//! Principal types: [`Client`] (one per organization), [`Credentials`], [`Paging`] and [`Error`];
//! ids are newtypes ([`ProjectId`], [`RepositoryId`], [`BuildId`], …), so that one kind of id
//! cannot be passed for another.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ado_client::Error> {
//! use ado_client::{Client, ClientOptions, ProjectId};
//! use secrecy::SecretString;
//!
//! let org = "https://dev.azure.com/acme".parse().expect("valid URL");
//! let client = Client::new(&org, &SecretString::from("pat"), &ClientOptions::default())?;
//! let project = client.project(&ProjectId::from("Fabrikam")).await?;
//! # Ok(()) }
//! ```

mod api;
pub mod auth;
mod body;
mod client;
mod error;
mod ids;
mod page;
pub mod retry;
mod version;

pub use auth::{Credentials, ServicePrincipal};
pub use client::{ADVSEC_API_VERSION, API_VERSION, Client, ClientOptions, Host};
pub use error::Error;
pub use ids::{
    BuildId, CommitId, PipelineId, ProjectId, PullRequestId, ReleaseDefinitionId, ReleaseId,
    RepositoryId, TeamId,
};
pub use page::Paging;
