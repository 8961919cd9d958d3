//! The Kafka consumer (librdkafka through rdkafka).

use std::time::Duration;

use rdkafka::{
    ClientConfig, ClientContext, Message,
    config::RDKafkaLogLevel,
    consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer},
    error::KafkaError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use super::{Topic, asks_resync, group_id};
use crate::{Error, Integration, config::ListenerKind, runner::Runner};

/// What the consumer connects to and reads.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Bootstrap brokers.
    pub brokers: Vec<String>,
    /// SASL, when `kafka_security_enabled` (Ocean's default); `None` connects in plaintext.
    pub sasl: Option<Sasl>,
    /// The consumer group.
    pub group_id: String,
    /// The topic.
    pub topic: Topic,
    /// This integration's identifier (whose resync requests count).
    pub identifier: String,
}

/// SASL settings.
#[derive(Debug, Clone)]
pub struct Sasl {
    /// `security.protocol`, `SASL_SSL` by default.
    pub security_protocol: String,
    /// `sasl.mechanism`, `SCRAM-SHA-512` by default.
    pub mechanism: String,
    /// From `GET /v1/kafka-credentials`.
    pub username: String,
    /// From `GET /v1/kafka-credentials`.
    pub password: SecretString,
}

/// Forwards librdkafka's log to `tracing` and reports partition assignments.
#[derive(Debug, Default)]
pub struct Context;

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => error!(facility, "Kafka: {message}"),
            RDKafkaLogLevel::Warning => warn!(facility, "Kafka: {message}"),
            _ => debug!(facility, "Kafka: {message}"),
        }
    }
}

impl ConsumerContext for Context {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) if partitions.count() == 0 => warn!(
                "No Kafka partition is assigned to this consumer: another instance with the same integration identifier may be running."
            ),
            Rebalance::Assign(partitions) => {
                info!(
                    partitions = partitions.count(),
                    "Kafka partitions assigned."
                );
            }
            Rebalance::Revoke(partitions) => {
                info!(partitions = partitions.count(), "Kafka partitions revoked.");
            }
            Rebalance::Error(error) => warn!(%error, "Kafka rebalance failed."),
        }
    }
}

/// A consumer subscribed to the topic (it connects in the background).
pub fn consumer(settings: &ConsumerSettings) -> Result<StreamConsumer<Context>, KafkaError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", settings.brokers.join(","))
        .set("group.id", &settings.group_id)
        .set("enable.auto.commit", "false");
    if let Some(sasl) = &settings.sasl {
        config
            .set("security.protocol", &sasl.security_protocol)
            .set("sasl.mechanism", &sasl.mechanism)
            .set("sasl.username", &sasl.username)
            .set("sasl.password", sasl.password.expose_secret())
            // Ocean's choice: a running instance keeps its partitions when another one joins.
            .set("partition.assignment.strategy", "cooperative-sticky");
    }
    let consumer: StreamConsumer<Context> = config.create_with_context(Context)?;
    consumer.subscribe(&[settings.topic.name()])?;
    Ok(consumer)
}

/// Reads messages forever: each one that asks this integration to resync notifies `triggers`
/// (a resync already pending absorbs it, so requests coalesce). Offsets are committed after
/// each message, as Ocean does. Messages that are not JSON are skipped with a warning; read
/// errors are logged and reading goes on (librdkafka reconnects by itself).
pub async fn listen(
    consumer: &StreamConsumer<Context>,
    settings: &ConsumerSettings,
    triggers: &Notify,
) {
    loop {
        let message = match consumer.recv().await {
            Ok(message) => message,
            Err(error) => {
                warn!(%error, "Could not read from Kafka; retrying.");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let asks = match message.payload().map(serde_json::from_slice::<Value>) {
            Some(Ok(value)) => asks_resync(&settings.topic, &value, &settings.identifier),
            Some(Err(error)) => {
                warn!(topic = message.topic(), offset = message.offset(), %error, "Skipping a Kafka message that is not JSON.");
                false
            }
            None => false,
        };
        if asks {
            info!(
                topic = message.topic(),
                offset = message.offset(),
                "Resync requested through Kafka."
            );
            triggers.notify_one();
        }
        if let Err(error) = consumer.commit_message(&message, CommitMode::Async) {
            warn!(%error, "Could not commit the Kafka offset.");
        }
    }
}

/// The Kafka side of the `KAFKA` listener.
pub struct Reader {
    consumer: StreamConsumer<Context>,
    settings: ConsumerSettings,
}

impl Reader {
    /// For the `KAFKA` listener, a consumer of Port's topic (`None` for other listeners).
    pub async fn start<I: Integration>(
        runner: &Runner<I>,
        kind: &ListenerKind,
    ) -> Result<Option<Self>, Error> {
        let ListenerKind::Kafka {
            brokers,
            security_protocol,
            authentication_mechanism,
            kafka_security_enabled,
            ..
        } = kind
        else {
            return Ok(None);
        };
        let settings = settings(
            runner,
            brokers,
            security_protocol,
            authentication_mechanism,
            *kafka_security_enabled,
        )
        .await?;
        let consumer = consumer(&settings).map_err(|error| Error::Kafka {
            brokers: settings.brokers.join(","),
            message: error.to_string(),
        })?;
        info!(topic = settings.topic.name(), group = %settings.group_id, "Listening to Port's Kafka topic.");
        Ok(Some(Self { consumer, settings }))
    }

    /// Reads resync requests into `triggers`; never returns.
    pub async fn run(&self, triggers: &Notify) {
        listen(&self.consumer, &self.settings, triggers).await;
    }
}

/// The consumer's settings: the topic and group from Port's organization, credentials from
/// Port when Kafka security is on (Ocean's default), else plaintext and group `no-security`.
async fn settings<I: Integration>(
    runner: &Runner<I>,
    brokers: &[String],
    security_protocol: &str,
    mechanism: &str,
    secured: bool,
) -> Result<ConsumerSettings, Error> {
    let port = runner.port();
    let port_error = |action| move |source| Error::Port { action, source };
    let organization = port.organization().await.map_err(port_error(
        "reading the organization (it names the Kafka topic)",
    ))?;
    let who = runner.installation();
    let (sasl, group_id) = if secured {
        let credentials = port
            .kafka_credentials()
            .await
            .map_err(port_error("reading the Kafka credentials"))?;
        let sasl = Sasl {
            security_protocol: security_protocol.to_owned(),
            mechanism: mechanism.to_owned(),
            username: credentials.username,
            password: credentials.password,
        };
        let group = group_id(&organization.id, &who.integration_type, &who.identifier);
        (Some(sasl), group)
    } else {
        (None, "no-security".to_owned())
    };
    Ok(ConsumerSettings {
        brokers: brokers.to_vec(),
        sasl,
        group_id,
        topic: Topic::for_org(&organization.id, &organization.feature_flags),
        identifier: who.identifier.clone(),
    })
}
