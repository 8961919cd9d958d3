//! Kinds beyond the default mapping, end to end over HTTP on 127.0.0.1: each area's kinds
//! resynced from sim-ado into sim-port with a mapping of its own, their service-hook events
//! applied live, and catch-up of changes whose events never arrived.

mod advsec;
mod all;
mod environments;
mod files;
mod folders;
mod gitops;
mod identity;
mod pipelines;
mod releases;
mod teams;
mod test_runs;
mod wikis;

use std::sync::Arc;

use ado_client::Client as AdoClient;
use ado_kinds::{
    AzureDevops,
    webhooks::{
        AdoLive,
        subscriptions::{self, Settings},
    },
};
use futures::FutureExt;
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use ocean::{
    live::{Live, MappingLoader},
    resync::{Resync, ResyncReport, ResyncSettings},
    server::{self, ServerState},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use sim_ado::{RunningSim, SimConfig, Sizes};
use testkit::PortEnv;

use crate::harness::{client, serving};

/// The first generated project's id.
const PROJECT: &str = "00000001-0000-4000-8000-000000000000";

/// Both simulators, a client of sim-ado, and the mapping under test.
struct Env {
    ado: RunningSim,
    port: PortEnv,
    client: AdoClient,
    mapping: &'static str,
}

impl Env {
    /// sim-ado at `sizes`, sim-port with a blueprint per `(identifier, properties)` (no
    /// relations; a property is `name` for a string, `name:type` otherwise).
    async fn start(sizes: Sizes, mapping: &'static str, blueprints: &[(&str, &[&str])]) -> Self {
        let config = SimConfig {
            sizes,
            ..SimConfig::default()
        };
        Self::start_with(config, mapping, blueprints).await
    }

    /// [`Env::start`] with a simulator configured beyond its sizes.
    async fn start_with(
        config: SimConfig,
        mapping: &'static str,
        blueprints: &[(&str, &[&str])],
    ) -> Self {
        let ado = sim_ado::spawn(config).await.unwrap();
        let port = PortEnv::start().await.unwrap();
        for (identifier, properties) in blueprints {
            let properties: serde_json::Map<String, Value> = properties
                .iter()
                .map(|p| {
                    let (name, ty) = p.split_once(':').unwrap_or((p, "string"));
                    (name.to_owned(), json!({ "type": ty }))
                })
                .collect();
            port.sim
                .state
                .put_blueprint(json!({"identifier": identifier, "title": identifier,
                "schema": {"properties": properties, "required": []}, "relations": {}}));
        }
        let client = client(&ado);
        Self {
            ado,
            port,
            client,
            mapping,
        }
    }

    fn compiled(mapping: &str) -> (Arc<PortAppConfig>, Arc<MappingPlan>) {
        let config = PortAppConfig::from_yaml(mapping).unwrap();
        let plan = MappingPlan::compile(&config, &CompileOptions::default()).unwrap();
        (Arc::new(config), Arc::new(plan))
    }

    fn entity(&self, blueprint: &str, id: &str) -> Option<Value> {
        self.port.sim.state.entity(blueprint, id)
    }

    fn count(&self, blueprint: &str) -> usize {
        self.port
            .sim
            .state
            .entities()
            .iter()
            .filter(|e| e["blueprint"] == blueprint)
            .count()
    }

    async fn resync(&self) -> ResyncReport {
        let (app_config, plan) = Self::compiled(self.mapping);
        Resync {
            port: self.port.client("kinds"),
            integration: Arc::new(AzureDevops::new(self.client.clone())),
            app_config,
            plan,
            installation: testkit::installation("kinds"),
            settings: ResyncSettings::default(),
        }
        .run()
        .await
    }

    /// Our server with live processing of the mapping, and sim-ado's subscriptions to it.
    async fn serve(&self) -> Arc<Live<AdoLive>> {
        let events = AdoLive::new(self.client.clone(), None);
        let mapping = self.mapping;
        let loader: MappingLoader =
            Arc::new(move || async move { Ok(Self::compiled(mapping)) }.boxed());
        let live = Live::new(
            Arc::clone(&events),
            self.port.client("kinds"),
            testkit::installation("kinds"),
            loader,
            std::time::Duration::from_secs(90),
        );
        let (queue, workers) = live.start(2, 100);
        let state = ServerState {
            live: Some((events, queue)),
            health: serving(),
            metrics: None,
            resync: None,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _workers = workers;
            axum::serve(listener, server::router(None, state))
                .await
                .unwrap();
        });
        let settings = Settings {
            app_host: format!("http://{addr}").parse().unwrap(),
            username: "port".into(),
            secret: None,
            projects_limited: true,
            fingerprint_key: SecretString::from("sim-pat"),
            excluded_tags: Vec::new(),
        };
        subscriptions::ensure(&self.client, &settings)
            .await
            .unwrap();
        live
    }
}
