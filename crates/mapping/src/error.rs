//! Errors of the mapping crate: parse errors naming the key path, compile errors naming the
//! resource, field and position, and selector errors at evaluation time.

use std::fmt;

/// A port-app-config could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The YAML/JSON does not match the port-app-config format.
    #[error("at `{path}`: {message}")]
    Parse {
        /// Path of the offending key (`resources[2].port.entity.mappings`).
        path: String,
        /// What was wrong.
        message: String,
    },
}

/// One jq expression that does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Position of the resource in the port-app-config.
    pub resource_index: usize,
    /// The resource's kind.
    pub kind: String,
    /// Field path, e.g. `port.entity.mappings.properties.effort` or `selector.query`.
    pub field: String,
    /// The expression as written.
    pub expression: String,
    /// jaq's complaint, with the position in the expression.
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "resources[{}] (kind `{}`) {}: `{}`: {}",
            self.resource_index, self.kind, self.field, self.expression, self.message
        )
    }
}

/// Every expression of a port-app-config that does not compile (never just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CompileErrors(pub Vec<CompileError>);

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "- {error}")?;
        }
        Ok(())
    }
}

/// A raw item could not be mapped at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The selector query failed or did not yield a boolean (as in Ocean, this is an error of
    /// the kind, so the resync must not delete on its account).
    #[error("selector of resources[{index}] (kind `{kind}`) {message}")]
    Selector {
        /// The resource's kind.
        kind: String,
        /// Position of the resource.
        index: usize,
        /// What went wrong.
        message: String,
    },
}
