//! [`Shape`]: reads the fields an event type needs from its payload, and names the event type
//! and the field in what it refuses ([`EventShapeError`]).

use serde_json::Value;

use crate::error::{EventShapeError, FieldProblem};

/// The payload fields of one event type, as the event-shape parsers (`target`, `run`,
/// `release`, `alert`, `repository_id`) read them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape<'a> {
    event_type: &'a str,
}

impl<'a> Shape<'a> {
    /// Reads payloads of `event_type`.
    pub(super) const fn of(event_type: &'a str) -> Self {
        Self { event_type }
    }

    /// The string at `field`.
    pub(super) fn text<'v>(
        self,
        value: &'v Value,
        field: &'static str,
    ) -> Result<&'v str, EventShapeError> {
        value
            .as_str()
            .ok_or_else(|| self.refuse(value, field, FieldProblem::NotText))
    }

    /// The whole number at `field`.
    pub(super) fn number(self, value: &Value, field: &'static str) -> Result<u64, EventShapeError> {
        value
            .as_u64()
            .ok_or_else(|| self.refuse(value, field, FieldProblem::NotNumber))
    }

    /// The array at `field`.
    pub(super) fn array<'v>(
        self,
        value: &'v Value,
        field: &'static str,
    ) -> Result<&'v [Value], EventShapeError> {
        value
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.refuse(value, field, FieldProblem::NotArray))
    }

    /// `field` (or the alternatives it names) is not in the payload.
    pub(super) fn missing(self, field: &'static str) -> EventShapeError {
        self.error(field, FieldProblem::Missing)
    }

    /// `value` at `field` is missing, or there in a form other than `other`.
    fn refuse(self, value: &Value, field: &'static str, other: FieldProblem) -> EventShapeError {
        let problem = if value.is_null() {
            FieldProblem::Missing
        } else {
            other
        };
        self.error(field, problem)
    }

    fn error(self, field: &'static str, problem: FieldProblem) -> EventShapeError {
        EventShapeError {
            event_type: self.event_type.to_owned(),
            field,
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_refused_field_names_the_event_type_the_field_and_what_is_wrong() {
        let shape = Shape::of("git.push");
        let payload = json!({"resource": {"repository": {"id": 7}, "refUpdates": {}}});
        let resource = &payload["resource"];
        let text = |e: EventShapeError| e.to_string();
        assert_eq!(
            shape
                .text(&resource["repository"]["id"], "resource.repository.id")
                .map_err(text),
            Err("git.push: resource.repository.id is not a string".to_owned())
        );
        assert_eq!(
            shape
                .array(&resource["refUpdates"], "resource.refUpdates")
                .map_err(text),
            Err("git.push: resource.refUpdates is not an array".to_owned())
        );
        assert_eq!(
            shape
                .number(&resource["pushId"], "resource.pushId")
                .map_err(text),
            Err("git.push: resource.pushId is missing".to_owned())
        );
        assert_eq!(
            shape.number(&json!(12), "resource.pushId"),
            Ok(12),
            "a present field is read"
        );
    }
}
