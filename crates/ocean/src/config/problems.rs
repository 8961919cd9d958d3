//! Configuration problems, collected so that every one is reported at once (STYLE.md rule 6).

use std::fmt;

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key as the user wrote it: `OCEAN__EVENT_LISTENER__TYPE` or
    /// `config.yaml: eventListener.type` (for a missing key: the env var to set).
    pub key: String,
    /// What is wrong (never contains a secret value).
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// Problems found so far.
#[derive(Debug, Default, Clone)]
pub struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    /// Records a problem.
    pub fn push(
        &mut self,
        key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(Problem {
            key: key.into(),
            message: message.into(),
            fix: fix.into(),
        });
    }

    /// True when nothing is wrong.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The configuration is invalid; every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Every problem found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} configuration problem(s):", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "- {}: {}. Fix: {}", p.key, p.message, p.fix)?;
        }
        Ok(())
    }
}
