//! Mapping semantics (Ocean's, ocean-framework.md §3): one-line cases of raw item + resource
//! YAML → expected entities, and compile-error reporting.

use mapping::{CompileOptions, ItemOutcome, MapError, MappingPlan, PortAppConfig, SharedFields};
use serde_json::{Value, json};

const DEFAULT: &str = include_str!("../../../../fixtures/mappings/azure-devops-default.yaml");

fn plan(yaml: &str) -> MappingPlan {
    MappingPlan::compile(
        &PortAppConfig::from_yaml(yaml).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap()
}

/// Maps `raw` with resource `index` of `yaml` and returns the entities as JSON.
fn maps(yaml: &str, index: usize, raw: &Value) -> Vec<Value> {
    let outcome = plan(yaml).resources()[index].map_item(raw).unwrap();
    outcome
        .passed
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn one(resource: &str) -> String {
    format!("resources:\n{resource}")
}

#[test]
fn default_project_mapping() {
    let raw = json!({"id": "p 1", "name": "Alpha", "state": "wellFormed", "revision": 7, "visibility": "private",
        "url": "https://dev.azure.com/o/_apis/projects/p1", "defaultTeam": {"name": "Alpha Team"}});
    assert_eq!(
        maps(DEFAULT, 0, &raw),
        [
            json!({"identifier": "p1", "title": "Alpha", "blueprint": "azureDevopsProject",
        "properties": {"state": "wellFormed", "revision": 7, "visibility": "private", "defaultTeam": "Alpha Team",
            "link": "https://dev.azure.com/o/p1"}, "relations": {}})
        ]
    );
}

#[test]
fn default_work_item_mapping_with_missing_effort_and_description() {
    let raw = json!({"id": 42, "url": "u", "__projectId": "p1", "__project": {"id": "p1"},
        "fields": {"System.Title": "T", "System.WorkItemType": "Bug", "System.BoardColumn": "New",
            "System.CreatedBy": {"displayName": "Ada"}}});
    let entity = &maps(DEFAULT, 5, &raw)[0];
    assert_eq!(entity["identifier"], "p1/42");
    assert_eq!(entity["properties"]["effort"], -1);
    assert_eq!(entity["properties"]["description"], "");
    assert_eq!(entity["properties"]["createdBy"], "Ada");
    assert_eq!(entity["properties"]["changedBy"], Value::Null);
    assert_eq!(
        entity["relations"],
        json!({"project": "p1", "column": "Bug-New-p1"})
    );
}

#[test]
fn default_release_mapping_keeps_the_unmatched_regex_link() {
    let raw = json!({"id": 7, "name": "R7", "projectReference": {"id": "p1"},
        "_links": {"web": {"href": "https://x/_release?releaseId=7"}}});
    let entity = &maps(DEFAULT, 7, &raw)[0];
    assert_eq!(entity["identifier"], "p1/7");
    // `?` is a regex quantifier, so jq leaves the link unchanged (as the Python integration does).
    assert_eq!(
        entity["properties"]["link"],
        "https://x/_release?releaseId=7"
    );
}

#[test]
fn the_selector_filters_and_a_non_boolean_selector_is_an_error() {
    let yaml = DEFAULT;
    let policy = |name: &str| json!({"type": {"displayName": name}, "settings": {"minimumApproverCount": 2}, "__repository": {"id": "r1"}});
    assert_eq!(
        maps(yaml, 2, &policy("Minimum number of reviewers")).len(),
        1
    );
    let outcome = plan(yaml).resources()[2]
        .map_item(&policy("Build"))
        .unwrap();
    assert_eq!((outcome.passed.len(), outcome.filtered_out), (0, 1));

    let bad = one(
        "  - kind: k\n    selector:\n      query: .name\n    port:\n      entity:\n        mappings:\n          identifier: .id\n          blueprint: '\"b\"'\n",
    );
    let error = plan(&bad).resources()[0]
        .map_item(&json!({"id": "1", "name": "x"}))
        .unwrap_err();
    assert!(matches!(error, MapError::Selector { .. }), "{error}");
    assert!(error.to_string().contains("boolean"));
}

#[test]
fn a_failing_field_is_null_with_a_warning_and_an_empty_identifier_drops_the_item() {
    let yaml = one(
        "  - kind: k\n    port:\n      entity:\n        mappings:\n          identifier: .id\n          blueprint: '\"b\"'\n          properties:\n            n: .name | ltrimstr(1) | error(\"boom\")\n",
    );
    let outcome: ItemOutcome = plan(&yaml).resources()[0]
        .map_item(&json!({"id": "a", "name": "x"}))
        .unwrap();
    assert_eq!(outcome.passed[0].properties["n"], Value::Null);
    assert_eq!(outcome.warnings[0].field, "properties.n");
    let dropped = plan(&yaml).resources()[0]
        .map_item(&json!({"id": "", "name": "x"}))
        .unwrap();
    assert_eq!((dropped.passed.len(), dropped.dropped.len()), (0, 1));
}

#[test]
fn items_to_parse_yields_one_entity_per_element_without_the_parsed_array() {
    let yaml = one(
        "  - kind: k\n    port:\n      itemsToParse: .members\n      entity:\n        mappings:\n          identifier: .item.id\n          blueprint: '\"member\"'\n          properties:\n            team: .name\n            rest: .members\n",
    );
    let entities = maps(
        &yaml,
        0,
        &json!({"name": "t", "members": [{"id": "u1"}, {"id": "u2"}]}),
    );
    assert_eq!(entities.len(), 2);
    assert_eq!(entities[1]["identifier"], "u2");
    assert_eq!(
        entities[1]["properties"],
        json!({"team": "t", "rest": null})
    );
}

#[test]
fn shared_page_fields_map_as_if_each_item_had_them() {
    // Key order matters to `keys_unsorted`: shared fields come after the item's own keys and
    // replace a key the item already has in place, as an insertion into the raw object would.
    let yaml = one(
        "  - kind: k\n    selector:\n      query: .__project.name == \"Alpha\"\n    port:\n      entity:\n        mappings:\n          identifier: .id | tostring\n          blueprint: '\"b\"'\n          properties:\n            keys: keys_unsorted\n            project: .__project.name\n  - kind: k\n    port:\n      itemsToParse: .__project.teams\n      entity:\n        mappings:\n          identifier: .item\n          blueprint: '\"team\"'\n          properties:\n            of: .id\n",
    );
    let plan = plan(&yaml);
    let shared = serde_json::from_value::<serde_json::Map<String, Value>>(
        json!({"__project": {"name": "Alpha", "teams": ["t1", "t2"]}, "kind": "shared"}),
    )
    .unwrap();
    let fields = SharedFields::new(shared.clone());
    for raw in [
        json!({"id": 1, "kind": "own", "z": true}),
        json!({"id": 2}),
        json!("not an object"),
    ] {
        let mut merged = raw.clone();
        if let Value::Object(map) = &mut merged {
            map.extend(shared.clone());
        }
        for resource in plan.resources() {
            assert_eq!(
                resource
                    .map_item_sharing(&raw, &fields)
                    .map_err(|e| e.to_string()),
                resource.map_item(&merged).map_err(|e| e.to_string()),
                "{raw}"
            );
        }
    }
    let first = plan.resources()[0]
        .map_item_sharing(&json!({"id": 1, "kind": "own"}), &fields)
        .unwrap();
    assert_eq!(
        first.passed[0].properties["keys"],
        json!(["id", "kind", "__project"])
    );
    assert_eq!(
        plan.resources()[1]
            .map_item_sharing(&json!({"id": 1}), &fields)
            .unwrap()
            .passed
            .len(),
        2
    );
}

#[test]
fn search_query_identifiers_pass_through_evaluated() {
    let yaml = one(
        "  - kind: k\n    port:\n      entity:\n        mappings:\n          identifier:\n            combinator: '\"and\"'\n            rules:\n              - property: '\"name\"'\n                operator: '\"=\"'\n                value: .repo\n          blueprint: '\"svc\"'\n",
    );
    let outcome = plan(&yaml).resources()[0]
        .map_item(&json!({"repo": "api"}))
        .unwrap();
    assert!(outcome.passed[0].has_search_identifier());
    assert_eq!(
        outcome.passed[0].identifier,
        json!({"combinator": "and", "rules": [{"property": "name", "operator": "=", "value": "api"}]})
    );
}

#[test]
fn env_is_empty_unless_the_host_passes_an_environment() {
    let yaml = one(
        "  - kind: k\n    port:\n      entity:\n        mappings:\n          identifier: .id\n          blueprint: '\"b\"'\n          properties:\n            a: env\n            b: $ENV.HOME\n",
    );
    let entity = &maps(&yaml, 0, &json!({"id": "1"}))[0];
    assert_eq!(entity["properties"], json!({"a": {}, "b": null}));
    let config = PortAppConfig::from_yaml(&yaml).unwrap();
    let env = serde_json::Map::from_iter([("HOME".to_owned(), json!("/root"))]);
    let plan = MappingPlan::compile(&config, &CompileOptions { env: Some(env) }).unwrap();
    let outcome = plan.resources()[0].map_item(&json!({"id": "1"})).unwrap();
    assert_eq!(outcome.passed[0].properties["b"], "/root");
}

#[test]
fn every_broken_expression_is_reported_with_kind_field_and_position() {
    let yaml = "resources:\n  - kind: repo\n    selector:\n      query: '.name | test('\n    port:\n      entity:\n        mappings:\n          identifier: .id\n          blueprint: '\"b\"'\n          properties:\n            ok: .ok\n            a: .a | ]\n            b: nosuch(1)\n";
    let errors = MappingPlan::compile(
        &PortAppConfig::from_yaml(yaml).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "selector.query",
            "port.entity.mappings.properties.a",
            "port.entity.mappings.properties.b"
        ]
    );
    assert!(errors.0.iter().all(|e| e.kind == "repo"));
    assert!(
        errors.0[1].message.contains("position"),
        "{}",
        errors.0[1].message
    );
    assert!(errors.to_string().lines().count() == 3);
}

#[test]
fn a_bad_shape_names_the_yaml_path() {
    let error = PortAppConfig::from_yaml("resources:\n  - kind: k\n    port: 5\n").unwrap_err();
    assert!(error.to_string().contains("resources[0].port"), "{error}");
}

#[test]
fn compile_each_plans_the_resources_that_compile_and_refuses_the_others_with_every_error() {
    let yaml = r#"
resources:
  - kind: a
    port: {entity: {mappings: {identifier: .id, blueprint: '"alpha"'}}}
  - kind: b
    selector: {query: 'oops('}
    port: {entity: {mappings: {identifier: .id | nosuch(1), blueprint: '"beta"'}}}
  - kind: c
    port: {entity: {mappings: {identifier: .id, blueprint: .bp | (}}}
"#;
    let config = PortAppConfig::from_yaml(yaml).unwrap();
    let mut plan = MappingPlan::compile_each(&config, &CompileOptions::default());
    assert_eq!(
        plan.resources()
            .iter()
            .map(mapping::ResourcePlan::index)
            .collect::<Vec<_>>(),
        [0]
    );
    let refused: Vec<(usize, Option<&str>, usize)> = plan
        .refused()
        .iter()
        .map(|r| (r.index, r.blueprint.as_deref(), r.errors.len()))
        .collect();
    assert_eq!(refused, [(1, Some("beta"), 2), (2, None, 1)]);
    assert!(plan.resource(0).is_some() && plan.resource(1).is_none());
    // The strict form reports the same errors together.
    let strict = MappingPlan::compile(&config, &CompileOptions::default()).unwrap_err();
    assert_eq!(strict.0.len(), 3);

    // A host refusal takes a compiled resource out, keeping its literal blueprint.
    plan.refuse(mapping::CompileError {
        resource_index: 0,
        kind: "a".into(),
        field: "selector".into(),
        expression: "{}".into(),
        message: "not for this host".into(),
    });
    assert!(plan.resources().is_empty());
    assert_eq!(plan.refused()[0].blueprint.as_deref(), Some("alpha"));
}
