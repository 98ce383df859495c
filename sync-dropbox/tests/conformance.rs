//! One `TeamStore` contract, two models of Dropbox (issue 11): the same suite of Dropbox's rules
//! runs against `teamsync_core::memory::MemoryTeam` and against the emulator through
//! `DropboxTeam`. Each rule states what the Stone spec (`/work/shared/spec/dropbox-api/`) and
//! the team API notes say; a store that answers otherwise fails here, naming the store.
//!
//! A future store joins by implementing [`Harness`] (make one from a seed; the suite reads it
//! back through `TeamStore::snapshot`).
//!
//! The planner's convergence property runs against the emulator too (32 cases, like
//! `sync-core/tests/properties.rs` runs it against the memory team).
#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use proptest::prelude::*;
use teamsync_core::memory::MemoryTeam;
use teamsync_core::{
    ActualState, ApplyOptions, Email, ErrorKind, GroupChange, GroupRef, ManagementType, MemberRef,
    MemberStatus, NewMember, Policy, ProfileChange, RemoveMode, RemoveOptions, StoreError,
    TeamMember, TeamStore,
};
use teamsync_dropbox::DropboxTeam;
use teamsync_dropbox_emulator::{
    Emulator, EmulatorConfig, MemberStatus as SeedStatus, SeedMember, TeamSeed,
};

/// A team to start from: members by local part (`ann` is `ann@example.com`, external id
/// `teamsync:ann`), with a status, and an optional licence limit.
struct Seed<'a> {
    members: &'a [(&'a str, MemberStatus)],
    license_limit: Option<u32>,
}

const EMPTY: Seed<'static> = Seed {
    members: &[],
    license_limit: None,
};

/// Makes a store of one kind holding a seed.
#[async_trait]
trait Harness: Send + Sync {
    /// For messages.
    const NAME: &'static str;
    type Store: TeamStore;
    async fn start(seed: &Seed<'_>) -> Self;
    fn store(&self) -> &Self::Store;
}

struct Memory(MemoryTeam);

#[async_trait]
impl Harness for Memory {
    const NAME: &'static str = "MemoryTeam";
    type Store = MemoryTeam;
    async fn start(seed: &Seed<'_>) -> Self {
        let members = seed
            .members
            .iter()
            .map(|(local, status)| TeamMember {
                team_member_id: format!("dbmid:{local}"),
                email: email(local),
                external_id: Some(format!("teamsync:{local}")),
                given_name: "G".into(),
                surname: "S".into(),
                status: *status,
                is_admin: false,
            })
            .collect();
        let team = MemoryTeam::with_state(ActualState {
            members,
            groups: Vec::new(),
        });
        team.set_license_limit(seed.license_limit.map(|n| n as usize));
        Memory(team)
    }
    fn store(&self) -> &MemoryTeam {
        &self.0
    }
}

struct Emulated {
    _emulator: Emulator,
    store: DropboxTeam,
}

#[async_trait]
impl Harness for Emulated {
    const NAME: &'static str = "emulator via DropboxTeam";
    type Store = DropboxTeam;
    async fn start(seed: &Seed<'_>) -> Self {
        let emulator = common::emulator_with(EmulatorConfig {
            job_polls_in_progress: 0,
            ..EmulatorConfig::default()
        })
        .await;
        let members = seed
            .members
            .iter()
            .map(|(local, status)| SeedMember {
                email: format!("{local}@example.com"),
                given_name: "G".into(),
                surname: "S".into(),
                external_id: Some(format!("teamsync:{local}")),
                status: match status {
                    MemberStatus::Active => SeedStatus::Active,
                    MemberStatus::Invited => SeedStatus::Invited,
                    MemberStatus::Suspended => SeedStatus::Suspended,
                    MemberStatus::Removed { .. } => SeedStatus::Removed,
                },
                is_admin: false,
            })
            .collect();
        emulator
            .try_seed(&TeamSeed {
                members,
                license_limit: seed.license_limit,
                ..TeamSeed::default()
            })
            .unwrap();
        let store = common::store(&emulator);
        Emulated {
            _emulator: emulator,
            store,
        }
    }
    fn store(&self) -> &DropboxTeam {
        &self.store
    }
}

fn email(local: &str) -> Email {
    Email::parse(&format!("{local}@example.com")).unwrap()
}

fn member(local: &str) -> MemberRef {
    MemberRef::ExternalId(format!("teamsync:{local}"))
}

fn invitation(local: &str) -> NewMember {
    NewMember {
        email: email(local),
        given_name: format!("Given {local}"),
        surname: format!("Sur {local}"),
        external_id: format!("teamsync:{local}"),
        send_welcome_email: false,
    }
}

fn group(external_id: &str) -> GroupRef {
    GroupRef::ExternalId(external_id.into())
}

async fn member_of<H: Harness>(h: &H, local: &str) -> Option<TeamMember> {
    let state = h.store().snapshot().await.unwrap();
    state.members.into_iter().find(|m| m.email == email(local))
}

async fn status_of<H: Harness>(h: &H, local: &str) -> Option<MemberStatus> {
    member_of(h, local).await.map(|m| m.status)
}

/// The error's kind and Dropbox tag.
fn refusal(result: Result<(), StoreError>) -> (ErrorKind, String) {
    let error = result.unwrap_err();
    (error.kind, error.code.unwrap_or_default())
}

fn conflict(code: &str) -> (ErrorKind, String) {
    (ErrorKind::Conflict, code.to_owned())
}

fn not_found(code: &str) -> (ErrorKind, String) {
    (ErrorKind::NotFound, code.to_owned())
}

/// The whole contract, against one kind of store.
async fn contract<H: Harness>() {
    let name = H::NAME;

    // members/add_v2: an invitation makes an invited member with the email, names and
    // external id asked for; the same email again is `user_already_on_team`, the same external
    // id `duplicate_external_member_id` (MemberAddResultBase).
    let h = H::start(&EMPTY).await;
    let results = h.store().invite(&[invitation("ann")]).await;
    assert!(results[0].is_ok(), "{name}: {results:?}");
    let ann = member_of(&h, "ann").await.unwrap();
    assert_eq!(ann.status, MemberStatus::Invited, "{name}");
    assert_eq!(ann.external_id.as_deref(), Some("teamsync:ann"), "{name}");
    assert_eq!(
        (ann.given_name.as_str(), ann.surname.as_str()),
        ("Given ann", "Sur ann"),
        "{name}"
    );
    let mut again = invitation("ann");
    again.external_id = "teamsync:other".into();
    let mut same_id = invitation("bob");
    same_id.external_id = "teamsync:ann".into();
    let results = h.store().invite(&[again, same_id, invitation("cy")]).await;
    assert_eq!(
        refusal(results[0].clone()),
        conflict("user_already_on_team"),
        "{name}"
    );
    assert_eq!(
        refusal(results[1].clone()),
        conflict("duplicate_external_member_id"),
        "{name}"
    );
    assert!(
        results[2].is_ok(),
        "{name}: one refusal does not fail the batch"
    );
    // Emails are one address whatever their case.
    let mut upper = invitation("ann");
    upper.email = Email::parse("ANN@Example.com").unwrap();
    upper.external_id = "teamsync:ann2".into();
    let results = h.store().invite(&[upper]).await;
    assert_eq!(
        refusal(results[0].clone()),
        conflict("user_already_on_team"),
        "{name}"
    );

    // Invited members cannot be suspended (`suspend_inactive_user`), and can be removed.
    assert_eq!(
        refusal(h.store().suspend(&member("ann"), false).await),
        conflict("suspend_inactive_user"),
        "{name}"
    );

    // Suspend / unsuspend (MembersSuspendError, MembersUnsuspendError).
    let seed = Seed {
        members: &[
            ("act", MemberStatus::Active),
            ("sus", MemberStatus::Suspended),
            ("rem", MemberStatus::Active),
        ],
        license_limit: None,
    };
    let h = H::start(&seed).await;
    h.store().suspend(&member("act"), false).await.unwrap();
    assert_eq!(
        status_of(&h, "act").await,
        Some(MemberStatus::Suspended),
        "{name}"
    );
    assert_eq!(
        refusal(h.store().suspend(&member("act"), false).await),
        conflict("suspend_inactive_user"),
        "{name}"
    );
    h.store().unsuspend(&member("sus")).await.unwrap();
    assert_eq!(
        status_of(&h, "sus").await,
        Some(MemberStatus::Active),
        "{name}"
    );
    assert_eq!(
        refusal(h.store().unsuspend(&member("sus")).await),
        conflict("unsuspend_non_suspended_member"),
        "{name}"
    );
    assert_eq!(
        refusal(h.store().suspend(&member("nobody"), false).await).0,
        ErrorKind::NotFound,
        "{name}"
    );

    // Remove / recover: a removed member stays listed as removed and recoverable, recovers to
    // active; recovering an active member is refused.
    let plain = RemoveOptions {
        wipe_data: false,
        mode: RemoveMode::Plain,
    };
    h.store().remove(&member("rem"), &plain).await.unwrap();
    assert!(
        matches!(
            status_of(&h, "rem").await,
            Some(MemberStatus::Removed { recoverable: true })
        ),
        "{name}"
    );
    h.store().recover(&member("rem")).await.unwrap();
    assert_eq!(
        status_of(&h, "rem").await,
        Some(MemberStatus::Active),
        "{name}"
    );
    assert_eq!(
        refusal(h.store().recover(&member("rem")).await).0,
        ErrorKind::Conflict,
        "{name}: recovering an active member"
    );

    // Profiles: an email or external id held by another member is refused.
    let taken_email = ProfileChange {
        email: Some(email("sus")),
        ..ProfileChange::default()
    };
    assert_eq!(
        refusal(h.store().set_profile(&member("act"), &taken_email).await),
        conflict("email_reserved_for_other_user"),
        "{name}"
    );
    let taken_id = ProfileChange {
        external_id: Some("teamsync:sus".into()),
        ..ProfileChange::default()
    };
    let by_email = MemberRef::Email(email("act"));
    assert_eq!(
        refusal(h.store().set_profile(&by_email, &taken_id).await),
        conflict("external_id_used_by_other_user"),
        "{name}"
    );
    // Selecting by external id while changing it is unsafe (MembersSetProfileError).
    let new_id = ProfileChange {
        external_id: Some("teamsync:fresh".into()),
        ..ProfileChange::default()
    };
    assert_eq!(
        refusal(h.store().set_profile(&member("act"), &new_id).await),
        (
            ErrorKind::Permanent,
            "external_id_and_new_external_id_unsafe".to_owned()
        ),
        "{name}"
    );
    let rename = ProfileChange {
        given_name: Some("New".into()),
        ..ProfileChange::default()
    };
    h.store()
        .set_profile(&member("act"), &rename)
        .await
        .unwrap();
    assert_eq!(
        member_of(&h, "act").await.unwrap().given_name,
        "New",
        "{name}"
    );

    // Groups: created company-managed with the external id; a name in use (any case) is
    // `group_name_already_used`, an external id in use `external_id_already_in_use`.
    let id = h.store().create_group("Eng", "teamsync:eng").await.unwrap();
    assert!(!id.is_empty(), "{name}");
    assert_eq!(
        refusal(
            h.store()
                .create_group("ENG", "teamsync:eng2")
                .await
                .map(|_| ())
        ),
        conflict("group_name_already_used"),
        "{name}"
    );
    assert_eq!(
        refusal(
            h.store()
                .create_group("Ops", "teamsync:eng")
                .await
                .map(|_| ())
        ),
        conflict("external_id_already_in_use"),
        "{name}"
    );
    let state = h.store().snapshot().await.unwrap();
    let eng = state.groups.iter().find(|g| g.name == "Eng").unwrap();
    assert_eq!(eng.external_id.as_deref(), Some("teamsync:eng"), "{name}");
    assert_eq!(
        eng.management_type,
        ManagementType::CompanyManaged,
        "{name}"
    );

    // Group members: added, then `duplicate_user` on a second add; removed, then
    // `member_not_in_group` (GroupMembersRemoveError) on a second removal, a "not found".
    let eng_ref = group("teamsync:eng");
    h.store()
        .add_group_members(&eng_ref, &[member("act"), member("sus")])
        .await
        .unwrap();
    let state = h.store().snapshot().await.unwrap();
    assert_eq!(
        state
            .groups
            .iter()
            .find(|g| g.name == "Eng")
            .unwrap()
            .members
            .len(),
        2,
        "{name}"
    );
    assert_eq!(
        refusal(
            h.store()
                .add_group_members(&eng_ref, &[member("act")])
                .await
        ),
        conflict("duplicate_user"),
        "{name}"
    );
    h.store()
        .remove_group_members(&eng_ref, &[member("act")])
        .await
        .unwrap();
    assert_eq!(
        refusal(
            h.store()
                .remove_group_members(&eng_ref, &[member("act")])
                .await
        ),
        not_found("member_not_in_group"),
        "{name}"
    );
    // Renaming onto another group's name is refused; deleting removes the group.
    h.store().create_group("Ops", "teamsync:ops").await.unwrap();
    let onto_eng = GroupChange {
        name: Some("eng".into()),
        ..GroupChange::default()
    };
    assert_eq!(
        refusal(
            h.store()
                .update_group(&group("teamsync:ops"), &onto_eng)
                .await
        ),
        conflict("group_name_already_used"),
        "{name}"
    );
    h.store()
        .delete_group(&group("teamsync:ops"))
        .await
        .unwrap();
    let state = h.store().snapshot().await.unwrap();
    assert!(state.groups.iter().all(|g| g.name != "Ops"), "{name}");
    assert_eq!(
        refusal(h.store().delete_group(&group("teamsync:ops")).await).0,
        ErrorKind::NotFound,
        "{name}"
    );

    // Licences: invitations past the limit are `team_license_limit`, each one.
    let seed = Seed {
        members: &[("one", MemberStatus::Active)],
        license_limit: Some(2),
    };
    let h = H::start(&seed).await;
    let results = h
        .store()
        .invite(&[invitation("two"), invitation("three")])
        .await;
    assert!(results[0].is_ok(), "{name}: {results:?}");
    assert_eq!(
        refusal(results[1].clone()),
        conflict("team_license_limit"),
        "{name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_team_follows_the_contract() {
    contract::<Memory>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_follows_the_contract() {
    contract::<Emulated>().await;
}

// ───────────────────────────── convergence against the emulator ─────────────────────────────

/// A small random directory: up to 12 users in up to 3 groups, some disabled.
fn directories() -> impl Strategy<Value = teamsync_core::DesiredState> {
    (
        1usize..12,
        1usize..4,
        proptest::collection::vec(any::<bool>(), 12),
        any::<u8>(),
    )
        .prop_map(|(users, groups, disabled, salt)| {
            let mut desired = common::directory(users, groups, Some(2 + usize::from(salt % 3)));
            for (user, off) in desired.users.iter_mut().zip(disabled) {
                user.enabled = !off || salt % 2 == 0;
            }
            desired
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// plan → apply → plan is empty, against the emulator, from an empty team and again after
    /// the directory changes.
    #[test]
    fn the_planner_converges_against_the_emulator(first in directories(), second in directories()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let emulated = Emulated::start(&EMPTY).await;
            let store = emulated.store();
            let policy = Policy::default();
            for desired in [&first, &second] {
                let actual = store.snapshot().await.unwrap();
                let plan = teamsync_core::plan(desired, &actual, &policy).unwrap();
                let options = ApplyOptions::default().with_permission(teamsync_core::Permission::Force);
                let outcome = teamsync_core::apply(&plan, store, &options).await.unwrap();
                prop_assert!(outcome.is_success(), "{:?}", outcome.failures().collect::<Vec<_>>());
                let again = teamsync_core::plan(desired, &store.snapshot().await.unwrap(), &policy).unwrap();
                prop_assert!(again.operations.is_empty(), "not converged: {:?}", again.operations);
            }
            Ok(())
        })?;
    }
}
