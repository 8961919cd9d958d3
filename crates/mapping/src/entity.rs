//! [`Entity`]: what a mapping produces, serialized in Port's bulk-upsert shape.

use serde::Serialize;
use serde_json::{Map, Value};

/// A Port entity produced by a mapping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// Identifier: a string, or a search query object resolved by Port.
    pub identifier: Value,
    /// Title, when the mapping has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Value>,
    /// Icon, when the mapping has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Value>,
    /// Blueprint identifier.
    pub blueprint: String,
    /// Team(s), when the mapping has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<Value>,
    /// Properties by name (null values included, as Ocean sends them).
    pub properties: Map<String, Value>,
    /// Relations by name.
    pub relations: Map<String, Value>,
}

impl Entity {
    /// True when the identifier is a search query (such entities are never diffed or deleted).
    #[must_use]
    pub fn has_search_identifier(&self) -> bool {
        self.identifier.is_object()
    }
}
