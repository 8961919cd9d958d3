//! The deletion planner: which of Port's entities a resync deletes. Pure: no I/O, no clock.
//!
//! Rules (docs/specs/resync.md rules 5–7; Ocean's `sync_raw.py` reconciliation, ocean-framework.md
//! §4 step 5), applied in this order:
//! 1. A *candidate* is an entity Port held for this integration at the start that the run did not
//!    produce (not in `seen`).
//! 2. No entity of a blueprint written by a failed resource is deleted
//!    ([`SkipReason::KindFailed`]).
//!    Ocean skips every deletion when any kind failed; we keep only the blueprints that failure
//!    could have touched. A failed resource listed under no blueprint (its blueprint is computed
//!    and it failed before writing) may write any blueprint, so it protects them all, as in Ocean.
//!    An owner index with no outcome counts as failed.
//! 3. An entity of a blueprint that no resource writes this run (the mapping dropped its kind) is
//!    deleted as in Ocean, but only when every resource completed; otherwise it is kept
//!    ([`SkipReason::NotManaged`]).
//! 4. With `createMissingRelatedEntities` (Ocean's "safe delete"), an entity that a kept entity
//!    relates to is kept ([`SkipReason::ProtectedRelationTarget`]). Kept entities are those
//!    produced this run (their targets are `kept_relation_targets`) and existing entities this
//!    plan does not delete (their targets are [`ExistingEntity::relations`]); protection is
//!    transitive, since a protected entity is itself kept.
//! 5. If the remaining deletions divided by the entities Port held exceed
//!    `entityDeletionThreshold`, nothing is deleted ([`SkipReason::ThresholdExceeded`]). Ocean
//!    deletes when `deleted / existing <= threshold`; the threshold is clamped to `0..=1` and NaN
//!    counts as 0. `existing` counts distinct keys.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    fmt,
};

/// An entity's identity in Port: blueprint and identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    /// Blueprint identifier.
    pub blueprint: String,
    /// Entity identifier.
    pub identifier: String,
}

impl EntityKey {
    /// A key from its parts.
    #[must_use]
    pub fn new(blueprint: &str, identifier: &str) -> Self {
        Self {
            blueprint: blueprint.to_owned(),
            identifier: identifier.to_owned(),
        }
    }

    /// A 64-bit hash of the key ([`Self::hash_of`] its parts).
    #[must_use]
    pub fn hash64(&self) -> u64 {
        Self::hash_of(&self.blueprint, &self.identifier)
    }

    /// A 64-bit hash of a key's parts (xxh3 of blueprint, a 0 byte, identifier).
    #[must_use]
    pub fn hash_of(blueprint: &str, identifier: &str) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(blueprint.as_bytes());
        hasher.update(&[0]);
        hasher.update(identifier.as_bytes());
        hasher.digest()
    }
}

/// The keys a resync produced, held as their [`EntityKey::hash64`] (8 bytes each instead of
/// two strings: 136,200 keys took 12 MiB at the large bench's peak). Two keys with one hash
/// would make an entity the resync did not produce count as produced, which only keeps it:
/// never a wrong deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen(HashSet<u64>);

impl Seen {
    /// Whether `key` was recorded.
    #[must_use]
    pub fn contains(&self, key: &EntityKey) -> bool {
        self.contains_hash(key.hash64())
    }

    /// Whether a key with this [`EntityKey::hash64`] was recorded.
    #[must_use]
    pub fn contains_hash(&self, hash: u64) -> bool {
        self.0.contains(&hash)
    }

    /// Records keys already hashed with [`EntityKey::hash64`].
    pub fn extend_hashes(&mut self, hashes: impl IntoIterator<Item = u64>) {
        self.0.extend(hashes);
    }
}

impl FromIterator<EntityKey> for Seen {
    fn from_iter<T: IntoIterator<Item = EntityKey>>(keys: T) -> Self {
        Self(keys.into_iter().map(|key| key.hash64()).collect())
    }
}

/// One relation of an entity, as mapped or as Port returns it: the relation's name and the
/// identifier of its target (a many-relation gives one per target).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationRef {
    /// The relation's name in the source blueprint.
    pub relation: String,
    /// The target's identifier.
    pub target: String,
}

impl RelationRef {
    /// The references of an entity's `relations` object: a string value, or each string of a
    /// list. Search-query values (objects) and `null` name no identifier and are skipped: they
    /// resolve at Port.
    #[must_use]
    pub fn all_of(relations: &serde_json::Map<String, serde_json::Value>) -> Vec<Self> {
        use serde_json::Value;
        let mut refs = Vec::new();
        for (relation, value) in relations {
            let targets: &[Value] = match value {
                Value::Array(items) => items,
                other => std::slice::from_ref(other),
            };
            refs.extend(targets.iter().filter_map(Value::as_str).map(|target| Self {
                relation: relation.clone(),
                target: target.to_owned(),
            }));
        }
        refs
    }
}

/// An entity Port held for this integration at the start of the resync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingEntity {
    /// Its key.
    pub key: EntityKey,
    /// Keys of the entities it relates to in Port (targets resolved by the caller; the resync
    /// fills them for entities it did not produce); they are protected when this entity is kept
    /// and `createMissingRelatedEntities` is on.
    pub relations: Vec<EntityKey>,
}

/// How a resource (one entry of `resources[]`) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindOutcome {
    /// Every page was fetched, mapped and written.
    Complete,
    /// Something failed; the blueprints it writes are protected from deletion.
    Failed {
        /// What failed, for the report.
        reason: String,
    },
}

/// Everything the planner looks at.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// Entities Port held for this integration at the start of the resync: at least those
    /// this run did not produce (the only candidates). The resync passes only those: at
    /// 100,000 entities a list of all of them cost more than the snapshot (issue 18).
    pub existing: &'a [ExistingEntity],
    /// How many distinct entities Port held for this integration at the start of the resync
    /// (the threshold's denominator).
    pub held: usize,
    /// Entities produced this run (passed the selector), whether or not they were upserted.
    pub seen: &'a Seen,
    /// Blueprint → indexes of the resources that write it this run.
    pub blueprint_owners: &'a HashMap<String, Vec<usize>>,
    /// Outcome per resource index.
    pub outcomes: &'a [KindOutcome],
    /// Relation targets of the entities produced this run.
    pub kept_relation_targets: &'a HashSet<EntityKey>,
    /// The port-app-config's `createMissingRelatedEntities`.
    pub create_missing_related_entities: bool,
    /// The port-app-config's `entityDeletionThreshold` (clamped to `0..=1`; NaN means 0).
    pub threshold: f64,
}

/// Why some entities were not deleted.
#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    /// A resource that writes this blueprint failed, so its stale entities are kept.
    KindFailed {
        /// The protected blueprint.
        blueprint: String,
        /// The failed resources, by index.
        resources: Vec<usize>,
        /// The first failed resource's reason.
        reason: String,
        /// How many entities would otherwise have been deleted.
        would_delete: usize,
    },
    /// Too large a share of Port's entities would have been deleted, so none was.
    ThresholdExceeded {
        /// Entities that would have been deleted.
        would_delete: usize,
        /// Entities Port held for this integration.
        existing: usize,
        /// The threshold in force (after clamping).
        threshold: f64,
    },
    /// No resource writes this blueprint any more, and some resource failed.
    NotManaged {
        /// The blueprint.
        blueprint: String,
        /// Entities kept.
        count: usize,
    },
    /// A kept entity relates to this one (`createMissingRelatedEntities`).
    ProtectedRelationTarget {
        /// The kept entity.
        key: EntityKey,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KindFailed {
                blueprint,
                resources,
                reason,
                would_delete,
            } => write!(
                f,
                "{would_delete} entities of `{blueprint}` kept because resource(s) {resources:?} \
                 failed: {reason}"
            ),
            Self::ThresholdExceeded {
                would_delete,
                existing,
                threshold,
            } => write!(
                f,
                "{would_delete} of {existing} entities would be deleted, above \
                 entityDeletionThreshold {threshold}; nothing deleted"
            ),
            Self::NotManaged { blueprint, count } => write!(
                f,
                "{count} entities of `{blueprint}` kept: no resource writes it and the resync had \
                 failures"
            ),
            Self::ProtectedRelationTarget { key } => write!(
                f,
                "`{}` of `{}` kept: a kept entity relates to it",
                key.identifier, key.blueprint
            ),
        }
    }
}

/// The planner's decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeletePlan {
    /// Entities to delete, sorted by blueprint then identifier.
    pub delete: Vec<EntityKey>,
    /// Why the other candidates were kept, in rule order.
    pub skipped: Vec<SkipReason>,
}

/// Decides which stale entities to delete (rules in the module docs).
#[must_use]
pub fn plan(input: &PlanInput<'_>) -> DeletePlan {
    let mut skipped = Vec::new();
    let mut eligible = eligible_by_blueprint(input, &mut skipped);
    if input.create_missing_related_entities {
        protect_relation_targets(input, &mut eligible, &mut skipped);
    }
    let threshold = clamp_threshold(input.threshold);
    let existing = input.held;
    #[expect(
        clippy::cast_precision_loss,
        reason = "entity counts are far below 2^52"
    )]
    let rate = if existing == 0 {
        0.0
    } else {
        eligible.len() as f64 / existing as f64
    };
    if rate > threshold {
        skipped.push(SkipReason::ThresholdExceeded {
            would_delete: eligible.len(),
            existing,
            threshold,
        });
        return DeletePlan {
            delete: Vec::new(),
            skipped,
        };
    }
    DeletePlan {
        delete: eligible.into_iter().cloned().collect(),
        skipped,
    }
}

/// `entityDeletionThreshold` made safe: NaN deletes nothing; values clamp to `0..=1`.
fn clamp_threshold(threshold: f64) -> f64 {
    if threshold.is_nan() {
        0.0
    } else {
        threshold.clamp(0.0, 1.0)
    }
}

/// Rules 1–3: the candidates whose blueprint is safe to reconcile.
fn eligible_by_blueprint<'a>(
    input: &PlanInput<'a>,
    skipped: &mut Vec<SkipReason>,
) -> BTreeSet<&'a EntityKey> {
    let mut candidates: BTreeMap<&str, BTreeSet<&EntityKey>> = BTreeMap::new();
    for entity in input
        .existing
        .iter()
        .filter(|e| !input.seen.contains(&e.key))
    {
        candidates
            .entry(entity.key.blueprint.as_str())
            .or_default()
            .insert(&entity.key);
    }
    let complete = |i: &usize| matches!(input.outcomes.get(*i), Some(KindOutcome::Complete));
    let placed: HashSet<usize> = input.blueprint_owners.values().flatten().copied().collect();
    let unplaced_failures: Vec<usize> = (0..input.outcomes.len())
        .filter(|i| !complete(i) && !placed.contains(i))
        .collect();
    let all_complete = input.outcomes.iter().all(|o| *o == KindOutcome::Complete);
    let mut eligible = BTreeSet::new();
    for (blueprint, keys) in candidates {
        let owners = input
            .blueprint_owners
            .get(blueprint)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut failed: Vec<usize> = owners.iter().copied().filter(|i| !complete(i)).collect();
        failed.extend_from_slice(&unplaced_failures);
        failed.sort_unstable();
        failed.dedup();
        if let Some(&first) = failed.first() {
            let reason = match input.outcomes.get(first) {
                Some(KindOutcome::Failed { reason }) => reason.clone(),
                _ => format!("resource {first} has no outcome"),
            };
            skipped.push(SkipReason::KindFailed {
                blueprint: blueprint.to_owned(),
                resources: failed,
                reason,
                would_delete: keys.len(),
            });
        } else if owners.is_empty() && !all_complete {
            skipped.push(SkipReason::NotManaged {
                blueprint: blueprint.to_owned(),
                count: keys.len(),
            });
        } else {
            eligible.extend(keys);
        }
    }
    eligible
}

/// Rule 4: removes from `eligible` every entity a kept entity relates to, transitively.
///
/// Where the relations come from (decided when the `ExistingEntity::relations` path was found
/// fed with nothing, so that it protected nothing):
/// - `kept_relation_targets`: the relations the mapping produced this run (`pipeline.rs` collects
///   them, `delete.rs` resolves each relation's target blueprint from the blueprint schema). This
///   is Ocean's own rule: in port-labs/ocean 0.48.x, `SyncRawMixin._resync_reconciliation`
///   (`port_ocean/core/integrations/mixins/sync_raw.py`) calls
///   `HttpEntitiesStateApplier.delete_diff` (`.../entities_state_applier/port/applier.py`) with
///   Port's entities before and the generated ones after; it keeps `created + modified` (the
///   generated entities) and `_safe_delete` skips every entity `get_related_entities`
///   (`.../port/get_related_entities.py`: relation name → target blueprint from each kept
///   entity's blueprint) returns, when `create_missing_related_entities`. That is what keeps a
///   placeholder Port created for a missing target and recorded under our datasource.
/// - [`ExistingEntity::relations`]: Port's own relations of the entities it held, from the
///   snapshot listing, for the entities the run did not produce. Ocean has no such input because
///   it deletes nothing when any kind failed (`sync_raw.py`: "skipping delete phase due to
///   incomplete state"); our rule 2 keeps a failed blueprint and still reconciles the others, so
///   an entity kept that way would otherwise lose its relation targets (and with
///   `deleteDependentEntities`, a required relation would delete the kept entity too). Feeding
///   them keeps us no less safe than Ocean, which would have deleted nothing in that resync.
fn protect_relation_targets<'a>(
    input: &PlanInput<'a>,
    eligible: &mut BTreeSet<&'a EntityKey>,
    skipped: &mut Vec<SkipReason>,
) {
    let mut relations_of: HashMap<&EntityKey, Vec<&EntityKey>> = HashMap::new();
    // Only entities with relations: an entry per entity would cost more than the snapshot's
    // keys at 100,000 entities.
    for entity in input.existing.iter().filter(|e| !e.relations.is_empty()) {
        relations_of
            .entry(&entity.key)
            .or_default()
            .extend(&entity.relations);
    }
    let mut protected: HashSet<&EntityKey> = input.kept_relation_targets.iter().collect();
    for entity in input.existing.iter().filter(|e| !eligible.contains(&e.key)) {
        protected.extend(&entity.relations);
    }
    let mut queue: Vec<&EntityKey> = protected
        .iter()
        .copied()
        .filter(|k| eligible.contains(k))
        .collect();
    let mut kept = Vec::new();
    while let Some(key) = queue.pop() {
        if !eligible.remove(key) {
            continue;
        }
        kept.push(key);
        for target in relations_of.get(key).into_iter().flatten() {
            if protected.insert(target) && eligible.contains(target) {
                queue.push(target);
            }
        }
    }
    kept.sort_unstable();
    skipped.extend(
        kept.into_iter()
            .map(|key| SkipReason::ProtectedRelationTarget { key: key.clone() }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(bp: &str, id: &str) -> EntityKey {
        EntityKey::new(bp, id)
    }

    fn failed(reason: &str) -> KindOutcome {
        KindOutcome::Failed {
            reason: reason.to_owned(),
        }
    }

    /// Resource 0 writes `a`, resource 1 writes `b`; both complete; threshold 1.
    #[derive(Debug, Clone)]
    struct Case {
        existing: Vec<ExistingEntity>,
        seen: Seen,
        owners: HashMap<String, Vec<usize>>,
        outcomes: Vec<KindOutcome>,
        targets: HashSet<EntityKey>,
        create_missing: bool,
        threshold: f64,
    }

    impl Case {
        fn new(existing: &[(&str, &str)], seen: &[(&str, &str)]) -> Self {
            Self {
                existing: existing
                    .iter()
                    .map(|(b, i)| ExistingEntity {
                        key: key(b, i),
                        relations: vec![],
                    })
                    .collect(),
                seen: seen.iter().map(|(b, i)| key(b, i)).collect(),
                owners: HashMap::from([("a".to_owned(), vec![0]), ("b".to_owned(), vec![1])]),
                outcomes: vec![KindOutcome::Complete, KindOutcome::Complete],
                targets: HashSet::new(),
                create_missing: true,
                threshold: 1.0,
            }
        }

        fn relate(&mut self, from: (&str, &str), to: (&str, &str)) {
            let from = key(from.0, from.1);
            let entity = self.existing.iter_mut().find(|e| e.key == from).unwrap();
            entity.relations.push(key(to.0, to.1));
        }

        fn plan(&self) -> DeletePlan {
            plan(&PlanInput {
                existing: &self.existing,
                held: self
                    .existing
                    .iter()
                    .map(|e| &e.key)
                    .collect::<HashSet<_>>()
                    .len(),
                seen: &self.seen,
                blueprint_owners: &self.owners,
                outcomes: &self.outcomes,
                kept_relation_targets: &self.targets,
                create_missing_related_entities: self.create_missing,
                threshold: self.threshold,
            })
        }
    }

    #[test]
    fn deletes_exactly_what_was_not_seen_when_everything_completed() {
        let case = Case::new(
            &[("a", "1"), ("a", "2"), ("b", "3"), ("b", "4")],
            &[("a", "1"), ("b", "3")],
        );
        let plan = case.plan();
        assert_eq!(plan.delete, [key("a", "2"), key("b", "4")]);
        assert_eq!(plan.skipped, []);
    }

    #[test]
    fn deletions_come_sorted_by_blueprint_then_identifier() {
        let case = Case::new(&[("b", "9"), ("a", "2"), ("b", "1"), ("a", "1")], &[]);
        assert_eq!(
            case.plan().delete,
            [key("a", "1"), key("a", "2"), key("b", "1"), key("b", "9")]
        );
    }

    #[test]
    fn deletes_nothing_of_a_blueprint_whose_resource_failed() {
        let mut case = Case::new(
            &[("a", "1"), ("a", "2"), ("b", "3"), ("b", "4")],
            &[("a", "1"), ("b", "3")],
        );
        case.outcomes[1] = failed("boom");
        let plan = case.plan();
        assert_eq!(plan.delete, [key("a", "2")]);
        assert_eq!(
            plan.skipped,
            [SkipReason::KindFailed {
                blueprint: "b".into(),
                resources: vec![1],
                reason: "boom".into(),
                would_delete: 1
            }]
        );
    }

    #[test]
    fn a_blueprint_shared_with_a_failed_resource_is_kept_even_if_another_writer_completed() {
        let mut case = Case::new(&[("a", "1"), ("a", "2")], &[("a", "1")]);
        case.owners.insert("a".into(), vec![0, 1]);
        case.outcomes[1] = failed("page 3 failed");
        let plan = case.plan();
        assert_eq!(plan.delete, []);
        let [SkipReason::KindFailed { resources, .. }] = &plan.skipped[..] else {
            panic!("expected one KindFailed, got {:?}", plan.skipped);
        };
        assert_eq!(resources, &[1]);
    }

    #[test]
    fn a_failed_resource_writing_no_known_blueprint_protects_every_blueprint() {
        let mut case = Case::new(&[("a", "1"), ("b", "2")], &[]);
        case.outcomes.push(failed("blueprint is computed"));
        let plan = case.plan();
        assert_eq!(plan.delete, []);
        assert_eq!(plan.skipped.len(), 2);
        assert!(
            plan.skipped.iter().all(
                |s| matches!(s, SkipReason::KindFailed { resources, .. } if *resources == [2])
            )
        );
    }

    #[test]
    fn an_owner_without_an_outcome_counts_as_failed() {
        let mut case = Case::new(&[("a", "1")], &[]);
        case.owners.insert("a".into(), vec![7]);
        let plan = case.plan();
        assert_eq!(plan.delete, []);
        assert!(
            matches!(&plan.skipped[..], [SkipReason::KindFailed { reason, .. }]
                if reason.contains("no outcome"))
        );
    }

    #[test]
    fn deletes_entities_of_a_blueprint_no_resource_writes_when_everything_completed() {
        let case = Case::new(&[("a", "1"), ("gone", "2")], &[("a", "1")]);
        assert_eq!(case.plan().delete, [key("gone", "2")]);
    }

    #[test]
    fn keeps_entities_of_a_blueprint_no_resource_writes_when_a_resource_failed() {
        let mut case = Case::new(&[("a", "1"), ("gone", "2"), ("gone", "3")], &[]);
        case.outcomes[1] = failed("x");
        let plan = case.plan();
        assert_eq!(plan.delete, [key("a", "1")]);
        assert!(plan.skipped.contains(&SkipReason::NotManaged {
            blueprint: "gone".into(),
            count: 2
        }));
    }

    #[test]
    fn keeps_relation_targets_of_produced_entities() {
        let mut case = Case::new(&[("a", "1"), ("b", "2"), ("b", "3")], &[("a", "1")]);
        case.targets.insert(key("b", "2"));
        let plan = case.plan();
        assert_eq!(plan.delete, [key("b", "3")]);
        assert_eq!(
            plan.skipped,
            [SkipReason::ProtectedRelationTarget { key: key("b", "2") }]
        );
    }

    #[test]
    fn deletes_relation_targets_when_create_missing_related_entities_is_off() {
        let mut case = Case::new(&[("a", "1"), ("b", "2")], &[("a", "1")]);
        case.targets.insert(key("b", "2"));
        case.relate(("a", "1"), ("b", "2"));
        case.create_missing = false;
        assert_eq!(case.plan().delete, [key("b", "2")]);
    }

    #[test]
    fn keeps_targets_of_entities_kept_for_a_failed_blueprint_transitively() {
        // b/1 is kept (its writer failed) and relates to a/2, which relates to a/3.
        let mut case = Case::new(
            &[("a", "1"), ("a", "2"), ("a", "3"), ("a", "4"), ("b", "1")],
            &[("a", "1")],
        );
        case.outcomes[1] = failed("x");
        case.relate(("b", "1"), ("a", "2"));
        case.relate(("a", "2"), ("a", "3"));
        case.relate(("a", "4"), ("a", "1"));
        let plan = case.plan();
        assert_eq!(plan.delete, [key("a", "4")]);
        assert!(
            plan.skipped
                .contains(&SkipReason::ProtectedRelationTarget { key: key("a", "2") })
        );
        assert!(
            plan.skipped
                .contains(&SkipReason::ProtectedRelationTarget { key: key("a", "3") })
        );
    }

    #[test]
    fn a_deleted_entity_protects_nothing() {
        let mut case = Case::new(&[("a", "1"), ("a", "2")], &[]);
        case.relate(("a", "1"), ("a", "2"));
        assert_eq!(case.plan().delete, [key("a", "1"), key("a", "2")]);
    }

    #[test]
    fn refuses_every_deletion_above_the_threshold() {
        let mut case = Case::new(&[("a", "1"), ("a", "2")], &[]);
        case.threshold = 0.9;
        let plan = case.plan();
        assert_eq!(plan.delete, []);
        assert_eq!(
            plan.skipped,
            [SkipReason::ThresholdExceeded {
                would_delete: 2,
                existing: 2,
                threshold: 0.9
            }]
        );
    }

    #[test]
    fn deletes_when_the_rate_equals_the_threshold() {
        let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let existing: Vec<(&str, &str)> = ids.iter().map(|i| ("a", i.as_str())).collect();
        let mut case = Case::new(&existing, &[("a", "0")]);
        case.threshold = 0.9;
        assert_eq!(case.plan().delete.len(), 9);
    }

    #[test]
    fn kept_entities_do_not_count_toward_the_threshold() {
        let mut case = Case::new(&[("a", "1"), ("b", "2"), ("b", "3"), ("b", "4")], &[]);
        case.outcomes[1] = failed("x");
        case.threshold = 0.25;
        assert_eq!(case.plan().delete, [key("a", "1")]);
    }

    #[test]
    fn a_threshold_of_one_allows_deleting_everything() {
        let case = Case::new(&[("a", "1"), ("b", "2")], &[]);
        assert_eq!(case.plan().delete.len(), 2);
    }

    #[test]
    fn a_nan_or_negative_threshold_deletes_nothing_and_one_above_one_acts_as_one() {
        let mut case = Case::new(&[("a", "1"), ("a", "2")], &[("a", "1")]);
        for (threshold, deleted) in [(f64::NAN, 0), (-0.5, 0), (7.0, 1), (f64::INFINITY, 1)] {
            case.threshold = threshold;
            assert_eq!(case.plan().delete.len(), deleted, "threshold {threshold}");
        }
    }

    #[test]
    fn nothing_is_deleted_when_port_held_nothing() {
        let mut case = Case::new(&[], &[("a", "1")]);
        case.threshold = 0.0;
        assert_eq!(case.plan(), DeletePlan::default());
    }

    #[test]
    fn skip_reasons_read_as_sentences() {
        let text = SkipReason::ThresholdExceeded {
            would_delete: 5,
            existing: 6,
            threshold: 0.5,
        }
        .to_string();
        assert_eq!(
            text,
            "5 of 6 entities would be deleted, above entityDeletionThreshold 0.5; nothing deleted"
        );
    }

    /// A random world: 3 blueprints `0..3`, resources `0..4` writing random blueprints.
    fn world() -> impl Strategy<Value = Case> {
        (
            proptest::collection::btree_set((0u8..3, 0u8..20), 0..50),
            proptest::collection::vec(any::<bool>(), 50),
            proptest::collection::vec(proptest::option::of(0u8..3), 4),
            proptest::collection::vec(any::<bool>(), 4),
            proptest::collection::vec(((0u8..3, 0u8..20), (0u8..3, 0u8..20)), 0..30),
            any::<bool>(),
            -0.2f64..1.2,
        )
            .prop_map(
                |(existing, seen_mask, writes, fails, edges, create_missing, threshold)| {
                    let k = |(b, i): (u8, u8)| key(&b.to_string(), &i.to_string());
                    let mut existing: Vec<ExistingEntity> = existing
                        .into_iter()
                        .map(|e| ExistingEntity {
                            key: k(e),
                            relations: vec![],
                        })
                        .collect();
                    let seen = existing
                        .iter()
                        .zip(&seen_mask)
                        .filter(|(_, s)| **s)
                        .map(|(e, _)| e.key.clone())
                        .collect();
                    let mut owners: HashMap<String, Vec<usize>> = HashMap::new();
                    for (resource, bp) in writes.iter().enumerate() {
                        if let Some(bp) = bp {
                            owners.entry(bp.to_string()).or_default().push(resource);
                        }
                    }
                    let outcomes = fails
                        .iter()
                        .map(|f| {
                            if *f {
                                failed("x")
                            } else {
                                KindOutcome::Complete
                            }
                        })
                        .collect();
                    let mut targets = HashSet::new();
                    for (from, to) in edges {
                        match existing.iter_mut().find(|e| e.key == k(from)) {
                            Some(e) if from.1 % 2 == 0 => e.relations.push(k(to)),
                            _ => {
                                targets.insert(k(to));
                            }
                        }
                    }
                    Case {
                        existing,
                        seen,
                        owners,
                        outcomes,
                        targets,
                        create_missing,
                        threshold,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn never_deletes_a_seen_entity(case in world()) {
            for k in &case.plan().delete {
                prop_assert!(!case.seen.contains(k), "deleted seen {:?}", k);
            }
        }

        #[test]
        fn never_deletes_an_entity_of_a_blueprint_whose_writer_failed(case in world()) {
            let plan = case.plan();
            let placed: HashSet<usize> = case.owners.values().flatten().copied().collect();
            let unplaced_failure = (0..case.outcomes.len())
                .any(|i| case.outcomes[i] != KindOutcome::Complete && !placed.contains(&i));
            prop_assert!(!unplaced_failure || plan.delete.is_empty());
            for k in &plan.delete {
                let writers = case.owners.get(&k.blueprint).cloned().unwrap_or_default();
                for w in writers {
                    prop_assert_eq!(&case.outcomes[w], &KindOutcome::Complete, "deleted {:?}", k);
                }
            }
        }

        #[test]
        fn never_exceeds_the_threshold_ratio(case in world()) {
            let plan = case.plan();
            if !plan.delete.is_empty() {
                #[expect(clippy::cast_precision_loss, reason = "small test counts")]
                let rate = plan.delete.len() as f64 / case.existing.len() as f64;
                prop_assert!(rate <= case.threshold.clamp(0.0, 1.0));
            }
        }

        #[test]
        fn never_deletes_a_target_of_a_kept_entity_with_create_missing_related_entities(
            case in world(),
        ) {
            let plan = case.plan();
            let deleted: HashSet<&EntityKey> = plan.delete.iter().collect();
            if case.create_missing {
                let kept_existing = case.existing.iter().filter(|e| !deleted.contains(&e.key));
                let protected: HashSet<&EntityKey> =
                    case.targets.iter().chain(kept_existing.flat_map(|e| &e.relations)).collect();
                prop_assert!(deleted.is_disjoint(&protected));
            }
        }

        #[test]
        fn deletes_exactly_existing_minus_seen_when_everything_completes_under_the_threshold(
            mut case in world(),
        ) {
            case.outcomes.fill(KindOutcome::Complete);
            case.create_missing = false;
            case.threshold = 1.0;
            let unseen = case.existing.iter().filter(|e| !case.seen.contains(&e.key));
            let mut expected: Vec<EntityKey> = unseen.map(|e| e.key.clone()).collect();
            expected.sort();
            prop_assert_eq!(case.plan().delete, expected);
        }
    }
}
