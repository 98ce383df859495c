//! The team client against a hostile or broken "Dropbox" on loopback (issue 11): huge numbers,
//! endless or repeating pages, endless and huge bodies, a server sending one byte at a time,
//! waits of a day, a failing `team/get_info`. Every mode ends in bounded time and memory with a
//! classified error (the read is incomplete: code `incomplete_read`, which the command reports
//! as a failed team read, exit 8), never a panic, and no write is ever sent.
//!
//! Bounds are set small in these tests (a 1 MiB body limit, a 2 s read deadline, 50 members
//! a team) so that each mode ends quickly; no test asserts a timing.
#![allow(clippy::unwrap_used)]

mod hostile;

use std::time::Duration;

use hostile::{Hostile, Mode};
use teamsync_core::{Backoff, ErrorKind, StoreError, TeamStore};
use teamsync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxError, DropboxTeam, Secret, TeamOptions,
};

/// Small bounds, fast retries.
fn config(server: &Hostile) -> ClientConfig {
    let mut config = ClientConfig::with_base_url(server.base_url.clone());
    config.read_retry.backoff = Backoff::new(Duration::from_millis(5), Duration::from_millis(20));
    config.read_retry.max_server_wait = Duration::from_secs(2);
    config.read_deadline = Duration::from_secs(2);
    config.max_response_bytes = 1024 * 1024;
    config
}

fn client(server: &Hostile) -> DropboxClient {
    DropboxClient::new(config(server), Credentials::access_token("sl.test")).unwrap()
}

fn team(server: &Hostile) -> DropboxTeam {
    DropboxTeam::with_options(
        client(server),
        TeamOptions::default()
            .with_page_size(10)
            .with_max_team_members(50),
    )
}

/// The team read failed as incomplete, saying why; nothing was written.
fn assert_incomplete(server: &Hostile, error: &StoreError, says: &str) {
    assert_eq!(error.code.as_deref(), Some("incomplete_read"), "{error:?}");
    assert_eq!(error.kind, ErrorKind::Permanent, "{error:?}");
    assert!(error.message.contains(says), "{says:?} not in: {error}");
    assert!(server.writes().is_empty(), "writes: {:?}", server.writes());
}

#[tokio::test]
async fn a_retry_after_of_1e30_in_the_header_is_refused_not_a_panic() {
    let server = Hostile::start(Mode::RetryAfterHeader("1e30")).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "the server asked to wait");
    let error = client(&server).team_get_info().await.unwrap_err();
    assert!(
        matches!(error, DropboxError::Incomplete { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_retry_after_of_1e30_in_the_json_body_is_refused_not_a_panic() {
    let server = Hostile::start(Mode::RetryAfterJson("1e30")).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "the server asked to wait");
    for odd in ["-5", "1e400", "\"soon\"", "null"] {
        let server = Hostile::start(Mode::RetryAfterJson(odd)).await;
        let error = team(&server).snapshot().await.unwrap_err();
        // No usable number: a rate limit without a delay, retried with backoff, then given up.
        assert!(
            matches!(error.kind, ErrorKind::RateLimited { .. })
                || error.code.as_deref() == Some("incomplete_read"),
            "{odd}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_wait_of_a_day_fails_the_read_naming_the_wait() {
    let server = Hostile::start(Mode::RetryAfterHeader("86400")).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "86400s");
    assert!(error.message.contains("max_server_wait"), "{error}");
    assert_eq!(server.calls().len(), 1, "not retried, not slept on");
}

#[tokio::test]
async fn a_token_lifetime_of_u64_max_is_no_expiry_not_a_panic() {
    let server = Hostile::start(Mode::TokenExpiresIn("18446744073709551615")).await;
    let credentials = Credentials::refresh_token("refresh", "key", Some(Secret::new("secret")));
    let client = DropboxClient::new(config(&server), credentials).unwrap();
    assert_eq!(client.team_get_info().await.unwrap().name, "Hostile");
    assert_eq!(client.team_get_info().await.unwrap().name, "Hostile");
    let tokens = server
        .calls()
        .iter()
        .filter(|p| p.starts_with("/oauth2"))
        .count();
    assert_eq!(tokens, 1, "the token is kept, not refreshed on every call");
    // Past u64: not a number Dropbox's schema allows, a decode error, not a panic.
    let server = Hostile::start(Mode::TokenExpiresIn("1e30")).await;
    let credentials = Credentials::refresh_token("refresh", "key", None);
    let client = DropboxClient::new(config(&server), credentials).unwrap();
    let error = client.team_get_info().await.unwrap_err();
    assert!(matches!(error, DropboxError::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn pages_that_never_end_stop_at_what_a_team_can_hold() {
    let server = Hostile::start(Mode::EndlessPages).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "more than a team holds");
    assert!(server.calls().len() <= 60, "{} calls", server.calls().len());
}

#[tokio::test]
async fn a_repeated_cursor_ends_the_listing() {
    let server = Hostile::start(Mode::SameCursor).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "a cursor it had already given");
    assert!(server.calls().len() <= 3, "{:?}", server.calls());
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_at_the_size_limit() {
    let server = Hostile::start(Mode::EndlessBody).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "larger than the 1048576 bytes allowed");
}

#[tokio::test]
async fn a_huge_announced_body_is_refused_before_reading() {
    let server = Hostile::start(Mode::HugeContentLength).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "max_response_bytes");
}

#[tokio::test]
async fn a_server_sending_a_byte_at_a_time_meets_the_read_deadline() {
    let server = Hostile::start(Mode::Trickle(Duration::from_millis(100))).await;
    let error = team(&server).snapshot().await.unwrap_err();
    assert_incomplete(&server, &error, "read deadline");
}

#[tokio::test]
async fn team_get_info_is_retried_like_every_read() {
    for status in [500, 503, 429] {
        let server = Hostile::start(Mode::FailFirst(2, status)).await;
        let info = client(&server).team_get_info().await.unwrap();
        assert_eq!(info.name, "Hostile");
        assert_eq!(
            server.calls().len(),
            3,
            "{status}: two failures, then the answer"
        );
    }
}

#[tokio::test]
async fn plain_http_is_refused_for_hosts_that_are_not_loopback() {
    let credentials = || Credentials::access_token("sl.test");
    for url in [
        "http://api.dropboxapi.com",
        "http://10.1.2.3:8080",
        "http://127.0.0.1.evil.test",
    ] {
        let error =
            DropboxClient::new(ClientConfig::with_base_url(url), credentials()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(url) && message.contains("allow_insecure_http"),
            "{message}"
        );
    }
    for url in [
        "http://127.0.0.1:1",
        "http://localhost:1",
        "http://[::1]:1",
        "https://api.dropboxapi.com",
    ] {
        DropboxClient::new(ClientConfig::with_base_url(url), credentials()).unwrap();
    }
    let mut allowed = ClientConfig::with_base_url("http://api.dropboxapi.com");
    allowed.allow_insecure_http = true;
    DropboxClient::new(allowed, credentials()).unwrap();
}
