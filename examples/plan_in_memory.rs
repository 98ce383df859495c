//! Plan and apply a sync entirely in memory: a small directory, a team that has drifted, the
//! plan a dry run shows, the apply, and a second plan that is empty.
//!
//! `cargo run -p teamsync-examples --example plan_in_memory`

use teamsync_core::memory::MemoryTeam;
use teamsync_core::{ActualState, ApplyOptions, DesiredState, Policy, TeamStore, apply, plan};

const DIRECTORY: &str = r#"{
  "user_roots": ["grp-dropbox"],
  "users": [
    {"id": "u-ann", "email": "ann@example.com", "given_name": "Ann", "surname": "Lee"},
    {"id": "u-bob", "email": "bob@example.com", "given_name": "Bob", "surname": "Stone"},
    {"id": "u-cy",  "email": "cy@example.com",  "given_name": "Cy",  "surname": "Young", "enabled": false}
  ],
  "groups": [
    {"id": "grp-dropbox", "name": "Dropbox Users", "members": ["grp-sales", "u-cy"]},
    {"id": "grp-sales", "name": "Sales", "members": ["u-ann", "grp-emea"]},
    {"id": "grp-emea", "name": "Sales EMEA", "members": ["u-bob"]}
  ]
}"#;

const TEAM: &str = r#"{
  "members": [
    {"team_member_id": "dbmid:cy", "email": "cy@example.com", "external_id": "teamsync:u-cy",
     "given_name": "Cy", "surname": "Young", "status": {"state": "active"}},
    {"team_member_id": "dbmid:old", "email": "old@example.com", "external_id": "teamsync:u-old",
     "given_name": "Old", "surname": "Timer", "status": {"state": "active"}},
    {"team_member_id": "dbmid:bob", "email": "bob@example.com",
     "given_name": "Robert", "surname": "Stone", "status": {"state": "active"}}
  ]
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let desired: DesiredState = serde_json::from_str(DIRECTORY)?;
    let actual: ActualState = serde_json::from_str(TEAM)?;
    let policy = Policy::default();

    let team = MemoryTeam::with_state(actual);
    let first = plan(
        &desired,
        &futures::executor::block_on(team.snapshot())?,
        &policy,
    )?;
    println!("{}", first.render());

    let outcome = futures::executor::block_on(apply(&first, &team, &ApplyOptions::default()))?;
    println!(
        "applied: {} done, {} failed, {} skipped",
        outcome.done, outcome.failed, outcome.skipped
    );

    let second = plan(&desired, &team.state(), &policy)?;
    println!("second plan: {} operations", second.operations.len());
    assert!(second.is_empty());
    Ok(())
}
