//! Logs in Port's UI (`APPLICATION__ENABLE_HTTP_LOGGING`, default true): every log record that
//! passes the level filter is also sent, in batches, to the ingest host the integration record
//! names (`logAttributes.ingestUrl`), as Ocean's HTTP log handler does (ocean-framework.md §9,
//! §2.6, §11 items 16 and 17).
//!
//! A record is `{message, level, timestamp, extra}` with Ocean's level names and timestamp
//! format; the message and every string field pass through [`Redaction`]. A batch is sent at
//! [`BATCH`] records, every [`FLUSH_EVERY`], on an ERROR record and at exit. Logging never waits
//! for Port: records go through a bounded queue, and when the queue is full (Port's ingest slow
//! or down) records are dropped and counted, and the count is shipped as a record of its own
//! once there is room. Records made before the record's URL is known wait in the queue. The
//! shipper's own warnings are never shipped (they would feed themselves).

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use ocean::redact::Redaction;
use port_client::Client;
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{Event, Level, Subscriber, field::Field};
use tracing_subscriber::{Layer, layer::Context};
use url::Url;

/// Records per batch (Ocean's capacity).
pub const BATCH: usize = 100;
/// Longest wait before queued records are sent.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Records held while Port's ingest is unknown or slow.
const QUEUE: usize = 10_000;
/// The target of the shipper's own log lines, which are not shipped.
const OWN_TARGET: &str = "ocean_azure_devops::log_shipping";

enum Message {
    Record(Value),
    Flush(oneshot::Sender<()>),
}

/// The sending side, held by the tracing layer and by whoever flushes at exit.
#[derive(Clone)]
pub struct Shipping {
    queue: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
    /// Set once Port named the ingest host: until then there is nowhere to flush to.
    sending: Arc<AtomicBool>,
    receiver: Arc<std::sync::Mutex<Option<mpsc::Receiver<Message>>>>,
    redaction: Redaction,
}

impl fmt::Debug for Shipping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shipping").finish_non_exhaustive()
    }
}

impl Shipping {
    /// A queue of records masked by `redaction`; nothing is sent until [`Self::start`].
    #[must_use]
    pub fn new(redaction: Redaction) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        Self {
            queue,
            dropped: Arc::default(),
            sending: Arc::default(),
            receiver: Arc::new(std::sync::Mutex::new(Some(receiver))),
            redaction,
        }
    }

    /// Starts sending with `port` to the URL `ingest` holds once it holds one. Without a call,
    /// queued records are never sent (logging to Port is off).
    pub fn start(&self, port: Client, ingest: watch::Receiver<Option<Url>>) {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(receiver) = receiver {
            let (dropped, sending) = (Arc::clone(&self.dropped), Arc::clone(&self.sending));
            tokio::spawn(ship(port, ingest, receiver, dropped, sending));
        }
    }

    /// Sends what is queued, waiting at most `limit` (at exit); at once when Port never named
    /// the ingest host (it was unreachable, say).
    pub async fn flush(&self, limit: Duration) {
        if !self.sending.load(Ordering::Acquire) {
            return;
        }
        let (done, flushed) = oneshot::channel();
        let asked = tokio::time::timeout(limit, async {
            if self.queue.send(Message::Flush(done)).await.is_ok() {
                let _ = flushed.await;
            }
        });
        let _ = asked.await;
    }

    fn offer(&self, record: Value) {
        if self.queue.try_send(Message::Record(record)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The tracing layer that queues each record for Port.
pub struct ShippingLayer(pub Shipping);

impl<S: Subscriber> Layer<S> for ShippingLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() == OWN_TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let redaction = &self.0.redaction;
        let mut extra = Value::Object(fields.extra);
        redaction.json(&mut extra);
        extra["target"] = json!(metadata.target());
        let record = json!({
            "message": redaction.text(&fields.message),
            "level": level_name(*metadata.level()),
            "timestamp": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string(),
            "extra": extra,
        });
        self.0.offer(record);
    }
}

/// Ocean's (loguru's) level names.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// The message and the other fields of one event.
#[derive(Default)]
struct Fields {
    message: String,
    extra: Map<String, Value>,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.extra
                .insert(field.name().to_owned(), Value::String(text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.message);
        } else {
            self.extra.insert(field.name().to_owned(), json!(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra.insert(field.name().to_owned(), json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra.insert(field.name().to_owned(), json!(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.extra.insert(field.name().to_owned(), json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra.insert(field.name().to_owned(), json!(value));
    }
}

/// Batches and sends records until the queue closes.
async fn ship(
    port: Client,
    mut ingest: watch::Receiver<Option<Url>>,
    mut queue: mpsc::Receiver<Message>,
    dropped: Arc<AtomicU64>,
    sending: Arc<AtomicBool>,
) {
    // Records wait in the queue until Port has named the ingest host.
    let url = loop {
        if let Some(url) = ingest.borrow_and_update().clone() {
            break url;
        }
        if ingest.changed().await.is_err() {
            return;
        }
    };
    sending.store(true, Ordering::Release);
    let mut batch: Vec<Value> = Vec::with_capacity(BATCH);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        let next = tokio::time::timeout(FLUSH_EVERY, queue.recv()).await;
        let flush_now = match next {
            Ok(Some(Message::Record(record))) => {
                let urgent = record["level"] == "ERROR";
                batch.push(record);
                urgent || batch.len() >= BATCH
            }
            Ok(Some(Message::Flush(done))) => {
                waiters.push(done);
                true
            }
            Ok(None) => {
                send(&port, &url, &mut batch, &dropped).await;
                return;
            }
            Err(_elapsed) => true,
        };
        if flush_now {
            send(&port, &url, &mut batch, &dropped).await;
            for done in waiters.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// Sends `batch` (and the count of dropped records, if any) and empties it; a failure drops
/// the batch with a warning that is not itself shipped.
async fn send(port: &Client, url: &Url, batch: &mut Vec<Value>, dropped: &AtomicU64) {
    let lost = dropped.swap(0, Ordering::Relaxed);
    if lost > 0 {
        batch.push(json!({
            "message": format!("{lost} log records were not sent to Port: its log ingest was too slow"),
            "level": "WARNING",
            "timestamp": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string(),
            "extra": {},
        }));
    }
    if batch.is_empty() {
        return;
    }
    let body = json!({ "logs": std::mem::take(batch) });
    if let Err(error) = port.ingest_post(url, "logs", &body).await {
        tracing::warn!(target: OWN_TARGET, %error, "Could not send logs to Port; they are in this process's output only.");
    }
}
