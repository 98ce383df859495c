//! App-only tokens from the Microsoft identity platform (client-credentials grant): a client
//! secret or a certificate-signed `client_assertion` (RS256, `x5t` thumbprint), cached and
//! refreshed before they expire. Tokens live in [`Secret`]s and are never logged.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use teamsync_core::{DirectoryError, DirectoryErrorKind};

use crate::config::{Credential, Secret};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A token is renewed this long before it expires (Entra's tokens last 60–90 minutes).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Lifetime of a client assertion (Entra accepts up to 10 minutes... and more, but short is safer).
const ASSERTION_LIFETIME_SECS: u64 = 600;

fn config_error(message: impl Into<String>) -> DirectoryError {
    DirectoryError::new(DirectoryErrorKind::Config, message)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A certificate and its RSA key, parsed once.
pub(crate) struct CertificateKey {
    key: RsaKeyPair,
    /// base64url SHA-1 thumbprint of the certificate's DER (the `x5t` header Entra matches).
    x5t: String,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKey")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl CertificateKey {
    /// Parses a PEM holding one certificate and its RSA private key (PKCS#8 or PKCS#1).
    pub(crate) fn from_pem(pem: &str) -> Result<Self, DirectoryError> {
        let cert = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| config_error("the certificate PEM holds no CERTIFICATE block"))?;
        let key = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| {
            config_error(
                "the certificate PEM holds no private key (PRIVATE KEY or RSA PRIVATE KEY block)",
            )
        })?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(config_error("the certificate's private key must be RSA (Entra signs client assertions with RS256)")),
        }
        .map_err(|e| config_error(format!("the certificate's private key is not a usable RSA key: {e}")))?;
        let thumb = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
        Ok(Self {
            key,
            x5t: b64url(thumb.as_ref()),
        })
    }

    /// A signed client assertion for `audience` (the token endpoint URL).
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<String, DirectoryError> {
        let rng = SystemRandom::new();
        let mut jti = [0u8; 16];
        rng.fill(&mut jti)
            .map_err(|_| config_error("no system randomness for the assertion id"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = serde_json::json!({
            "aud": audience, "iss": client_id, "sub": client_id,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "nbf": now, "iat": now, "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| config_error("signing the client assertion failed"))?;
        Ok(format!("{signing_input}.{}", b64url(&signature)))
    }
}

/// How the app authenticates, parsed.
#[derive(Debug)]
pub(crate) enum AppCredential {
    Secret(Secret),
    Certificate(Box<CertificateKey>),
}

impl AppCredential {
    pub(crate) fn new(credential: &Credential) -> Result<Self, DirectoryError> {
        Ok(match credential {
            Credential::ClientSecret(secret) => {
                if secret.expose().trim().is_empty() {
                    return Err(config_error("the client secret is empty"));
                }
                AppCredential::Secret(secret.clone())
            }
            Credential::Certificate { pem } => {
                AppCredential::Certificate(Box::new(CertificateKey::from_pem(pem.expose())?))
            }
        })
    }

    /// The form of a token request.
    pub(crate) fn token_form(
        &self,
        client_id: &str,
        scope: &str,
        token_url: &str,
    ) -> Result<String, DirectoryError> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", client_id)
            .append_pair("scope", scope)
            .append_pair("grant_type", "client_credentials");
        match self {
            AppCredential::Secret(secret) => {
                form.append_pair("client_secret", secret.expose());
            }
            AppCredential::Certificate(key) => {
                form.append_pair("client_assertion_type", ASSERTION_TYPE)
                    .append_pair("client_assertion", &key.assertion(client_id, token_url)?);
            }
        }
        Ok(form.finish())
    }
}

/// A cached access token.
#[derive(Debug, Clone)]
pub(crate) struct CachedToken {
    pub(crate) token: Secret,
    renew_at: Instant,
}

impl CachedToken {
    /// A token valid for `expires_in` seconds from `now`; renewed 5 minutes early (or at half
    /// its life when it is shorter than 10 minutes).
    pub(crate) fn new(token: Secret, expires_in: u64, now: Instant) -> Self {
        let life = Duration::from_secs(expires_in.min(24 * 3600));
        let margin = if life > 2 * REFRESH_MARGIN {
            REFRESH_MARGIN
        } else {
            life / 2
        };
        Self {
            token,
            renew_at: now + (life - margin),
        }
    }

    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        now < self.renew_at
    }
}

/// The `roles` claim of an access token (its application permissions), when the token is a
/// readable JWT. Read for reports only; Graph's answers decide.
pub(crate) fn token_roles(token: &Secret) -> Option<Vec<String>> {
    let payload = token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let roles = claims.get("roles")?.as_array()?;
    Some(
        roles
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_renew_before_expiry() {
        let now = Instant::now();
        let t = CachedToken::new(Secret::new("x"), 3599, now);
        assert!(t.is_fresh(now + Duration::from_secs(3000)));
        assert!(!t.is_fresh(now + Duration::from_secs(3300)));
        let short = CachedToken::new(Secret::new("x"), 2, now);
        assert!(!short.is_fresh(now + Duration::from_secs(1)));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = AppCredential::Secret(Secret::new("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
