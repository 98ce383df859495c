//! Error classification, authentication (fixed token, refresh before expiry, refresh on 401),
//! secrecy of tokens, and the transport options (TLS with a custom CA, HTTP/1.1 and HTTP/2,
//! timeouts, redirects off), against the in-process emulator.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use teamsync_core::{ErrorKind, MemberRef, RemoveMode, RemoveOptions, StoreError, TeamStore};
use teamsync_dropbox::{
    CaSource, ClientConfig, Credentials, DropboxClient, DropboxTeam, HttpVersion, Secret,
};
use teamsync_dropbox_emulator::{
    EmulatorConfig, Faults, MemberStatus, RateLimit, SeedMember, TeamSeed,
};

fn team_of(locals: &[(&str, MemberStatus)]) -> TeamSeed {
    TeamSeed {
        members: locals
            .iter()
            .map(|(local, status)| SeedMember {
                email: format!("{local}@example.com"),
                given_name: "G".into(),
                surname: "S".into(),
                external_id: Some(format!("teamsync:{local}")),
                status: *status,
                is_admin: false,
            })
            .collect(),
        ..TeamSeed::default()
    }
}

fn kind_and_code(error: &StoreError) -> (ErrorKind, Option<&str>) {
    (error.kind, error.code.as_deref())
}

#[tokio::test]
async fn route_errors_are_not_found_or_conflict_with_their_tag() {
    let emu = emulator().await;
    emu.try_seed(&team_of(&[
        ("active", MemberStatus::Active),
        ("invited", MemberStatus::Invited),
    ]))
    .unwrap();
    let store = store(&emu);

    let missing = store
        .suspend(&by_external("nobody"), true)
        .await
        .unwrap_err();
    assert_eq!(
        kind_and_code(&missing),
        (ErrorKind::NotFound, Some("user_not_found"))
    );

    let invited = store
        .suspend(&by_external("invited"), true)
        .await
        .unwrap_err();
    assert_eq!(
        kind_and_code(&invited),
        (ErrorKind::Conflict, Some("suspend_inactive_user"))
    );

    let not_suspended = store.unsuspend(&by_external("active")).await.unwrap_err();
    assert_eq!(
        kind_and_code(&not_suspended),
        (ErrorKind::Conflict, Some("unsuspend_non_suspended_member"))
    );

    let group = teamsync_core::GroupRef::ExternalId("teamsync:none".into());
    let no_group = store.delete_group(&group).await.unwrap_err();
    assert_eq!(
        kind_and_code(&no_group),
        (ErrorKind::NotFound, Some("group_not_found"))
    );
}

#[tokio::test]
async fn auth_errors_and_missing_scopes() {
    let emu = emulator().await;
    emu.try_seed(&team_of(&[("active", MemberStatus::Active)]))
        .unwrap();

    let bogus = "sl.this-token-is-not-known";
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(bogus),
    )
    .unwrap();
    let error = DropboxTeam::new(client.clone())
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(
        kind_and_code(&error),
        (ErrorKind::Auth, Some("invalid_access_token"))
    );
    assert!(!error.message.contains(bogus), "{error:?}");
    assert!(!format!("{error:?}").contains(bogus));
    assert!(!format!("{client:?}").contains(bogus), "{client:?}");

    // A token without members.write: suspending is an auth error, not a retryable one.
    let read_only = emu.token_with_scopes(&["members.read", "groups.read", "team_info.read"]);
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(read_only.as_str()),
    )
    .unwrap();
    let store = DropboxTeam::new(client);
    store.snapshot().await.unwrap();
    let error = store
        .suspend(&by_external("active"), true)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert_eq!(error.code.as_deref(), Some("missing_scope"), "{error:?}");
    assert!(
        error
            .message
            .contains("the token lacks the members.write scope"),
        "{error:?}"
    );
    assert!(!error.kind.is_retryable());
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_transient() {
    let emu = emulator().await;
    let store = DropboxTeam::with_options(
        client_with(&emu, |c| c.read_retry.max_retries = 1),
        test_options(),
    );
    emu.set_faults(Faults {
        server_error_rate: 1.0,
        ..Faults::default()
    });
    let error = store.snapshot().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
    assert_eq!(
        calls(&emu, "team/members/list_v2"),
        2,
        "a read is tried once and retried read_retry.max_retries times"
    );
    // Writes are never repeated by the adapter: the executor decides.
    let error = store.suspend(&by_external("x"), true).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(calls(&emu, "team/members/suspend"), 1);

    emu.set_faults(Faults {
        drop_connection_rate: 1.0,
        ..Faults::default()
    });
    let error = store
        .create_group("Dropped", "teamsync:dropped")
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
    emu.set_faults(Faults::default());
    // The call took effect although its answer was lost: the core's next plan sees the group.
    assert!(emu.state().group_by_name("Dropped").is_some());
}

#[tokio::test]
async fn rate_limits_carry_the_servers_delay() {
    let emu = emulator().await;
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            max_calls: 1,
            window_ms: 60_000,
        }),
        ..Faults::default()
    });
    let store = store(&emu);
    store.create_group("First", "teamsync:first").await.unwrap();
    let error = store
        .create_group("Second", "teamsync:second")
        .await
        .unwrap_err();
    match error.kind {
        ErrorKind::RateLimited {
            retry_after_ms: Some(ms),
        } => assert!(ms >= 1000, "{ms}"),
        other => panic!("expected a rate limit with a delay, got {other:?}"),
    }
    // Invitations: the whole batch shares the error, one per person.
    let results = store
        .invite(&[new_member("a@example.com"), new_member("b@example.com")])
        .await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(e) if matches!(e.kind, ErrorKind::RateLimited { .. })))
    );
}

#[tokio::test]
async fn snapshot_rides_out_a_rate_limit_storm() {
    let emu = emulator().await;
    let locals: Vec<(String, MemberStatus)> = (0..12)
        .map(|i| (format!("m{i}"), MemberStatus::Active))
        .collect();
    let refs: Vec<(&str, MemberStatus)> = locals.iter().map(|(l, s)| (l.as_str(), *s)).collect();
    emu.try_seed(&team_of(&refs)).unwrap();
    // Three calls per second; the snapshot needs five (four member pages and a group list).
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            max_calls: 3,
            window_ms: 1000,
        }),
        ..Faults::default()
    });
    let store = store_with(&emu, test_options().with_page_size(3));
    let actual = store.snapshot().await.unwrap();
    assert_eq!(actual.members.len(), 12);
}

#[tokio::test]
async fn connection_refused_and_timeouts_are_transient() {
    let emu = emulator().await;
    let base_url = emu.base_url();
    let token = emu.access_token();
    emu.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let mut config = ClientConfig::with_base_url(&base_url);
    config.request_timeout = Duration::from_millis(200);
    let client = DropboxClient::new(config, Credentials::access_token(token.as_str())).unwrap();
    let error = StoreError::from(client.team_get_info().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
    assert!(error.message.contains("timed out"), "{}", error.message);

    emu.shutdown().await;
    let client = DropboxClient::new(
        ClientConfig::with_base_url(&base_url),
        Credentials::access_token(token.as_str()),
    )
    .unwrap();
    let error = StoreError::from(client.team_get_info().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient, "{error:?}");
}

fn refreshing(
    emu: &teamsync_dropbox_emulator::Emulator,
    access_token: Option<Secret>,
) -> Credentials {
    Credentials::RefreshToken {
        refresh_token: Secret::new(emu.refresh_token()),
        app_key: emu.app_key(),
        app_secret: Some(Secret::new(emu.app_secret())),
        access_token,
    }
}

#[tokio::test]
async fn refresh_token_is_used_and_renewed_before_expiry() {
    let emu = emulator_with(EmulatorConfig {
        access_token_ttl: Duration::from_secs(2),
        ..EmulatorConfig::default()
    })
    .await;
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        refreshing(&emu, None),
    )
    .unwrap();
    client.team_get_info().await.unwrap();
    client.team_get_info().await.unwrap();
    assert_eq!(calls(&emu, "oauth2/token"), 1, "one token for both calls");
    // Past half the token's life, the client renews it before calling.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    client.team_get_info().await.unwrap();
    assert_eq!(calls(&emu, "oauth2/token"), 2);
    assert_eq!(calls(&emu, "team/get_info"), 3);
    let debug = format!("{client:?}");
    assert!(
        !debug.contains(&emu.refresh_token()) && !debug.contains(&emu.app_secret()),
        "{debug}"
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_on_401() {
    let emu = emulator_with(EmulatorConfig {
        access_token_ttl: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    // Mint a token by hand, let it expire, and hand it to the client as its current token.
    let answer = reqwest::Client::new()
        .post(format!("{}/oauth2/token", emu.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", emu.refresh_token().as_str()),
            ("client_id", emu.app_key().as_str()),
            ("client_secret", emu.app_secret().as_str()),
        ])
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let stale = answer["access_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        refreshing(&emu, Some(Secret::new(stale.as_str()))),
    )
    .unwrap();
    client.team_get_info().await.unwrap();
    assert_eq!(
        calls(&emu, "oauth2/token"),
        2,
        "the hand-made token, then one refresh"
    );
    assert_eq!(calls(&emu, "team/get_info"), 2, "the 401, then the repeat");

    // A fixed token that expired is an auth error: no refresh token to cure it.
    let fixed = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(stale.as_str()),
    )
    .unwrap();
    let error = StoreError::from(fixed.team_get_info().await.unwrap_err());
    assert_eq!(
        kind_and_code(&error),
        (ErrorKind::Auth, Some("expired_access_token"))
    );
    assert!(!error.message.contains(&stale) && !format!("{fixed:?}").contains(&stale));
}

#[tokio::test]
async fn a_bad_refresh_token_is_an_auth_error() {
    let emu = emulator().await;
    let credentials = Credentials::refresh_token(
        "not-a-refresh-token",
        emu.app_key(),
        Some(Secret::new(emu.app_secret())),
    );
    let client =
        DropboxClient::new(ClientConfig::with_base_url(emu.base_url()), credentials).unwrap();
    let error = StoreError::from(client.team_get_info().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert!(!error.message.contains("not-a-refresh-token"));
}

#[tokio::test]
async fn tls_with_a_custom_ca_over_http1_and_http2() {
    let emu = emulator_with(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(emu.base_url().starts_with("https://"));
    let ca = emu.ca_pem().expect("a TLS emulator has a CA");
    let dir = std::env::temp_dir().join(format!("sync-dropbox-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();

    for (version, source) in [
        (HttpVersion::Auto, CaSource::File(ca_file.clone())),
        (
            HttpVersion::Http1Only,
            CaSource::Pem(ca.clone().into_bytes()),
        ),
        (HttpVersion::Http2Only, CaSource::File(ca_file.clone())),
    ] {
        let mut config = ClientConfig::with_base_url(emu.base_url());
        config.http_version = version;
        config.ca = Some(source);
        let client =
            DropboxClient::new(config, Credentials::access_token(emu.access_token())).unwrap();
        client
            .team_get_info()
            .await
            .unwrap_or_else(|e| panic!("{version:?}: {e}"));
    }
    // Without the CA the server is not trusted.
    let client = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token(emu.access_token()),
    )
    .unwrap();
    assert!(client.team_get_info().await.is_err());
    // A CA file that is not PEM is a configuration error.
    std::fs::write(&ca_file, "not a certificate").unwrap();
    let mut config = ClientConfig::with_base_url(emu.base_url());
    config.ca = Some(CaSource::File(ca_file));
    assert!(DropboxClient::new(config, Credentials::access_token(emu.access_token())).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn http2_without_tls() {
    let emu = emulator().await;
    let mut config = ClientConfig::with_base_url(emu.base_url());
    config.http_version = HttpVersion::Http2Only;
    let client = DropboxClient::new(config, Credentials::access_token(emu.access_token())).unwrap();
    client.team_get_info().await.unwrap();
}

#[tokio::test]
async fn redirects_are_not_followed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut requests = 0;
        while let Ok(Ok((mut socket, _))) =
            tokio::time::timeout(Duration::from_millis(500), listener.accept()).await
        {
            let mut buffer = vec![0u8; 8192];
            let _ = socket.read(&mut buffer).await;
            requests += 1;
            let answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/2/team/get_info\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            socket.write_all(answer.as_bytes()).await.unwrap();
        }
        requests
    });
    let client = DropboxClient::new(
        ClientConfig::with_base_url(format!("http://{addr}")),
        Credentials::access_token("sl.x"),
    )
    .unwrap();
    let error = StoreError::from(client.team_get_info().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Permanent, "{error:?}");
    assert!(error.message.contains("307"), "{}", error.message);
    assert_eq!(
        server.await.unwrap(),
        1,
        "exactly one request: the redirect was not followed"
    );
}

#[tokio::test]
async fn removal_of_the_last_admin_is_a_conflict() {
    let emu = emulator().await;
    let mut seed = team_of(&[("boss", MemberStatus::Active)]);
    seed.members[0].is_admin = true;
    emu.try_seed(&seed).unwrap();
    let store = store(&emu);
    let error = store
        .remove(
            &MemberRef::ExternalId("teamsync:boss".into()),
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::Plain,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Conflict, "{error:?}");
}

#[tokio::test]
async fn requests_go_through_a_configured_proxy() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A stand-in forward proxy: it records the request line and refuses with 502.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0u8; 8192];
        let n = socket.read(&mut buffer).await.unwrap();
        let answer = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        socket.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&buffer[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    // Plain http to a host that is not loopback must be allowed explicitly.
    let mut config = ClientConfig::with_base_url("http://dropbox.invalid");
    config.proxy = teamsync_dropbox::ProxySetting::Url(format!("http://{proxy}"));
    config.allow_insecure_http = true;
    config.read_retry.max_retries = 0;
    let client = DropboxClient::new(config, Credentials::access_token("sl.x")).unwrap();
    let error = StoreError::from(client.team_get_info().await.unwrap_err());
    assert_eq!(
        error.kind,
        ErrorKind::Transient,
        "a 502 from the proxy: {error:?}"
    );
    assert_eq!(
        server.await.unwrap(),
        "POST http://dropbox.invalid/2/team/get_info HTTP/1.1"
    );
}
