//! The port-app-config model ("mapping"), exactly as Port stores it on the integration record
//! and as users write it in YAML (ocean-framework.md §3).

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::Error;

fn yes() -> bool {
    true
}

fn default_threshold() -> f64 {
    0.9
}

fn default_query() -> String {
    "true".to_owned()
}

fn default_items_name() -> String {
    "item".to_owned()
}

/// The whole mapping: top-level flags with Ocean's defaults, and the ordered resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortAppConfig {
    /// Delete dependents together with deleted entities (default true).
    #[serde(default = "yes")]
    pub delete_dependent_entities: bool,
    /// Let Port create placeholder relation targets (default true).
    #[serde(default = "yes")]
    pub create_missing_related_entities: bool,
    /// Merge upserts into existing entities (default true).
    #[serde(default = "yes")]
    pub enable_merge_entity: bool,
    /// Largest share of existing entities a resync may delete (default 0.9).
    #[serde(default = "default_threshold")]
    pub entity_deletion_threshold: f64,
    /// Resources in order; one kind may appear several times.
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    /// Integration-specific top-level keys (`specPath`, `branch`, `useDefaultBranch`, ...), kept
    /// as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for PortAppConfig {
    fn default() -> Self {
        Self {
            delete_dependent_entities: true,
            create_missing_related_entities: true,
            enable_merge_entity: true,
            entity_deletion_threshold: default_threshold(),
            resources: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl PortAppConfig {
    /// Parses a YAML port-app-config; errors name the path of the offending key.
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| Error::Parse {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })
    }

    /// Parses the port-app-config JSON of an integration record (`{}` and `null` are empty).
    pub fn from_value(value: Value) -> Result<Self, Error> {
        if value.is_null() {
            return Ok(Self::default());
        }
        serde_path_to_error::deserialize(value).map_err(|e| Error::Parse {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })
    }
}

/// One resource: a kind, its selector and its entity mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceConfig {
    /// The integration's kind, e.g. `repository`.
    pub kind: String,
    /// Which raw items to keep, plus kind-specific options.
    #[serde(default)]
    pub selector: SelectorConfig,
    /// How to map a raw item to an entity.
    pub port: PortResourceConfig,
}

/// `selector`: the jq `query` every raw item must satisfy, and kind-specific options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorConfig {
    /// jq expression that must yield a boolean (default `true`).
    #[serde(default = "default_query", deserialize_with = "jq_text")]
    pub query: String,
    /// Kind-specific options (`wiql`, `includedFiles`, `defaultTeam`, ...), kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for SelectorConfig {
    fn default() -> Self {
        Self {
            query: default_query(),
            extra: Map::new(),
        }
    }
}

/// `port`: the entity mapping and optional `itemsToParse` expansion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortResourceConfig {
    /// `entity.mappings`.
    pub entity: EntityConfig,
    /// jq expression yielding an array in each raw item: one entity per element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_to_parse: Option<String>,
    /// Key under which each element is injected into a copy of the raw item (default `item`).
    #[serde(default = "default_items_name")]
    pub items_to_parse_name: String,
    /// Remove the parsed array from the copies (default true).
    #[serde(default = "yes")]
    pub items_to_parse_top_level_transform: bool,
}

/// `entity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityConfig {
    /// The field mappings.
    pub mappings: EntityMappings,
}

/// `entity.mappings`: every leaf is a jq expression evaluated against the raw item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityMappings {
    /// Identifier: jq, or a search query resolved by Port.
    pub identifier: FieldMapping,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Blueprint (usually a quoted literal such as `'"service"'`).
    pub blueprint: String,
    /// Team: jq, or a search query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<FieldMapping>,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Properties by name.
    #[serde(default)]
    pub properties: IndexMap<String, String>,
    /// Relations by name: jq, or a search query.
    #[serde(default)]
    pub relations: IndexMap<String, FieldMapping>,
}

/// A mapping leaf: a jq expression, or a Port search query whose leaves are jq expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldMapping {
    /// A jq expression.
    Jq(String),
    /// A search query (`{combinator, rules}`), resolved by Port.
    Search(SearchQuery),
}

/// A Port search query whose leaves are jq expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// jq yielding `"and"` or `"or"`.
    pub combinator: String,
    /// Rules or nested queries.
    pub rules: Vec<SearchRule>,
}

/// One rule of a search query, or a nested query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SearchRule {
    /// `{property, operator, value}`, each a jq expression.
    Rule {
        /// jq yielding the property (`"$identifier"`).
        property: String,
        /// jq yielding the operator (`"="`).
        operator: String,
        /// jq yielding the value.
        value: String,
    },
    /// A nested query.
    Query(SearchQuery),
}

/// Accepts `query: true` (a YAML boolean) as well as `query: 'true'`.
fn jq_text<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    match Value::deserialize(de)? {
        Value::String(s) => Ok(s),
        other @ (Value::Bool(_) | Value::Number(_) | Value::Null) => Ok(other.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a jq expression (a string), got {other}"
        ))),
    }
}
