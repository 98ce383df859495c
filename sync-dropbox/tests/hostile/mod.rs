//! A hostile "Dropbox": a raw TCP server on loopback that answers every request in one chosen
//! bad way, and records the routes it was asked for (so tests can prove no write was sent).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server misbehaves.
#[derive(Debug, Clone)]
pub enum Mode {
    /// 429 with this `Retry-After` header (and a body without `retry_after`).
    RetryAfterHeader(&'static str),
    /// 429 with this JSON number as `error.retry_after`.
    RetryAfterJson(&'static str),
    /// The token endpoint answers `expires_in` with this JSON number; routes answer well.
    TokenExpiresIn(&'static str),
    /// List pages with `has_more: true` forever, one new member and a new cursor each time.
    EndlessPages,
    /// List pages with `has_more: true` and the same cursor every time.
    SameCursor,
    /// A 200 whose chunked body never ends.
    EndlessBody,
    /// A 200 with a `Content-Length` far beyond any page.
    HugeContentLength,
    /// A 200 that sends one byte every `interval`.
    Trickle(Duration),
    /// The first `n` calls answer 500, then the route answers well.
    FailFirst(usize, u16),
}

#[derive(Clone)]
pub struct Hostile {
    pub base_url: String,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    pub async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let mode = mode.clone();
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let _ = serve(stream, mode, seen).await;
                });
            }
        });
        Self { base_url, calls }
    }

    /// The paths asked for, in order (`/2/team/get_info`, `/oauth2/token`).
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// Calls to anything but a read route or the token endpoint.
    pub fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|p| {
                !(p.contains("list")
                    || p.contains("get_info")
                    || p.contains("job_status")
                    || p.starts_with("/oauth2"))
            })
            .collect()
    }
}

/// Reads one request (headers, then `Content-Length` bytes); returns its path.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer.len() - header_end;
    while body < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body += n;
    }
    Ok(Some(path))
}

fn response(status: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

fn json(body: &str) -> Vec<u8> {
    response(
        "200 OK",
        &[("content-type", "application/json".to_owned())],
        body,
    )
}

const TEAM_INFO: &str = r#"{"name":"Hostile","team_id":"dbtid:1","num_licensed_users":5,"num_provisioned_users":1,"num_used_licenses":1,"policies":{}}"#;

fn member(n: usize) -> String {
    format!(
        r#"{{"profile":{{"team_member_id":"dbmid:{n}","email":"m{n}@example.com","email_verified":true,"status":{{".tag":"active"}},"name":{{"given_name":"M","surname":"{n}","familiar_name":"M","display_name":"M {n}","abbreviated_name":"M"}},"membership_type":{{".tag":"full"}}}}}}"#
    )
}

/// A well-formed answer for `path` (an empty team), with `page` deciding list pages.
fn good_answer(path: &str) -> Vec<u8> {
    if path.ends_with("team/get_info") {
        json(TEAM_INFO)
    } else if path.contains("members/list") {
        json(r#"{"members":[],"cursor":"end","has_more":false}"#)
    } else if path.contains("groups/list") {
        json(r#"{"groups":[],"cursor":"end","has_more":false}"#)
    } else if path.starts_with("/oauth2/token") {
        json(r#"{"access_token":"sl.hostile","token_type":"bearer","expires_in":14400}"#)
    } else {
        response("404 Not Found", &[], "no such route")
    }
}

async fn serve(
    mut stream: TcpStream,
    mode: Mode,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    while let Some(path) = read_request(&mut stream).await? {
        let call_number = {
            let mut seen = seen.lock().unwrap();
            seen.push(path.clone());
            seen.len()
        };
        let reply = match &mode {
            Mode::RetryAfterHeader(value) if !path.starts_with("/oauth2") => response(
                "429 Too Many Requests",
                &[
                    ("retry-after", (*value).to_owned()),
                    ("content-type", "text/plain".to_owned()),
                ],
                "slow down",
            ),
            Mode::RetryAfterJson(number) if !path.starts_with("/oauth2") => response(
                "429 Too Many Requests",
                &[("content-type", "application/json".to_owned())],
                &format!(
                    r#"{{"error_summary":"too_many_requests/","error":{{"reason":{{".tag":"too_many_requests"}},"retry_after":{number}}}}}"#
                ),
            ),
            Mode::TokenExpiresIn(number) if path.starts_with("/oauth2") => json(&format!(
                r#"{{"access_token":"sl.hostile","token_type":"bearer","expires_in":{number}}}"#
            )),
            Mode::EndlessPages if path.contains("members/list") => json(&format!(
                r#"{{"members":[{}],"cursor":"c{call_number}","has_more":true}}"#,
                member(call_number)
            )),
            Mode::SameCursor if path.contains("members/list") => json(&format!(
                r#"{{"members":[{}],"cursor":"again","has_more":true}}"#,
                member(call_number)
            )),
            Mode::EndlessBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await?;
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                loop {
                    stream.write_all(chunk.as_bytes()).await?;
                }
            }
            Mode::HugeContentLength => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 99999999999999\r\n\r\n")
                    .await?;
                let block = vec![b' '; 64 * 1024];
                loop {
                    stream.write_all(&block).await?;
                }
            }
            Mode::Trickle(interval) => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
                    .await?;
                loop {
                    stream.write_all(b" ").await?;
                    tokio::time::sleep(*interval).await;
                }
            }
            Mode::FailFirst(n, status) if call_number <= *n => response(
                &format!("{status} Failing"),
                &[("content-type", "text/plain".to_owned())],
                "try again",
            ),
            _ => good_answer(&path),
        };
        stream.write_all(&reply).await?;
    }
    Ok(())
}
