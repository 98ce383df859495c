//! Connecting and binding: URL scheme checks, TLS (rustls with a custom CA or the system
//! store, or no verification for labs; an optional client certificate), the plain-text bind
//! guard, the bind mechanisms (simple, SASL GSSAPI, SASL EXTERNAL), timeouts.

use std::path::Path;
use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult};
use rustls::client::WantsClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ConfigBuilder, DigitallySignedStruct, RootCertStore, SignatureScheme};
use teamsync_core::{DirectoryError, DirectoryErrorKind};

use crate::config::{Bind, LdapConfig};

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
    let has_tls = matches!(transport, Transport::Ldaps | Transport::StartTls);
    match &config.bind {
        Bind::Anonymous => {}
        Bind::Simple { dn, password } => {
            if dn.trim().is_empty() && !password.expose().is_empty() {
                return Err(config_error(
                    "a bind password is set without a bind DN".into(),
                ));
            }
            let sends_password = !password.expose().is_empty();
            if transport == Transport::Plain && sends_password && !config.allow_plaintext_bind {
                return Err(config_error(format!(
                    "{url}: refusing a simple bind in clear text; use ldaps:// or StartTLS, or set allow_plaintext_bind"
                )));
            }
        }
        Bind::Gssapi { .. } => {
            if !cfg!(feature = "gssapi") {
                return Err(config_error(
                    "this build of teamsync has no Kerberos support (the `gssapi` feature of teamsync-ldap is off); use a simple bind or a build with it".into(),
                ));
            }
            if !has_tls {
                // ldap3 0.12 wraps every message in Kerberos' own encryption on a connection
                // without TLS, and its reader drops the rest of a wrapped buffer that holds
                // several replies while more bytes are waiting: a large read then hangs until
                // the operation timeout (seen against Samba). Over TLS there is no such layer.
                return Err(config_error(format!(
                    "{url}: a Kerberos (gssapi) bind needs TLS here: use ldaps:// or StartTLS (Kerberos encryption on plain ldap:// is not reliable in this build)"
                )));
            }
            kerberos_target(config)?;
        }
        Bind::External => {
            if transport == Transport::Plain {
                return Err(config_error(format!(
                    "{url}: a SASL EXTERNAL bind needs a TLS client certificate (ldaps:// or StartTLS) or an ldapi:// socket"
                )));
            }
            if has_tls && config.client_certificate.is_none() {
                return Err(config_error(format!(
                    "{url}: a SASL EXTERNAL bind over TLS needs a client certificate and its key (client_cert_file, client_key_file)"
                )));
            }
        }
    }
    if config.client_certificate.is_some() && !has_tls {
        return Err(config_error(format!(
            "{url}: a client certificate is set, but the connection has no TLS to present it on (use ldaps:// or StartTLS)"
        )));
    }
    Ok(transport)
}

/// The host name a Kerberos ticket is asked for (`ldap/<name>`): the configured one, or the
/// URL's host when that is a name.
pub(crate) fn kerberos_target(config: &LdapConfig) -> Result<String, DirectoryError> {
    let config_error = |m: String| DirectoryError::new(DirectoryErrorKind::Config, m);
    let configured = match &config.bind {
        Bind::Gssapi { server_fqdn } => server_fqdn.as_deref().map(str::trim),
        _ => None,
    };
    let name = match configured {
        Some(name) => name.to_owned(),
        None => {
            let host = url_host(config.url.trim());
            if host.is_empty()
                || host.parse::<std::net::IpAddr>().is_ok()
                || host.eq_ignore_ascii_case("localhost")
            {
                return Err(config_error(format!(
                    "{}: Kerberos needs the server's host name as the KDC knows it, and the URL names {}; give it as kerberos_fqdn (e.g. dc1.corp.example)",
                    config.url.trim(),
                    if host.is_empty() { "none" } else { host }
                )));
            }
            host.to_owned()
        }
    };
    let bad = name.is_empty()
        || name.len() > 253
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_');
    if bad {
        return Err(config_error(format!(
            "kerberos_fqdn {} is not a host name (letters, digits, '.', '-' only)",
            teamsync_core::text::quoted(&name)
        )));
    }
    Ok(name)
}

/// The host of an LDAP URL (`scheme://host[:port][/...]`, IPv6 in brackets).
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
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
        return with_client_certificate(
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier),
            config,
        );
    }
    let mut roots = RootCertStore::empty();
    if let Some(path) = &config.ca_file {
        for cert in read_certificates(path, "CA file")? {
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
    with_client_certificate(builder.with_root_certificates(roots), config)
}

/// Finishes a TLS configuration with the configured client certificate, or none.
fn with_client_certificate(
    builder: ConfigBuilder<ClientConfig, WantsClientCert>,
    config: &LdapConfig,
) -> Result<Arc<ClientConfig>, DirectoryError> {
    let config_error = |m: String| DirectoryError::new(DirectoryErrorKind::Config, m);
    let Some(client) = &config.client_certificate else {
        return Ok(Arc::new(builder.with_no_client_auth()));
    };
    let chain = read_certificates(&client.cert_file, "client certificate file")?;
    let key = PrivateKeyDer::from_pem_file(&client.key_file).map_err(|e| {
        config_error(format!(
            "client key file {}: {e} (expected a PEM private key)",
            client.key_file.display()
        ))
    })?;
    let tls = builder.with_client_auth_cert(chain, key).map_err(|e| {
        config_error(format!(
            "client certificate {} and key {} do not make a usable pair: {e}",
            client.cert_file.display(),
            client.key_file.display()
        ))
    })?;
    Ok(Arc::new(tls))
}

/// Every certificate of a PEM file; an error names the file and what it was for.
fn read_certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, DirectoryError> {
    let config_error = |m: String| DirectoryError::new(DirectoryErrorKind::Config, m);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| config_error(format!("{what} {}: {e}", path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| config_error(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "{what} {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
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

/// A bound connection and who this side authenticated as.
pub(crate) struct Bound {
    pub(crate) ldap: Ldap,
    /// The identity this side presented: `dn:<bind DN>`, the Kerberos principal, the client
    /// certificate, or `anonymous`.
    pub(crate) client_identity: String,
}

/// Connects, secures and binds. The connection driver runs on a spawned tokio task; the
/// connection closes when the returned handle (and its clones) drop.
pub(crate) async fn connect(config: &LdapConfig) -> Result<Bound, DirectoryError> {
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
    let connect_error = |e: ldap3::LdapError| {
        DirectoryError::new(DirectoryErrorKind::Connect, format!("{url}: bind: {e}"))
    };
    let (result, who, hint): (LdapResult, String, String) = match &config.bind {
        Bind::Anonymous => {
            let r = ldap
                .with_timeout(config.operation_timeout)
                .simple_bind("", "")
                .await
                .map_err(connect_error)?;
            (r, "anonymous".to_owned(), String::new())
        }
        Bind::Simple { dn, password } => {
            let r = ldap
                .with_timeout(config.operation_timeout)
                .simple_bind(dn, password.expose())
                .await
                .map_err(connect_error)?;
            let who = if dn.is_empty() {
                "anonymous".to_owned()
            } else {
                format!("dn:{dn}")
            };
            (r, who, String::new())
        }
        Bind::External => {
            let r = ldap
                .with_timeout(config.operation_timeout)
                .sasl_external_bind()
                .await
                .map_err(|e| {
                    let mut err = connect_error(e);
                    if let Some(c) = &config.client_certificate {
                        // TLS 1.3 finishes the handshake before the server has judged the
                        // client certificate; a refusal shows up as the next read failing.
                        err.message.push_str(&format!(
                            "; the server closed the connection after the TLS handshake: it probably does not trust the client certificate {} (is it issued by a CA the server trusts for clients?)",
                            c.cert_file.display()
                        ));
                    }
                    err
                })?;
            let who = match &config.client_certificate {
                Some(c) => format!("the client certificate {}", c.cert_file.display()),
                None => "this process's user (ldapi:// peer credentials)".to_owned(),
            };
            let hint = "; the server did not accept the certificate's identity (is it mapped to an entry, e.g. by olcAuthzRegexp?)".to_owned();
            (r, who, hint)
        }
        Bind::Gssapi { .. } => {
            #[cfg(feature = "gssapi")]
            {
                let target = kerberos_target(config)?;
                let (r, who) =
                    crate::kerberos::bind(&mut ldap, config.operation_timeout, url, &target)
                        .await?;
                (r, who, String::new())
            }
            #[cfg(not(feature = "gssapi"))]
            {
                // `transport` refused this already; kept so the match stays exhaustive.
                return Err(DirectoryError::new(
                    DirectoryErrorKind::Config,
                    "this build of teamsync has no Kerberos support",
                ));
            }
        }
    };
    if result.rc != 0 {
        return Err(crate::hints::bind_refused(
            config,
            result.rc,
            &result.text,
            &who,
            &hint,
        ));
    }
    Ok(Bound {
        ldap,
        client_identity: who,
    })
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
        let mut no_dn = cfg("ldaps://h");
        no_dn.bind = Bind::simple("", Secret::new("pw"));
        assert!(transport(&no_dn).is_err());
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
