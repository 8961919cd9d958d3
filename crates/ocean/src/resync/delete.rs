//! The deletion phase: builds the planner's input from what the lanes saw, resolves relation
//! targets through blueprint schemas, plans (see [`super::reconcile`]) and runs bulk deletes.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{
    Resync,
    lane_output::LaneOutput,
    reconcile::{self, EntityKey, ExistingEntity, KindOutcome, PlanInput},
    report::DeletionReport,
    snapshot::Snapshot,
};
use crate::{Integration, telemetry};

/// Plans and runs deletions (see [`reconcile::plan`]).
pub(super) async fn delete_stale<I: Integration>(
    resync: &Resync<I>,
    snapshot: &Snapshot,
    lanes: &LaneOutput,
) -> DeletionReport {
    let mut report = DeletionReport::default();
    let config = &resync.app_config;
    let (targets, targets_error) = if config.create_missing_related_entities {
        relation_target_keys(resync, snapshot, &lanes.relation_refs).await
    } else {
        (HashSet::new(), None)
    };
    let mut outcomes: Vec<KindOutcome> = vec![KindOutcome::Complete; resync.plan.resources().len()];
    for r in &lanes.reports {
        if let Some(reason) = &r.failure {
            outcomes[r.index] = KindOutcome::Failed {
                reason: reason.clone(),
            };
        }
    }
    if let Some(error) = targets_error {
        report.errors.push(error);
        return report;
    }
    let mut owners: HashMap<String, Vec<usize>> = HashMap::new();
    for resource in resync.plan.resources() {
        if let Some(bp) = resource.blueprint_literal() {
            owners
                .entry(bp.to_owned())
                .or_default()
                .push(resource.index());
        }
    }
    for (index, blueprints) in &lanes.written {
        for bp in blueprints {
            let list = owners.entry(bp.clone()).or_default();
            if !list.contains(index) {
                list.push(*index);
            }
        }
    }
    let existing: Vec<ExistingEntity> = snapshot
        .entities
        .keys()
        .map(|key| ExistingEntity {
            key: key.clone(),
            relations: Vec::new(),
        })
        .collect();
    let plan = reconcile::plan(&PlanInput {
        existing: &existing,
        seen: &lanes.seen,
        blueprint_owners: &owners,
        outcomes: &outcomes,
        kept_relation_targets: &targets,
        create_missing_related_entities: config.create_missing_related_entities,
        threshold: config.entity_deletion_threshold,
    });
    for skip in &plan.skipped {
        telemetry::deletion_skipped(skip);
    }
    report.skipped = plan.skipped;
    execute_deletions(resync, plan.delete, &mut report).await;
    report
}

async fn execute_deletions<I: Integration>(
    resync: &Resync<I>,
    delete: Vec<EntityKey>,
    report: &mut DeletionReport,
) {
    let mut by_blueprint: HashMap<String, Vec<String>> = HashMap::new();
    for key in delete {
        by_blueprint
            .entry(key.blueprint)
            .or_default()
            .push(key.identifier);
    }
    let mut blueprints: Vec<_> = by_blueprint.into_iter().collect();
    blueprints.sort();
    let dependents = resync.app_config.delete_dependent_entities;
    for (blueprint, ids) in blueprints {
        for chunk in ids.chunks(resync.settings.delete_batch_size.max(1)) {
            match resync
                .port
                .entities()
                .bulk_delete(&blueprint, chunk, dependents)
                .await
            {
                Ok(deleted) => {
                    telemetry::entities_deleted(&blueprint, deleted.len());
                    match report.deleted.iter_mut().find(|(b, _)| *b == blueprint) {
                        Some((_, n)) => *n += deleted.len(),
                        None => report.deleted.push((blueprint.clone(), deleted.len())),
                    }
                }
                Err(error) => report
                    .errors
                    .push(format!("deleting from `{blueprint}` failed: {error}")),
            }
        }
    }
}

/// Resolves relation references of kept entities to (target blueprint, identifier) keys using the
/// blueprints' relation schemas. A relation whose schema cannot be read protects every existing
/// entity with that identifier, whatever its blueprint (safe side).
async fn relation_target_keys<I: Integration>(
    resync: &Resync<I>,
    snapshot: &Snapshot,
    refs: &HashSet<(String, String, String)>,
) -> (HashSet<EntityKey>, Option<String>) {
    let blueprints: HashSet<&str> = refs.iter().map(|(bp, _, _)| bp.as_str()).collect();
    let mut targets_of: HashMap<&str, Option<HashMap<String, String>>> = HashMap::new();
    for bp in blueprints {
        let schema = match resync.port.blueprints().get(bp).await {
            Ok(Some(schema)) => Some(relation_schema(&schema)),
            Ok(None) => None,
            Err(error) => {
                return (
                    HashSet::new(),
                    Some(format!(
                        "could not read blueprint `{bp}` to protect relation targets: {error}"
                    )),
                );
            }
        };
        targets_of.insert(bp, schema);
    }
    let mut keys = HashSet::new();
    for (bp, relation, target) in refs {
        match targets_of
            .get(bp.as_str())
            .and_then(|s| s.as_ref())
            .and_then(|s| s.get(relation))
        {
            Some(target_bp) => {
                keys.insert(EntityKey {
                    blueprint: target_bp.clone(),
                    identifier: target.clone(),
                });
            }
            None => keys.extend(
                snapshot
                    .entities
                    .keys()
                    .filter(|k| &k.identifier == target)
                    .cloned(),
            ),
        }
    }
    (keys, None)
}

/// relation name → target blueprint, from a blueprint as Port returns it.
fn relation_schema(blueprint: &Value) -> HashMap<String, String> {
    blueprint
        .get("relations")
        .and_then(Value::as_object)
        .map(|relations| {
            relations
                .iter()
                .filter_map(|(name, r)| Some((name.clone(), r.get("target")?.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
