//! The deletion phase: builds the planner's input from what the lanes saw and what the snapshot
//! holds, resolves relation targets (of the entities produced, and Port's own relations of those
//! not produced) through blueprint schemas, plans (see [`super::reconcile`]) and runs bulk deletes.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{
    Resync,
    lane_output::LaneOutput,
    reconcile::{self, EntityKey, ExistingEntity, KindOutcome, PlanInput, RelationRef, Seen},
    report::DeletionReport,
    snapshot::{Held, Snapshot, hash_text},
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
    let relations = if config.create_missing_related_entities {
        match Relations::resolve(resync, snapshot, lanes).await {
            Ok(relations) => relations,
            Err(error) => {
                report.errors.push(error);
                return report;
            }
        }
    } else {
        Relations::default()
    };
    let existing = relations.unseen(snapshot, &lanes.seen);
    let plan = reconcile::plan(&PlanInput {
        existing: &existing,
        held: snapshot.len(),
        seen: &lanes.seen,
        blueprint_owners: &blueprint_owners(resync, lanes),
        outcomes: &outcomes(resync, lanes),
        kept_relation_targets: &relations.of_seen,
        create_missing_related_entities: config.create_missing_related_entities,
        threshold: config.entity_deletion_threshold,
    });
    for skip in &plan.skipped {
        telemetry::deletion_skipped(skip);
    }
    report.skipped = plan.skipped;
    if resync.settings.dry_run {
        for key in plan.delete {
            report
                .planned
                .entry(key.blueprint)
                .or_default()
                .push(key.identifier);
        }
        report.planned.values_mut().for_each(|ids| ids.sort());
    } else {
        execute_deletions(resync, plan.delete, &mut report).await;
    }
    report
}

/// How each resource ended, by index (every resource of the plan has a report).
fn outcomes<I: Integration>(resync: &Resync<I>, lanes: &LaneOutput) -> Vec<KindOutcome> {
    let mut outcomes = vec![KindOutcome::Complete; resync.app_config.resources.len()];
    for r in &lanes.reports {
        if let Some(reason) = r.incomplete() {
            outcomes[r.index] = KindOutcome::Failed { reason };
        }
    }
    outcomes
}

/// Blueprint → resources that write it: literal blueprints from the plan, plus the blueprints
/// computed ones actually wrote.
fn blueprint_owners<I: Integration>(
    resync: &Resync<I>,
    lanes: &LaneOutput,
) -> HashMap<String, Vec<usize>> {
    let mut owners: HashMap<String, Vec<usize>> = HashMap::new();
    let planned = resync
        .plan
        .resources()
        .iter()
        .map(|r| (r.index(), r.blueprint_literal()));
    let refused = resync
        .plan
        .refused()
        .iter()
        .map(|r| (r.index, r.blueprint.as_deref()));
    for (index, blueprint) in planned.chain(refused) {
        if let Some(bp) = blueprint {
            owners.entry(bp.to_owned()).or_default().push(index);
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
    owners
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

/// The planner's relation inputs, targets resolved to (blueprint, identifier) keys through the
/// blueprints' relation schemas (as Ocean's `get_related_entities` does).
#[derive(Default)]
struct Relations {
    /// Targets of the entities this run produced (from the mapping).
    of_seen: HashSet<EntityKey>,
    /// Targets of each entity Port holds that this run did not produce, by its key's hash, from
    /// Port's own copy in the snapshot. The planner uses them only if it keeps the entity (e.g.
    /// its resource failed). Two keys with one hash would share their targets: more protected,
    /// never less.
    of_unseen: HashMap<u64, Vec<EntityKey>>,
}

impl Relations {
    /// Resolves both sets. A relation whose schema cannot be read protects every existing entity
    /// with that identifier, whatever its blueprint (safe side); a blueprint that cannot be read
    /// is an error, and then nothing is deleted.
    async fn resolve<I: Integration>(
        resync: &Resync<I>,
        snapshot: &Snapshot,
        lanes: &LaneOutput,
    ) -> Result<Self, String> {
        let unseen: Vec<Held<'_>> = snapshot
            .held()
            .filter(|held| !held.relations.is_empty() && !lanes.seen.contains_hash(held.key_hash))
            .collect();
        let blueprints: HashSet<&str> = lanes
            .relation_refs
            .iter()
            .map(|(bp, _)| bp.as_str())
            .chain(unseen.iter().map(|held| held.blueprint))
            .collect();
        let schemas = Schemas::load(resync, blueprints).await?;
        let by_identifier = ByIdentifier::of(snapshot);
        let mut relations = Self::default();
        for (bp, relation) in &lanes.relation_refs {
            schemas.resolve(&by_identifier, bp, relation, &mut relations.of_seen);
        }
        for held in unseen {
            let targets = relations.of_unseen.entry(held.key_hash).or_default();
            for pair in held.relations.chunks_exact(2) {
                let (relation, target) = (pair[0], pair[1]);
                schemas.resolve_hashed(&by_identifier, held.blueprint, relation, target, targets);
            }
        }
        Ok(relations)
    }

    /// The planner's candidates: Port's entities this run did not produce, each with its
    /// resolved relation targets.
    fn unseen(&self, snapshot: &Snapshot, seen: &Seen) -> Vec<ExistingEntity> {
        snapshot
            .held()
            .filter(|held| !seen.contains_hash(held.key_hash))
            .map(|held| ExistingEntity {
                key: held.key(),
                relations: self
                    .of_unseen
                    .get(&held.key_hash)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// Relation name → target blueprint, per blueprint (`None`: Port has no such blueprint).
struct Schemas(HashMap<String, Option<HashMap<String, String>>>);

impl Schemas {
    /// Reads the relation schemas of `blueprints` from Port.
    async fn load<I: Integration>(
        resync: &Resync<I>,
        blueprints: HashSet<&str>,
    ) -> Result<Self, String> {
        let mut schemas = HashMap::new();
        for bp in blueprints {
            let schema = match resync.port.blueprints().get(bp).await {
                Ok(Some(schema)) => Some(relation_schema(&schema)),
                Ok(None) => None,
                Err(error) => {
                    return Err(format!(
                        "could not read blueprint `{bp}` to protect relation targets: {error}"
                    ));
                }
            };
            schemas.insert(bp.to_owned(), schema);
        }
        Ok(Self(schemas))
    }

    /// Adds the key(s) that `blueprint`'s `relation` names to `into`.
    fn resolve(
        &self,
        by_identifier: &ByIdentifier<'_>,
        blueprint: &str,
        relation: &RelationRef,
        into: &mut impl Extend<EntityKey>,
    ) {
        match self
            .0
            .get(blueprint)
            .and_then(Option::as_ref)
            .and_then(|s| s.get(&relation.relation))
        {
            Some(target_bp) => into.extend([EntityKey {
                blueprint: target_bp.clone(),
                identifier: relation.target.clone(),
            }]),
            None => into.extend(by_identifier.keys(&relation.target).map(|held| held.key())),
        }
    }

    /// [`Schemas::resolve`] for a relation the snapshot kept as hashes
    /// ([`super::snapshot::hash_text`] of its name and target): the snapshot's entities it
    /// names (only those can be deleted, so only those need protecting).
    fn resolve_hashed(
        &self,
        by_identifier: &ByIdentifier<'_>,
        blueprint: &str,
        relation: u64,
        target: u64,
        into: &mut impl Extend<EntityKey>,
    ) {
        let target_blueprint = self
            .0
            .get(blueprint)
            .and_then(Option::as_ref)
            .and_then(|schema| {
                schema
                    .iter()
                    .find(|(name, _)| hash_text(name) == relation)
                    .map(|(_, target_bp)| target_bp.as_str())
            });
        into.extend(
            by_identifier
                .by_hash(target)
                .filter(|held| target_blueprint.is_none_or(|bp| held.blueprint == bp))
                .map(|held| held.key()),
        );
    }
}

/// The snapshot's keys by their identifier's hash, for relations whose target blueprint is
/// unknown and for relations the snapshot kept as hashes; built on first use (most resyncs never
/// need it, and it costs an entry per entity).
struct ByIdentifier<'a> {
    snapshot: &'a Snapshot,
    index: std::sync::OnceLock<HashMap<u64, Vec<Held<'a>>>>,
}

impl<'a> ByIdentifier<'a> {
    fn of(snapshot: &'a Snapshot) -> Self {
        Self {
            snapshot,
            index: std::sync::OnceLock::new(),
        }
    }

    /// The entities whose identifier is `identifier`.
    fn keys<'s>(&'s self, identifier: &'s str) -> impl Iterator<Item = Held<'a>> + 's {
        self.by_hash(hash_text(identifier))
            .filter(move |held| held.identifier == identifier)
    }

    /// The entities whose identifier hashes to `hash`.
    fn by_hash(&self, hash: u64) -> impl Iterator<Item = Held<'a>> + '_ {
        let index = self.index.get_or_init(|| {
            let mut index: HashMap<u64, Vec<Held<'a>>> = HashMap::new();
            for held in self.snapshot.held() {
                index
                    .entry(hash_text(held.identifier))
                    .or_default()
                    .push(held);
            }
            index
        });
        index.get(&hash).into_iter().flatten().copied()
    }
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
