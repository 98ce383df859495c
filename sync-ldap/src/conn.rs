//! Connecting and binding: URL scheme checks, TLS (rustls with a custom CA or the system
//! store, or no verification for labs), the plain-text bind guard, timeouts.

use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use teamsync_core::{DirectoryError, DirectoryErrorKind};

use crate::config::LdapConfig;

/// Transport security a URL and settings give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `ldaps://`.
    Ldaps,
    /// `ldap://` upgraded with StartTLS.
    StartTls,
    /// `ldap://` without TLS.
    Plain,
    /// `ldapi://`: a local socket, never on the network.
    LocalSocket,
}

/// Decides the transport and refuses unsafe or contradictory settings before any connection.
pub(crate) fn transport(config: &LdapConfig) -> Result<Transport, DirectoryError> {
    let config_error = |m: String| DirectoryError::new(DirectoryErrorKind::Config, m);
    let url = config.url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let transport = match scheme.as_deref() {
        Some("ldaps") if config.starttls => {
            return Err(config_error(format!(
                "{url}: StartTLS cannot be used on an ldaps:// URL"
            )));
        }
        Some("ldaps") => Transport::Ldaps,
        Some("ldap") if config.starttls => Transport::StartTls,
        Some("ldap") => Transport::Plain,
        Some("ldapi") => Transport::LocalSocket,
        _ => {
            return Err(config_error(format!(
                "{url}: the URL must start with ldap://, ldaps:// or ldapi://"
            )));
        }
    };
    let sends_password = config.bind_dn.is_some()
        && config
            .bind_password
            .as_ref()
            .is_some_and(|p| !p.expose().is_empty());
    if transport == Transport::Plain && sends_password && !config.allow_plaintext_bind {
        return Err(config_error(format!(
            "{url}: refusing a simple bind in clear text; use ldaps:// or StartTLS, or set allow_plaintext_bind"
        )));
    }
    if config.bind_dn.is_some() && config.bind_password.is_none() {
        return Err(config_error(
            "a bind DN is set without a bind password".into(),
        ));
    }
    Ok(transport)
}

/// Builds the rustls configuration: the CA file's certificates, or the system store.
fn tls_config(config: &LdapConfig) -> Result<Arc<ClientConfig>, DirectoryError> {
    let config_error = |m: String| DirectoryError::new(DirectoryErrorKind::Config, m);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS setup: {e}")))?;
    if config.no_tls_verify {
        tracing::warn!(
            url = %config.url,
            "TLS certificate verification is OFF for this directory: anyone on the path can read the bind password and the directory"
        );
        let verifier = Arc::new(NoVerification(provider));
        return Ok(Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
        ));
    }
    let mut roots = RootCertStore::empty();
    if let Some(path) = &config.ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| config_error(format!("CA file {}: {e}", path.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| config_error(format!("CA file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(config_error(format!(
                "CA file {} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| config_error(format!("CA file {}: {e}", path.display())))?;
        }
    } else {
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            // A system store may hold certificates rustls cannot use; the rest still count.
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err(config_error(
                "no CA file given and the system trust store is empty".into(),
            ));
        }
    }
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// Accepts any certificate, still checking handshake signatures. Only with `no_tls_verify`.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Connects, secures and binds. The connection driver runs on a spawned tokio task; the
/// connection closes when the returned handle (and its clones) drop.
pub(crate) async fn connect(config: &LdapConfig) -> Result<Ldap, DirectoryError> {
    let transport = transport(config)?;
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(config.connect_timeout)
        .set_starttls(transport == Transport::StartTls);
    if matches!(transport, Transport::Ldaps | Transport::StartTls) {
        settings = settings.set_config(tls_config(config)?);
    }
    let url = config.url.trim();
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, url)
        .await
        .map_err(|e| crate::hints::connect_failed(config, &e))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection ended with an error");
        }
    });
    let (dn, password) = match (&config.bind_dn, &config.bind_password) {
        (Some(dn), Some(pw)) => (dn.as_str(), pw.expose()),
        _ => ("", ""),
    };
    let result = ldap
        .with_timeout(config.operation_timeout)
        .simple_bind(dn, password)
        .await
        .map_err(|e| {
            DirectoryError::new(DirectoryErrorKind::Connect, format!("{url}: bind: {e}"))
        })?;
    if result.rc != 0 {
        return Err(crate::hints::bind_refused(config, result.rc, &result.text));
    }
    Ok(ldap)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Profile;
    use teamsync_core::Secret;

    fn cfg(url: &str) -> LdapConfig {
        LdapConfig::new(url, "dc=x", Profile::generic())
            .with_bind("cn=admin,dc=x", Secret::new("pw"))
    }

    #[test]
    fn plaintext_bind_needs_consent() {
        let err = transport(&cfg("ldap://127.0.0.1:389")).unwrap_err();
        assert_eq!(err.kind, DirectoryErrorKind::Config);
        assert!(err.message.contains("clear text"), "{err}");
        let mut allowed = cfg("ldap://127.0.0.1:389");
        allowed.allow_plaintext_bind = true;
        assert_eq!(transport(&allowed).unwrap(), Transport::Plain);
        let mut starttls = cfg("ldap://127.0.0.1:389");
        starttls.starttls = true;
        assert_eq!(transport(&starttls).unwrap(), Transport::StartTls);
        assert_eq!(transport(&cfg("LDAPS://h:636")).unwrap(), Transport::Ldaps);
        let anonymous = LdapConfig::new("ldap://h", "dc=x", Profile::generic());
        assert_eq!(transport(&anonymous).unwrap(), Transport::Plain);
    }

    #[test]
    fn bad_urls_and_combinations() {
        assert!(transport(&cfg("http://h")).is_err());
        let mut both = cfg("ldaps://h");
        both.starttls = true;
        assert!(transport(&both).is_err());
        let mut no_pw = cfg("ldaps://h");
        no_pw.bind_password = None;
        assert!(transport(&no_pw).is_err());
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let mut c = cfg("ldaps://h");
        c.ca_file = Some("/nonexistent/ca.pem".into());
        let err = tls_config(&c).unwrap_err();
        assert_eq!(err.kind, DirectoryErrorKind::Config);
        assert!(err.message.contains("/nonexistent/ca.pem"));
    }
}
