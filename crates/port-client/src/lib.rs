//! A typed client for Port's REST API, as the Ocean framework uses it (ocean-framework.md §2).
//!
//! Principal types: [`Client`] (token cache and refresh, retries, one handler per API area:
//! [`Client::entities`], [`Client::blueprints`], [`Client::integration`]), [`Installation`] (which
//! decides entity ownership in Port) and [`Error`]. Retry decisions live in [`retry`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), port_client::Error> {
//! use port_client::{Client, Installation};
//! use secrecy::SecretString;
//!
//! let client = Client::builder(
//!     "https://api.getport.io".parse().expect("valid URL"),
//!     SecretString::from("client-id"),
//!     SecretString::from("client-secret"),
//! )
//! .installation(Installation {
//!     integration_type: "azure-devops".into(),
//!     version: "0.1.0".into(),
//!     identifier: "my-azure-devops".into(),
//! })
//! .build()?;
//! let blueprint = client.blueprints().get("azureDevopsProject").await?;
//! # Ok(()) }
//! ```

mod api;
mod auth;
mod client;
mod error;
mod models;
pub mod retry;
mod transport;

pub use api::{
    actions::{Ack, ActionRef, ActionRun, Actions, Invocation},
    blueprints::Blueprints,
    entities::{Entities, EntityText},
    integration::Integration,
    organization::{KafkaCredentials, Organization},
};
pub use client::{Client, ClientBuilder};
pub use error::Error;
pub use models::{
    BulkUpsertReport, EntityFailure, IngestAttributes, Installation, IntegrationRecord,
    ResyncState, UpsertOptions, UpsertedEntity,
};
