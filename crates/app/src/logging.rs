//! Log setup: human-readable on a terminal, JSON lines otherwise; every line passes through a
//! redactor that masks known secret values (defence in depth: secrets are already wrapped in
//! `SecretString` and never formatted, like Ocean's sensitive-value log filter).

use std::{
    io::{self, IsTerminal, Write},
    sync::{Arc, RwLock},
};

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

/// Secret values to mask in every log line; filled once the configuration is loaded.
#[derive(Clone, Default)]
pub struct Redactor(Arc<RwLock<Vec<String>>>);

impl Redactor {
    /// Adds secret values to mask (values shorter than 4 characters are ignored: masking them
    /// would garble ordinary text and they are not meaningful secrets).
    pub fn add(&self, secrets: impl IntoIterator<Item = String>) {
        if let Ok(mut list) = self.0.write() {
            list.extend(secrets.into_iter().filter(|s| s.len() >= 4));
        }
    }

    fn redact(&self, line: &str) -> String {
        let mut out = line.to_owned();
        if let Ok(list) = self.0.read() {
            for secret in list.iter() {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), "[REDACTED]");
                }
            }
        }
        out
    }
}

/// A writer that redacts each formatted event before writing it to stderr.
pub struct RedactingWriter(Redactor);

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().write_all(self.0.redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Redactor {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.clone())
    }
}

/// Installs the global subscriber. `default_level` applies unless `RUST_LOG` is set.
pub fn init(default_level: &str) -> Redactor {
    let redactor = Redactor::default();
    // rustls' platform verifier logs each refused certificate at ERROR itself; the client's
    // error says the same with the host and what to set, once.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_level},rustls_platform_verifier=off"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(redactor.clone());
    if io::stderr().is_terminal() {
        builder.compact().init();
    } else {
        builder.json().flatten_event(true).init();
    }
    redactor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_masked_and_short_values_ignored() {
        let r = Redactor::default();
        r.add(["s3cr3t-token".to_owned(), "ab".to_owned()]);
        assert_eq!(r.redact("token=s3cr3t-token ab"), "token=[REDACTED] ab");
    }
}
