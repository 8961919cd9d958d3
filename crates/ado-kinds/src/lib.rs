//! Port's Azure DevOps integration on ocean-rs. So far: its configuration ([`AdoConfig`], the
//! `OCEAN__INTEGRATION__CONFIG__*` keys of the Python integration's `spec.yaml`). The kinds,
//! selectors and webhooks come with the Azure DevOps client (issue 4).
//!
//! ```
//! use ado_kinds::AdoConfig;
//! use ocean::config::{Config, Overrides};
//!
//! let env: Vec<(String, String)> = [
//!     ("OCEAN__PORT__CLIENT_ID", "id"),
//!     ("OCEAN__PORT__CLIENT_SECRET", "secret"),
//!     ("OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL", "https://dev.azure.com/acme"),
//!     ("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN", "pat"),
//! ]
//! .map(|(k, v)| (k.to_owned(), v.to_owned()))
//! .into();
//! let config = Config::<AdoConfig>::load(&env, None, "config.yaml", &Overrides::default(), |_, _| {})
//!     .expect("valid");
//! assert_eq!(config.integration.r#type, "azure-devops");
//! ```

mod config;

pub use config::{AccountMode, AdoConfig};
