//! What the integration ships for a first start (ocean-azure-devops.md §4): the default mapping,
//! blueprints, scorecards and pages, with the Python integration's identifiers and schema.
//!
//! Two upstream defects are fixed in our files: the scorecard and the dashboards point at the
//! `azureDevopsRepository` blueprint (upstream names a `service` blueprint that its own
//! defaults never create, so Port refuses them), and "at least two approvers" is `>= 2`
//! (upstream's rule tests `< 2`).

use mapping::PortAppConfig;
use ocean::defaults::DefaultResources;

/// The default port-app-config (ocean-azure-devops.md §4.2).
pub const DEFAULT_MAPPING: &str =
    include_str!("../../../fixtures/mappings/azure-devops-default.yaml");
/// The default blueprints (§4.1).
pub const BLUEPRINTS: &str = include_str!("../../../fixtures/port/azure-devops-blueprints.json");
/// The default scorecards (§4.3).
pub const SCORECARDS: &str = include_str!("../../../fixtures/port/azure-devops-scorecards.json");
/// The default pages (§4.3).
pub const PAGES: &str = include_str!("../../../fixtures/port/azure-devops-pages.json");

/// A shipped file that does not parse (a build defect; the unit test below catches it).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The default mapping, parsed.
pub fn default_mapping() -> Result<PortAppConfig, Error> {
    Ok(PortAppConfig::from_yaml(DEFAULT_MAPPING)?)
}

/// Everything `initializePortResources` creates.
pub fn resources() -> Result<DefaultResources, Error> {
    Ok(DefaultResources {
        port_app_config: serde_json::to_value(default_mapping()?)?,
        blueprints: serde_json::from_str(BLUEPRINTS)?,
        scorecards: serde_json::from_str(SCORECARDS)?,
        pages: serde_json::from_str(PAGES)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_defaults_parse_and_reference_only_shipped_blueprints() {
        let resources = resources().unwrap();
        assert_eq!(resources.blueprints.len(), 6);
        assert_eq!(resources.pages.len(), 2);
        let shipped: Vec<&str> = resources
            .blueprints
            .iter()
            .filter_map(|b| b["identifier"].as_str())
            .collect();
        for group in &resources.scorecards {
            assert!(shipped.contains(&group["blueprint"].as_str().unwrap_or_default()));
        }
        assert!(
            !PAGES.contains("\"service\""),
            "pages name shipped blueprints only"
        );
        mapping::MappingPlan::compile(
            &default_mapping().unwrap(),
            &mapping::CompileOptions::default(),
        )
        .unwrap();
    }
}
