//! The deletion phase: builds the planner's input from what the lanes saw and what the snapshot
//! holds, resolves relation targets (of the entities produced, and Port's own relations of the
//! entities kept without being produced) through blueprint schemas, plans (see
//! [`super::reconcile`]) and runs bulk deletes.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use super::{
    Resync,
    lane_output::LaneOutput,
    reconcile::{self, DeletePlan, EntityKey, ExistingEntity, KindOutcome, PlanInput, RelationRef},
    report::DeletionReport,
    snapshot::{self, Snapshot},
};
use crate::{Integration, telemetry};

/// Identifiers asked for in one search of Port's relations.
const RELATIONS_PER_SEARCH: usize = 500;

/// Plans and runs deletions (see [`reconcile::plan`]).
pub(super) async fn delete_stale<I: Integration>(
    resync: &Resync<I>,
    snapshot: &Snapshot,
    lanes: &LaneOutput,
) -> DeletionReport {
    let mut report = DeletionReport::default();
    let config = &resync.app_config;
    // The planner's candidates: Port's entities this run did not produce.
    let mut candidates: Vec<ExistingEntity> = match snapshot
        .not_produced(&resync.port, &resync.installation, &lanes.seen)
        .await
    {
        Ok(keys) => keys
            .into_iter()
            .map(|key| ExistingEntity {
                key,
                relations: Vec::new(),
            })
            .collect(),
        Err(error) => {
            report.errors.push(format!(
                "could not list this integration's entities in Port to delete the stale ones: \
                 {error}"
            ));
            return report;
        }
    };
    let blueprint_owners = blueprint_owners(resync, lanes);
    let outcomes = outcomes(resync, lanes);
    let plan = |candidates: &[ExistingEntity], targets: &HashSet<EntityKey>, threshold| {
        reconcile::plan(&PlanInput {
            existing: candidates,
            held: snapshot.len(),
            seen: &lanes.seen,
            blueprint_owners: &blueprint_owners,
            outcomes: &outcomes,
            kept_relation_targets: targets,
            create_missing_related_entities: config.create_missing_related_entities,
            threshold,
        })
    };
    let kept_relation_targets = if config.create_missing_related_entities {
        let draft = |candidates: &[ExistingEntity], targets: &HashSet<EntityKey>| {
            plan(candidates, targets, 1.0)
        };
        match Relations::new(resync, snapshot)
            .protecting(lanes, &mut candidates, draft)
            .await
        {
            Ok(targets) => targets,
            Err(error) => {
                report.errors.push(error);
                return report;
            }
        }
    } else {
        HashSet::new()
    };
    let plan = plan(
        &candidates,
        &kept_relation_targets,
        config.entity_deletion_threshold,
    );
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

/// Resolves relation targets to (blueprint, identifier) keys through the blueprints' relation
/// schemas (as Ocean's `get_related_entities` does), reading each schema once.
struct Relations<'a, I: Integration> {
    resync: &'a Resync<I>,
    snapshot: &'a Snapshot,
    schemas: Schemas,
}

impl<'a, I: Integration> Relations<'a, I> {
    fn new(resync: &'a Resync<I>, snapshot: &'a Snapshot) -> Self {
        Self {
            resync,
            snapshot,
            schemas: Schemas::default(),
        }
    }

    /// Targets of the entities this run produced (from the mapping). A relation whose schema
    /// cannot be read protects every existing entity with that identifier, whatever its
    /// blueprint (safe side); a blueprint that cannot be read is an error, and then nothing is
    /// deleted.
    async fn of_seen(&mut self, lanes: &LaneOutput) -> Result<HashSet<EntityKey>, String> {
        let blueprints: HashSet<&str> = lanes
            .relation_refs
            .iter()
            .map(|(bp, _)| bp.as_str())
            .collect();
        for bp in blueprints {
            self.schemas.load(self.resync, bp).await?;
        }
        let mut targets = HashSet::new();
        for (bp, relation) in &lanes.relation_refs {
            self.schemas
                .resolve(self.snapshot, bp, relation, &mut targets);
        }
        Ok(targets)
    }

    /// The relation targets that protect entities: those of the entities this run produced
    /// (returned), and those Port holds of the candidates kept (filled in `candidates`).
    ///
    /// Only a kept entity's relations protect anything, only what a plan would delete needs
    /// protecting, and most resyncs keep no candidate: the relations of the candidates the
    /// `draft` plan keeps are read, and it plans again with them, until no new candidate is
    /// kept or nothing is left to delete. The draft leaves the threshold out: it decides after
    /// protection, and only over what is still eligible.
    async fn protecting(
        mut self,
        lanes: &LaneOutput,
        candidates: &mut [ExistingEntity],
        draft: impl Fn(&[ExistingEntity], &HashSet<EntityKey>) -> DeletePlan,
    ) -> Result<HashSet<EntityKey>, String> {
        let targets = self.of_seen(lanes).await?;
        let mut read = vec![false; candidates.len()];
        loop {
            let plan = draft(candidates, &targets);
            let deleted: HashSet<&EntityKey> = plan.delete.iter().collect();
            let unread: Vec<usize> = (0..candidates.len())
                .filter(|&i| !read[i] && !deleted.contains(&candidates[i].key))
                .collect();
            if unread.is_empty() || deleted.is_empty() {
                return Ok(targets);
            }
            self.of_candidates(candidates, &unread).await?;
            for i in unread {
                read[i] = true;
            }
        }
    }

    /// Fills the relations of `candidates[which]` with the targets of their relations as Port
    /// holds them now (an entity Port no longer holds relates to nothing).
    async fn of_candidates(
        &mut self,
        candidates: &mut [ExistingEntity],
        which: &[usize],
    ) -> Result<(), String> {
        let mut by_blueprint: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in which {
            by_blueprint
                .entry(candidates[i].key.blueprint.clone())
                .or_default()
                .push(i);
        }
        let ownership = snapshot::ownership(&self.resync.installation);
        for (bp, indexes) in by_blueprint {
            self.schemas.load(self.resync, &bp).await?;
            for chunk in indexes.chunks(RELATIONS_PER_SEARCH) {
                let ids: Vec<&str> = chunk
                    .iter()
                    .map(|&i| candidates[i].key.identifier.as_str())
                    .collect();
                let query = json!({"combinator": "and", "rules": [
                    ownership,
                    {"property": "$identifier", "operator": "in", "value": ids},
                ]});
                let relations = self.read(&bp, &query).await?;
                for &i in chunk {
                    let Some(refs) = relations.get(&candidates[i].key.identifier) else {
                        continue;
                    };
                    for relation in refs {
                        self.schemas.resolve(
                            self.snapshot,
                            &bp,
                            relation,
                            &mut candidates[i].relations,
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The relations of `blueprint`'s entities that match `query`, by identifier.
    async fn read(
        &self,
        blueprint: &str,
        query: &Value,
    ) -> Result<HashMap<String, Vec<RelationRef>>, String> {
        let failed = |error| {
            format!("could not read relations of `{blueprint}` to protect their targets: {error}")
        };
        let entities = self.resync.port.entities();
        let mut pages = std::pin::pin!(entities.search_blueprint(
            blueprint,
            query,
            &["identifier", "relations"]
        ));
        let mut relations = HashMap::new();
        while let Some(page) = futures::TryStreamExt::try_next(&mut pages)
            .await
            .map_err(failed)?
        {
            for entity in page {
                let entity = entity.value().map_err(failed)?;
                let identifier = entity.get("identifier").and_then(Value::as_str);
                let refs = entity.get("relations").and_then(Value::as_object);
                if let (Some(identifier), Some(refs)) = (identifier, refs) {
                    relations.insert(identifier.to_owned(), RelationRef::all_of(refs));
                }
            }
        }
        Ok(relations)
    }
}

/// Relation name → target blueprint, per blueprint (`None`: Port has no such blueprint).
#[derive(Default)]
struct Schemas(HashMap<String, Option<HashMap<String, String>>>);

impl Schemas {
    /// Reads the relation schema of `blueprint` from Port, unless read already.
    async fn load<I: Integration>(
        &mut self,
        resync: &Resync<I>,
        blueprint: &str,
    ) -> Result<(), String> {
        if self.0.contains_key(blueprint) {
            return Ok(());
        }
        let schema = match resync.port.blueprints().get(blueprint).await {
            Ok(schema) => schema.as_ref().map(relation_schema),
            Err(error) => {
                return Err(format!(
                    "could not read blueprint `{blueprint}` to protect relation targets: {error}"
                ));
            }
        };
        self.0.insert(blueprint.to_owned(), schema);
        Ok(())
    }

    /// Adds the key(s) that `blueprint`'s `relation` names to `into`: the target blueprint's
    /// key, or, when the schema does not tell, every key the snapshot holds with that
    /// identifier.
    fn resolve(
        &self,
        snapshot: &Snapshot,
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
            Some(target_bp) => into.extend([EntityKey::new(target_bp, &relation.target)]),
            None => into.extend(snapshot.with_identifier(&relation.target)),
        }
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
