//! Log setup: human-readable on a terminal, JSON lines otherwise; every line passes through
//! [`Redaction`], which masks the configured secret values and well-known token shapes (defence
//! in depth: secrets are already wrapped in `SecretString` and never formatted), as Ocean's
//! sensitive-value log filter does.

use std::io::{self, IsTerminal, Write};

use ocean::redact::Redaction;

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

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

/// Installs the global subscriber. `default_level` applies unless `RUST_LOG` is set.
pub fn init(default_level: &str) -> Redaction {
    let redaction = Redaction::default();
    // rustls' platform verifier logs each refused certificate at ERROR itself; the client's
    // error says the same with the host and what to set, once.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_level},rustls_platform_verifier=off"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting(redaction.clone()));
    if io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().flatten_event(true).init();
    }
    redaction
}
