//! Release events (publisher `rm`). `release-created`/`-abandoned` update `release` and, as
//! upstream, the release's `release-definition`; `deployment-started`/`-completed` update
//! `release-deployment` (as upstream) and, beyond upstream, the deployed `release`, whose
//! environment statuses changed with it.

use crate::AdoKind;
use ado_client::{Client, ProjectId, ReleaseDefinitionId, ReleaseId};
use mapping::PortAppConfig;
use ocean::{Page, live::Changes};
use serde_json::{Map, Value};

use super::{found, shape::Shape};
use crate::error::EventShapeError;
use crate::kinds::{
    release::{release_definition, release_deployment},
    shared,
};

/// What a release event is about: a release, or its deployment to one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Release {
    pub(super) project: ProjectId,
    pub(super) id: ReleaseId,
    /// The definition environment deployed to (deployment events only).
    pub(super) environment: Option<u64>,
}

/// The release of an `rm` event, or which field is missing. Deployment events name it as
/// `resource.deployment.release.id` or `resource.environment.releaseId`, and the environment
/// as `definitionEnvironmentId` of either (ocean-azure-devops.md §5.3).
pub(super) fn release(event_type: &str, payload: &Value) -> Result<Release, EventShapeError> {
    let shape = Shape::of(event_type);
    let resource = &payload["resource"];
    let project = payload["resourceContainers"]["project"]["id"]
        .as_str()
        .or_else(|| resource["project"]["id"].as_str())
        .ok_or_else(|| shape.missing("resourceContainers.project.id"))?
        .into();
    if event_type.ends_with("release-created-event")
        || event_type.ends_with("release-abandoned-event")
    {
        let id = shape.number(&resource["release"]["id"], "resource.release.id")?;
        return Ok(Release {
            project,
            id: id.into(),
            environment: None,
        });
    }
    let (deployment, environment) = (&resource["deployment"], &resource["environment"]);
    let id = deployment["release"]["id"]
        .as_u64()
        .or_else(|| environment["releaseId"].as_u64())
        .ok_or_else(|| {
            shape.missing("resource.deployment.release.id (or resource.environment.releaseId)")
        })?;
    let definition_environment = deployment["definitionEnvironmentId"]
        .as_u64()
        .or_else(|| environment["definitionEnvironmentId"].as_u64())
        .ok_or_else(|| shape.missing("resource.environment.definitionEnvironmentId"))?;
    Ok(Release {
        project,
        id: id.into(),
        environment: Some(definition_environment),
    })
}

/// The current state of the release, its definition or its deployment, for each mapped kind.
pub(super) async fn changes(
    client: &Client,
    config: &PortAppConfig,
    target: Release,
    organization: &Map<String, Value>,
) -> Result<Changes, crate::Error> {
    let wants = |kind: AdoKind| kind.is_mapped(config);
    let mut changes = Changes::default();
    let mut push = |kind: AdoKind, item: Value, mut fields: Map<String, Value>| {
        fields.extend(organization.clone());
        changes
            .updated
            .push((kind.into(), Page::stamped(vec![item], &fields)));
    };
    let Release {
        project,
        id,
        environment,
    } = target;
    let definition_wanted = environment.is_none() && wants(AdoKind::ReleaseDefinition);
    let deployment_wanted = environment.is_some() && wants(AdoKind::ReleaseDeployment);
    if !(wants(AdoKind::Release) || definition_wanted || deployment_wanted) {
        return Ok(changes);
    }
    let Some(release) = found(client.release(&project, id).await)? else {
        return Ok(changes);
    };
    let definition = ReleaseDefinitionId::of(&release["releaseDefinition"]);
    if let (Some(definition), true) = (definition, definition_wanted) {
        let current = release_definition::current(client, config, &project, definition).await?;
        if let Some(current) = current {
            let project_object = client.project(&project).await?;
            let fields = shared("__project", project_object);
            push(AdoKind::ReleaseDefinition, current, fields);
        }
    }
    if let (Some(definition), Some(environment), true) =
        (definition, environment, deployment_wanted)
    {
        let latest =
            release_deployment::latest(client, &project, definition, environment, id).await;
        if let Some(deployment) = latest? {
            push(AdoKind::ReleaseDeployment, deployment, Map::new());
        }
    }
    if wants(AdoKind::Release) {
        push(AdoKind::Release, release, Map::new());
    }
    Ok(changes)
}
