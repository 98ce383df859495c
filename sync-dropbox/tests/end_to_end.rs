//! The whole flow against the in-process emulator: a generated directory planned by the core
//! and applied through `DropboxTeam`; then a no-op second run; then convergence through a
//! storm of rate limits.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use teamsync_core::{ApplyOptions, Backoff, DesiredState, Outcome, Policy, RetryPolicy, TeamStore};
use teamsync_dropbox::DropboxTeam;
use teamsync_dropbox_emulator::{Emulator, Faults, MemberStatus, RateLimit};

async fn run(
    store: &DropboxTeam,
    desired: &DesiredState,
    options: &ApplyOptions,
) -> (usize, Outcome) {
    let actual = store.snapshot().await.unwrap();
    let plan = teamsync_core::plan(desired, &actual, &Policy::default()).unwrap();
    let outcome = teamsync_core::apply(&plan, store, options).await.unwrap();
    (plan.operations.len(), outcome)
}

/// The emulator's team equals the directory: every user invited with the managed external id
/// and names, every group with its managed external id and exactly its members.
fn assert_team_matches(emu: &Emulator, desired: &DesiredState) {
    let state = emu.state();
    let by_email: BTreeMap<&str, _> = state
        .members
        .iter()
        .map(|m| (m.email.as_str(), m))
        .collect();
    assert_eq!(state.members.len(), desired.users.len());
    for user in &desired.users {
        let member = by_email
            .get(user.email.as_str())
            .unwrap_or_else(|| panic!("{} missing", user.email));
        assert_eq!(
            member.external_id.as_deref(),
            Some(format!("teamsync:{}", user.id).as_str())
        );
        assert_eq!(
            (member.given_name.as_str(), member.surname.as_str()),
            (user.given_name.as_str(), user.surname.as_str())
        );
        assert_eq!(member.status, MemberStatus::Invited);
    }
    assert_groups_match(&state, desired);
}

#[tokio::test]
async fn provisions_2000_users_and_50_groups_then_a_noop_run() {
    let emu = emulator().await;
    let store = store(&emu);
    let desired = directory(2000, 50, Some(7));

    let (planned, outcome) = run(&store, &desired, &ApplyOptions::default()).await;
    assert_eq!(
        outcome.failed,
        0,
        "{:?}",
        outcome
            .results
            .iter()
            .find(|r| !matches!(r.status, teamsync_core::OpStatus::Done))
    );
    assert_eq!((outcome.skipped, outcome.done), (0, planned));
    assert_team_matches(&emu, &desired);
    let counts = emu.call_counts();
    assert_eq!(
        counts["team/members/add_v2"], 100,
        "2000 invitations in batches of 20: {counts:?}"
    );
    assert_eq!(counts["team/groups/create"], 50, "{counts:?}");

    // Second run: the plan is empty and nothing is written.
    emu.reset_call_counts();
    let (planned, outcome) = run(&store, &desired, &ApplyOptions::default()).await;
    assert_eq!((planned, outcome.done, outcome.failed), (0, 0, 0));
    assert_eq!(write_calls(&emu), 0, "{:?}", emu.call_counts());
    let counts = emu.call_counts();
    assert_eq!(counts["team/members/list_v2"], 1);
    assert_eq!(
        counts["team/members/list/continue_v2"], 1,
        "2000 members in pages of 1000"
    );
    assert_eq!(counts["team/groups/members/list"], 50);
}

#[tokio::test]
async fn converges_through_a_rate_limit_storm() {
    let emu = emulator().await;
    let store = store(&emu);
    let desired = directory(400, 10, Some(7));
    // At most 25 calls per 500 ms window across all routes; everything else gets 429 with
    // Retry-After. The executor waits as told and repeats.
    emu.set_faults(Faults {
        rate_limit: Some(RateLimit {
            max_calls: 25,
            window_ms: 500,
        }),
        ..Faults::default()
    });
    let options = ApplyOptions::default().with_retry(RetryPolicy::new(
        30,
        Backoff::new(Duration::from_millis(20), Duration::from_secs(2)),
        Duration::from_secs(60),
    ));
    let (planned, outcome) = run(&store, &desired, &options).await;
    assert_eq!(
        outcome.failed,
        0,
        "{:?}",
        outcome
            .results
            .iter()
            .find(|r| !matches!(r.status, teamsync_core::OpStatus::Done))
    );
    assert_eq!(outcome.done, planned);

    // Some writes were refused and repeated: more write calls than the 40 the plan needs
    // (20 add_v2, 10 create, 10 groups/members/add).
    assert!(
        write_calls(&emu) > 40,
        "the storm refused no write: {:?}",
        emu.call_counts()
    );
    emu.set_faults(Faults::default());
    assert_team_matches(&emu, &desired);
    emu.reset_call_counts();
    let (planned, _) = run(&store, &desired, &ApplyOptions::default()).await;
    assert_eq!(planned, 0);
    assert_eq!(write_calls(&emu), 0);
    assert!(store.limits().invites_per_call == 20);
}
