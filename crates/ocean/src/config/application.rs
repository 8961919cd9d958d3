//! `APPLICATION__*`: the settings Ocean's web server and logging read (ocean-framework.md §1).

use super::{Problems, source::Sources};

/// `APPLICATION__LOG_LEVEL`: Ocean's (Python logging's) level names, any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// `DEBUG`.
    Debug,
    /// `INFO` (the default).
    #[default]
    Info,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL`: we log nothing above errors, so the same as `ERROR`.
    Critical,
}

impl LogLevel {
    /// The level for a configured name (case-insensitive); `None` for an unknown one.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "DEBUG" => Some(Self::Debug),
            "INFO" => Some(Self::Info),
            "WARNING" => Some(Self::Warning),
            "ERROR" => Some(Self::Error),
            "CRITICAL" => Some(Self::Critical),
            _ => None,
        }
    }

    /// The `tracing` filter directive of this level.
    #[must_use]
    pub fn directive(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warn",
            Self::Error | Self::Critical => "error",
        }
    }
}

/// `APPLICATION__*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSettings {
    /// `APPLICATION__LOG_LEVEL`.
    pub log_level: LogLevel,
    /// HTTP port (default 8000).
    pub port: u16,
    /// Ship logs to Port.
    pub enable_http_logging: bool,
}

/// Reads the `APPLICATION__*` settings.
pub(super) fn resolve(sources: &Sources, p: &mut Problems) -> ApplicationSettings {
    let get = |key: &str| sources.application.get(key);
    let log_level = match get("log_level") {
        None => LogLevel::default(),
        Some((name, value)) => LogLevel::parse(value).unwrap_or_else(|| {
            p.push(
                name.as_str(),
                format!("unknown log level \"{value}\""),
                "use ERROR, WARNING, INFO, DEBUG or CRITICAL",
            );
            LogLevel::default()
        }),
    };
    let port = match get("port") {
        None => 8000,
        Some((name, value)) => value.trim().parse().unwrap_or_else(|_| {
            p.push(
                name.as_str(),
                format!("must be a TCP port number, got \"{value}\""),
                "use a number from 1 to 65535",
            );
            8000
        }),
    };
    let enable_http_logging =
        get("enable_http_logging").is_none_or(|(_, v)| !v.eq_ignore_ascii_case("false"));
    ApplicationSettings {
        log_level,
        port,
        enable_http_logging,
    }
}
