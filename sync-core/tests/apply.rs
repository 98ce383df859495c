//! The executor against mocked stores (mockall) and the in-memory team: batching to the store's
//! limits, retries honouring retry-after, dependents of a failed invite skipped, partial failure
//! counted, the guard, progress events.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use futures::future::BoxFuture;
use mockall::mock;
use mockall::predicate::always;
use teamsync_core::memory::{Call, Fault, MemoryTeam};
use teamsync_core::*;

mock! {
    pub Store {}
    #[async_trait]
    impl TeamStore for Store {
        fn limits(&self) -> StoreLimits;
        async fn snapshot(&self) -> Result<ActualState, StoreError>;
        async fn invite(&self, members: &[NewMember]) -> Vec<Result<(), StoreError>>;
        async fn set_profile(&self, member: &MemberRef, change: &ProfileChange) -> Result<(), StoreError>;
        async fn suspend(&self, member: &MemberRef, wipe_data: bool) -> Result<(), StoreError>;
        async fn unsuspend(&self, member: &MemberRef) -> Result<(), StoreError>;
        async fn remove(&self, member: &MemberRef, options: &RemoveOptions) -> Result<(), StoreError>;
        async fn recover(&self, member: &MemberRef) -> Result<(), StoreError>;
        async fn create_group(&self, name: &str, external_id: &str) -> Result<String, StoreError>;
        async fn update_group(&self, group: &GroupRef, change: &GroupChange) -> Result<(), StoreError>;
        async fn delete_group(&self, group: &GroupRef) -> Result<(), StoreError>;
        async fn add_group_members(&self, group: &GroupRef, members: &[MemberRef]) -> Result<(), StoreError>;
        async fn remove_group_members(&self, group: &GroupRef, members: &[MemberRef]) -> Result<(), StoreError>;
        async fn confirm(&self, wanted: &WantedState) -> Result<bool, StoreError>;
    }
}

/// Records the waits instead of waiting.
#[derive(Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

fn options(sleeper: Arc<RecordingSleeper>) -> ApplyOptions {
    ApplyOptions::new(sleeper).with_concurrency(1)
}

fn limits(invites: usize, members: usize) -> StoreLimits {
    StoreLimits {
        invites_per_call: invites,
        group_members_per_call: members,
        max_concurrency: 1,
    }
}

/// n new users, all in group "all" (a synced group), on an empty team.
fn new_users_plan(n: usize) -> Plan {
    let users: Vec<DirectoryUser> = (0..n)
        .map(|i| user(&format!("u{i:03}"), &format!("u{i:03}@x.com"), "U", "N"))
        .collect();
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let d = directory(users, vec![group("all", "All", &refs)], &["all"]);
    plan_ok(&d, &ActualState::default(), &Policy::default())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

#[test]
fn invites_and_group_adds_are_batched_to_the_store_limits() {
    let plan = new_users_plan(45);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 30));
    store
        .expect_create_group()
        .times(1)
        .returning(|_, _| Ok("g:1".into()));
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let s = sizes.clone();
    store.expect_invite().times(3).returning(move |m| {
        s.lock().unwrap().push(m.len());
        m.iter().map(|_| Ok(())).collect()
    });
    let adds = Arc::new(Mutex::new(Vec::new()));
    let a = adds.clone();
    store
        .expect_add_group_members()
        .times(2)
        .returning(move |g, m| {
            assert_eq!(g, &GroupRef::ExternalId("teamsync:all".into()));
            a.lock().unwrap().push(m.len());
            Ok(())
        });
    let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
    assert_eq!(
        (outcome.done, outcome.failed, outcome.skipped),
        (45 + 45 + 1, 0, 0)
    );
    let mut sizes = sizes.lock().unwrap().clone();
    sizes.sort();
    assert_eq!(sizes, [5, 20, 20]);
    let mut adds = adds.lock().unwrap().clone();
    adds.sort();
    assert_eq!(adds, [15, 30]);
}

#[test]
fn rate_limits_are_retried_after_the_delay_the_store_gave() {
    let plan = new_users_plan(1);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    let mut calls = 0;
    store.expect_create_group().times(3).returning(move |_, _| {
        calls += 1;
        match calls {
            1 => Err(StoreError::rate_limited(Some(Duration::from_secs(7)))),
            2 => Err(StoreError::transient("503")),
            _ => Ok("g:1".into()),
        }
    });
    store
        .expect_invite()
        .times(1)
        .returning(|m| m.iter().map(|_| Ok(())).collect());
    store
        .expect_add_group_members()
        .times(1)
        .returning(|_, _| Ok(()));
    let sleeper = Arc::new(RecordingSleeper::default());
    let outcome = block_on(apply(&plan, &store, &options(sleeper.clone()))).unwrap();
    assert!(outcome.is_success());
    let waits = sleeper.0.lock().unwrap().clone();
    assert_eq!(waits.len(), 2);
    assert_eq!(waits[0], Duration::from_secs(7), "retry-after honoured");
    // Backoff after a transient error on the second attempt: 50–100% of the doubled step (500 ms).
    assert!(
        waits[1] >= Duration::from_millis(250) && waits[1] <= Duration::from_millis(500),
        "{:?}",
        waits[1]
    );
}

#[test]
fn retries_stop_after_the_limit_and_count_as_failed() {
    let plan = new_users_plan(1);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    store
        .expect_create_group()
        .times(3)
        .returning(|_, _| Err(StoreError::transient("reset")));
    store
        .expect_invite()
        .times(1)
        .returning(|m| m.iter().map(|_| Ok(())).collect());
    // The group add depends on the failed group creation: skipped, never called.
    store.expect_add_group_members().never();
    let mut opts = options(Arc::default());
    opts.retry.max_retries = 2;
    let outcome = block_on(apply(&plan, &store, &opts)).unwrap();
    assert_eq!((outcome.done, outcome.failed, outcome.skipped), (1, 1, 1));
    let failure = outcome
        .results
        .iter()
        .find(|r| matches!(r.status, OpStatus::Failed { .. }))
        .unwrap();
    assert!(matches!(
        &failure.status,
        OpStatus::Failed { attempts: 3, .. }
    ));
}

#[test]
fn a_failed_invite_skips_its_group_adds_and_the_rest_goes_on() {
    let plan = new_users_plan(3);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    store
        .expect_create_group()
        .returning(|_, _| Ok("g:1".into()));
    store.expect_invite().times(1).returning(|m| {
        m.iter()
            .map(|n| {
                if n.email.as_str() == "u001@x.com" {
                    Err(StoreError::conflict("team_license_limit", "no license"))
                } else {
                    Ok(())
                }
            })
            .collect()
    });
    store
        .expect_add_group_members()
        .times(1)
        .withf(|_, m| {
            m == [
                MemberRef::ExternalId("teamsync:u000".into()),
                MemberRef::ExternalId("teamsync:u002".into()),
            ]
        })
        .returning(|_, _| Ok(()));
    let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
    assert_eq!(
        (outcome.done, outcome.failed, outcome.skipped),
        (1 + 2 + 2, 1, 1)
    );
    let skipped = outcome
        .results
        .iter()
        .find(|r| matches!(r.status, OpStatus::Skipped { .. }))
        .unwrap();
    assert_eq!(plan.operations[skipped.index].target, "All: u001@x.com");
    let OpStatus::Skipped { because } = &skipped.status else {
        unreachable!()
    };
    assert!(because.contains("invite u001@x.com"), "{because}");
}

#[test]
fn invite_items_with_retryable_errors_are_retried_alone() {
    let plan = new_users_plan(3);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    store
        .expect_create_group()
        .returning(|_, _| Ok("g:1".into()));
    let batches = Arc::new(Mutex::new(Vec::new()));
    let b = batches.clone();
    let mut first = true;
    store.expect_invite().times(2).returning(move |m| {
        b.lock()
            .unwrap()
            .push(m.iter().map(|n| n.email.to_string()).collect::<Vec<_>>());
        let out = m
            .iter()
            .map(|n| {
                if first && n.email.as_str() == "u002@x.com" {
                    Err(StoreError::transient("job failed"))
                } else {
                    Ok(())
                }
            })
            .collect();
        first = false;
        out
    });
    store.expect_add_group_members().returning(|_, _| Ok(()));
    let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
    assert!(outcome.is_success());
    assert_eq!(batches.lock().unwrap()[1], ["u002@x.com"]);
}

#[test]
fn a_failing_group_batch_is_split_so_one_bad_member_fails_alone() {
    let plan = new_users_plan(3);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    store
        .expect_create_group()
        .returning(|_, _| Ok("g:1".into()));
    store
        .expect_invite()
        .returning(|m| m.iter().map(|_| Ok(())).collect());
    store
        .expect_add_group_members()
        .with(always(), always())
        .times(4)
        .returning(|_, m| {
            if m.contains(&MemberRef::ExternalId("teamsync:u001".into())) {
                Err(StoreError::not_found("users_not_found", "u001 not found"))
            } else {
                Ok(())
            }
        });
    let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
    assert_eq!((outcome.failed, outcome.skipped), (1, 0));
    let (index, error) = outcome.failures().next().unwrap();
    assert_eq!(plan.operations[index].target, "All: u001@x.com");
    assert_eq!(error.code.as_deref(), Some("users_not_found"));
}

#[test]
fn the_guard_refuses_without_permission_and_allows_with_it() {
    let users: Vec<DirectoryUser> = (0..100)
        .map(|i| user(&format!("u{i}"), &format!("u{i}@x.com"), "U", "N"))
        .collect();
    let members: Vec<TeamMember> = (0..100)
        .map(|i| {
            managed(
                &format!("dbmid:{i}"),
                &format!("u{i}"),
                &format!("u{i}@x.com"),
                "U",
                "N",
                MemberStatus::Active,
            )
        })
        .collect();
    let d = directory(users, vec![], &["u0"]);
    let plan = plan_ok(&d, &team(members.clone(), vec![]), &Policy::default());
    assert_eq!(plan.guard.deprovisions, 99);

    let store = MemoryTeam::with_state(team(members, vec![]));
    let refused = block_on(apply(&plan, &store, &ApplyOptions::default())).unwrap_err();
    assert!(matches!(
        refused,
        ApplyError::GuardRefused {
            deprovisions: 99,
            deprovision_limit: 25,
            ..
        }
    ));
    assert!(refused.to_string().contains("99 members"));
    assert_eq!(store.write_calls(), 0, "nothing was done");

    let not_enough = ApplyOptions::default().with_permission(Permission::UpTo(50));
    assert!(block_on(apply(&plan, &store, &not_enough)).is_err());
    let enough = ApplyOptions::default().with_permission(Permission::UpTo(99));
    let outcome = block_on(apply(&plan, &store, &enough)).unwrap();
    assert_eq!(outcome.done, 99);
}

#[test]
fn progress_is_reported_per_phase() {
    let plan = new_users_plan(25);
    let store = MemoryTeam::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    let opts = ApplyOptions::default().with_on_progress(move |p| e.lock().unwrap().push(p));
    block_on(apply(&plan, &store, &opts)).unwrap();
    let events = events.lock().unwrap();
    let last_of = |phase| events.iter().rfind(|p| p.phase == phase).copied().unwrap();
    assert_eq!(
        last_of(Phase::Groups),
        Progress {
            phase: Phase::Groups,
            done: 1,
            total: 1
        }
    );
    assert_eq!(
        last_of(Phase::Provision),
        Progress {
            phase: Phase::Provision,
            done: 25,
            total: 25
        }
    );
    assert_eq!(
        last_of(Phase::GroupAdds),
        Progress {
            phase: Phase::GroupAdds,
            done: 25,
            total: 25
        }
    );
    // Invites arrive in two batches (20 + 5): at least one intermediate report.
    assert!(
        events
            .iter()
            .any(|p| p.phase == Phase::Provision && p.done > 0 && p.done < 25)
    );
}

#[test]
fn interrupted_runs_converge_without_duplicates() {
    // A store that fails every invite for u002 twice: the first run leaves it failed, the next
    // plan picks it up, and nothing is invited twice.
    let plan1 = new_users_plan(4);
    let store = MemoryTeam::new();
    store.inject(Fault {
        call: Call::Invite,
        subject: "u002".into(),
        times: 1,
        error: StoreError::conflict("user_creation_failed", "boom"),
    });
    let outcome = block_on(apply(&plan1, &store, &ApplyOptions::default())).unwrap();
    assert_eq!((outcome.failed, outcome.skipped), (1, 1));
    let users: Vec<DirectoryUser> = (0..4)
        .map(|i| user(&format!("u{i:03}"), &format!("u{i:03}@x.com"), "U", "N"))
        .collect();
    let d = directory(
        users,
        vec![group("all", "All", &["u000", "u001", "u002", "u003"])],
        &["all"],
    );
    let plan2 = plan_ok(&d, &store.state(), &Policy::default());
    assert_eq!(
        ops(&plan2),
        [
            "invite u002@x.com (teamsync:u002 U N)",
            "add to group All: u002@x.com"
        ]
    );
    assert!(
        block_on(apply(&plan2, &store, &ApplyOptions::default()))
            .unwrap()
            .is_success()
    );
    assert!(plan_ok(&d, &store.state(), &Policy::default()).is_empty());
    assert_eq!(store.state().members.len(), 4);
}

#[test]
fn a_server_wait_past_the_cap_fails_the_write_at_once_naming_the_wait() {
    let plan = new_users_plan(1);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    store
        .expect_create_group()
        .times(1)
        .returning(|_, _| Err(StoreError::rate_limited(Some(Duration::from_secs(86_400)))));
    store
        .expect_invite()
        .times(1)
        .returning(|m| m.iter().map(|_| Ok(())).collect());
    store.expect_add_group_members().never();
    let sleeper = Arc::new(RecordingSleeper::default());
    let outcome = block_on(apply(&plan, &store, &options(sleeper.clone()))).unwrap();
    assert_eq!((outcome.done, outcome.failed, outcome.skipped), (1, 1, 1));
    let (_, error) = outcome.failures().next().unwrap();
    assert!(
        error.message.contains("86400s"),
        "names the wait asked for: {error}"
    );
    assert!(
        sleeper.0.lock().unwrap().is_empty(),
        "never slept on the server's word"
    );
}

/// The first `add_v2` went through but its reply was lost (a transient error); the retry is
/// refused with `user_already_on_team`. The executor asks the store to confirm, and counts the
/// invitation done when the member is there as wanted; without a confirmation it fails.
#[test]
fn a_refused_retry_after_a_lost_reply_is_confirmed_with_the_store() {
    for confirmed in [true, false] {
        let plan = new_users_plan(2);
        let mut store = MockStore::new();
        store.expect_limits().return_const(limits(20, 100));
        store
            .expect_create_group()
            .returning(|_, _| Ok("g:1".into()));
        let mut first = true;
        store.expect_invite().times(2).returning(move |m| {
            let out = if first {
                m.iter()
                    .map(|_| Err(StoreError::transient("connection reset")))
                    .collect()
            } else {
                m.iter()
                    .map(|_| {
                        Err(StoreError::conflict(
                            "user_already_on_team",
                            "already on the team",
                        ))
                    })
                    .collect()
            };
            first = false;
            out
        });
        store
            .expect_confirm()
            .times(2)
            .withf(|w| matches!(w, WantedState::Invited(m) if m.external_id.starts_with("teamsync:u00")))
            .returning(move |_| Ok(confirmed));
        store.expect_add_group_members().returning(|_, _| Ok(()));
        let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
        if confirmed {
            assert!(
                outcome.is_success(),
                "{:?}",
                outcome.failures().collect::<Vec<_>>()
            );
        } else {
            assert_eq!(outcome.failed, 2);
        }
    }
}

/// A refusal that follows a clean refusal (no lost reply) is the server's word: no confirmation.
#[test]
fn a_refusal_without_a_lost_reply_is_not_second_guessed() {
    let plan = new_users_plan(1);
    let mut store = MockStore::new();
    store.expect_limits().return_const(limits(20, 100));
    let mut calls = 0;
    store.expect_create_group().times(2).returning(move |_, _| {
        calls += 1;
        if calls == 1 {
            Err(StoreError::rate_limited(Some(Duration::from_millis(5))))
        } else {
            Err(StoreError::conflict("group_name_already_used", "taken"))
        }
    });
    store.expect_confirm().never();
    store
        .expect_invite()
        .returning(|m| m.iter().map(|_| Ok(())).collect());
    let outcome = block_on(apply(&plan, &store, &options(Arc::default()))).unwrap();
    assert_eq!(outcome.failed, 1);
}
