//! Email notifications over SMTP (lettre, rustls): STARTTLS (587), implicit TLS (465) or plain
//! (25, a local relay), after a failed run (default) or every run, and a test mail from
//! `teamsync check --notify`.

use std::time::Duration;
use teamsync_core::text::quoted;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use teamsync::Config;
use teamsync::config::{NotifySection, SmtpSecurity};

/// The security and port to use: each defaults from the other (465 ↔ tls, 25 ↔ plain,
/// otherwise STARTTLS on 587).
pub fn security_and_port(notify: &NotifySection) -> (SmtpSecurity, u16) {
    match (notify.security, notify.smtp_port) {
        (Some(security), Some(port)) => (security, port),
        (Some(SmtpSecurity::Starttls), None) => (SmtpSecurity::Starttls, 587),
        (Some(SmtpSecurity::Tls), None) => (SmtpSecurity::Tls, 465),
        (Some(SmtpSecurity::Plain), None) => (SmtpSecurity::Plain, 25),
        (None, Some(465)) => (SmtpSecurity::Tls, 465),
        (None, Some(25)) => (SmtpSecurity::Plain, 25),
        (None, Some(port)) => (SmtpSecurity::Starttls, port),
        (None, None) => (SmtpSecurity::Starttls, 587),
    }
}

/// The config's word for `security`.
fn security_word(security: SmtpSecurity) -> &'static str {
    match security {
        SmtpSecurity::Starttls => "starttls",
        SmtpSecurity::Tls => "tls",
        SmtpSecurity::Plain => "plain",
    }
}

/// Sends one plain-text mail to every recipient.
pub async fn send(
    config: &Config,
    notify: &NotifySection,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let (security, port) = security_and_port(notify);
    let mut message = Message::builder()
        .from(
            notify
                .from
                .parse()
                .map_err(|e| format!("notify.from {}: {e}", quoted(&notify.from)))?,
        )
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in &notify.to {
        message = message.to(to
            .parse()
            .map_err(|e| format!("notify.to {}: {e}", quoted(to)))?);
    }
    let message = message
        .body(body.to_owned())
        .map_err(|e| format!("building the mail: {e}"))?;

    let tls = |host: &str| -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(host.to_owned());
        if let Some(ca) = &notify.ca_file {
            let path = config.resolve(ca);
            let pem = std::fs::read(&path)
                .map_err(|e| format!("notify.ca_file {}: {e}", path.display()))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| format!("notify.ca_file {}: {e}", path.display()))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder.build().map_err(|e| format!("TLS settings: {e}"))
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(notify.smtp_host.clone())
            .port(port)
            .timeout(Some(Duration::from_secs(30)));
    transport = match security {
        // Required, never opportunistic: a server that does not offer STARTTLS gets no mail.
        SmtpSecurity::Starttls => transport.tls(Tls::Required(tls(&notify.smtp_host)?)),
        SmtpSecurity::Tls => transport.tls(Tls::Wrapper(tls(&notify.smtp_host)?)),
        SmtpSecurity::Plain => transport.tls(Tls::None),
    };
    if let Some(user) = &notify.username {
        let password = match &notify.password {
            Some(spec) => config
                .secret("notify.password", spec)
                .map_err(|e| e.to_string())?
                .expose()
                .to_owned(),
            None => String::new(),
        };
        transport = transport.credentials(Credentials::new(user.clone(), password));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "SMTP {}:{port} (security = \"{}\"): {e}",
                notify.smtp_host,
                security_word(security)
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn section(security: Option<SmtpSecurity>, port: Option<u16>) -> NotifySection {
        let mut section: NotifySection = serde_json::from_value(serde_json::json!({
            "smtp_host": "mail", "from": "a@x", "to": ["b@x"],
        }))
        .unwrap();
        section.security = security;
        section.smtp_port = port;
        section
    }

    #[test]
    fn port_and_security_default_from_each_other() {
        assert_eq!(
            security_and_port(&section(None, None)),
            (SmtpSecurity::Starttls, 587)
        );
        assert_eq!(
            security_and_port(&section(None, Some(465))),
            (SmtpSecurity::Tls, 465)
        );
        assert_eq!(
            security_and_port(&section(None, Some(25))),
            (SmtpSecurity::Plain, 25)
        );
        assert_eq!(
            security_and_port(&section(Some(SmtpSecurity::Tls), None)),
            (SmtpSecurity::Tls, 465)
        );
        assert_eq!(
            security_and_port(&section(Some(SmtpSecurity::Plain), Some(2525))),
            (SmtpSecurity::Plain, 2525)
        );
    }
}
