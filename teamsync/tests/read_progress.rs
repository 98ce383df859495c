//! Read progress through the library: a file source reports its counts once, at the end;
//! the runner passes every read's progress to its observer, each side's stages ending with
//! the counts the side was read with; an Entra read reports per page.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use teamsync::config::{FileFormat, FileSection};
use teamsync::source::FileDirectory;
use teamsync_core::{Directory, ReadOptions, ReadProgress, ReadSide, ReadStage};

const PEOPLE: &str = r#"{
  "user_roots": ["Staff"],
  "groups": [
    {"name": "Staff", "id": "g-staff"},
    {"name": "Eng", "id": "g-eng", "groups": ["Staff"]}
  ],
  "people": [
    {"id": "1", "email": "ann@corp.test", "given_name": "Ann", "surname": "Lee", "groups": ["Eng"]},
    {"id": "2", "email": "ben@corp.test", "given_name": "Ben", "surname": "Ng", "groups": ["Staff"]},
    {"id": "3", "email": "cat@corp.test", "given_name": "Cat", "surname": "Ro", "groups": ["Staff"]}
  ]
}"#;

/// Checks the promises of [`ReadProgress`] and returns each stage's final count, in order.
fn check_events(events: &[ReadProgress]) -> Vec<(ReadStage, usize)> {
    struct Seen {
        stage: ReadStage,
        count: usize,
        total: Option<Option<usize>>,
        finished: bool,
    }
    let mut seen: Vec<Seen> = Vec::new();
    let mut finals = Vec::new();
    for event in events {
        let stage = event.stage();
        if !seen.iter().any(|s| s.stage == stage) {
            seen.push(Seen {
                stage,
                count: 0,
                total: None,
                finished: false,
            });
        }
        let s = seen.iter_mut().find(|s| s.stage == stage).unwrap();
        assert!(
            !s.finished,
            "{stage:?} reported after it finished: {events:?}"
        );
        assert!(event.count() >= s.count, "{stage:?} went down: {events:?}");
        s.count = event.count();
        match *event {
            ReadProgress::Counted { count, total, .. } => {
                let first = *s.total.get_or_insert(total);
                assert_eq!(total, first, "{stage:?}'s total changed: {events:?}");
                assert!(
                    total.is_none_or(|t| count <= t),
                    "{stage:?} past its total: {events:?}"
                );
            }
            ReadProgress::Finished { count, .. } => {
                s.finished = true;
                finals.push((stage, count));
            }
            _ => {}
        }
    }
    assert!(
        seen.iter().all(|s| s.finished),
        "a stage never finished: {events:?}"
    );
    finals
}

#[tokio::test]
async fn a_file_source_reports_its_final_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.json");
    std::fs::write(&path, PEOPLE).unwrap();
    let source = FileDirectory::new(&path, FileSection::new(&path, FileFormat::SimpleJson));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = ReadOptions::default().with_progress(move |p| sink.lock().unwrap().push(p));
    let desired = source.snapshot_with(&options).await.unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(
        check_events(&events),
        [
            (ReadStage::DirectoryUsers, 3),
            (ReadStage::DirectoryGroups, 2)
        ]
    );
    assert_eq!((desired.users.len(), desired.groups.len()), (3, 2));
}

#[cfg(feature = "dropbox")]
#[tokio::test]
async fn the_runner_passes_each_reads_progress_to_its_observer() {
    use teamsync::RunEvent;
    let dbx = teamsync_dropbox_emulator::Emulator::start(Default::default())
        .await
        .unwrap();
    let seed: teamsync_dropbox_emulator::TeamSeed = serde_json::from_str(
        r#"{"members": [{"email": "ann@corp.test", "external_id": "teamsync:1"}, {"email": "zed@corp.test"}],
            "groups": [{"name": "Eng", "external_id": "teamsync:g-eng", "members": ["ann@corp.test"]}]}"#,
    )
    .unwrap();
    dbx.try_seed(&seed).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.json"), PEOPLE).unwrap();
    std::fs::write(dir.path().join("dropbox-token"), dbx.access_token()).unwrap();
    let toml = format!(
        "[directory]\nkind = \"file\"\npath = \"people.json\"\n\n[team]\nbase_url = \"{}\"\ntoken = {{ file = \"dropbox-token\" }}\n",
        dbx.base_url()
    );
    let path = dir.path().join("teamsync.toml");
    std::fs::write(&path, &toml).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let runner = teamsync::Runner::new(teamsync::Config::load(&path).unwrap())
        .unwrap()
        .with_observer(move |e| sink.lock().unwrap().push(e.clone()));
    let planned = runner.plan().await.unwrap();
    let events = events.lock().unwrap().clone();

    // Each side's progress comes before the line saying it was read, with the same counts.
    let side = |side: ReadSide| -> Vec<ReadProgress> {
        events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Reading(p) if p.stage().side() == side => Some(*p),
                _ => None,
            })
            .collect()
    };
    let team = check_events(&side(ReadSide::Team));
    assert_eq!(
        team,
        [
            (ReadStage::TeamMembers, planned.sides.actual.members.len()),
            (ReadStage::TeamGroups, 1),
            (ReadStage::TeamGroupMembers, 1),
        ]
    );
    let directory = check_events(&side(ReadSide::Directory));
    assert_eq!(
        directory,
        [
            (ReadStage::DirectoryUsers, 3),
            (ReadStage::DirectoryGroups, 2)
        ]
    );
    let position = |wanted: fn(&RunEvent) -> bool| events.iter().position(wanted).unwrap();
    let team_read = position(|e| matches!(e, RunEvent::TeamRead { .. }));
    let last_team_progress = events
        .iter()
        .rposition(|e| matches!(e, RunEvent::Reading(p) if p.stage().side() == ReadSide::Team))
        .unwrap();
    assert!(last_team_progress < team_read);
    let directory_read = position(|e| matches!(e, RunEvent::DirectoryRead { .. }));
    assert!(team_read < directory_read);
}

#[cfg(feature = "entra")]
#[tokio::test]
async fn an_entra_read_reports_users_groups_member_lists_and_deleted_items() {
    use serde_json::json;
    use teamsync_graph_emulator::{Emulator, EmulatorConfig, SeedApp, SeedGroup, TenantSeed};
    const TENANT: &str = "7e1ea5e0-0000-4000-8000-00000000c0de";
    const APP: &str = "a99c11e0-0000-4000-8000-000000000001";
    let oid = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let graph = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let users = (1..=30)
        .map(|n| {
            json!({"id": oid(n), "givenName": format!("u{n}"), "surname": "Example",
                   "mail": format!("u{n}@contoso.com"), "userPrincipalName": format!("u{n}@contoso.com"),
                   "accountEnabled": true, "userType": "Member"})
            .as_object()
            .unwrap()
            .clone()
        })
        .collect();
    graph
        .try_seed(&TenantSeed {
            tenant_id: TENANT.into(),
            apps: vec![SeedApp {
                client_id: APP.into(),
                client_secret: Some("the-secret".into()),
                roles: vec!["User.Read.All".into(), "GroupMember.Read.All".into()],
                ..SeedApp::default()
            }],
            users,
            groups: vec![
                SeedGroup {
                    id: oid(100),
                    display_name: "Dropbox Users".into(),
                    members: (1..=20).map(oid).chain([oid(101)]).collect(),
                    ..SeedGroup::default()
                },
                SeedGroup {
                    id: oid(101),
                    display_name: "Engineering".into(),
                    members: (21..=30).map(oid).collect(),
                    ..SeedGroup::default()
                },
            ],
            ..TenantSeed::default()
        })
        .unwrap();
    let mut config = teamsync::entra::EntraConfig::new(
        TENANT,
        APP,
        teamsync::entra::Credential::client_secret("the-secret"),
    );
    config.cloud = teamsync::entra::Cloud::Custom {
        authority: graph.base_url(),
        graph: graph.base_url(),
    };
    config.root_groups = vec!["Dropbox Users".into()];
    let directory = teamsync::entra::EntraDirectory::new(config).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = ReadOptions::default().with_progress(move |p| sink.lock().unwrap().push(p));
    let desired = directory.snapshot_with(&options).await.unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(
        check_events(&events),
        [
            (ReadStage::DirectoryUsers, 30),
            (ReadStage::DirectoryGroups, 2),
            (ReadStage::DirectoryGroupMembers, 2),
            (ReadStage::DirectoryDeleted, 0),
        ]
    );
    assert_eq!(desired.users.len(), 30);
}
