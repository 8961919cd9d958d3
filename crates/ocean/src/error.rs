//! [`Error`]: why a run of the framework could not start or finish, and [`Report`], which
//! prints an error with each of its causes once.

use std::fmt;

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Port call needed before resyncing failed.
    #[error("{action}")]
    Port {
        /// What we were doing.
        action: &'static str,
        /// The client error.
        #[source]
        source: port_client::Error,
    },
    /// The port-app-config could not be read.
    #[error("the port-app-config {origin} is invalid")]
    MappingInvalid {
        /// Where it came from (the integration record or a file).
        origin: String,
        /// The parse error.
        #[source]
        source: mapping::Error,
    },
    /// The Kafka consumer could not be created.
    #[error("the Kafka consumer for {brokers} could not start: {message}")]
    Kafka {
        /// The brokers configured.
        brokers: String,
        /// librdkafka's error.
        message: String,
    },
    /// `KAFKA` was configured, but this build has no Kafka support.
    #[error(
        "OCEAN__EVENT_LISTENER__TYPE is KAFKA, but this build of ocean-azure-devops has no Kafka support: use a release image (built with `--features kafka`), or set the listener to POLLING"
    )]
    KafkaNotBuilt,
    /// Origin `Port`: Port did not provision the mapping in time.
    #[error(
        "Port did not provision the default resources after {attempts} checks; check the integration in Port, or set OCEAN__CREATE_PORT_RESOURCES_ORIGIN=Default to create them here"
    )]
    Provisioning {
        /// Checks made.
        attempts: u32,
    },
}

/// Displays an error followed by each of its causes, once each, separated by `: ` (what
/// `anyhow`'s `{:#}` prints), for logs: an error's own message never repeats its source.
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_prints_each_cause_once() {
        let error = Error::MappingInvalid {
            origin: "of the integration record".into(),
            source: mapping::PortAppConfig::from_yaml("resources: 7").expect_err("not a mapping"),
        };
        let text = Report(&error).to_string();
        let cause = std::error::Error::source(&error)
            .expect("a cause")
            .to_string();
        assert!(text.starts_with("the port-app-config of the integration record is invalid: "));
        assert_eq!(text.matches(&cause).count(), 1, "{text}");
    }
}
