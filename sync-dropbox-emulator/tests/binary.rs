//! The standalone binary: starts with TLS and a seed file, announces itself, serves, and
//! stops on SIGTERM.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

#[tokio::test]
async fn binary_serves_tls_with_seed_and_writes_ca_and_info() {
    let dir = std::env::temp_dir().join(format!("emu-bin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        r#"{"team_name": "From File", "license_limit": 10,
            "members": [{"email": "a@file.test", "given_name": "A", "surname": "File", "is_admin": true},
                        {"email": "b@file.test", "status": "invited"}],
            "groups": [{"name": "Team A", "members": ["a@file.test"]}]}"#,
    )
    .unwrap();
    let (ca_file, info_file) = (dir.join("ca.pem"), dir.join("info.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_teamsync-dropbox-emulator"))
        .args(["--tls", "--seed", "3", "--token-ttl-secs", "60"])
        .arg("--ca-file")
        .arg(&ca_file)
        .arg("--seed-file")
        .arg(&seed)
        .arg("--info-file")
        .arg(&info_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&std::fs::read_to_string(&info_file).unwrap()).unwrap(),
        info
    );
    let base = info["base_url"].as_str().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"));

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    // The refresh token from the info line works at the token endpoint.
    let token: Value = http
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", info["refresh_token"].as_str().unwrap()),
            ("client_id", info["app_key"].as_str().unwrap()),
            ("client_secret", info["app_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["expires_in"], 60);
    let team: Value = http
        .post(format!("{base}/2/team/get_info"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(team["name"], "From File");
    assert_eq!(team["num_licensed_users"], 10);
    let state: Value = http
        .get(format!("{base}/__emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["members"][0]["groups"], serde_json::json!(["Team A"]));
    assert_eq!(state["members"][1]["status"], "invited");

    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        child.wait().unwrap().success(),
        "SIGTERM is a clean shutdown"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn binary_refuses_an_invalid_seed_file() {
    let dir = std::env::temp_dir().join(format!("emu-bin-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        r#"{"members": [{"email": "a@x.test"}, {"email": "A@x.test"}]}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_teamsync-dropbox-emulator"))
        .arg("--seed-file")
        .arg(&seed)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate member email"));
    std::fs::remove_dir_all(&dir).unwrap();
}
