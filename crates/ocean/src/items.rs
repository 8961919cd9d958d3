//! A page's raw items: decoded JSON values, or still the API's JSON text.
//!
//! Why text (issue 18): a page of 200 work items with `$expand=All` costs about three times
//! its JSON text as a `serde_json::Value` tree (a map, a key string and an 80-byte value per
//! field, with `preserve_order`). Kept as the response body and decoded one item at a time
//! when mapped, a page waiting in the pipeline holds the body alone, and no page holds a tree.

use std::borrow::Cow;
use std::ops::Range;

use bytes::Bytes;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// The items of a [`crate::Page`]. Read them through [`Items::len`] and [`Items::get`] (or
/// [`Items::into_values`]): a page of text items is never empty to a reader that forgot it.
#[derive(Debug, Clone, PartialEq)]
pub enum Items {
    /// Decoded items.
    Values(Vec<Value>),
    /// Items as JSON text, decoded when read.
    Json(JsonItems),
}

impl Default for Items {
    fn default() -> Self {
        Self::Values(Vec::new())
    }
}

impl From<Vec<Value>> for Items {
    fn from(items: Vec<Value>) -> Self {
        Self::Values(items)
    }
}

impl From<JsonItems> for Items {
    fn from(items: JsonItems) -> Self {
        Self::Json(items)
    }
}

impl Items {
    /// How many items.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Values(items) => items.len(),
            Self::Json(items) => items.spans.len(),
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `index` (below [`Items::len`]), decoded if it is text: an error only for valid
    /// JSON text too deep for a `Value` (nested deeper than 128 levels).
    ///
    /// # Panics
    /// When `index` is out of bounds, as slice indexing does.
    pub fn get(&self, index: usize) -> Result<Cow<'_, Value>, serde_json::Error> {
        match self {
            Self::Values(items) => Ok(Cow::Borrowed(&items[index])),
            Self::Json(items) => items.decode(index).map(Cow::Owned),
        }
    }

    /// Every item, decoded.
    pub fn into_values(self) -> Result<Vec<Value>, serde_json::Error> {
        match self {
            Self::Values(items) => Ok(items),
            Self::Json(items) => (0..items.spans.len()).map(|i| items.decode(i)).collect(),
        }
    }
}

/// Items as JSON text: spans of one response body, each a valid JSON value.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonItems {
    body: Bytes,
    spans: Vec<Range<usize>>,
}

impl JsonItems {
    /// The elements of the array under `key` in the JSON object `body` (its other keys are
    /// ignored). Anything else is an error: a body that is not JSON or not an object, no
    /// `key`, or a `key` that is not an array (an unexpected shape is never an empty list).
    pub fn from_list(body: Bytes, key: &str) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(&body);
        let elements = de
            .deserialize_map(ListVisitor { key })?
            .ok_or_else(|| de::Error::custom(format!("no `{key}` key holding the list")))?;
        de.end()?;
        let start = body.as_ptr() as usize;
        let spans = elements
            .iter()
            .map(|raw| {
                let at = raw.get().as_ptr() as usize - start;
                at..at + raw.get().len()
            })
            .collect();
        Ok(Self { body, spans })
    }

    /// Without the `null` elements (what Azure DevOps answers for an id it omits).
    #[must_use]
    pub fn without_nulls(mut self) -> Self {
        let body = &self.body;
        self.spans.retain(|span| &body[span.clone()] != b"null");
        self
    }

    fn decode(&self, index: usize) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body[self.spans[index].clone()])
    }
}

/// Finds `key` in an object and borrows its array's elements as text.
struct ListVisitor<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with the list under `{}`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.key {
                found = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn list(body: &str) -> Result<JsonItems, serde_json::Error> {
        JsonItems::from_list(Bytes::copy_from_slice(body.as_bytes()), "value")
    }

    #[test]
    fn items_are_the_list_elements_decoded_when_read() {
        let items: Items = list(
            r#"{"count": 3, "value": [{"id": 1, "a": [1, {"b": "x\"y"}]}, null, 7], "z": {}}"#,
        )
        .unwrap()
        .into();
        assert_eq!(items.len(), 3);
        assert_eq!(
            *items.get(0).unwrap(),
            json!({"id": 1, "a": [1, {"b": "x\"y"}]})
        );
        assert_eq!(*items.get(1).unwrap(), Value::Null);
        assert_eq!(
            items.into_values().unwrap(),
            vec![
                json!({"id": 1, "a": [1, {"b": "x\"y"}]}),
                Value::Null,
                json!(7)
            ]
        );
        let kept = list(r#"{"value": [null, {"id": 2}, null]}"#)
            .unwrap()
            .without_nulls();
        assert_eq!(
            Items::from(kept).into_values().unwrap(),
            vec![json!({"id": 2})]
        );
    }

    #[test]
    fn an_unexpected_shape_is_an_error_never_an_empty_list() {
        for (body, says) in [
            (r#"{"count": 0}"#, "no `value` key"),
            (r#"{"value": "x"}"#, "expected a sequence"),
            (r#"{"value": null}"#, "expected a sequence"),
            ("[]", "an object with the list under `value`"),
            (r#"{"value": [1, 2"#, "EOF"),
            (r#"{"value": []} trailing"#, "trailing characters"),
        ] {
            let error = list(body).unwrap_err().to_string();
            assert!(error.contains(says), "{body}: {error}");
        }
        assert!(list(r#"{"value": []}"#).unwrap().spans.is_empty());
    }

    #[test]
    fn text_too_deep_for_a_value_is_an_error_when_read() {
        let deep = format!(r#"{{"value": [{}{}]}}"#, "[".repeat(200), "]".repeat(200));
        let items: Items = list(&deep).unwrap().into();
        assert_eq!(items.len(), 1);
        assert!(items.get(0).is_err());
        assert!(items.into_values().is_err());
    }
}
