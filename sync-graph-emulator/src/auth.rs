//! The Microsoft identity platform's client-credentials grant, as far as an app-only daemon
//! uses it: a client secret, or a `client_assertion` JWT signed (RS256) with the key of a
//! certificate registered on the app; expiring access tokens carrying the app's `roles`;
//! AADSTS-style error bodies.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

use crate::seed::SeedApp;
use teamsync_emulator_support::Rng;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `nbf` and `exp`, as Entra does (5 minutes).
const SKEW_SECS: i64 = 300;

/// A refused token request: HTTP status and the OAuth error body.
#[derive(Debug, Clone)]
pub(crate) struct TokenError {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

fn aadsts(status: u16, error: &str, code: u32, description: &str) -> TokenError {
    TokenError {
        status,
        body: json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        }),
    }
}

struct App {
    seed: SeedApp,
    /// Registered certificates as DER, with their SHA-1 thumbprint (the `x5t` header).
    certificates: Vec<(Vec<u8>, Vec<u8>)>,
}

struct Issued {
    roles: Vec<String>,
    expires: Instant,
}

/// Why a bearer token is refused.
pub(crate) enum TokenRejection {
    Invalid,
    Expired,
}

pub(crate) struct Auth {
    apps: HashMap<String, App>,
    tokens: HashMap<String, Issued>,
    rng: Rng,
    ttl: Duration,
    /// Tokens minted so far (test hook: a client must cache its token).
    pub(crate) issued: u64,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Auth {
    pub(crate) fn new(seed: u64, ttl: Duration) -> Auth {
        Auth {
            apps: HashMap::new(),
            tokens: HashMap::new(),
            rng: Rng::new(seed ^ 0x0070_15e4),
            ttl,
            issued: 0,
        }
    }

    /// Replaces the registered apps. Refuses certificates that are not PEM.
    pub(crate) fn set_apps(&mut self, apps: &[SeedApp]) -> Result<(), String> {
        let mut out = HashMap::new();
        for app in apps {
            let mut certificates = Vec::new();
            for pem in &app.certificates {
                let der = CertificateDer::from_pem_slice(pem.as_bytes())
                    .map_err(|e| format!("app {}: certificate is not PEM: {e}", app.client_id))?;
                let thumb = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
                certificates.push((der.to_vec(), thumb.as_ref().to_vec()));
            }
            out.insert(
                app.client_id.clone(),
                App {
                    seed: app.clone(),
                    certificates,
                },
            );
        }
        self.apps = out;
        self.tokens.clear();
        Ok(())
    }

    /// A non-expiring token with these roles (for tests and the binary's startup line).
    pub(crate) fn token_with_roles(&mut self, roles: &[String], tenant: &str) -> String {
        self.mint(
            roles.to_vec(),
            tenant,
            "emulator",
            Duration::from_secs(100 * 365 * 86400),
        )
    }

    fn mint(&mut self, roles: Vec<String>, tenant: &str, app: &str, ttl: Duration) -> String {
        // JWT-shaped like Entra's (clients may read `roles` and `exp`); the signature is random.
        let now = unix_now();
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": "emulator"});
        let claims = json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now, "nbf": now, "exp": now + ttl.as_secs() as i64,
            "appid": app, "tid": tenant, "roles": roles,
            "uti": self.rng.token(22),
        });
        let token = format!(
            "{}.{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes()),
            self.rng.token(43)
        );
        self.tokens.insert(
            token.clone(),
            Issued {
                roles,
                expires: Instant::now() + ttl,
            },
        );
        self.issued += 1;
        token
    }

    /// The roles of a valid bearer token.
    pub(crate) fn check(&self, token: &str, now: Instant) -> Result<&[String], TokenRejection> {
        let issued = self.tokens.get(token).ok_or(TokenRejection::Invalid)?;
        if now >= issued.expires {
            return Err(TokenRejection::Expired);
        }
        Ok(&issued.roles)
    }

    /// `POST /{tenant}/oauth2/v2.0/token` with the form already parsed.
    pub(crate) fn grant(
        &mut self,
        tenant: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, TokenError> {
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        match field("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(aadsts(
                    400,
                    "unsupported_grant_type",
                    70003,
                    &format!("The app requested an unsupported grant type '{other}'."),
                ));
            }
            None => {
                return Err(aadsts(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'grant_type'.",
                ));
            }
        }
        let assertion = field("client_assertion");
        let client_id = match (field("client_id"), assertion) {
            (Some(id), _) => id.to_owned(),
            (None, Some(jwt)) => jwt_claims(jwt)
                .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default(),
            (None, None) => {
                return Err(aadsts(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'client_id'.",
                ));
            }
        };
        let Some(app) = self.apps.get(&client_id) else {
            return Err(aadsts(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                ),
            ));
        };
        match field("scope") {
            Some(scope) if scope.split(' ').all(|s| s.ends_with("/.default")) => {}
            _ => {
                return Err(aadsts(
                    400,
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                ));
            }
        }
        match (field("client_secret"), assertion) {
            (Some(secret), None) => {
                if app.seed.client_secret.as_deref() != Some(secret) {
                    return Err(aadsts(
                        401,
                        "invalid_client",
                        7000215,
                        &format!(
                            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                        ),
                    ));
                }
            }
            (None, Some(jwt)) => {
                if field("client_assertion_type") != Some(ASSERTION_TYPE) {
                    return Err(aadsts(
                        400,
                        "invalid_request",
                        900144,
                        "The request body must contain the following parameter: 'client_assertion_type'.",
                    ));
                }
                verify_assertion(app, jwt, tenant, &client_id)?;
            }
            (Some(_), Some(_)) => {
                return Err(aadsts(
                    401,
                    "invalid_client",
                    50027,
                    "Only one of client_secret and client_assertion may be sent.",
                ));
            }
            (None, None) => {
                return Err(aadsts(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ));
            }
        }
        let roles = app.seed.roles.clone();
        let ttl = self.ttl;
        let token = self.mint(roles, tenant, &client_id, ttl);
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "ext_expires_in": ttl.as_secs(),
            "access_token": token,
        }))
    }
}

fn jwt_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&unb64url(payload)?).ok()
}

/// Checks a client assertion the way Entra documents it: RS256 over `header.payload` with the
/// key of a registered certificate (picked by `x5t` when given), `aud` the token endpoint,
/// `iss` = `sub` = the client id, `exp`/`nbf` in range, a `jti`.
fn verify_assertion(app: &App, jwt: &str, tenant: &str, client_id: &str) -> Result<(), TokenError> {
    let malformed = || {
        aadsts(
            401,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        )
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(malformed());
    };
    let header: Value = unb64url(header)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    let claims: Value = unb64url(payload)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    let signature = unb64url(signature).ok_or_else(malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(aadsts(
            401,
            "invalid_client",
            5002738,
            "The client assertion must be signed with RS256.",
        ));
    }
    let x5t = header.get("x5t").and_then(Value::as_str).and_then(unb64url);
    let candidates = app
        .certificates
        .iter()
        .filter(|(_, thumb)| x5t.as_ref().is_none_or(|t| t == thumb));
    let signed = format!("{}.{}", parts[0], parts[1]);
    let verified = candidates.into_iter().any(|(der, _)| {
        let der = CertificateDer::from(der.as_slice());
        webpki::EndEntityCert::try_from(&der)
            .map(|cert| {
                cert.verify_signature(
                    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
                    signed.as_bytes(),
                    &signature,
                )
                .is_ok()
            })
            .unwrap_or(false)
    });
    if !verified {
        return Err(aadsts(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("iss") != client_id || text("sub") != client_id {
        return Err(aadsts(
            401,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let aud_ok = text("aud")
        .trim_end_matches('/')
        .ends_with(&format!("/{tenant}/oauth2/v2.0/token"));
    if !aud_ok {
        return Err(aadsts(
            401,
            "invalid_client",
            700212,
            "No matching federated identity record found for presented assertion audience.",
        ));
    }
    let now = unix_now();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    if exp + SKEW_SECS < now || nbf - SKEW_SECS > now {
        return Err(aadsts(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    if text("jti").is_empty() {
        return Err(malformed());
    }
    Ok(())
}
