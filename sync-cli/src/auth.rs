//! `teamsync auth`: the one-time OAuth step. Prints the authorize URL of the team app (offline
//! access, the scopes teamsync needs), reads the code the admin pastes, exchanges it at the
//! token endpoint for a refresh token, and stores that in the secrets file (mode 0600).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::app::CliError;
use teamsync::Config;

/// The scopes teamsync's routes need (docs/dropbox-team-api.md §4).
pub const SCOPES: &[&str] = &[
    "team_info.read",
    "members.read",
    "members.write",
    "members.delete",
    "groups.read",
    "groups.write",
];

/// Dropbox's authorize page.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://www.dropbox.com/oauth2/authorize";

/// The URL the admin opens.
pub fn authorize_url(base: &str, app_key: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", app_key)
        .append_pair("response_type", "code")
        .append_pair("token_access_type", "offline")
        .append_pair("scope", &SCOPES.join(" "))
        .finish();
    format!("{base}?{query}")
}

#[derive(Deserialize)]
struct TokenAnswer {
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Where the refresh token goes: `--secrets-file`, else the file the config reads it from.
fn secrets_path(config: &Config, explicit: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    match config.file().team.refresh_token.as_ref().and_then(|s| s.file_path()) {
        Some(file) => Ok(config.resolve(file)),
        _ => Err(config.invalid("team.refresh_token", "name the file to store the refresh token in: refresh_token = { file = \"/etc/teamsync/dropbox-refresh-token\" } (or pass --secrets-file)")
        .into()),
    }
}

/// Writes the secret readable by its owner only, replacing the file atomically (a random,
/// exclusively created temp name in the same folder: see `files`).
pub fn store_secret(path: &Path, secret: &str) -> Result<(), CliError> {
    let io = |e: std::io::Error| {
        CliError::Internal(format!("cannot write secrets file {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    crate::files::write_atomically(
        path,
        format!("{secret}\n").as_bytes(),
        crate::files::Readers::Owner,
    )
    .map_err(io)
}

/// Runs the flow; `input` is where the code is read from (stdin).
pub async fn run(
    config: &Config,
    authorize_base: &str,
    secrets_file: Option<&Path>,
    input: &mut dyn std::io::BufRead,
) -> Result<(), CliError> {
    let team = &config.file().team;
    let invalid = |key: &str, message: &str| -> CliError { config.invalid(key, message).into() };
    let app_key = team
        .app_key
        .clone()
        .ok_or_else(|| invalid("team.app_key", "required by `teamsync auth`"))?;
    let app_secret = match &team.app_secret {
        Some(spec) => config.secret("team.app_secret", spec)?,
        None => {
            return Err(invalid(
                "team.app_secret",
                "required by `teamsync auth` (PKCE apps without a secret are not supported yet)",
            ));
        }
    };
    let target = secrets_path(config, secrets_file)?;

    eprintln!(
        "1. Sign in to Dropbox as a team admin and open:\n\n   {}\n",
        authorize_url(authorize_base, &app_key)
    );
    eprintln!("2. Allow access, then paste the code Dropbox shows here and press Enter:");
    let mut code = String::new();
    input
        .read_line(&mut code)
        .map_err(|e| CliError::Internal(format!("reading the code: {e}")))?;
    let code = code.trim();
    if code.is_empty() {
        return Err(CliError::TeamAuth(
            "no authorization code was entered".into(),
        ));
    }

    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &team.ca_file {
        let path = config.resolve(ca);
        let pem = std::fs::read(&path).map_err(|e| {
            invalid(
                "team.ca_file",
                &format!("cannot read {}: {e}", path.display()),
            )
        })?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| invalid("team.ca_file", &e.to_string()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    let http = builder
        .build()
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let token_url = format!("{}/oauth2/token", team.base_url.trim_end_matches('/'));
    let response = http
        .post(&token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", app_key.as_str()),
            ("client_secret", app_secret.expose()),
        ])
        .send()
        .await
        .map_err(|e| CliError::TeamRead(format!("{token_url}: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| CliError::TeamRead(format!("{token_url}: {e}")))?;
    if !status.is_success() {
        let detail = serde_json::from_slice::<TokenRefusal>(&body)
            .map(|r| format!("{} {}", r.error, r.error_description))
            .unwrap_or_else(|_| format!("HTTP {status}"));
        return Err(if status.is_client_error() {
            CliError::TeamAuth(format!(
                "the token endpoint refused the code: {}",
                detail.trim()
            ))
        } else {
            CliError::TeamRead(format!("token endpoint: {}", detail.trim()))
        });
    }
    let answer: TokenAnswer = serde_json::from_slice(&body)
        .map_err(|e| CliError::TeamRead(format!("unexpected token endpoint answer: {e}")))?;
    let refresh = answer.refresh_token.ok_or_else(|| {
        CliError::TeamAuth(
            "no refresh token in the answer: was token_access_type=offline kept in the URL?".into(),
        )
    })?;
    store_secret(&target, &refresh)?;
    println!("Refresh token stored in {} (mode 0600).", target.display());
    if team
        .refresh_token
        .as_ref()
        .and_then(|s| s.file_path())
        .is_none()
        || secrets_file.is_some()
    {
        println!(
            "Point the config at it: [team] refresh_token = {{ file = \"{}\" }}",
            target.display()
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_asks_for_offline_access_and_every_scope() {
        let url = authorize_url(DEFAULT_AUTHORIZE_URL, "key 1");
        assert_eq!(
            url,
            "https://www.dropbox.com/oauth2/authorize?client_id=key+1&response_type=code&token_access_type=offline\
             &scope=team_info.read+members.read+members.write+members.delete+groups.read+groups.write"
        );
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/refresh");
        store_secret(&path, "abc").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "abc\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
