//! Faults: throttling with and without Retry-After, 503s, dropped connections, a dropped page,
//! and hostile servers. Any failure fails the read; with retries the read converges.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use teamsync_core::{DesiredState, Directory, DirectoryErrorKind};
use teamsync_entra::{Cloud, Credential, EntraConfig, EntraDirectory};
use teamsync_graph_emulator::{DropOnPage, Faults, RateLimit, TenantSeed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 24 users in pages of 2: 12 pages of `/users`.
fn twelve_pages() -> TenantSeed {
    let mut seed = world();
    for i in 0..17 {
        seed.users.push(user(&format!("x{i:02}"), json!({})));
    }
    assert_eq!(seed.users.len(), 24);
    seed
}

async fn clean_read(seed: &TenantSeed) -> DesiredState {
    let emu = emulator(seed, 2).await;
    directory(config(&emu)).snapshot().await.unwrap()
}

#[tokio::test]
async fn a_connection_dropped_on_page_7_of_12_fails_the_read_and_retries_converge() {
    let seed = twelve_pages();
    let emu = emulator(&seed, 2).await;
    emu.set_faults(Faults {
        drop_on_page: Some(DropOnPage {
            listing: "users".into(),
            page: 7,
            times: None,
        }),
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.max_attempts = 3;
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(
        err.message.contains("/users") && err.message.contains("3 attempts"),
        "{err}"
    );
    let calls = emu.call_counts();
    assert_eq!(
        calls["users"],
        6 + 3,
        "pages 1-6 once, page 7 three times: {calls:?}"
    );
    assert!(
        !calls.contains_key("groups"),
        "nothing after the failed listing is read: {calls:?}"
    );

    emu.set_faults(Faults {
        drop_on_page: Some(DropOnPage {
            listing: "users".into(),
            page: 7,
            times: Some(2),
        }),
        ..Faults::default()
    });
    let state = directory(config(&emu)).snapshot().await.unwrap();
    assert_eq!(
        state,
        clean_read(&seed).await,
        "with retries the read is the fault-free read"
    );
}

#[tokio::test]
async fn a_storm_of_429_without_retry_after_backs_off_and_converges() {
    let seed = twelve_pages();
    let emu = emulator(&seed, 2).await;
    emu.set_faults(Faults {
        throttle_rate: 0.5,
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.max_attempts = 30;
    let state = directory(c).snapshot().await.unwrap();
    assert_eq!(state, clean_read(&seed).await);

    let mut c = config(&emu);
    c.retry.max_attempts = 1;
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(
        err.kind,
        DirectoryErrorKind::Incomplete,
        "without retries a 429 fails the read: {err}"
    );
    assert!(err.message.contains("429"), "{err}");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let emu = emulator(&world(), 999).await;
    // 4 calls per second, then 429 with Retry-After until the window ends.
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            max_calls: 4,
            window_ms: 1000,
        }),
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.backoff_max = Duration::from_secs(5);
    let state = directory(c).snapshot().await.unwrap();
    assert_eq!(state.users.len(), 6);

    // A Retry-After beyond the total wait budget fails the read instead of sleeping forever.
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            max_calls: 0,
            window_ms: 3_600_000,
        }),
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.backoff_max = Duration::from_secs(3600);
    c.retry.max_total_wait = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete);
    assert!(err.message.contains("in total"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn unavailable_and_dropped_connections_are_retried() {
    let seed = twelve_pages();
    let emu = emulator(&seed, 2).await;
    emu.set_faults(Faults {
        unavailable_rate: 0.3,
        retry_after_on_503: false,
        drop_connection_rate: 0.1,
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.max_attempts = 30;
    assert_eq!(
        directory(c).snapshot().await.unwrap(),
        clean_read(&seed).await
    );

    emu.set_faults(Faults {
        unavailable_rate: 1.0,
        retry_after_on_503: true,
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.retry.max_attempts = 2;
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete);
    assert!(err.message.contains("503"), "{err}");
}

#[tokio::test]
async fn slow_servers_time_out() {
    let emu = emulator(&world(), 999).await;
    emu.set_faults(Faults {
        latency_ms: 2000,
        ..Faults::default()
    });
    let mut c = config(&emu);
    c.request_timeout = Duration::from_millis(300);
    c.retry.max_attempts = 2;
    let err = directory(c).snapshot().await.unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(err.message.contains("timed out"), "{err}");
}

/// A raw HTTP/1.1 server answering every request with `respond(base, path)`; `None` never answers.
async fn hostile(respond: fn(&str, &str) -> Option<String>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).to_string();
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                if head.starts_with("POST") {
                    // Drain the small form body.
                    let _ = tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf))
                        .await;
                }
                match respond(&format!("http://{addr}"), &path) {
                    Some(body) => {
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(resp.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(3600)).await,
                }
            });
        }
    });
    format!("http://{addr}")
}

fn hostile_config(base: &str) -> EntraConfig {
    let mut c = EntraConfig::new(TENANT, APP, Credential::client_secret(SECRET));
    c.cloud = Cloud::Custom {
        authority: base.to_owned(),
        graph: base.to_owned(),
    };
    c.root_groups = vec![oid("g-root")];
    c.retry = fast_retry();
    c.retry.max_attempts = 2;
    c.request_timeout = Duration::from_millis(500);
    c
}

fn token_or(path: &str, page: &str) -> Option<String> {
    if path.contains("/oauth2/v2.0/token") {
        return Some(
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"x.eyJyb2xlcyI6W119.y"}"#
                .to_owned(),
        );
    }
    Some(page.to_owned())
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let base = hostile(|_, p| {
        token_or(
            p,
            r#"{"value":[],"@odata.nextLink":"http://evil.example/v1.0/users?steal=1"}"#,
        )
    })
    .await;
    let err = EntraDirectory::new(hostile_config(&base))
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete);
    assert!(err.message.contains("outside"), "{err}");
}

#[tokio::test]
async fn endless_paging_and_garbage_are_refused() {
    // Every page points to a new next page: stopped at max_pages.
    let base = hostile(|base, p| {
        let n: u64 = p
            .rsplit('=')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        token_or(
            p,
            &format!(
                r#"{{"value":[],"@odata.nextLink":"{base}/v1.0/users?page={}"}}"#,
                n + 1
            ),
        )
    })
    .await;
    let mut c = hostile_config(&base);
    c.max_pages = 50;
    let err = EntraDirectory::new(c)
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete);
    assert!(err.message.contains("more than 50 pages"), "{err}");

    // A nextLink that repeats the page just read.
    let base = hostile(|base, p| {
        token_or(
            p,
            &format!(r#"{{"value":[],"@odata.nextLink":"{base}{p}"}}"#),
        )
    })
    .await;
    let err = EntraDirectory::new(hostile_config(&base))
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert!(err.message.contains("repeats"), "{err}");

    let base = hostile(|_, p| token_or(p, r#"{"value": "not a list"}"#)).await;
    let err = EntraDirectory::new(hostile_config(&base))
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert!(err.message.contains("value"), "{err}");

    let base = hostile(|_, p| token_or(p, "{\"value\": [ {\"id\": \"\u{1b}[31m")).await;
    let err = EntraDirectory::new(hostile_config(&base))
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete);
    assert!(!err.message.contains('\u{1b}'), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_cannot_stall_the_read() {
    let base = hostile(|_, p| {
        if p.contains("token") {
            token_or(p, "")
        } else {
            None
        }
    })
    .await;
    let started = std::time::Instant::now();
    let err = EntraDirectory::new(hostile_config(&base))
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert_eq!(err.kind, DirectoryErrorKind::Incomplete, "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let base = hostile(|_, p| {
        token_or(
            p,
            &format!(r#"{{"value":[{{"id":"{}"}}]}}"#, "x".repeat(200_000)),
        )
    })
    .await;
    let mut c = hostile_config(&base);
    c.max_response_bytes = 100_000;
    let err = EntraDirectory::new(c)
        .unwrap()
        .snapshot()
        .await
        .unwrap_err();
    assert!(err.message.contains("limit"), "{err}");
}
