//! Compilation of a port-app-config into a [`MappingPlan`]: every jq expression compiled once,
//! every failure collected with its resource, field and position.

use serde_json::{Map, Value};

use crate::{
    CompileError, CompileErrors, PortAppConfig,
    config::{FieldMapping, ResourceConfig, SearchQuery, SearchRule, SelectorConfig},
    jq::{Jq, to_val},
};

/// Options of [`MappingPlan::compile`].
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// The environment visible to jq's `env` and `$ENV`; `None` makes both `{}` (Ocean's
    /// `OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS=false`). The host reads the environment;
    /// this crate does not.
    pub env: Option<Map<String, Value>>,
}

/// A compiled port-app-config: one [`ResourcePlan`] per resource that compiled, in order, and
/// the resources that did not (only from [`MappingPlan::compile_each`] and
/// [`MappingPlan::refuse`]).
#[derive(Debug, Clone)]
pub struct MappingPlan {
    resources: Vec<ResourcePlan>,
    refused: Vec<RefusedResource>,
}

/// A resource left out of a [`MappingPlan`], with every reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedResource {
    /// Position in the port-app-config.
    pub index: usize,
    /// The resource's kind.
    pub kind: String,
    /// The blueprint it writes, when its blueprint expression is a string literal (so that
    /// the host can protect that blueprint instead of every one).
    pub blueprint: Option<String>,
    /// Why (at least one).
    pub errors: Vec<CompileError>,
}

/// A mapping leaf after compilation.
#[derive(Debug, Clone)]
pub(crate) enum FieldPlan {
    Jq(Jq),
    Search {
        combinator: Jq,
        rules: Vec<RulePlan>,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum RulePlan {
    Rule {
        property: Jq,
        operator: Jq,
        value: Jq,
    },
    Query(FieldPlan),
}

/// One compiled resource.
#[derive(Debug, Clone)]
pub struct ResourcePlan {
    pub(crate) index: usize,
    pub(crate) kind: String,
    pub(crate) selector: SelectorConfig,
    pub(crate) query: Jq,
    pub(crate) items_to_parse: Option<Jq>,
    pub(crate) items_name: String,
    /// Path of the parsed array to remove from the copies (`.a.b` → `["a", "b"]`).
    pub(crate) items_path: Option<Vec<String>>,
    pub(crate) identifier: FieldPlan,
    pub(crate) title: Option<Jq>,
    pub(crate) blueprint: Jq,
    pub(crate) team: Option<FieldPlan>,
    pub(crate) icon: Option<Jq>,
    pub(crate) properties: Vec<(String, Jq)>,
    pub(crate) relations: Vec<(String, FieldPlan)>,
    pub(crate) env: jaq_json::Val,
}

impl MappingPlan {
    /// Compiles every expression of `config`; all failures are reported together.
    pub fn compile(
        config: &PortAppConfig,
        options: &CompileOptions,
    ) -> Result<Self, CompileErrors> {
        let plan = Self::compile_each(config, options);
        if plan.refused.is_empty() {
            Ok(plan)
        } else {
            Err(CompileErrors(
                plan.refused.into_iter().flat_map(|r| r.errors).collect(),
            ))
        }
    }

    /// Compiles each resource on its own: those with an expression that does not compile are
    /// [`refused`](Self::refused) with every error, the others are planned (a host that must
    /// keep syncing what it can, e.g. with a mapping edited in Port's UI).
    #[must_use]
    pub fn compile_each(config: &PortAppConfig, options: &CompileOptions) -> Self {
        let env = to_val(&Value::Object(options.env.clone().unwrap_or_default()));
        let mut plan = Self {
            resources: Vec::with_capacity(config.resources.len()),
            refused: Vec::new(),
        };
        for (index, resource) in config.resources.iter().enumerate() {
            let mut errors = Vec::new();
            let mut c = Collector {
                index,
                kind: &resource.kind,
                errors: &mut errors,
            };
            match compile_resource(&mut c, resource, env.clone()) {
                Some(compiled) if errors.is_empty() => plan.resources.push(compiled),
                _ => plan.refused.push(RefusedResource {
                    index,
                    kind: resource.kind.clone(),
                    blueprint: Jq::compile(&resource.port.entity.mappings.blueprint)
                        .ok()
                        .and_then(|jq| jq.literal().map(str::to_owned)),
                    errors,
                }),
            }
        }
        plan
    }

    /// Takes resource `error.resource_index` out of the plan (the host refuses it, e.g. its
    /// selector options), or adds `error` to its reasons if it is refused already.
    pub fn refuse(&mut self, error: CompileError) {
        let index = error.resource_index;
        if let Some(refused) = self.refused.iter_mut().find(|r| r.index == index) {
            refused.errors.push(error);
            return;
        }
        let Some(position) = self.resources.iter().position(|r| r.index == index) else {
            return;
        };
        let resource = self.resources.remove(position);
        self.refused.push(RefusedResource {
            index,
            kind: resource.kind,
            blueprint: resource.blueprint.literal().map(str::to_owned),
            errors: vec![error],
        });
        self.refused.sort_by_key(|r| r.index);
    }

    /// The compiled resources, in port-app-config order (each knows its
    /// [`index`](ResourcePlan::index); without refusals `resources()[i].index() == i`).
    #[must_use]
    pub fn resources(&self) -> &[ResourcePlan] {
        &self.resources
    }

    /// The compiled resource at port-app-config position `index`, unless it was refused.
    #[must_use]
    pub fn resource(&self, index: usize) -> Option<&ResourcePlan> {
        self.resources
            .binary_search_by_key(&index, |r| r.index)
            .ok()
            .map(|at| &self.resources[at])
    }

    /// The resources left out, in port-app-config order.
    #[must_use]
    pub fn refused(&self) -> &[RefusedResource] {
        &self.refused
    }
}

impl ResourcePlan {
    /// Position in the port-app-config.
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The selector as written (query and kind-specific options), for the integration.
    #[must_use]
    pub fn selector(&self) -> &SelectorConfig {
        &self.selector
    }

    /// The blueprint when the mapping names it with a constant string (the usual case).
    #[must_use]
    pub fn blueprint_literal(&self) -> Option<&str> {
        self.blueprint.literal()
    }

    /// The fields every entity of this resource carries, whatever their values: an
    /// [`Entity`](crate::Entity) has `title`, `icon` and `team` exactly when the mapping has
    /// them, and every mapped property and relation, null or not.
    #[must_use]
    pub fn entity_fields(&self) -> EntityFields<'_> {
        EntityFields {
            title: self.title.is_some(),
            icon: self.icon.is_some(),
            team: self.team.is_some(),
            properties: self
                .properties
                .iter()
                .map(|(name, _)| name.as_str())
                .collect(),
            relations: self
                .relations
                .iter()
                .map(|(name, _)| name.as_str())
                .collect(),
        }
    }
}

/// The fields of a resource's entities ([`ResourcePlan::entity_fields`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFields<'a> {
    /// Whether the mapping has a title.
    pub title: bool,
    /// Whether it has an icon.
    pub icon: bool,
    /// Whether it has a team.
    pub team: bool,
    /// Its properties' names, in mapping order.
    pub properties: Vec<&'a str>,
    /// Its relations' names, in mapping order.
    pub relations: Vec<&'a str>,
}

struct Collector<'a> {
    index: usize,
    kind: &'a str,
    errors: &'a mut Vec<CompileError>,
}

impl Collector<'_> {
    fn jq(&mut self, field: &str, source: &str) -> Option<Jq> {
        match Jq::compile(source) {
            Ok(jq) => Some(jq),
            Err(error) => {
                self.errors.push(CompileError {
                    resource_index: self.index,
                    kind: self.kind.to_owned(),
                    field: field.to_owned(),
                    expression: source.to_owned(),
                    message: error.message,
                });
                None
            }
        }
    }

    fn field(&mut self, field: &str, mapping: &FieldMapping) -> Option<FieldPlan> {
        match mapping {
            FieldMapping::Jq(source) => self.jq(field, source).map(FieldPlan::Jq),
            FieldMapping::Search(query) => self.search(field, query),
        }
    }

    fn search(&mut self, field: &str, query: &SearchQuery) -> Option<FieldPlan> {
        let combinator = self.jq(&format!("{field}.combinator"), &query.combinator);
        let mut rules = Vec::new();
        let mut ok = true;
        for (i, rule) in query.rules.iter().enumerate() {
            let path = format!("{field}.rules[{i}]");
            let plan = match rule {
                SearchRule::Rule {
                    property,
                    operator,
                    value,
                } => {
                    let p = self.jq(&format!("{path}.property"), property);
                    let o = self.jq(&format!("{path}.operator"), operator);
                    let v = self.jq(&format!("{path}.value"), value);
                    match (p, o, v) {
                        (Some(property), Some(operator), Some(value)) => Some(RulePlan::Rule {
                            property,
                            operator,
                            value,
                        }),
                        _ => None,
                    }
                }
                SearchRule::Query(nested) => self.search(&path, nested).map(RulePlan::Query),
            };
            match plan {
                Some(plan) => rules.push(plan),
                None => ok = false,
            }
        }
        Some(FieldPlan::Search {
            combinator: combinator?,
            rules,
        })
        .filter(|_| ok)
    }
}

const MAPPINGS: &str = "port.entity.mappings";

fn compile_resource(
    c: &mut Collector<'_>,
    resource: &ResourceConfig,
    env: jaq_json::Val,
) -> Option<ResourcePlan> {
    let m = &resource.port.entity.mappings;
    let query = c.jq("selector.query", &resource.selector.query);
    let items_to_parse = match &resource.port.items_to_parse {
        Some(source) => Some(c.jq("port.itemsToParse", source)?),
        None => None,
    };
    let identifier = c.field(&format!("{MAPPINGS}.identifier"), &m.identifier);
    let title = m
        .title
        .as_ref()
        .map(|t| c.jq(&format!("{MAPPINGS}.title"), t));
    let blueprint = c.jq(&format!("{MAPPINGS}.blueprint"), &m.blueprint);
    let team = m
        .team
        .as_ref()
        .map(|t| c.field(&format!("{MAPPINGS}.team"), t));
    let icon = m
        .icon
        .as_ref()
        .map(|i| c.jq(&format!("{MAPPINGS}.icon"), i));
    let properties: Vec<_> = m
        .properties
        .iter()
        .map(|(name, source)| {
            (
                name.clone(),
                c.jq(&format!("{MAPPINGS}.properties.{name}"), source),
            )
        })
        .collect();
    let relations: Vec<_> = m
        .relations
        .iter()
        .map(|(name, mapping)| {
            (
                name.clone(),
                c.field(&format!("{MAPPINGS}.relations.{name}"), mapping),
            )
        })
        .collect();
    Some(ResourcePlan {
        index: c.index,
        kind: resource.kind.clone(),
        selector: resource.selector.clone(),
        query: query?,
        items_path: resource
            .port
            .items_to_parse
            .as_deref()
            .filter(|_| resource.port.items_to_parse_top_level_transform)
            .and_then(simple_path),
        items_to_parse,
        items_name: resource.port.items_to_parse_name.clone(),
        identifier: identifier?,
        title: match title {
            Some(t) => Some(t?),
            None => None,
        },
        blueprint: blueprint?,
        team: match team {
            Some(t) => Some(t?),
            None => None,
        },
        icon: match icon {
            Some(i) => Some(i?),
            None => None,
        },
        properties: properties
            .into_iter()
            .map(|(n, j)| j.map(|j| (n, j)))
            .collect::<Option<_>>()?,
        relations: relations
            .into_iter()
            .map(|(n, f)| f.map(|f| (n, f)))
            .collect::<Option<_>>()?,
        env,
    })
}

/// `.a.b` / `.a."b c"` → `["a", "b c"]`; anything more complex → `None` (nothing removed).
fn simple_path(expression: &str) -> Option<Vec<String>> {
    let text = expression.trim();
    if !text.starts_with('.') || text == "." {
        return None;
    }
    let mut path = Vec::new();
    for part in text[1..].split('.') {
        let part = part.trim();
        let key = if let Some(quoted) = part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
            quoted.to_owned()
        } else if !part.is_empty()
            && part
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            part.to_owned()
        } else {
            return None;
        };
        path.push(key);
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::simple_path;

    #[test]
    fn only_plain_paths_are_removed_from_item_copies() {
        assert_eq!(simple_path(".a.b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(simple_path(".\"x y\""), Some(vec!["x y".into()]));
        assert_eq!(simple_path(".a[]"), None);
        assert_eq!(simple_path(".a | map(.)"), None);
    }
}
