//! Organization-level calls: the organization itself (its id names the Kafka topics and
//! consumer group) and the credentials for Port's Kafka brokers (ocean-framework.md §2).

use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;

use crate::{Client, Error};

/// Port's organization, as the `KAFKA` listener needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// `organization.id`.
    pub id: String,
    /// `organization.featureFlags`.
    pub feature_flags: Vec<String>,
}

/// A username and password for Port's Kafka brokers.
#[derive(Debug, Clone)]
pub struct KafkaCredentials {
    /// SASL username.
    pub username: String,
    /// SASL password.
    pub password: SecretString,
}

impl Client {
    /// `GET /v1/organization`.
    pub async fn organization(&self) -> Result<Organization, Error> {
        let value = self
            .envelope(
                Method::GET,
                &["organization"],
                None,
                false,
                false,
                "organization",
            )
            .await?
            .unwrap_or_default();
        Ok(Organization {
            id: value["id"].as_str().unwrap_or_default().to_owned(),
            feature_flags: value["featureFlags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        })
    }

    /// `GET /v1/kafka-credentials`.
    pub async fn kafka_credentials(&self) -> Result<KafkaCredentials, Error> {
        let value = self
            .envelope(
                Method::GET,
                &["kafka-credentials"],
                None,
                false,
                false,
                "credentials",
            )
            .await?
            .unwrap_or_default();
        Ok(KafkaCredentials {
            username: value["username"].as_str().unwrap_or_default().to_owned(),
            password: SecretString::from(value["password"].as_str().unwrap_or_default()),
        })
    }
}
