//! Log setup: human-readable on a terminal, JSON lines otherwise; every line passes through
//! [`Redaction`], which masks the configured secret values and well-known token shapes (defence
//! in depth: secrets are already wrapped in `SecretString` and never formatted), as Ocean's
//! sensitive-value log filter does.

use std::io::{self, IsTerminal, Write};

use ocean::redact::Redaction;

use tracing_subscriber::{
    EnvFilter, Layer, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::log_shipping::{Shipping, ShippingLayer};

/// A writer that redacts each formatted event before writing it to stderr.
pub struct RedactingWriter(Redaction);

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().write_all(self.0.text(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Makes a [`RedactingWriter`] per event.
pub struct Redacting(Redaction);

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.clone())
    }
}

/// What [`init`] set up: the secrets to mask, and the queue of records for Port when logs are
/// shipped there.
pub struct Logging {
    /// Masks secrets in every line and shipped record.
    pub redaction: Redaction,
    /// Records for Port's UI (`APPLICATION__ENABLE_HTTP_LOGGING`), started once the
    /// integration record names the ingest host.
    pub shipping: Option<Shipping>,
}

/// Installs the global subscriber. `default_level` applies unless `RUST_LOG` is set; with
/// `ship`, records are also queued for Port ([`crate::log_shipping`]).
pub fn init(default_level: &str, ship: bool) -> Logging {
    let redaction = Redaction::default();
    // rustls' platform verifier logs each refused certificate at ERROR itself; the client's
    // error says the same with the host and what to set, once.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_level},rustls_platform_verifier=off"))
    });
    let writer = Redacting(redaction.clone());
    let output = if io::stderr().is_terminal() {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(writer)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(writer)
            .boxed()
    };
    let shipping = ship.then(|| Shipping::new(redaction.clone()));
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .with(shipping.clone().map(ShippingLayer))
        .init();
    Logging {
        redaction,
        shipping,
    }
}
