//! SASL GSSAPI (Kerberos) binds through ldap3's `gssapi` feature: MIT Kerberos' libgssapi on
//! Unix, SSPI on Windows. Failures are sorted into what an admin has to fix (no credentials,
//! an expired ticket, a wrong keytab, a wrong service name, no KDC).

use std::time::Duration;

use ldap3::{Ldap, LdapError, LdapResult};
use teamsync_core::{DirectoryError, DirectoryErrorKind};

/// Binds with the process's default Kerberos credentials for the service `ldap/<target>`.
/// Returns the server's answer to the last bind step and the client's principal (as the
/// credential names it).
pub(crate) async fn bind(
    ldap: &mut Ldap,
    timeout: Duration,
    url: &str,
    target: &str,
) -> Result<(LdapResult, String), DirectoryError> {
    #[cfg(unix)]
    let (result, principal) = {
        let (cred, principal) = initiator_credential().map_err(|e| failure(url, target, &e))?;
        let principal = match principal {
            Ok(name) => name,
            // MIT fetches a keytab's first ticket lazily, and an inquiry that fails here says
            // only "no credentials"; the bind below reports the KDC's real answer.
            Err(inquiry) => {
                tracing::debug!(error = %inquiry, "cannot name the Kerberos principal before binding");
                "the default Kerberos principal".to_owned()
            }
        };
        let result = ldap
            .with_timeout(timeout)
            .sasl_gssapi_cred_bind(cred, target)
            .await;
        (result, principal)
    };
    #[cfg(not(unix))]
    let (result, principal) = {
        let result = ldap.with_timeout(timeout).sasl_gssapi_bind(target).await;
        (result, "the account this process runs as (SSPI)".to_owned())
    };
    match result {
        Ok(r) => Ok((r, principal)),
        Err(LdapError::GssapiOperationError(message)) => {
            Err(failure(url, target, &format!("{principal}: {message}")))
        }
        Err(LdapError::NoGssapiToken) => Err(DirectoryError::new(
            DirectoryErrorKind::Bind,
            format!(
                "{url}: Kerberos bind as {principal}: the server's GSSAPI reply carried no token"
            ),
        )),
        Err(e) => Err(DirectoryError::new(
            DirectoryErrorKind::Connect,
            format!("{url}: Kerberos bind as {principal}: {e}"),
        )),
    }
}

/// The default initiator credential (credential cache, or the client keytab of
/// `KRB5_CLIENT_KTNAME`) and the principal it names. Acquired here rather than inside ldap3
/// so that `check` can say who it bound as even where the server lacks "Who am I?" (Samba).
#[cfg(unix)]
fn initiator_credential() -> Result<(cross_krb5::Cred, Result<String, String>), String> {
    use libgssapi::credential::{Cred, CredUsage};
    use libgssapi::oid::{GSS_MECH_KRB5, OidSet};

    let mut mechs = OidSet::new().map_err(|e| e.to_string())?;
    mechs.add(&GSS_MECH_KRB5).map_err(|e| e.to_string())?;
    let cred = Cred::acquire(None, None, CredUsage::Initiate, Some(&mechs))
        .map_err(|e| format!("no usable Kerberos credentials: {e}"))?;
    let principal = cred
        .name()
        .map(|n| n.to_string())
        .map_err(|e| format!("cannot read the credential's principal: {e}"));
    Ok((cred.into(), principal))
}

/// A Kerberos failure as an error saying which of the usual causes it is and what to fix.
fn failure(url: &str, target: &str, message: &str) -> DirectoryError {
    let keytab = std::env::var("KRB5_CLIENT_KTNAME").ok();
    let (kind, cause) = classify(message, target, keytab.as_deref());
    let message = message.trim().replace(['\n', '\r'], " ");
    // Where the credentials came from (paths, never secrets), so the message says which.
    let sources: Vec<String> = ["KRB5_CLIENT_KTNAME", "KRB5CCNAME", "KRB5_CONFIG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok().map(|value| format!("{v}={value}")))
        .collect();
    let sources = if sources.is_empty() {
        String::new()
    } else {
        format!("; {}", sources.join(", "))
    };
    DirectoryError::new(
        kind,
        format!("{url}: Kerberos bind failed: {cause} ({message}{sources})"),
    )
}

/// Sorts a GSSAPI/Kerberos message (MIT's or SSPI's wording) into a cause and a fix.
/// `client_keytab` is `KRB5_CLIENT_KTNAME`, when set.
pub(crate) fn classify(
    message: &str,
    target: &str,
    client_keytab: Option<&str>,
) -> (DirectoryErrorKind, String) {
    let m = message.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&[
        "server not found in kerberos database",
        "server_unknown",
        "s_principal_unknown",
        "target principal name is incorrect",
        "no such service",
    ]) {
        return (
            DirectoryErrorKind::Bind,
            format!(
                "wrong service name: the KDC knows no service ldap/{target}; set kerberos_fqdn to the server's host name as the directory registers it (its dNSHostName), not an alias or an address"
            ),
        );
    }
    if has(&["expired"]) {
        return (
            DirectoryErrorKind::Bind,
            "the Kerberos ticket has expired: renew the credential cache (kinit; k5start or a cron job with a keytab keeps it fresh), or set KRB5_CLIENT_KTNAME to a keytab so tickets are fetched as needed".to_owned(),
        );
    }
    if has(&[
        "preauthentication failed",
        "password incorrect",
        "integrity check",
        "key table entry not found",
        "no key table entry",
        "wrong key",
        "logon failure",
    ]) {
        return (
            DirectoryErrorKind::Bind,
            "wrong keytab: the KDC refused the keytab's key for this principal; the keytab is wrong or outdated (export it again after the account's password changed)".to_owned(),
        );
    }
    let no_credentials = has(&[
        "no kerberos credentials",
        "no credentials cache",
        "credentials cache file",
        "no credentials were supplied",
        "no credentials are available",
        "can't find client principal",
        "client not found in kerberos database",
    ]);
    if no_credentials {
        if let Some(keytab) = client_keytab {
            let path = keytab.strip_prefix("FILE:").unwrap_or(keytab);
            if !std::path::Path::new(path).exists() {
                return (
                    DirectoryErrorKind::Bind,
                    format!("the client keytab {keytab} (KRB5_CLIENT_KTNAME) does not exist"),
                );
            }
            // MIT reports a keytab the KDC refused only as "no credentials cache found".
            return (
                DirectoryErrorKind::Bind,
                format!(
                    "wrong keytab: the client keytab {keytab} (KRB5_CLIENT_KTNAME) got no ticket from the KDC, which refused its keys (wrong or outdated keytab: export it again after the account's password changed) or does not know its principal; `kinit -k -t {path} PRINCIPAL` shows the KDC's answer"
                ),
            );
        }
        return (
            DirectoryErrorKind::Bind,
            "no Kerberos credentials: run kinit as the service account, or set KRB5CCNAME to its credential cache or KRB5_CLIENT_KTNAME to its keytab".to_owned(),
        );
    }
    if has(&["clock skew"]) {
        return (
            DirectoryErrorKind::Bind,
            "this machine's clock and the KDC's differ by more than the allowed skew (5 minutes by default): fix the time sync".to_owned(),
        );
    }
    if has(&[
        "cannot contact any kdc",
        "cannot find kdc",
        "no kdc",
        "cannot resolve network address",
    ]) {
        return (
            DirectoryErrorKind::Connect,
            "no KDC answered for the realm: check the realm's kdc entries in krb5.conf (KRB5_CONFIG) and that the KDC is reachable".to_owned(),
        );
    }
    (
        DirectoryErrorKind::Bind,
        "the Kerberos exchange failed".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mit_messages_name_their_cause() {
        let cases = [
            (
                "Server not found in Kerberos database",
                "wrong service name",
            ),
            (
                "The referenced credential has expired (Ticket expired)",
                "expired",
            ),
            (
                "Unspecified GSS failure.  Minor code may provide more information (Preauthentication failed)",
                "wrong keytab",
            ),
            (
                "No Kerberos credentials available (default cache: FILE:/tmp/x)",
                "no Kerberos credentials",
            ),
            (
                "Cannot contact any KDC for realm 'FX.TEST'",
                "no KDC answered",
            ),
        ];
        for (message, cause) in cases {
            let (_, text) = classify(message, "dc1.fx.test", None);
            assert!(text.contains(cause), "{message:?} gave {text:?}");
        }
        assert_eq!(
            classify("Cannot contact any KDC for realm", "x", None).0,
            DirectoryErrorKind::Connect
        );
        assert!(
            classify("Server not found in Kerberos database", "dc1.fx.test", None)
                .1
                .contains("ldap/dc1.fx.test")
        );
        let missing = classify(
            "No credentials cache found",
            "x",
            Some("FILE:/nonexistent/kt"),
        )
        .1;
        assert!(missing.contains("does not exist"), "{missing}");
        let here = std::env::current_exe().unwrap_or_default();
        let refused = classify("No credentials cache found", "x", here.to_str()).1;
        assert!(refused.contains("wrong keytab"), "{refused}");
    }
}
