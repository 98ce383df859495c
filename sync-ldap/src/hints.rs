//! Errors that name the fix: a refused bind, an untrusted certificate or a root that is not a
//! DN, said the way an admin can act on, naming the `[directory]` settings to change (the
//! command's and Python's config keys are `directory.<field of LdapConfig>`).

use std::error::Error as StdError;

use teamsync_core::{DirectoryError, DirectoryErrorKind};

use crate::config::{Bind, LdapConfig};

/// LDAP result code `invalidCredentials`.
const INVALID_CREDENTIALS: u32 = 49;
/// LDAP result code `confidentialityRequired`.
const CONFIDENTIALITY_REQUIRED: u32 = 13;

/// The error for a bind the server answered with a non-zero result code. `who` is what this
/// side presented (`dn:…`, the Kerberos principal, the certificate), `hint` what to check for
/// a SASL mechanism.
pub(crate) fn bind_refused(
    config: &LdapConfig,
    rc: u32,
    text: &str,
    who: &str,
    hint: &str,
) -> DirectoryError {
    let url = config.url.trim();
    let server_says = if text.trim().is_empty() {
        format!("rc {rc}")
    } else {
        format!("rc {rc}: {}", text.trim())
    };
    let dn = match &config.bind {
        Bind::Anonymous => "",
        Bind::Simple { dn, .. } => dn.as_str(),
        Bind::Gssapi { .. } | Bind::External => {
            let message = match rc {
                CONFIDENTIALITY_REQUIRED => format!(
                    "{url}: the server requires TLS before a bind ({server_says}); use an ldaps:// URL or set `directory.starttls = true`"
                ),
                _ => format!(
                    "{url}: {} bind as {who} refused ({server_says}){hint}",
                    config.bind.mechanism()
                ),
            };
            return DirectoryError::new(DirectoryErrorKind::Bind, message);
        }
    };
    let message = match rc {
        INVALID_CREDENTIALS if dn.is_empty() => format!(
            "{url}: the server refuses anonymous binds ({server_says}); set `directory.bind_dn` and `directory.bind_password`"
        ),
        INVALID_CREDENTIALS => {
            // Active Directory says why in a `data` code inside the text.
            let why = ad_bind_reason(text).unwrap_or("invalid credentials");
            format!(
                "{url}: {why} for bind_dn {dn} ({server_says}); check `directory.bind_dn` and the password in `directory.bind_password`"
            )
        }
        CONFIDENTIALITY_REQUIRED => format!(
            "{url}: the server requires TLS before a bind ({server_says}); use an ldaps:// URL or set `directory.starttls = true`"
        ),
        _ => {
            let who = if dn.is_empty() { "anonymous" } else { dn };
            format!("{url}: bind as {who} refused ({server_says})")
        }
    };
    DirectoryError::new(DirectoryErrorKind::Bind, message)
}

/// Active Directory's reason for an `invalidCredentials` bind, from the `data XXX` code in its
/// diagnostic text (`80090308: LdapErr: DSID-…, comment: AcceptSecurityContext error, data 52e, v4563`).
fn ad_bind_reason(text: &str) -> Option<&'static str> {
    let code = text
        .split(", ")
        .find_map(|part| part.trim().strip_prefix("data "))?;
    Some(match code.trim().to_ascii_lowercase().as_str() {
        "525" => "no such user",
        "52e" => "invalid credentials",
        "530" => "logon not permitted at this time",
        "531" => "logon not permitted from this workstation",
        "532" => "password expired",
        "533" => "account disabled",
        "701" => "account expired",
        "773" => "the password must be reset",
        "775" => "account locked out",
        _ => return None,
    })
}

/// The error for a connection (or StartTLS) that failed; certificate problems say what to set.
pub(crate) fn connect_failed(config: &LdapConfig, error: &ldap3::LdapError) -> DirectoryError {
    let url = config.url.trim();
    let message = match find_rustls_error(error) {
        Some(rustls::Error::InvalidCertificate(cert)) => certificate_message(config, cert),
        _ => error.to_string(),
    };
    DirectoryError::new(DirectoryErrorKind::Connect, format!("{url}: {message}"))
}

fn certificate_message(config: &LdapConfig, error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match error {
        C::UnknownIssuer | C::BadSignature => match &config.ca_file {
            None => "the directory's certificate is not trusted: set `directory.ca_file` to its CA (a PEM file)".to_owned(),
            Some(path) => format!(
                "the directory's certificate is not trusted: it is not issued by the CA in `directory.ca_file` ({}); set `directory.ca_file` to its CA",
                path.display()
            ),
        },
        C::NotValidForName | C::NotValidForNameContext { .. } => format!(
            "the directory's certificate is not valid for the host in `directory.url` ({error}); use a host name the certificate names"
        ),
        C::Expired | C::ExpiredContext { .. } => {
            format!("the directory's certificate has expired ({error}); the directory's administrators must renew it")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            format!("the directory's certificate is not valid yet ({error}); check this machine's clock")
        }
        C::Revoked => "the directory's certificate is revoked".to_owned(),
        other => format!("the directory's certificate is refused: {other}"),
    }
}

/// The rustls error under an ldap3 error. I/O errors hide their payload from `source()`, so
/// each one is opened with `get_ref`.
fn find_rustls_error(error: &ldap3::LdapError) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(found) = inner.downcast_ref::<rustls::Error>() {
                return Some(found);
            }
            current = inner.source();
            continue;
        }
        current = e.source();
    }
    None
}

/// Refuses roots that are not DNs (`user_roots = ["dropbox"]`): an LDAP server would only
/// answer "invalid DN" at read time.
pub(crate) fn check_root_dns(config: &LdapConfig) -> Result<(), DirectoryError> {
    let roots = [
        ("user_roots", &config.user_root_dns),
        ("group_roots", &config.group_root_dns),
    ];
    for (key, dns) in roots {
        for dn in dns {
            if !looks_like_dn(dn) {
                let base = config.base_dn.trim();
                let example = if base.is_empty() {
                    "cn=dropbox,ou=groups,dc=example,dc=org".to_owned()
                } else {
                    format!("cn={},ou=groups,{base}", rdn_value(dn))
                };
                return Err(DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!(
                        "`directory.{key}`: \"{}\" is not a DN; LDAP roots are DNs, e.g. `{example}`",
                        dn.trim()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `attr=value` first: the shape of every DN (RFC 4514); a bare name has no `=`.
fn looks_like_dn(dn: &str) -> bool {
    dn.split(',')
        .next()
        .and_then(|rdn| rdn.split_once('='))
        .is_some_and(|(attr, value)| !attr.trim().is_empty() && !value.trim().is_empty())
}

/// A bare name as an RDN value for the example: DN specials dropped, so the example is valid.
fn rdn_value(name: &str) -> String {
    let value: String = name
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '=' | '+' | '<' | '>' | '#' | ';' | '\\' | '"'))
        .collect();
    if value.is_empty() {
        "dropbox".to_owned()
    } else {
        value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Profile;
    use teamsync_core::Secret;

    fn cfg() -> LdapConfig {
        LdapConfig::new("ldaps://dc1:636", "dc=corp,dc=example", Profile::generic())
            .with_bind("cn=svc,dc=corp,dc=example", Secret::new("pw"))
    }

    #[test]
    fn an_empty_reason_for_rc_49_names_the_keys() {
        let err = bind_refused(&cfg(), 49, "", "dn:cn=svc,dc=corp,dc=example", "");
        assert_eq!(err.kind, DirectoryErrorKind::Bind);
        assert_eq!(
            err.message,
            "ldaps://dc1:636: invalid credentials for bind_dn cn=svc,dc=corp,dc=example (rc 49); check `directory.bind_dn` and the password in `directory.bind_password`"
        );
    }

    #[test]
    fn active_directory_data_codes_say_why() {
        let text = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563";
        let err = bind_refused(&cfg(), 49, text, "dn:cn=svc,dc=corp,dc=example", "");
        assert!(
            err.message
                .starts_with("ldaps://dc1:636: account locked out for bind_dn cn=svc,"),
            "{err}"
        );
        assert!(err.message.contains("data 775"), "{err}");
    }

    #[test]
    fn other_result_codes_keep_the_server_text() {
        let err = bind_refused(
            &cfg(),
            13,
            "confidentiality required",
            "dn:cn=svc,dc=corp,dc=example",
            "",
        );
        assert!(err.message.contains("`directory.starttls = true`"), "{err}");
        let err = bind_refused(&cfg(), 53, "unwilling", "dn:cn=svc,dc=corp,dc=example", "");
        assert!(err.message.ends_with("refused (rc 53: unwilling)"), "{err}");
    }

    #[test]
    fn a_refused_sasl_bind_names_the_mechanism_and_the_identity() {
        let c = cfg().with_bind_mode(Bind::External);
        let err = bind_refused(
            &c,
            48,
            "",
            "the client certificate c.pem",
            "; is it mapped?",
        );
        assert_eq!(
            err.message,
            "ldaps://dc1:636: external bind as the client certificate c.pem refused (rc 48); is it mapped?"
        );
    }

    #[test]
    fn a_bare_name_as_root_is_refused_with_an_example_dn() {
        let mut c = cfg();
        c.user_root_dns = vec!["dropbox".into()];
        let err = check_root_dns(&c).unwrap_err();
        assert_eq!(err.kind, DirectoryErrorKind::Config);
        assert_eq!(
            err.message,
            "`directory.user_roots`: \"dropbox\" is not a DN; LDAP roots are DNs, e.g. `cn=dropbox,ou=groups,dc=corp,dc=example`"
        );
        c.user_root_dns = vec!["cn=dropbox,ou=groups,dc=corp,dc=example".into()];
        c.group_root_dns = vec!["CN=Sales, OU=Groups,DC=corp".into(), "=x".into()];
        let err = check_root_dns(&c).unwrap_err();
        assert!(
            err.message.starts_with("`directory.group_roots`: \"=x\""),
            "{err}"
        );
    }

    #[test]
    fn certificate_messages_name_ca_file() {
        let mut c = cfg();
        let unknown = rustls::CertificateError::UnknownIssuer;
        assert_eq!(
            certificate_message(&c, &unknown),
            "the directory's certificate is not trusted: set `directory.ca_file` to its CA (a PEM file)"
        );
        c.ca_file = Some("/etc/teamsync/ca.pem".into());
        assert!(certificate_message(&c, &unknown).contains("(/etc/teamsync/ca.pem)"));
    }
}
