//! Cross-checks our JSON against Dropbox's own generated types (`dropbox-sdk` 0.21, types only):
//! every request body we send must decode as the SDK's argument type, re-encode to the same
//! JSON, and every response we decode (taken from the emulator) must decode as the SDK's result
//! type too, with the same values.
//!
//! A unit-test module (not an integration test) because it checks the crate-private mapping
//! (`map`) directly; it shares the integration tests' helpers.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use crate::map;
use crate::wire::*;
use common::*;
use dropbox_sdk::team as sdk;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use teamsync_core::{
    GroupChange, GroupRef, ManagementType, MemberRef, ProfileChange, RemoveMode, RemoveOptions,
};
use teamsync_dropbox_emulator::{MemberStatus, SeedGroup, SeedMember, TeamSeed};

/// Our request body decodes as the SDK's type and the SDK writes it back identically.
fn same_request<Ours: Serialize, Theirs: Serialize + DeserializeOwned>(ours: &Ours) -> Theirs {
    let json = serde_json::to_value(ours).unwrap();
    // The SDK's decoders borrow their keys, so they read text, not a `Value`.
    let theirs: Theirs = serde_json::from_str(&json.to_string())
        .unwrap_or_else(|e| panic!("SDK refuses {json}: {e}"));
    let again = serde_json::to_value(&theirs).unwrap();
    covers(&json, &again, "$");
    theirs
}

/// Fields the SDK leaves out when they hold the spec's default value.
const DEFAULTED: &[&str] = &[
    "force_async",
    "add_creator_as_owner",
    "keep_account",
    "wipe_data",
    "return_members",
    "send_welcome_email",
    "include_removed",
    "limit",
];

/// `ours` says everything `theirs` says, and more only in fields with a spec default (which
/// the SDK omits when they hold it). A field the SDK does not know would be silently dropped
/// by it, so it would show up here as an extra field outside `DEFAULTED`.
fn covers(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            for (key, value) in t {
                let mine = o
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key}: the SDK writes it, we do not"));
                covers(mine, value, &format!("{path}.{key}"));
            }
            for key in o.keys().filter(|k| !t.contains_key(*k)) {
                assert!(
                    DEFAULTED.contains(&key.as_str()),
                    "{path}.{key}: we send it, the SDK dropped it"
                );
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            assert_eq!(o.len(), t.len(), "{path}");
            for (i, (a, b)) in o.iter().zip(t).enumerate() {
                covers(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(ours, theirs, "{path}"),
    }
}

fn sdk_decodes<Theirs: DeserializeOwned>(json: &Value) -> Theirs {
    serde_json::from_str(&json.to_string()).unwrap_or_else(|e| panic!("SDK refuses {json}: {e}"))
}

#[test]
fn request_bodies_match_the_sdk() {
    let who = MemberRef::ExternalId("teamsync:u1".into());
    let by_mail = MemberRef::Email(email("boss@example.com"));
    let group = GroupRef::ExternalId("teamsync:g1".into());

    let add = MembersAddV2Arg {
        new_members: vec![map::member_add_arg(&new_member("ann@example.com"))],
        force_async: false,
    };
    let theirs: sdk::MembersAddV2Arg = same_request(&add);
    assert_eq!(
        theirs.new_members[0].member_external_id.as_deref(),
        Some("teamsync:ann")
    );

    same_request::<_, sdk::MembersListArg>(&MembersListArg {
        limit: 1000,
        include_removed: true,
    });
    same_request::<_, sdk::MembersListContinueArg>(&CursorArg { cursor: "c".into() });
    same_request::<_, sdk::GroupsListArg>(&GroupsListArg { limit: 1000 });
    same_request::<_, sdk::GroupsListContinueArg>(&CursorArg { cursor: "c".into() });
    same_request::<_, sdk::GroupsMembersListContinueArg>(&CursorArg { cursor: "c".into() });
    same_request::<_, dropbox_sdk::dbx_async::PollArg>(&PollArg {
        async_job_id: "dbjid:1".into(),
    });
    same_request::<_, sdk::MembersGetInfoV2Arg>(&MembersGetInfoV2Arg {
        members: vec![map::user_selector(&who), map::user_selector(&by_mail)],
    });

    let change = ProfileChange {
        email: Some(email("new@example.com")),
        given_name: Some("Ann".into()),
        surname: Some("Lee".into()),
        external_id: Some("teamsync:u1".into()),
    };
    let theirs: sdk::MembersSetProfileArg =
        same_request(&map::set_profile_arg(&who, &change).unwrap());
    assert!(matches!(theirs.user, sdk::UserSelectorArg::ExternalId(ref id) if id == "teamsync:u1"));

    same_request::<_, sdk::MembersDeactivateArg>(&MembersDeactivateArg {
        user: map::user_selector(&who),
        wipe_data: true,
    });
    same_request::<_, sdk::MembersUnsuspendArg>(&UserArg {
        user: map::user_selector(&who),
    });
    same_request::<_, sdk::MembersRecoverArg>(&UserArg {
        user: map::user_selector(&who),
    });
    for mode in [
        RemoveMode::Plain,
        RemoveMode::KeepAccount,
        RemoveMode::Transfer {
            dest: by_mail.clone(),
            admin: MemberRef::TeamMemberId("dbmid:a".into()),
        },
    ] {
        let theirs: sdk::MembersRemoveArg = same_request(&map::remove_arg(
            &who,
            &RemoveOptions {
                wipe_data: true,
                mode,
            },
        ));
        assert!(theirs.keep_account != theirs.wipe_data || !theirs.keep_account);
    }

    let create = GroupCreateArg {
        group_name: "Sales".into(),
        add_creator_as_owner: false,
        group_external_id: Some("teamsync:g1".into()),
        group_management_type: Some(GroupManagementType::CompanyManaged),
    };
    let theirs: sdk::GroupCreateArg = same_request(&create);
    assert!(matches!(
        theirs.group_management_type,
        Some(dropbox_sdk::team_common::GroupManagementType::CompanyManaged)
    ));
    let update = GroupChange {
        name: Some("S".into()),
        external_id: Some("teamsync:g2".into()),
        management_type: Some(ManagementType::CompanyManaged),
    };
    same_request::<_, sdk::GroupUpdateArgs>(&map::group_update_arg(&group, &update).unwrap());
    same_request::<_, sdk::GroupSelector>(&map::group_selector(&GroupRef::GroupId("g:1".into())));
    same_request::<_, sdk::GroupMembersAddArg>(&GroupMembersAddArg {
        return_members: false,
        group: map::group_selector(&group),
        members: vec![MemberAccess {
            user: map::user_selector(&who),
            access_type: GroupAccessType::Member,
        }],
    });
    same_request::<_, sdk::GroupMembersRemoveArg>(&GroupMembersRemoveArg {
        return_members: false,
        group: map::group_selector(&group),
        users: vec![map::user_selector(&by_mail)],
    });
    same_request::<_, sdk::GroupsMembersListArg>(&GroupsMembersListArg {
        group: map::group_selector(&group),
        limit: 100,
    });
}

fn seeded() -> TeamSeed {
    let member = |local: &str, status, is_admin| SeedMember {
        email: format!("{local}@example.com"),
        given_name: format!("G{local}"),
        surname: format!("S{local}"),
        external_id: Some(format!("teamsync:{local}")),
        status,
        is_admin,
    };
    TeamSeed {
        license_limit: Some(5),
        members: vec![
            member("admin", MemberStatus::Active, true),
            member("inv", MemberStatus::Invited, false),
            member("sus", MemberStatus::Suspended, false),
            member("gone", MemberStatus::Removed, false),
        ],
        groups: vec![SeedGroup {
            name: "Sales".into(),
            external_id: Some("teamsync:g1".into()),
            management_type: None,
            members: vec!["admin@example.com".into(), "inv@example.com".into()],
        }],
        ..TeamSeed::default()
    }
}

#[tokio::test]
async fn responses_decode_the_same_in_the_sdk() {
    let emu = emulator().await;
    emu.try_seed(&seeded()).unwrap();
    let client = client(&emu);

    let raw: Value = client.call("team/get_info", &()).await.unwrap();
    let theirs: sdk::TeamGetInfoResult = sdk_decodes(&raw);
    let ours: TeamGetInfoResult = serde_json::from_value(raw).unwrap();
    assert_eq!((theirs.name, theirs.team_id), (ours.name, ours.team_id));

    let raw: Value = client
        .call(
            "team/members/list_v2",
            &MembersListArg {
                limit: 2,
                include_removed: true,
            },
        )
        .await
        .unwrap();
    let mut pages = vec![raw.clone()];
    let mut cursor = raw["cursor"].as_str().unwrap().to_owned();
    while pages.last().unwrap()["has_more"] == json!(true) {
        let next: Value = client
            .call(
                "team/members/list/continue_v2",
                &CursorArg {
                    cursor: cursor.clone(),
                },
            )
            .await
            .unwrap();
        cursor = next["cursor"].as_str().unwrap().to_owned();
        pages.push(next);
    }
    let mut seen = 0;
    for page in &pages {
        let theirs: sdk::MembersListV2Result = sdk_decodes(page);
        let ours: MembersListV2Result = serde_json::from_value(page.clone()).unwrap();
        for (t, o) in theirs.members.iter().zip(&ours.members) {
            let mapped = map::team_member(o).unwrap();
            assert_eq!(t.profile.team_member_id, mapped.team_member_id);
            assert_eq!(t.profile.external_id, mapped.external_id);
            let status = match &t.profile.status {
                sdk::TeamMemberStatus::Active => teamsync_core::MemberStatus::Active,
                sdk::TeamMemberStatus::Invited => teamsync_core::MemberStatus::Invited,
                sdk::TeamMemberStatus::Suspended => teamsync_core::MemberStatus::Suspended,
                sdk::TeamMemberStatus::Removed(r) => teamsync_core::MemberStatus::Removed {
                    recoverable: r.is_recoverable,
                },
            };
            assert_eq!(status, mapped.status);
            seen += 1;
        }
    }
    assert_eq!(seen, 4);

    // add_v2: a success and two failure tags in one answer.
    let add = MembersAddV2Arg {
        new_members: ["new", "inv", "new"]
            .iter()
            .map(|l| map::member_add_arg(&new_member(&format!("{l}@example.com"))))
            .collect(),
        force_async: false,
    };
    let raw: Value = client.call("team/members/add_v2", &add).await.unwrap();
    let theirs: sdk::MembersAddLaunchV2Result = sdk_decodes(&raw);
    let ours: MembersAddStatus = serde_json::from_value(raw.clone()).unwrap();
    let (sdk::MembersAddLaunchV2Result::Complete(theirs), MembersAddStatus::Complete(ours)) =
        (theirs, ours)
    else {
        panic!("expected complete: {raw}")
    };
    assert_eq!(theirs.len(), ours.len());
    for (t, o) in theirs.iter().zip(&ours) {
        match (t, o) {
            (sdk::MemberAddV2Result::Success(t), MemberAddV2Result::Success(o)) => {
                assert_eq!(t.profile.email, o.profile.email)
            }
            (t, MemberAddV2Result::Failure { tag, .. }) => {
                let their_tag = serde_json::to_value(t).unwrap()[".tag"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                assert_eq!(&their_tag, tag);
            }
            other => panic!("disagreement: {other:?}"),
        }
    }

    // An async add, polled.
    let add = MembersAddV2Arg {
        new_members: vec![map::member_add_arg(&new_member("later@example.com"))],
        force_async: true,
    };
    let raw: Value = client.call("team/members/add_v2", &add).await.unwrap();
    let _: sdk::MembersAddLaunchV2Result = sdk_decodes(&raw);
    let job = raw["async_job_id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let raw: Value = client
            .call(
                "team/members/add/job_status/get_v2",
                &PollArg {
                    async_job_id: job.clone(),
                },
            )
            .await
            .unwrap();
        let _: sdk::MembersAddJobStatusV2Result = sdk_decodes(&raw);
        let _: MembersAddStatus = serde_json::from_value(raw.clone()).unwrap();
        if raw[".tag"] == "complete" {
            break;
        }
    }

    // Groups: create, list, members add/list, delete and its job.
    let create = GroupCreateArg {
        group_name: "Eng".into(),
        add_creator_as_owner: false,
        group_external_id: Some("teamsync:g2".into()),
        group_management_type: Some(GroupManagementType::CompanyManaged),
    };
    let raw: Value = client.call("team/groups/create", &create).await.unwrap();
    let _: sdk::GroupFullInfo = sdk_decodes(&raw);
    let _: GroupFullInfo = serde_json::from_value(raw).unwrap();
    let raw: Value = client
        .call("team/groups/list", &GroupsListArg { limit: 10 })
        .await
        .unwrap();
    let theirs: sdk::GroupsListResult = sdk_decodes(&raw);
    let ours: GroupsListResult = serde_json::from_value(raw).unwrap();
    assert_eq!(theirs.groups.len(), ours.groups.len());
    let eng = GroupRef::ExternalId("teamsync:g2".into());
    let add = GroupMembersAddArg {
        return_members: true,
        group: map::group_selector(&eng),
        members: vec![MemberAccess {
            user: map::user_selector(&by_external("sus")),
            access_type: GroupAccessType::Member,
        }],
    };
    let raw: Value = client.call("team/groups/members/add", &add).await.unwrap();
    let _: sdk::GroupMembersChangeResult = sdk_decodes(&raw);
    let _: GroupMembersChangeResult = serde_json::from_value(raw).unwrap();
    let raw: Value = client
        .call(
            "team/groups/members/list",
            &GroupsMembersListArg {
                group: map::group_selector(&eng),
                limit: 10,
            },
        )
        .await
        .unwrap();
    let _: sdk::GroupsMembersListResult = sdk_decodes(&raw);
    let ours: GroupsMembersListResult = serde_json::from_value(raw).unwrap();
    assert_eq!(ours.members.len(), 1);
    let raw: Value = client
        .call("team/groups/delete", &map::group_selector(&eng))
        .await
        .unwrap();
    let _: dropbox_sdk::dbx_async::LaunchEmptyResult = sdk_decodes(&raw);
    let _: EmptyJobStatus = serde_json::from_value(raw).unwrap();

    // set_profile_v2 and remove.
    let arg = map::set_profile_arg(
        &by_external("sus"),
        &ProfileChange {
            given_name: Some("New".into()),
            ..ProfileChange::default()
        },
    )
    .unwrap();
    let raw: Value = client
        .call("team/members/set_profile_v2", &arg)
        .await
        .unwrap();
    let _: sdk::TeamMemberInfoV2Result = sdk_decodes(&raw);
    let _: TeamMemberInfoV2Result = serde_json::from_value(raw).unwrap();
    let arg = map::remove_arg(
        &by_external("sus"),
        &RemoveOptions {
            wipe_data: true,
            mode: RemoveMode::Plain,
        },
    );
    let raw: Value = client.call("team/members/remove", &arg).await.unwrap();
    let _: dropbox_sdk::dbx_async::LaunchEmptyResult = sdk_decodes(&raw);
}

#[tokio::test]
async fn route_error_bodies_decode_the_same_in_the_sdk() {
    let emu = emulator().await;
    emu.try_seed(&seeded()).unwrap();
    let raw = |route: &'static str, body: Value| {
        let url = format!("{}/2/{route}", emu.base_url());
        let token = emu.access_token();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 409);
            let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            body
        }
    };
    let nobody =
        json!({"user": {".tag": "email", "email": "nobody@example.com"}, "wipe_data": true});
    let body = raw("team/members/suspend", nobody).await;
    assert!(matches!(
        sdk_decodes::<sdk::MembersSuspendError>(&body["error"]),
        sdk::MembersSuspendError::UserNotFound
    ));
    let ours: ErrorBody = serde_json::from_value(body).unwrap();
    assert_eq!(ours.tag(), Some("user_not_found"));

    let body = raw(
        "team/groups/create",
        json!({"group_name": "sales", "add_creator_as_owner": false}),
    )
    .await;
    assert!(matches!(
        sdk_decodes::<sdk::GroupCreateError>(&body["error"]),
        sdk::GroupCreateError::GroupNameAlreadyUsed
    ));
    let ours: ErrorBody = serde_json::from_value(body).unwrap();
    assert_eq!(ours.tag(), Some("group_name_already_used"));
}
