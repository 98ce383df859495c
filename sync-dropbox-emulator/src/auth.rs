//! OAuth 2 for the emulated team app: authorization codes, refresh tokens, expiring access
//! tokens with scopes, and the `/oauth2/token` grant logic (HTTP-free).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::ALL_TEAM_SCOPES;
use teamsync_emulator_support::Rng;

type Scopes = BTreeSet<String>;

struct AccessToken {
    scopes: Scopes,
    /// `None`: never expires (the convenience tokens of the in-process API).
    expires_at: Option<Instant>,
}

/// Why a bearer token was refused: becomes a 401 `AuthError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenRejection {
    Invalid,
    Expired,
    MissingScope(&'static str),
}

/// A failed `/oauth2/token` call: status 400 or 401 with an OAuth error JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GrantError {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

fn grant_error(status: u16, error: &str, description: &str) -> GrantError {
    GrantError {
        status,
        body: json!({"error": error, "error_description": description}),
    }
}

pub(crate) struct Auth {
    pub(crate) app_key: String,
    pub(crate) app_secret: String,
    pub(crate) ttl: Duration,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, Scopes>,
    codes: HashMap<String, Scopes>,
    pub(crate) root_access_token: String,
    pub(crate) root_refresh_token: String,
    rng: Rng,
}

fn all_scopes() -> Scopes {
    ALL_TEAM_SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

impl Auth {
    pub(crate) fn new(seed: u64, ttl: Duration) -> Auth {
        let mut rng = Rng::new(seed ^ 0x0a17_0a17);
        let app_key = rng.token(15).to_lowercase();
        let app_secret = rng.token(15).to_lowercase();
        let mut auth = Auth {
            app_key,
            app_secret,
            ttl,
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            root_access_token: String::new(),
            root_refresh_token: String::new(),
            rng,
        };
        auth.root_access_token = auth.mint_access(all_scopes(), None);
        auth.root_refresh_token = auth.mint_refresh(all_scopes());
        auth
    }

    fn mint_access(&mut self, scopes: Scopes, expires_at: Option<Instant>) -> String {
        let token = format!("sl.emu-{}", self.rng.token(40));
        self.access
            .insert(token.clone(), AccessToken { scopes, expires_at });
        token
    }

    fn mint_refresh(&mut self, scopes: Scopes) -> String {
        let token = format!("emu-refresh-{}", self.rng.token(40));
        self.refresh.insert(token.clone(), scopes);
        token
    }

    /// A non-expiring token holding exactly `scopes`.
    pub(crate) fn token_with_scopes(&mut self, scopes: &[&str]) -> String {
        self.mint_access(scopes.iter().map(|s| (*s).to_owned()).collect(), None)
    }

    /// A one-shot authorization code granting every team scope.
    pub(crate) fn authorization_code(&mut self) -> String {
        let code = format!("emu-code-{}", self.rng.token(32));
        self.codes.insert(code.clone(), all_scopes());
        code
    }

    /// Checks a bearer token for a route's scope.
    pub(crate) fn check(
        &self,
        token: &str,
        scope: &'static str,
        now: Instant,
    ) -> Result<(), TokenRejection> {
        let t = self.access.get(token).ok_or(TokenRejection::Invalid)?;
        if t.expires_at.is_some_and(|at| now >= at) {
            return Err(TokenRejection::Expired);
        }
        if !t.scopes.contains(scope) {
            return Err(TokenRejection::MissingScope(scope));
        }
        Ok(())
    }

    /// `POST /oauth2/token` with its form fields (`basic` = credentials from HTTP Basic).
    pub(crate) fn grant(
        &mut self,
        form: &HashMap<String, String>,
        basic: Option<(String, String)>,
        now: Instant,
        team_id: &str,
    ) -> Result<Value, GrantError> {
        let (client_id, client_secret) = match basic {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (
                form.get("client_id").cloned(),
                form.get("client_secret").cloned(),
            ),
        };
        let Some(client_id) = client_id else {
            return Err(grant_error(
                400,
                "invalid_request",
                "No auth function available for given request",
            ));
        };
        // A secret, when given, must match; PKCE clients send none.
        if client_id != self.app_key
            || client_secret
                .as_ref()
                .is_some_and(|s| *s != self.app_secret)
        {
            return Err(grant_error(
                400,
                "invalid_client",
                "Invalid client_id or client_secret",
            ));
        }
        let field = |name: &str| form.get(name).map(String::as_str);
        match field("grant_type") {
            Some("authorization_code") => {
                let code = field("code").unwrap_or("");
                if client_secret.is_none() && field("code_verifier").is_none() {
                    return Err(grant_error(
                        400,
                        "invalid_request",
                        "client_secret or code_verifier required",
                    ));
                }
                let Some(scopes) = self.codes.remove(code) else {
                    return Err(grant_error(
                        400,
                        "invalid_grant",
                        "code doesn't exist or has expired",
                    ));
                };
                let refresh_token = self.mint_refresh(scopes.clone());
                let mut body = self.access_response(scopes, now);
                if let Some(obj) = body.as_object_mut() {
                    // Team apps get team_id where user apps get uid/account_id.
                    obj.insert("refresh_token".into(), json!(refresh_token));
                    obj.insert("team_id".into(), json!(team_id));
                    // The Python SDK's code exchange reads `uid` unconditionally (KeyError
                    // without it), team tokens included; a numeric id like Dropbox's.
                    obj.insert(
                        "uid".into(),
                        json!((self.rng.next_u64() % 1_000_000_000).to_string()),
                    );
                }
                Ok(body)
            }
            Some("refresh_token") => {
                let token = field("refresh_token").unwrap_or("");
                let Some(granted) = self.refresh.get(token).cloned() else {
                    return Err(grant_error(
                        400,
                        "invalid_grant",
                        "refresh token is invalid or revoked",
                    ));
                };
                let scopes = match field("scope") {
                    None | Some("") => granted,
                    Some(asked) => {
                        let asked: Scopes = asked.split_whitespace().map(str::to_owned).collect();
                        if !asked.is_subset(&granted) {
                            return Err(grant_error(
                                400,
                                "invalid_scope",
                                "requested scope exceeds granted scope",
                            ));
                        }
                        asked
                    }
                };
                Ok(self.access_response(scopes, now))
            }
            Some(other) => Err(grant_error(
                400,
                "unsupported_grant_type",
                &format!("grant_type {other:?}"),
            )),
            None => Err(grant_error(400, "invalid_request", "missing grant_type")),
        }
    }

    fn access_response(&mut self, scopes: Scopes, now: Instant) -> Value {
        let scope = scopes.iter().cloned().collect::<Vec<_>>().join(" ");
        let access_token = self.mint_access(scopes, Some(now + self.ttl));
        // expires_in is whole seconds and never 0 (Python does int(expires_in)).
        let expires_in = self.ttl.as_secs_f64().ceil().max(1.0) as u64;
        json!({
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": scope,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn code_exchange_is_one_shot_and_refresh_works() {
        let mut auth = Auth::new(1, Duration::from_secs(60));
        let now = Instant::now();
        let code = auth.authorization_code();
        let (key, secret) = (auth.app_key.clone(), auth.app_secret.clone());
        let f = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &key),
            ("client_secret", &secret),
        ]);
        let body = auth.grant(&f, None, now, "dbtid:t").unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 60);
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(
            auth.grant(&f, None, now, "dbtid:t").unwrap_err().body["error"],
            "invalid_grant"
        );

        let f = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
        let body = auth
            .grant(&f, Some((key.clone(), secret.clone())), now, "dbtid:t")
            .unwrap();
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(auth.check(token, "members.read", now), Ok(()));
        assert_eq!(
            auth.check(token, "members.read", now + Duration::from_secs(61)),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn refusals() {
        let mut auth = Auth::new(2, Duration::from_secs(60));
        let now = Instant::now();
        let key = auth.app_key.clone();
        let bad = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", &key),
        ]);
        assert_eq!(
            auth.grant(&bad, None, now, "t").unwrap_err().body["error"],
            "invalid_grant"
        );
        let wrong_secret = form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &key),
            ("client_secret", "x"),
        ]);
        assert_eq!(
            auth.grant(&wrong_secret, None, now, "t").unwrap_err().body["error"],
            "invalid_client"
        );
        let narrow = auth.token_with_scopes(&["members.read"]);
        assert_eq!(
            auth.check(&narrow, "members.write", now),
            Err(TokenRejection::MissingScope("members.write"))
        );
        assert_eq!(
            auth.check("sl.unknown", "members.read", now),
            Err(TokenRejection::Invalid)
        );
    }
}
