//! Graph emulator → EntraDirectory → plan → DropboxTeam → Dropbox emulator: nested groups, a
//! disabled user, a soft-deleted user, a guest, a user without `mail`; a second run writes
//! nothing; a read that fails (page 7 of 12 dropped, 429 storms, 503s) stops before planning.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use teamsync_core::{ApplyOptions, Directory, LeaveAction, OpStatus, Policy, TeamStore};
use teamsync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxTeam, JobPolling, TeamOptions,
};
use teamsync_dropbox_emulator::{
    Emulator as Dropbox, EmulatorConfig as DropboxConfig, MemberStatus, SeedMember, TeamSeed,
};
use teamsync_entra::EntraDirectory;
use teamsync_graph_emulator::{DropOnPage, Faults};

fn store(dbx: &Dropbox) -> DropboxTeam {
    let client = DropboxClient::new(
        ClientConfig::with_base_url(dbx.base_url()),
        Credentials::access_token(dbx.access_token()),
    )
    .unwrap();
    let options = TeamOptions::default().with_job_polling(JobPolling::new(
        Duration::from_millis(5),
        Duration::from_millis(50),
        Duration::from_secs(30),
    ));
    DropboxTeam::with_options(client, options)
}

fn policy() -> Policy {
    Policy::default().with_on_delete(LeaveAction::Remove)
}

/// Dropbox calls that change the team.
fn write_calls(dbx: &Dropbox) -> u64 {
    dbx.call_counts()
        .iter()
        .filter(|(route, _)| {
            !(route.contains("list")
                || route.contains("get_info")
                || route.contains("job_status")
                || route.starts_with("oauth2"))
        })
        .map(|(_, n)| *n)
        .sum()
}

/// One run as the command does it: read the directory first (a failed read stops here, before
/// the team is even read), then the team, plan, apply. Returns the number of operations.
async fn run(
    directory: &EntraDirectory,
    team: &DropboxTeam,
) -> Result<usize, teamsync_core::DirectoryError> {
    let desired = directory.snapshot().await?;
    let actual = team.snapshot().await.unwrap();
    let plan = teamsync_core::plan(&desired, &actual, &policy()).unwrap();
    let outcome = teamsync_core::apply(&plan, team, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(
        outcome.failed,
        0,
        "{:?}",
        outcome
            .results
            .iter()
            .find(|r| !matches!(r.status, OpStatus::Done))
    );
    Ok(plan.operations.len())
}

async fn dropbox_with_hal() -> Dropbox {
    let dbx = Dropbox::start(DropboxConfig::default()).await.unwrap();
    dbx.try_seed(&TeamSeed {
        members: vec![SeedMember {
            email: "hal@contoso.com".into(),
            given_name: "Hal".into(),
            surname: "Left".into(),
            external_id: Some(format!("teamsync:{}", oid("hal"))),
            status: MemberStatus::Active,
            ..SeedMember::default()
        }],
        ..TeamSeed::default()
    })
    .unwrap();
    dbx
}

fn assert_provisioned(dbx: &Dropbox) {
    let state = dbx.state();
    let status = |email: &str| {
        state
            .members
            .iter()
            .find(|m| m.email == email)
            .map(|m| m.status)
    };
    assert_eq!(status("ann@contoso.com"), Some(MemberStatus::Invited));
    assert_eq!(
        status("bob@contoso.com"),
        Some(MemberStatus::Invited),
        "no mail: invited by UPN"
    );
    assert_eq!(
        status("fay@contoso.com"),
        Some(MemberStatus::Invited),
        "reached through a nested group"
    );
    assert_eq!(status("cat@contoso.com"), None, "disabled: not invited");
    assert_eq!(status("dan@partner.example"), None, "guest: excluded");
    assert_eq!(status("gus@contoso.com"), None, "out of scope");
    assert_eq!(
        status("hal@contoso.com"),
        Some(MemberStatus::Removed),
        "soft-deleted: on_delete = remove"
    );
    assert_eq!(
        state
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Invited)
            .count(),
        3,
        "eve has no usable address: {:?}",
        state.members
    );
    let mut groups: Vec<(String, Vec<String>)> = state
        .groups
        .iter()
        .map(|g| {
            let mut emails: Vec<String> = g.members.iter().map(|m| m.email.clone()).collect();
            emails.sort();
            (g.name.clone(), emails)
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        vec![
            ("Engineering".to_owned(), vec!["fay@contoso.com".to_owned()]),
            ("Ops".to_owned(), vec!["fay@contoso.com".to_owned()])
        ]
    );
}

#[tokio::test]
async fn graph_to_dropbox_then_a_second_run_writes_nothing() {
    let graph = emulator(&world(), 2).await;
    let dbx = dropbox_with_hal().await;
    let (directory, team) = (directory(config(&graph)), store(&dbx));

    let planned = run(&directory, &team).await.unwrap();
    assert!(planned >= 6, "{planned}");
    assert_provisioned(&dbx);

    dbx.reset_call_counts();
    assert_eq!(
        run(&directory, &team).await.unwrap(),
        0,
        "the second plan is empty"
    );
    assert_eq!(write_calls(&dbx), 0, "{:?}", dbx.call_counts());
}

#[tokio::test]
async fn a_failed_read_writes_nothing_and_retries_converge() {
    let mut seed = world();
    for i in 0..17 {
        seed.users.push(user(&format!("x{i:02}"), json!({})));
    }
    let graph = emulator(&seed, 2).await; // 24 users: 12 pages of /users
    let dbx = dropbox_with_hal().await;
    let team = store(&dbx);

    // Page 7 of 12 always dropped: the read fails before planning; Dropbox is not even read.
    graph.set_faults(Faults {
        drop_on_page: Some(DropOnPage {
            listing: "users".into(),
            page: 7,
            times: None,
        }),
        ..Faults::default()
    });
    let mut c = config(&graph);
    c.retry.max_attempts = 3;
    let err = run(&directory(c), &team).await.unwrap_err();
    assert_eq!(err.kind, teamsync_core::DirectoryErrorKind::Incomplete);
    assert_eq!(write_calls(&dbx), 0);
    assert!(dbx.call_counts().is_empty(), "{:?}", dbx.call_counts());

    // 429 storm without retries: fails the same way.
    graph.set_faults(Faults {
        throttle_rate: 0.6,
        ..Faults::default()
    });
    let mut c = config(&graph);
    c.retry.max_attempts = 1;
    assert!(run(&directory(c), &team).await.is_err());
    assert!(dbx.call_counts().is_empty());

    // With retries through a 429 storm, 503s and the dropped page, it converges.
    graph.set_faults(Faults {
        throttle_rate: 0.3,
        unavailable_rate: 0.1,
        drop_on_page: Some(DropOnPage {
            listing: "users".into(),
            page: 7,
            times: Some(2),
        }),
        ..Faults::default()
    });
    let mut c = config(&graph);
    c.retry.max_attempts = 30;
    let directory = directory(c);
    run(&directory, &team).await.unwrap();
    assert_provisioned(&dbx);
    let invited = dbx
        .state()
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::Invited)
        .count();
    assert_eq!(invited, 3, "the x users are in no root group");
    dbx.reset_call_counts();
    assert_eq!(run(&directory, &team).await.unwrap(), 0);
    assert_eq!(write_calls(&dbx), 0);
}
