//! The adapter against the in-process emulator: every route, pagination, async jobs, and the
//! mapping of the emulator's answers onto the core's types.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use teamsync_core::{
    ErrorKind, GroupChange, GroupRef, ManagementType, MemberRef, MemberStatus, ProfileChange,
    RemoveMode, RemoveOptions, TeamStore,
};
use teamsync_dropbox::{MembersGetInfoItemV2, MembersGetInfoV2Arg, UserSelectorArg};
use teamsync_dropbox_emulator::{EmulatorConfig, TeamSeed};
use teamsync_dropbox_emulator::{
    ManagementType as EmuManagement, MemberStatus as SeedStatus, SeedGroup, SeedMember,
};

fn seed_member(local: &str, status: SeedStatus) -> SeedMember {
    SeedMember {
        email: format!("{local}@example.com"),
        given_name: format!("Given {local}"),
        surname: format!("Sur {local}"),
        external_id: Some(format!("teamsync:{local}")),
        status,
        is_admin: false,
    }
}

/// 23 members in every state (one admin) and 4 groups, one of them with 9 members.
fn mixed_team() -> TeamSeed {
    let mut members: Vec<SeedMember> = (0..20)
        .map(|i| seed_member(&format!("u{i:02}"), SeedStatus::Active))
        .collect();
    members[0].is_admin = true;
    members[1].external_id = None;
    members.push(seed_member("inv", SeedStatus::Invited));
    members.push(seed_member("sus", SeedStatus::Suspended));
    members.push(seed_member("gone", SeedStatus::Removed));
    let group =
        |name: &str, external: Option<&str>, management, range: std::ops::Range<usize>| SeedGroup {
            name: name.to_owned(),
            external_id: external.map(str::to_owned),
            management_type: Some(management),
            members: range.map(|i| format!("u{i:02}@example.com")).collect(),
        };
    TeamSeed {
        team_name: Some("Seeded".into()),
        license_limit: None,
        members,
        groups: vec![
            group(
                "Sales",
                Some("teamsync:g-sales"),
                EmuManagement::CompanyManaged,
                0..9,
            ),
            group("Ops", None, EmuManagement::UserManaged, 3..5),
            group(
                "Empty",
                Some("teamsync:g-empty"),
                EmuManagement::CompanyManaged,
                0..0,
            ),
            group("Everyone", None, EmuManagement::SystemManaged, 0..20),
        ],
    }
}

#[tokio::test]
async fn get_info_is_the_connection_test() {
    let emu = emulator().await;
    let info = client(&emu).team_get_info().await.unwrap();
    assert_eq!(info.name, emu.state().team_name);
    assert_eq!(calls(&emu, "team/get_info"), 1);
}

#[tokio::test]
async fn snapshot_pages_through_members_and_groups() {
    let emu = emulator().await;
    emu.try_seed(&mixed_team()).unwrap();
    let store = store_with(&emu, test_options().with_page_size(4));
    let actual = store.snapshot().await.unwrap();
    let state = emu.state();

    assert_eq!(actual.members.len(), 23, "removed members are listed too");
    assert_eq!(actual.members.len(), state.members.len());
    // 23 members in pages of 4: one list_v2 and five continue_v2.
    assert_eq!(calls(&emu, "team/members/list_v2"), 1);
    assert_eq!(calls(&emu, "team/members/list/continue_v2"), 5);
    assert_eq!(calls(&emu, "team/groups/list"), 1);
    assert_eq!(
        calls(&emu, "team/groups/list/continue"),
        0,
        "4 groups fit one page of 4"
    );
    // Sales (9 members, pages of 4) takes three calls; Ops and Empty one each; the
    // system-managed group is not listed.
    assert_eq!(calls(&emu, "team/groups/members/list"), 3);
    assert_eq!(calls(&emu, "team/groups/members/list/continue"), 2);

    for wanted in &state.members {
        let got = actual
            .members
            .iter()
            .find(|m| m.team_member_id == wanted.team_member_id)
            .unwrap();
        assert_eq!(got.email.as_str(), wanted.email);
        assert_eq!(got.external_id, wanted.external_id);
        assert_eq!(got.given_name, wanted.given_name);
        assert_eq!(got.surname, wanted.surname);
        assert_eq!(got.is_admin, wanted.is_admin, "{}", wanted.email);
    }
    let status = |local: &str| {
        actual
            .members
            .iter()
            .find(|m| m.email.as_str() == format!("{local}@example.com"))
            .unwrap()
            .status
    };
    assert_eq!(status("u05"), MemberStatus::Active);
    assert_eq!(status("inv"), MemberStatus::Invited);
    assert_eq!(status("sus"), MemberStatus::Suspended);
    assert_eq!(status("gone"), MemberStatus::Removed { recoverable: true });
    assert!(actual.members.iter().any(|m| m.is_admin));

    for wanted in &state.groups {
        let got = actual
            .groups
            .iter()
            .find(|g| g.group_id == wanted.group_id)
            .unwrap();
        assert_eq!(got.name, wanted.name);
        assert_eq!(got.external_id, wanted.external_id);
        if got.management_type == ManagementType::SystemManaged {
            assert!(got.members.is_empty());
            continue;
        }
        let mut ids: Vec<String> = wanted
            .members
            .iter()
            .map(|m| m.team_member_id.clone())
            .collect();
        ids.sort();
        assert_eq!(got.members, ids, "{}", wanted.name);
    }
}

#[tokio::test]
async fn groups_page_past_one_page() {
    let emu = emulator().await;
    let seed = TeamSeed {
        groups: (0..7)
            .map(|i| SeedGroup {
                name: format!("G{i}"),
                external_id: None,
                management_type: None,
                members: vec![],
            })
            .collect(),
        ..TeamSeed::default()
    };
    emu.try_seed(&seed).unwrap();
    let store = store_with(&emu, test_options().with_page_size(3));
    let actual = store.snapshot().await.unwrap();
    assert_eq!(actual.groups.len(), 7);
    assert_eq!(calls(&emu, "team/groups/list"), 1);
    assert_eq!(calls(&emu, "team/groups/list/continue"), 2);
}

#[tokio::test]
async fn invites_complete_and_async() {
    let emu = emulator().await;
    let store = store(&emu);
    // 5 people: under the emulator's async threshold, answered `complete`.
    let few: Vec<_> = (0..5)
        .map(|i| new_member(&format!("few{i}@example.com")))
        .collect();
    assert!(store.invite(&few).await.iter().all(Result::is_ok));
    assert_eq!(calls(&emu, "team/members/add/job_status/get_v2"), 0);
    // 20 people: answered with an async job, polled until complete.
    let many: Vec<_> = (0..20)
        .map(|i| new_member(&format!("many{i}@example.com")))
        .collect();
    assert!(store.invite(&many).await.iter().all(Result::is_ok));
    assert_eq!(calls(&emu, "team/members/add_v2"), 2);
    assert!(
        calls(&emu, "team/members/add/job_status/get_v2") >= 2,
        "the job answered in_progress once first"
    );
    // 45 people in one call to the store: split into batches of 20.
    let more: Vec<_> = (0..45)
        .map(|i| new_member(&format!("more{i}@example.com")))
        .collect();
    assert!(store.invite(&more).await.iter().all(Result::is_ok));
    assert_eq!(calls(&emu, "team/members/add_v2"), 5);

    let state = emu.state();
    assert_eq!(state.members.len(), 70);
    let m = state.member_by_email("many7@example.com").unwrap();
    assert_eq!(m.external_id.as_deref(), Some("teamsync:many7"));
    assert_eq!(
        (m.given_name.as_str(), m.surname.as_str()),
        ("Given many7", "Sur many7")
    );
    assert_eq!(m.status, SeedStatus::Invited);
}

#[tokio::test]
async fn invite_failures_are_per_person() {
    let emu = emulator().await;
    let mut seed = TeamSeed {
        license_limit: Some(3),
        ..TeamSeed::default()
    };
    seed.members = vec![
        seed_member("taken", SeedStatus::Active),
        seed_member("other", SeedStatus::Active),
    ];
    emu.try_seed(&seed).unwrap();
    let store = store(&emu);
    let asked = [
        new_member("taken@example.com"),
        new_member("fits@example.com"),
        new_member("nofit@example.com"),
    ];
    let results = store.invite(&asked).await;
    let taken = results[0].as_ref().unwrap_err();
    assert_eq!(
        (taken.kind, taken.code.as_deref()),
        (ErrorKind::Conflict, Some("user_already_on_team"))
    );
    assert!(results[1].is_ok());
    let nofit = results[2].as_ref().unwrap_err();
    assert_eq!(
        (nofit.kind, nofit.code.as_deref()),
        (ErrorKind::Conflict, Some("team_license_limit"))
    );
    assert!(emu.state().member_by_email("fits@example.com").is_some());
    assert!(emu.state().member_by_email("nofit@example.com").is_none());
}

#[tokio::test]
async fn member_lifecycle_routes() {
    let emu = emulator().await;
    let mut seed = mixed_team();
    seed.members.push(seed_member("heir", SeedStatus::Active));
    emu.try_seed(&seed).unwrap();
    let store = store(&emu);
    let member = |local: &str| {
        emu.state()
            .member_by_email(&format!("{local}@example.com"))
            .cloned()
            .unwrap()
    };

    // set_profile_v2: names, email and external id; by external id, then by email.
    let change = ProfileChange {
        email: Some(email("u02.new@example.com")),
        given_name: Some("Ann".into()),
        surname: Some("Lee".into()),
        external_id: None,
    };
    store
        .set_profile(&by_external("u02"), &change)
        .await
        .unwrap();
    let after = emu
        .state()
        .member_by_email("u02.new@example.com")
        .cloned()
        .unwrap();
    assert_eq!(
        (after.given_name.as_str(), after.surname.as_str()),
        ("Ann", "Lee")
    );
    let adopt = ProfileChange {
        external_id: Some("teamsync:u01".into()),
        ..ProfileChange::default()
    };
    store
        .set_profile(&MemberRef::Email(email("u01@example.com")), &adopt)
        .await
        .unwrap();
    assert_eq!(member("u01").external_id.as_deref(), Some("teamsync:u01"));
    // Nothing to change: no call at all.
    let before = calls(&emu, "team/members/set_profile_v2");
    store
        .set_profile(&by_external("u03"), &ProfileChange::default())
        .await
        .unwrap();
    assert_eq!(calls(&emu, "team/members/set_profile_v2"), before);

    // suspend / unsuspend, by team_member_id.
    let id = MemberRef::TeamMemberId(member("u04").team_member_id);
    store.suspend(&id, true).await.unwrap();
    assert_eq!(member("u04").status, SeedStatus::Suspended);
    store.unsuspend(&id).await.unwrap();
    assert_eq!(member("u04").status, SeedStatus::Active);

    // remove (recoverable) then recover.
    store
        .remove(
            &by_external("u05"),
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::Plain,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (member("u05").status, member("u05").recoverable),
        (SeedStatus::Removed, true)
    );
    store.recover(&by_external("u05")).await.unwrap();
    assert_eq!(member("u05").status, SeedStatus::Active);

    // remove with a transfer, and keeping the account as Basic.
    let transfer = RemoveMode::Transfer {
        dest: by_external("heir"),
        admin: by_external("u00"),
    };
    store
        .remove(
            &by_external("u06"),
            &RemoveOptions {
                wipe_data: true,
                mode: transfer,
            },
        )
        .await
        .unwrap();
    assert_eq!(member("u06").status, SeedStatus::Removed);
    store
        .remove(
            &by_external("u07"),
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::KeepAccount,
            },
        )
        .await
        .unwrap();
    assert_eq!(member("u07").status, SeedStatus::Removed);
    assert!(
        !member("u07").recoverable,
        "a member kept as Basic cannot be recovered"
    );

    // remove an invitation.
    store
        .remove(
            &by_external("inv"),
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::Plain,
            },
        )
        .await
        .unwrap();
    assert_eq!(member("inv").status, SeedStatus::Removed);
    assert!(calls(&emu, "team/members/remove") >= 4);
}

#[tokio::test]
async fn get_info_v2_finds_and_misses() {
    let emu = emulator().await;
    emu.try_seed(&mixed_team()).unwrap();
    let arg = MembersGetInfoV2Arg {
        members: vec![
            UserSelectorArg::ExternalId {
                external_id: "teamsync:u03".into(),
            },
            UserSelectorArg::Email {
                email: "nobody@example.com".into(),
            },
        ],
    };
    let result = client(&emu).members_get_info_v2(&arg).await.unwrap();
    let MembersGetInfoItemV2::MemberInfo(info) = &result.members_info[0] else {
        panic!("{result:?}")
    };
    assert_eq!(info.profile.email, "u03@example.com");
    assert_eq!(
        result.members_info[1],
        MembersGetInfoItemV2::IdNotFound("nobody@example.com".into())
    );
}

#[tokio::test]
async fn group_routes() {
    let emu = emulator().await;
    emu.try_seed(&mixed_team()).unwrap();
    let store = store_with(&emu, test_options().with_group_members_per_call(2));

    let group_id = store
        .create_group("Engineering", "teamsync:g-eng")
        .await
        .unwrap();
    let state = emu.state();
    let created = state.group_by_name("Engineering").unwrap();
    assert_eq!(
        (created.group_id.as_str(), created.management_type),
        (group_id.as_str(), EmuManagement::CompanyManaged)
    );
    assert_eq!(created.external_id.as_deref(), Some("teamsync:g-eng"));

    let duplicate = store
        .create_group("engineering", "teamsync:other")
        .await
        .unwrap_err();
    assert_eq!(
        (duplicate.kind, duplicate.code.as_deref()),
        (ErrorKind::Conflict, Some("group_name_already_used"))
    );

    // Add five members, named three ways, in batches of two: three calls.
    let eng = GroupRef::ExternalId("teamsync:g-eng".into());
    let u09 = emu
        .state()
        .member_by_email("u09@example.com")
        .unwrap()
        .team_member_id
        .clone();
    let members = [
        by_external("u08"),
        MemberRef::TeamMemberId(u09.clone()),
        MemberRef::Email(email("u10@example.com")),
        by_external("u11"),
        by_external("inv"),
    ];
    store.add_group_members(&eng, &members).await.unwrap();
    assert_eq!(calls(&emu, "team/groups/members/add"), 3);
    assert_eq!(
        emu.state()
            .group_by_name("Engineering")
            .unwrap()
            .members
            .len(),
        5
    );

    store
        .remove_group_members(
            &GroupRef::GroupId(group_id.clone()),
            &[MemberRef::TeamMemberId(u09), by_external("u08")],
        )
        .await
        .unwrap();
    let left: Vec<String> = emu
        .state()
        .group_by_name("Engineering")
        .unwrap()
        .members
        .iter()
        .map(|m| m.email.clone())
        .collect();
    assert_eq!(left.len(), 3);
    assert!(!left.contains(&"u09@example.com".to_owned()));

    // Rename, re-key, and make company-managed (adoption of a user-managed group).
    let ops = GroupRef::GroupId(emu.state().group_by_name("Ops").unwrap().group_id.clone());
    let change = GroupChange {
        name: Some("Operations".into()),
        external_id: Some("teamsync:g-ops".into()),
        management_type: Some(ManagementType::CompanyManaged),
    };
    store.update_group(&ops, &change).await.unwrap();
    let state = emu.state();
    let renamed = state.group_by_name("Operations").unwrap();
    assert_eq!(renamed.external_id.as_deref(), Some("teamsync:g-ops"));
    assert_eq!(renamed.management_type, EmuManagement::CompanyManaged);

    // Delete (an async job on Dropbox), then every call on it is NotFound.
    store.delete_group(&eng).await.unwrap();
    assert!(emu.state().group_by_name("Engineering").is_none());
    let gone = store
        .add_group_members(&eng, &[by_external("u12")])
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound, "{gone:?}");
    let gone = store
        .delete_group(&GroupRef::GroupId(group_id))
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound, "{gone:?}");
}

#[tokio::test]
async fn empty_batches_make_no_calls() {
    let emu = emulator().await;
    emu.try_seed(&mixed_team()).unwrap();
    let store = store(&emu);
    let sales = GroupRef::ExternalId("teamsync:g-sales".into());
    assert!(store.invite(&[]).await.is_empty());
    store.add_group_members(&sales, &[]).await.unwrap();
    store.remove_group_members(&sales, &[]).await.unwrap();
    store
        .update_group(&sales, &GroupChange::default())
        .await
        .unwrap();
    assert_eq!(write_calls(&emu), 0);
}

#[tokio::test]
async fn async_jobs_that_stay_in_progress_are_polled_with_backoff() {
    let emu = emulator_with(EmulatorConfig {
        job_polls_in_progress: 4,
        ..EmulatorConfig::default()
    })
    .await;
    let store = store(&emu);
    let people: Vec<_> = (0..12)
        .map(|i| new_member(&format!("p{i}@example.com")))
        .collect();
    assert!(store.invite(&people).await.iter().all(Result::is_ok));
    assert_eq!(
        calls(&emu, "team/members/add/job_status/get_v2"),
        5,
        "four in_progress answers, then complete"
    );
    store
        .remove(
            &by_external("p0"),
            &RemoveOptions {
                wipe_data: false,
                mode: RemoveMode::Plain,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        emu.state()
            .member_by_email("p0@example.com")
            .unwrap()
            .status,
        SeedStatus::Removed
    );
}

#[tokio::test]
async fn snapshot_starts_over_when_the_team_changes_under_it() {
    let emu = emulator().await;
    emu.try_seed(&mixed_team()).unwrap();
    // One member per page and 50 ms per call: the listing (23 pages, over a second) takes long
    // enough to be overtaken even on a loaded machine (20 ms once lost the race in a full run).
    emu.set_faults(teamsync_dropbox_emulator::Faults {
        latency_ms: 50,
        ..Default::default()
    });
    let store = store_with(&emu, test_options().with_page_size(1));
    let snapshot = tokio::spawn(async move { store.snapshot().await });
    // Once the listing is under way, reload the team (with one more group): the emulator then
    // refuses cursors of the old generation with `invalid_cursor`.
    while calls(&emu, "team/members/list/continue_v2") < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut changed = mixed_team();
    changed.groups.push(SeedGroup {
        name: "Interloper".into(),
        external_id: None,
        management_type: None,
        members: vec![],
    });
    emu.try_seed(&changed).unwrap();
    let actual = snapshot.await.unwrap().unwrap();
    assert_eq!(
        calls(&emu, "team/members/list_v2"),
        2,
        "the read started over once"
    );
    assert!(
        actual.groups.iter().any(|g| g.name == "Interloper"),
        "the second read saw the change"
    );
    assert_eq!(actual.members.len(), 23);
}
