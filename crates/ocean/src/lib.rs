//! The Ocean framework in Rust: configuration, the integration contract and the resync engine.
//!
//! Principal types:
//! - [`config::Config`]: Ocean's settings from `OCEAN__*` env vars and `config.yaml`, validated once.
//! - [`Integration`]: what an integration implements: one stream of raw pages per kind.
//! - [`resync::Resync`]: one full resync: pages → jq mapping → diff → batched upserts →
//!   per-kind reconciliation.
//!
//! ```
//! use futures::stream::{self, StreamExt};
//! use ocean::{Integration, PageStream};
//! use mapping::SelectorConfig;
//!
//! /// A toy integration that serves one page of one kind.
//! struct Fixed;
//!
//! impl Integration for Fixed {
//!     type Error = std::io::Error;
//!     fn fetch(&self, kind: &str, _selector: &SelectorConfig) -> Option<PageStream<Self::Error>> {
//!         (kind == "thing").then(|| stream::iter([Ok(vec![serde_json::json!({"id": 1})].into())]).boxed())
//!     }
//! }
//! assert!(Fixed.fetch("other", &SelectorConfig::default()).is_none());
//! ```

pub mod actions;
pub mod config;
pub mod defaults;
mod error;
pub mod health;
mod items;
pub mod kafka;
mod kind;
pub mod listener;
pub mod live;
pub mod redact;
pub mod resync;
pub mod runner;
pub mod server;
pub mod service;
pub mod sync_status;
pub mod telemetry;

pub use error::{Error, Report};
pub use items::{Items, JsonItems};
pub use kind::{Integration, Page, PageStream};
pub use resync::reconcile::{EntityKey, RelationRef};
