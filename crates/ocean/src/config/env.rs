//! The only place that reads the process environment and the config file.

use std::path::Path;

use super::{ConfigError, Problem};

/// The process environment (variables that are not UTF-8 are skipped).
pub(crate) fn vars() -> Vec<(String, String)> {
    #[expect(
        clippy::disallowed_methods,
        reason = "config/env.rs is the one place that reads the environment"
    )]
    let vars = std::env::vars_os();
    vars.filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Environment variables and the config file's text (`None` when absent).
pub(crate) type Raw = (Vec<(String, String)>, Option<String>);

/// Where Ocean looks for `config.yaml` when none is named: the working directory.
pub(crate) const DEFAULT_FILE: &str = "config.yaml";

/// The process environment and the contents of the config file: the one named (which must
/// exist), else `config.yaml` in the working directory if there is one.
pub(crate) fn read(named: Option<&Path>) -> Result<Raw, ConfigError> {
    let env = vars();
    let config_path = named.unwrap_or(Path::new(DEFAULT_FILE));
    let yaml = match std::fs::read_to_string(config_path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && named.is_none() => None,
        Err(error) => {
            return Err(ConfigError {
                problems: vec![Problem {
                    key: config_path.display().to_string(),
                    message: format!("cannot be read: {error}"),
                    fix: if named.is_some() {
                        "check the path given with --config".to_owned()
                    } else {
                        "make the file readable or remove it".to_owned()
                    },
                }],
            });
        }
    };
    Ok((env, yaml))
}
