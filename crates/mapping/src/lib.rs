//! Port's port-app-config ("mapping") and its jq evaluation, on [jaq]. Pure: no I/O, no async.
//!
//! Principal types: [`PortAppConfig`] (the format as written), [`MappingPlan`] (every jq
//! expression compiled once; all compile errors reported together) and [`Entity`] (what a raw
//! item maps to). Semantics follow Ocean (ocean-framework.md §3): first output wins, a failing
//! field becomes null with a warning, the selector must yield a boolean, `itemsToParse` expands
//! one item into many, and search-query identifiers pass through to Port.
//!
//! ```
//! use mapping::{CompileOptions, MappingPlan, PortAppConfig};
//! use serde_json::json;
//!
//! let config = PortAppConfig::from_yaml(r#"
//! resources:
//!   - kind: repository
//!     selector:
//!       query: '.isDisabled | not'
//!     port:
//!       entity:
//!         mappings:
//!           identifier: .id
//!           title: .name
//!           blueprint: '"service"'
//!           properties:
//!             url: .remoteUrl
//! "#).expect("valid mapping");
//! let plan = MappingPlan::compile(&config, &CompileOptions::default()).expect("compiles");
//! let outcome = plan.resources()[0]
//!     .map_item(&json!({"id": "r1", "name": "api", "isDisabled": false, "remoteUrl": "https://x"}))
//!     .expect("selector is boolean");
//! assert_eq!(outcome.passed[0].properties["url"], "https://x");
//! ```
//!
//! [jaq]: https://github.com/01mf02/jaq

mod config;
mod entity;
mod error;
mod eval;
mod jq;
mod library;
mod natives;
mod plan;

pub use config::{
    EntityConfig, EntityMappings, FieldMapping, PortAppConfig, PortResourceConfig, ResourceConfig,
    SearchQuery, SearchRule, SelectorConfig,
};
pub use entity::Entity;
pub use error::{CompileError, CompileErrors, Error, MapError};
pub use eval::{DroppedEntity, FieldWarning, ItemOutcome, SharedFields};
pub use jq::{Jq, JqCompileError, from_val, to_val};
pub use plan::{CompileOptions, EntityFields, MappingPlan, RefusedResource, ResourcePlan};
