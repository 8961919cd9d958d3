//! Advanced Security events (publisher `advsec`: alert created, updated, state changed): the
//! alert is re-read and upserted when it passes the `criteria` of an `advanced-security-alert`
//! resource, as upstream. Beyond upstream, an alert that no longer passes them (fixed, say,
//! with `states: [active]`), or that is gone, is deleted, as the next resync would.

use crate::AdoKind;
use ado_client::{Client, Error, ProjectId, RepositoryId};
use mapping::PortAppConfig;
use ocean::{Page, live::Changes};
use serde_json::{Map, Value};

use super::shape::Shape;
use crate::{
    error::EventShapeError,
    kinds::advsec::advanced_security_alert::{Criteria, fields},
};

/// The alert an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Alert {
    pub(super) project: ProjectId,
    pub(super) repository: RepositoryId,
    pub(super) id: u64,
}

/// The alert of an `advsec` payload of `event_type`, or which field is missing.
pub(super) fn alert(event_type: &str, payload: &Value) -> Result<Alert, EventShapeError> {
    let shape = Shape::of(event_type);
    let resource = &payload["resource"];
    let project = &payload["resourceContainers"]["project"]["id"];
    Ok(Alert {
        project: shape.text(project, "resourceContainers.project.id")?.into(),
        repository: shape
            .text(&resource["repositoryId"], "resource.repositoryId")?
            .into(),
        id: shape.number(&resource["alertId"], "resource.alertId")?,
    })
}

/// The alert's upsert, or its deletion when it is gone or matches no resource's criteria.
pub(super) async fn changes(
    client: &Client,
    config: &PortAppConfig,
    alert: Alert,
    payload: &Value,
    organization: &Map<String, Value>,
) -> Result<Changes, crate::Error> {
    const KIND: AdoKind = AdoKind::AdvancedSecurityAlert;
    let mut changes = Changes::default();
    let criteria: Vec<Criteria> = KIND
        .resources(config)
        .map(|r| Criteria::from(&r.selector))
        .collect::<Result<_, _>>()?;
    if criteria.is_empty() {
        return Ok(changes);
    }
    let Alert {
        project,
        repository,
        id,
    } = alert;
    let current = match client.alert(&project, &repository, id).await {
        Ok(current) => Some(current),
        Err(Error::NotFound { .. } | Error::Http { status: 400, .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let mut shared = fields(repository, &project);
    shared.extend(organization.clone());
    match current {
        Some(current) if criteria.iter().any(|c| c.matches(&current)) => {
            let items = Page::stamped(vec![current], &shared);
            changes.updated.push((KIND.into(), items));
        }
        other => {
            let gone = other.unwrap_or_else(|| payload["resource"].clone());
            let items = Page::stamped(vec![gone], &shared);
            changes.deleted.push((KIND.into(), items));
        }
    }
    Ok(changes)
}
