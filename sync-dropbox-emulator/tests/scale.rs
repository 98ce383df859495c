//! Scale checks at the benchmark sizes (100,000 members listed, 10,000 provisioned). They assert
//! only counts; they print their wall time for information. Ignored by default (slow in debug
//! builds); run with
//! `cargo nextest run -p teamsync-dropbox-emulator --release --run-ignored only --no-capture`.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::time::Instant;

use serde_json::{Value, json};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, SeedMember, TeamSeed};

async fn call(
    http: &reqwest::Client,
    emu: &Emulator,
    token: &str,
    route: &str,
    arg: &Value,
) -> Value {
    let resp = http
        .post(format!("{}/2/{route}", emu.base_url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(arg.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale check: slow in debug builds; run explicitly with --release --run-ignored only"]
async fn list_100k_members() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let seed = TeamSeed {
        members: (0..100_000)
            .map(|i| SeedMember {
                email: format!("user{i:06}@scale.test"),
                given_name: "Given".into(),
                surname: format!("S{i}"),
                external_id: Some(format!("ext-{i}")),
                ..SeedMember::default()
            })
            .collect(),
        ..TeamSeed::default()
    };
    let started = Instant::now();
    emu.try_seed(&seed).unwrap();
    let seeded = started.elapsed();
    let (http, token) = (reqwest::Client::new(), emu.access_token());
    let started = Instant::now();
    let mut page = call(
        &http,
        &emu,
        &token,
        "team/members/list_v2",
        &json!({"limit": 1000}),
    )
    .await;
    let mut total = page["members"].as_array().unwrap().len();
    while page["has_more"] == true {
        page = call(
            &http,
            &emu,
            &token,
            "team/members/list/continue_v2",
            &json!({"cursor": page["cursor"]}),
        )
        .await;
        total += page["members"].as_array().unwrap().len();
    }
    let listed = started.elapsed();
    assert_eq!(total, 100_000);
    let counts = emu.call_counts();
    assert_eq!(
        counts["team/members/list_v2"] + counts["team/members/list/continue_v2"],
        100
    );
    println!("seed 100k: {seeded:?}; list 100k in 100 calls: {listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale check: slow in debug builds; run explicitly with --release --run-ignored only"]
async fn provision_10k_members() {
    let config = EmulatorConfig {
        async_add_threshold: 20,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).await.unwrap();
    let (http, token) = (reqwest::Client::new(), emu.access_token());
    let started = Instant::now();
    for batch in 0..500 {
        let members: Vec<Value> = (0..20)
            .map(|i| json!({"member_email": format!("new{}@scale.test", batch * 20 + i), "member_given_name": "N", "member_surname": "M"}))
            .collect();
        let result = call(
            &http,
            &emu,
            &token,
            "team/members/add_v2",
            &json!({"new_members": members}),
        )
        .await;
        assert_eq!(result[".tag"], "complete");
    }
    let took = started.elapsed();
    assert_eq!(emu.state().members.len(), 10_000);
    assert_eq!(emu.call_counts()["team/members/add_v2"], 500);
    println!("provision 10k in 500 add_v2 calls: {took:?}");
}
